/* Flags as tables (harness/core/cmdline.h): values checked by type, the errors the house prints,
 * operands after the flags, a row of another command refused by name, and --help from the rows. */
#include "cmdline.h"
#include "diag.h"
#include "test.h"

#include <unistd.h>

static const char *const formats[] = {"json", "table", "none", NULL};
enum { CMD_A = 1, CMD_B = 2 };
static const mmb_flag table[] = {
    {"verify", MMB_FLAG_SWITCH, NULL, 0, 0, NULL, "run under the oracle", 0},
    {"seed", MMB_FLAG_U64, "S", 0, 99, NULL, "the seed, 0..99\n(default 1)", 0},
    {"max-heap-bytes", MMB_FLAG_BYTES, "N", 0, 0, NULL, "the heap's cap", CMD_B},
    {"format", MMB_FLAG_CHOICE, "F", 0, 0, formats, "json, table or none", 0},
    {"cell-index", MMB_FLAG_TEXT, "I", 0, 0, NULL, NULL, 0},
    {NULL, 0, NULL, 0, 0, NULL, NULL, 0},
};

typedef struct seen {
    char log[256];
} seen;

static int record(void *ctx, const mmb_flag_arg *a) {
    seen *s = ctx;
    size_t len = strlen(s->log);
    snprintf(s->log + len, sizeof s->log - len, "%s%s=%s/%" PRIu64 "/%zu", len ? " " : "",
             a->flag->name, a->text ? a->text : "-", a->u64, a->choice);
    return EXIT_OK;
}

/* Parses the NULL-terminated words with stderr sent to a file; returns the status, the log of
 * flags seen in s and the error line in err. */
static int parse(unsigned mask, seen *s, char *err, size_t n, int *operands, char **words) {
    int argc = 0;
    while (words[argc])
        argc++;
    char path[] = "/tmp/mmb-cmdline-XXXXXX";
    int fd = mkstemp(path);
    ASSERT_TRUE(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    memset(s, 0, sizeof *s);
    int status = mmb_flags_parse("cmd", table, mask, argc, words, record, s, operands);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    ssize_t got = pread(fd, err, n - 1, 0);
    err[got > 0 ? got : 0] = '\0';
    char *nl = strchr(err, '\n');
    if (nl)
        *nl = '\0';
    close(fd);
    unlink(path);
    return status;
}

TEST(cmdline_checks_values_by_type_and_keeps_operands) {
    seen s;
    char err[512];
    int operands = 0;
    char *w[] = {
        "cmd", "--seed", "7", "file.trace", "--verify", "--format=table", "--max-heap-bytes",
        "2K",  NULL};
    ASSERT_EQ(parse(CMD_B, &s, err, sizeof err, &operands, w), EXIT_OK);
    ASSERT_STR_EQ(s.log, "seed=7/7/0 verify=-/0/0 format=table/0/1 max-heap-bytes=2K/2048/0");
    ASSERT_EQ(operands, 7);
    ASSERT_STR_EQ(w[operands], "file.trace");
}

TEST(cmdline_refuses_with_one_line_naming_the_flag) {
    seen s;
    char err[512];
    char *unknown[] = {"cmd", "--fast", NULL};
    ASSERT_EQ(parse(CMD_A, &s, err, sizeof err, NULL, unknown), EXIT_USAGE);
    ASSERT_STR_EQ(err, "mmbench: error: cmd: unknown flag '--fast' (hint: mmbench cmd --help)");
    char *novalue[] = {"cmd", "--seed", NULL};
    ASSERT_EQ(parse(CMD_A, &s, err, sizeof err, NULL, novalue), EXIT_USAGE);
    ASSERT_STR_EQ(err,
                  "mmbench: error: cmd: flag '--seed' needs a value (hint: mmbench cmd --help)");
    char *range[] = {"cmd", "--seed", "100", NULL};
    ASSERT_EQ(parse(CMD_A, &s, err, sizeof err, NULL, range), EXIT_USAGE);
    ASSERT_STR_EQ(err, "mmbench: error: cmd: --seed: bad value '100' (expected an integer in "
                       "0..99) (hint: mmbench cmd --help)");
    char *choice[] = {"cmd", "--format", "xml", NULL};
    ASSERT_EQ(parse(CMD_A, &s, err, sizeof err, NULL, choice), EXIT_USAGE);
    ASSERT_STR_EQ(err, "mmbench: error: cmd: --format: bad value 'xml' (expected json, table or "
                       "none) (hint: mmbench cmd --help)");
    /* Another command's row, its value given apart: the flag is named, not its value. */
    char *other[] = {"cmd", "--max-heap-bytes", "1G", NULL};
    ASSERT_EQ(parse(CMD_A, &s, err, sizeof err, NULL, other), EXIT_USAGE);
    ASSERT_STR_EQ(err, "mmbench: error: cmd: flag '--max-heap-bytes' does not apply to cmd "
                       "(hint: mmbench cmd --help)");
    ASSERT_STR_EQ(s.log, "");
    char *help[] = {"cmd", "--verify", "-h", "--fast", NULL};
    ASSERT_EQ(parse(CMD_A, &s, err, sizeof err, NULL, help), MMB_FLAGS_HELP);
}

TEST(cmdline_help_comes_from_the_rows) {
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    ASSERT_TRUE(out != NULL);
    mmb_flags_print_help(out, table, CMD_A);
    fclose(out);
    ASSERT_STR_EQ(buf, "  --verify              run under the oracle\n"
                       "  --seed S              the seed, 0..99\n"
                       "                        (default 1)\n"
                       "  --format F            json, table or none\n");
    free(buf);
}
