/* Hostile input to the trace reader and the error line: IDs crafted to flood the ID map (counted
 * in probes, not timed), the heap and input caps, and the escaping of control characters. */
#include "diag.h"
#include "map.h"
#include "test.h"
#include "trace.h"

#include <fcntl.h>
#include <stdbool.h>
#include <unistd.h>

/* ---- the ID map under crafted IDs ----------------------------------------------------------- */

/* The map's hash before it was keyed: a fixed, invertible mix of the key. */
static uint64_t old_mix(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return k;
}

/* Its inverse: x ^ x >> 33 undoes itself, and an odd multiplier has an inverse mod 2^64 (by
 * Newton's iteration, each step doubling the correct low bits). */
static uint64_t old_mix_inverse(uint64_t h) {
    const uint64_t c = 0xff51afd7ed558ccdull;
    uint64_t inv = c;
    for (int i = 0; i < 6; i++)
        inv *= 2 - c * inv;
    h ^= h >> 33;
    h *= inv;
    h ^= h >> 33;
    return h;
}

/* n IDs whose old hash has its low 40 bits zero: every one of them lands in bucket 0 of any map
 * under 2^40 buckets, so each insert and lookup walked the whole run before it. */
static uint64_t *crafted_ids(size_t n) {
    uint64_t *ids = malloc(n * sizeof *ids);
    ASSERT_TRUE(ids != NULL);
    for (size_t i = 0; i < n; i++) {
        ids[i] = old_mix_inverse((uint64_t)(i + 1) << 40);
        ASSERT_EQ(old_mix(ids[i]), (uint64_t)(i + 1) << 40);
        ASSERT_TRUE(ids[i] > (1ull << 32)); /* beyond the reader's direct table: in the map */
    }
    return ids;
}

#define FLOOD 20000

/* The validator's work on crafted IDs stays linear: the probes that looking every ID up takes
 * are a small multiple of their number (about 1.8 per ID at this load; the old hash needed
 * n(n+1)/2 = 2 x 10^8 for these). */
TEST(trace_ids_crafted_to_collide_stay_linear) {
    uint64_t *ids = crafted_ids(FLOOD);
    char dir[] = "/tmp/mmbench-inputs-XXXXXX";
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    char path[64];
    snprintf(path, sizeof path, "%s/flood.trace", dir);
    FILE *f = fopen(path, "w");
    ASSERT_TRUE(f != NULL);
    for (size_t i = 0; i < FLOOD; i++)
        fprintf(f, "new %" PRIu64 " 0 0\n", ids[i]);
    ASSERT_EQ(fclose(f), 0);

    mmb_trace t;
    mmb_trace_init(&t);
    char err[512] = "";
    int status = mmb_trace_read(&t, path, NULL, err, sizeof err);
    if (status)
        fprintf(stderr, "%s\n", err);
    ASSERT_EQ(status, 0);
    ASSERT_EQ(t.objects, FLOOD);
    ASSERT_EQ(t.id_index.count, FLOOD);
    /* A real flood for the old hash in this very map. */
    for (size_t i = 0; i < FLOOD; i++)
        ASSERT_EQ(old_mix(ids[i]) & t.id_index.mask, 0);
    uint64_t probes = 0;
    for (size_t i = 0; i < FLOOD; i++)
        probes += mmb_map_probe_count(&t.id_index, ids[i]);
    fprintf(stderr, "%d crafted IDs: %" PRIu64 " probes to find them all\n", FLOOD, probes);
    ASSERT_TRUE(probes <= 4 * (uint64_t)FLOOD);
    mmb_trace_free(&t);
    remove(path);
    rmdir(dir);
    free(ids);
}

/* The same on the map itself, with removals (backward shift must keep every key reachable). */
TEST(map_crafted_keys_stay_linear) {
    uint64_t *ids = crafted_ids(FLOOD);
    mmb_map m;
    mmb_map_init(&m);
    for (size_t i = 0; i < FLOOD; i++)
        mmb_map_put(&m, ids[i], i);
    for (size_t i = 0; i < FLOOD; i += 3)
        ASSERT_TRUE(mmb_map_remove(&m, ids[i]));
    uint64_t probes = 0;
    for (size_t i = 0; i < FLOOD; i++) {
        uint64_t v = 0;
        bool present = mmb_map_get(&m, ids[i], &v);
        ASSERT_EQ(present, i % 3 != 0);
        if (present)
            ASSERT_EQ(v, i);
        probes += mmb_map_probe_count(&m, ids[i]);
    }
    ASSERT_TRUE(probes <= 4 * (uint64_t)FLOOD);
    mmb_map_free(&m);
    free(ids);
}

/* ---- the heap cap ---------------------------------------------------------------------------- */

