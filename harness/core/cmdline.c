/* Flags as tables (cmdline.h): getopt_long over options built from the table, values checked by
 * type, and --help's flag lines printed from the same rows. */
#include "cmdline.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "flags.h"
#include "strlist.h"

enum { FIRST_ROW = 1000 }; /* getopt's val for row i is FIRST_ROW + i; 'h' is --help */

static bool applies(const mmb_flag *f, unsigned mask) {
    return mask == 0 || f->commands == 0 || (f->commands & mask) != 0;
}

static int check_value(const char *cmd, const mmb_flag *f, mmb_flag_arg *a) {
    char flag[80], hint[64];
    snprintf(flag, sizeof flag, "--%s", f->name);
    snprintf(hint, sizeof hint, "mmbench %s --help", cmd);
    switch (f->type) {
    case MMB_FLAG_SWITCH:
    case MMB_FLAG_TEXT:
        return EXIT_OK;
    case MMB_FLAG_U64:
        return mmb_flag_u64(cmd, flag, a->text, f->min, f->max, &a->u64);
    case MMB_FLAG_BYTES:
        return mmb_flag_bytes(cmd, flag, a->text, &a->u64);
    case MMB_FLAG_CHOICE:
        for (size_t i = 0; f->choices[i]; i++)
            if (strcmp(a->text, f->choices[i]) == 0) {
                a->choice = i;
                return EXIT_OK;
            }
        char expected[256];
        mmb_join(expected, sizeof expected, f->choices, ", ", " or ");
        return mmb_usage_error(cmd, hint, "%s: bad value '%s' (expected %s)", flag, a->text,
                               expected);
    }
    return EXIT_OK;
}

int mmb_flags_parse(const char *cmd, const mmb_flag *table, unsigned mask, int argc, char **argv,
                    mmb_flag_fn fn, void *ctx, int *operands) {
    size_t rows = 0;
    while (table[rows].name)
        rows++;
    struct option *opts = mmb_xcalloc(rows + 2, sizeof *opts);
    for (size_t i = 0; i < rows; i++)
        opts[i] = (struct option){
            table[i].name, table[i].type == MMB_FLAG_SWITCH ? no_argument : required_argument, NULL,
            FIRST_ROW + (int)i};
    opts[rows] = (struct option){"help", no_argument, NULL, 'h'};
    char hint[64];
    snprintf(hint, sizeof hint, "mmbench %s --help", cmd);
    int status = EXIT_OK;
    optind = 1;
    opterr = 0;
    for (;;) {
        int longindex = -1;
        int c = getopt_long(argc, argv, ":h", opts, &longindex);
        if (c == -1)
            break;
        if (c == 'h') {
            status = MMB_FLAGS_HELP;
            break;
        }
        if (c == '?' || c == ':') {
            status = mmb_usage_error(cmd, hint,
                                     c == '?' ? "unknown flag '%s'" : "flag '%s' needs a value",
                                     argv[optind - 1]);
            break;
        }
        size_t row = (size_t)(c - FIRST_ROW);
        const mmb_flag *f = &table[row];
        if (!applies(f, mask)) {
            /* argv[optind - 1] is the flag as given, or its value when given apart. */
            const char *given = argv[optind - 1];
            status =
                given[0] == '-'
                    ? mmb_usage_error(cmd, hint, "flag '%s' does not apply to %s", given, cmd)
                    : mmb_usage_error(cmd, hint, "flag '--%s' does not apply to %s", f->name, cmd);
            break;
        }
        mmb_flag_arg a = {.flag = f, .index = row, .text = optarg};
        status = check_value(cmd, f, &a);
        if (status == EXIT_OK)
            status = fn(ctx, &a);
        if (status != EXIT_OK)
            break;
    }
    free(opts);
    if (operands)
        *operands = optind;
    return status;
}

int mmb_flags_parse_command(const char *cmd, const char *usage, const mmb_flag *table, int argc,
                            char **argv, mmb_flag_fn fn, void *ctx) {
    int operands = argc;
    int status = mmb_flags_parse(cmd, table, 0, argc, argv, fn, ctx, &operands);
    if (status == MMB_FLAGS_HELP) {
        fputs(usage, stdout);
        mmb_flags_print_help(stdout, table, 0);
    } else if (status == EXIT_OK && operands < argc) {
        char hint[64];
        snprintf(hint, sizeof hint, "mmbench %s --help", cmd);
        status = mmb_usage_error(cmd, hint, "unexpected argument '%s'", argv[operands]);
    }
    return status;
}

void mmb_flags_print_help(FILE *out, const mmb_flag *table, unsigned mask) {
    for (const mmb_flag *f = table; f->name; f++) {
        if (!f->help || !applies(f, mask))
            continue;
        char left[96];
        snprintf(left, sizeof left, "--%s%s%s", f->name, f->metavar ? " " : "",
                 f->metavar ? f->metavar : "");
        if (strlen(left) > 21)
            fprintf(out, "  %s\n%24s", left, "");
        else
            fprintf(out, "  %-21s ", left);
        for (const char *p = f->help; *p; p++) {
            fputc(*p, out);
            if (*p == '\n' && p[1])
                fprintf(out, "%24s", "");
        }
        if (f->help[0] && f->help[strlen(f->help) - 1] != '\n')
            fputc('\n', out);
    }
}