TEST(trace_heap_cap_refuses_the_object_that_crosses_it) {
    mmb_trace t;
    mmb_trace_init(&t);
    char err[512];
    t.max_heap_bytes = 3 * MMB_TRACE_HEAP_BYTES(4, 100);
    for (uint64_t id = 1; id <= 3; id++)
        ASSERT_EQ(mmb_trace_new(&t, id, 4, 100, (uint32_t)id, err, sizeof err), 0);
    ASSERT_EQ(t.heap_bytes, t.max_heap_bytes);
    /* Even an object of no slots and no payload counts its header. */
    ASSERT_EQ(mmb_trace_new(&t, 4, 0, 0, 4, err, sizeof err), -1);
    ASSERT_STR_CONTAINS(err, "more than the heap cap of 492 bytes (524 with this one");
    ASSERT_STR_CONTAINS(err, "--max-heap-bytes");
    ASSERT_EQ(t.objects, 3); /* nothing changed */
    ASSERT_EQ(t.count, 3);
    ASSERT_EQ(t.heap_bytes, t.max_heap_bytes);
    t.max_heap_bytes = 0; /* no cap: the builders' default, as stress uses them */
    ASSERT_EQ(mmb_trace_new(&t, 4, MMB_MAX_SLOTS, MMB_MAX_PAYLOAD_BYTES, 4, err, sizeof err), 0);
    mmb_trace_free(&t);
}

/* 40,000 objects of 65,536 slots in 0.7 MB: refused at the object that crosses the default cap,
 * before the shadow or a heap takes the tens of GB they name. */
TEST(trace_read_refuses_a_small_trace_of_a_huge_heap) {
    char dir[] = "/tmp/mmbench-inputs-XXXXXX";
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    char path[64];
    snprintf(path, sizeof path, "%s/huge.trace", dir);
    FILE *f = fopen(path, "w");
    ASSERT_TRUE(f != NULL);
    for (int i = 1; i <= 40000; i++)
        fprintf(f, "new %d 65536 0\n", i);
    ASSERT_EQ(fclose(f), 0);
    mmb_trace t;
    mmb_trace_init(&t);
    char err[512];
    ASSERT_EQ(mmb_trace_read(&t, path, NULL, err, sizeof err), -1);
    /* 2047 objects of 32 + 8 x 65536 bytes fit in 1 GiB; the 2048th does not. */
    ASSERT_STR_CONTAINS(err, "/huge.trace:2048: the objects need more than the heap cap of "
                             "1073741824 bytes");
    ASSERT_EQ(t.objects, 2047);
    mmb_trace_limits raised = {4 * MMB_TRACE_HEAP_BYTES(65536, 0), 1 << 20};
    mmb_trace_free(&t);
    mmb_trace_init(&t);
    ASSERT_EQ(mmb_trace_read(&t, path, &raised, err, sizeof err), -1);
    ASSERT_STR_CONTAINS(err, "/huge.trace:5: the objects need more than the heap cap");
    ASSERT_EQ(t.max_heap_bytes, 0); /* the reader's cap does not outlive the read */
    mmb_trace_free(&t);
    remove(path);
    rmdir(dir);
}

TEST(trace_read_caps_the_input_and_its_lines) {
    char dir[] = "/tmp/mmbench-inputs-XXXXXX";
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    char path[64];
    snprintf(path, sizeof path, "%s/t.trace", dir);
    FILE *f = fopen(path, "w");
    ASSERT_TRUE(f != NULL);
    fputs("new 1 0 0\n# a comment exactly at the limit:", f);
    for (int i = 0; i < MMB_TRACE_MAX_LINE_BYTES - 33; i++)
        fputc('x', f);
    fputs("\ndrop 1\n", f);
    ASSERT_EQ(fclose(f), 0);
    mmb_trace t;
    mmb_trace_init(&t);
    char err[512];
    int status = mmb_trace_read(&t, path, NULL, err, sizeof err);
    if (status)
        fprintf(stderr, "%s\n", err);
    ASSERT_EQ(status, 0); /* a line of exactly MMB_TRACE_MAX_LINE_BYTES is fine */
    ASSERT_EQ(t.count, 2);
    mmb_trace_free(&t);

    /* One byte more is not. */
    f = fopen(path, "w");
    ASSERT_TRUE(f != NULL);
    fputs("new 1 0 0\n", f);
    for (int i = 0; i < MMB_TRACE_MAX_LINE_BYTES + 1; i++)
        fputc(i % 2 ? ' ' : 'y', f);
    ASSERT_EQ(fclose(f), 0);
    mmb_trace_init(&t);
    ASSERT_EQ(mmb_trace_read(&t, path, NULL, err, sizeof err), -1);
    ASSERT_STR_CONTAINS(err, "/t.trace:2: line longer than 4096 bytes");
    mmb_trace_free(&t);

    /* A regular file over max_trace_bytes is refused before it is read. */
    mmb_trace_limits small = {MMB_TRACE_DEFAULT_MAX_HEAP_BYTES, 100};
    mmb_trace_init(&t);
    ASSERT_EQ(mmb_trace_read(&t, path, &small, err, sizeof err), -1);
    ASSERT_STR_CONTAINS(err, "/t.trace: the trace is 4107 bytes, more than the cap of 100");
    ASSERT_EQ(t.count, 0);
    mmb_trace_free(&t);

    /* /dev/zero: one endless line of NULs, refused at its first 4 KiB. */
    mmb_trace_init(&t);
    ASSERT_EQ(mmb_trace_read(&t, "/dev/zero", NULL, err, sizeof err), -1);
    ASSERT_STR_CONTAINS(err, "/dev/zero:1: line longer than 4096 bytes");
    mmb_trace_free(&t);
    remove(path);
    rmdir(dir);
}

/* ---- escaping -------------------------------------------------------------------------------- */

TEST(escape_makes_control_characters_text) {
    char out[256];
    ASSERT_STR_CONTAINS(mmb_escape(out, sizeof out, "plain text: 1/2 (ok)"),
                        "plain text: 1/2 (ok)");
    mmb_escape(out, sizeof out, "a\nb\rc\td\\e\033[2J\a\x7f\x01");
    ASSERT_TRUE(strcmp(out, "a\\nb\\rc\\td\\\\e\\x1b[2J\\x07\\x7f\\x01") == 0);
    /* Valid UTF-8 passes; C1 controls (here CSI, U+009B, as C2 9B), stray continuation bytes,
     * cut sequences, overlong forms and surrogates do not. */
    mmb_escape(out, sizeof out,
               "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80|\xc2\x9b"
               "2J|\x80|\xc3|"
               "\xc0\xaf|\xed\xa0\x80|\xff");
    ASSERT_TRUE(strcmp(out, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80|\\xc2\\x9b"
                            "2J|\\x80|\\xc3|"
                            "\\xc0\\xaf|\\xed\\xa0\\x80|\\xff") == 0);
    /* No raw control byte or newline is left, whatever the input. */
    char all[256];
    for (int i = 1; i < 256; i++)
        all[i - 1] = (char)i;
    all[255] = '\0';
    char big[2048];
    mmb_escape(big, sizeof big, all);
    for (const unsigned char *p = (const unsigned char *)big; *p; p++)
        ASSERT_TRUE(*p >= 0x20 && *p != 0x7f && *p < 0x80);
    /* Cut only between whole escapes, always terminated. */
    mmb_escape(out, 6, "ab\033cd");
    ASSERT_TRUE(strcmp(out, "ab") == 0);
    mmb_escape(out, 7, "ab\033cd");
    ASSERT_TRUE(strcmp(out, "ab\\x1b") == 0);
}

/* The error line escapes every part: WHERE (a file name), WHAT and the hint. */
TEST(error_line_is_one_line_of_text) {
    char dir[] = "/tmp/mmbench-inputs-XXXXXX";
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    char path[64];
    snprintf(path, sizeof path, "%s/stderr", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT_TRUE(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    close(fd);
    int status = mmb_error(EXIT_FAILED, "bad\nname\033[2J.trace:3", "see\tthis",
                           "unknown operation '%s'", "\033]0;owned\a");
    int usage = mmb_usage_error(NULL, NULL, "%s", "x\ny");
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    ASSERT_EQ(status, EXIT_FAILED);
    ASSERT_EQ(usage, EXIT_USAGE);
    FILE *in = fopen(path, "r");
    ASSERT_TRUE(in != NULL);
    char text[1024] = "";
    size_t got = fread(text, 1, sizeof text - 1, in);
    fclose(in);
    text[got] = '\0';
    ASSERT_TRUE(strcmp(text, "mmbench: error: bad\\nname\\x1b[2J.trace:3: unknown operation "
                             "'\\x1b]0;owned\\x07' (hint: see\\tthis)\n"
                             "mmbench: error: x\\ny\n") == 0);
    remove(path);
    rmdir(dir);
}

/* The parser over a buffer (what a fuzzer drives): no NUL terminator needed, and bytes past
 * max_trace_bytes refused at the line where the cap is crossed. */
TEST(trace_parse_buffer_and_its_input_cap) {
    static const char text[] = "new 1 0 0\ncollect\ndrop 1\nNOT PARSED";
    size_t len = strlen("new 1 0 0\ncollect\ndrop 1"); /* stops in the middle of the buffer */
    mmb_trace t;
    mmb_trace_init(&t);
    char err[512];
    ASSERT_EQ(mmb_trace_parse(&t, "mem", text, len, NULL, err, sizeof err), 0);
    ASSERT_EQ(t.count, 3);
    mmb_trace_free(&t);
    mmb_trace_limits small = {MMB_TRACE_DEFAULT_MAX_HEAP_BYTES, 18}; /* the first two lines */
    mmb_trace_init(&t);
    ASSERT_EQ(mmb_trace_parse(&t, "mem", text, 18, &small, err, sizeof err), 0);
    mmb_trace_free(&t);
    mmb_trace_init(&t);
    ASSERT_EQ(mmb_trace_parse(&t, "mem", text, 19, &small, err, sizeof err), -1);
    ASSERT_STR_CONTAINS(err, "mem:3: the input goes on past the cap of 18 bytes");
    ASSERT_EQ(t.count, 2);
    mmb_trace_free(&t);
}
