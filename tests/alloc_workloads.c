/* The allocator workloads, size-mix and fragment (workloads/README.md): the size bands they draw
 * from, the whole-payload check catching any changed byte, exact deterministic counts from real
 * runs, and the same checksums and counters under every allocator. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "mmbench_cli.h"
#include "payload.h"
#include "size_dist.h"
#include "test.h"
#include "workload_internal.h"

/* The band 16..64 with a fixed seed: every size in it, each octave about equally likely (a
 * density 1/size), 64 alone (1/64 of its octave) about 1 in 129; the band is the same either way
 * round and a band of one size gives that size. */
TEST(allocwl_band_draws_log_uniform) {
    mmbw_band b = mmbw_band_make(16, 64), r = mmbw_band_make(64, 16);
    ASSERT_TRUE(memcmp(&b, &r, sizeof b) == 0);
    mmb_rng rng = {7};
    uint32_t low = 0, high = 0, top = 0;
    const uint32_t n = 200000;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t s = mmbw_band_draw(&b, &rng);
        ASSERT_TRUE(s >= 16 && s <= 64);
        low += s < 32;
        high += s >= 32 && s < 64;
        top += s == 64;
    }
    ASSERT_TRUE(low > n * 0.48 && low < n * 0.51);
    ASSERT_TRUE(high > n * 0.48 && high < n * 0.51);
    ASSERT_TRUE(top > n / 200 && top < n / 80);
    mmbw_band one = mmbw_band_make(100, 100);
    for (int i = 0; i < 100; i++)
        ASSERT_EQ(mmbw_band_draw(&one, &rng), 100);
    mmbw_band all = mmbw_band_make(1, MMB_MAX_PAYLOAD_BYTES);
    for (int i = 0; i < 10000; i++) {
        uint32_t s = mmbw_band_draw(&all, &rng);
        ASSERT_TRUE(s >= 1 && s <= MMB_MAX_PAYLOAD_BYTES);
    }
}

/* The payload check is a checker: a payload of 37 bytes (a tail shorter than a word) passes
 * intact, fails with any one byte changed or under another serial, and ignores the bytes past
 * the size it is given (the oracle's canary there). */
TEST(allocwl_payload_check_catches_every_byte) {
    enum { N = 37 };
    union {
        mmb_obj o;
        unsigned char bytes[sizeof(mmb_obj) + N + 8];
    } u;
    memset(&u, 0, sizeof u);
    u.o.nslots = 0;
    u.o.payload_bytes = N + 8;
    mmbw_fill_payload(&u.o, N, 12345);
    ASSERT_TRUE(mmbw_read_u64(&u.o) == 12345);
    ASSERT_TRUE(mmbw_payload_intact(&u.o, N, 12345));
    ASSERT_TRUE(!mmbw_payload_intact(&u.o, N, 12346));
    unsigned char *p = mmb_payload(&u.o);
    for (int i = 0; i < N; i++) {
        p[i] ^= 0x10;
        ASSERT_TRUE(!mmbw_payload_intact(&u.o, N, 12345));
        p[i] ^= 0x10;
    }
    p[N] ^= 0xff; /* past the size: not the workload's */
    ASSERT_TRUE(mmbw_payload_intact(&u.o, N, 12345));
}

static json_t *mm_of(json_t *b) {
    return json_object_get(b, "mmbench");
}

static double num(json_t *b, const char *key) {
    json_t *v = json_object_get(b, key);
    ASSERT_TRUE(json_is_number(v));
    return json_number_value(v);
}

static const char *str(json_t *b, const char *key) {
    const char *s = json_string_value(json_object_get(mm_of(b), key));
    return s ? s : "";
}

/* size-mix at tiny scale makes exactly long-lived + table + steps x (1 + temporaries) objects
 * (64 + 256 + 10^4 x 2), every one counted by the manager, on every manager, with one checksum. */
TEST_MMBENCH(allocwl_size_mix_exact_counts, "allocwl", 300, "alloc") {
    json_t *root = mmb_test_run_json("--workload size-mix --manager rc,cpython,marksweep "
                                     "--scale tiny");
    json_t *list = json_object_get(root, "benchmarks"), *b;
    size_t i;
    ASSERT_EQ(json_array_size(list), 3);
    json_array_foreach(list, i, b) {
        ASSERT_EQ(num(b, "work_units"), 20320);
        ASSERT_EQ(num(b, "objects_allocated"), 20320);
        ASSERT_STR_EQ(str(b, "checksum"), str(json_array_get(list, 0), "checksum"));
    }
    json_decref(root);
    /* Two temporaries a step: 10^4 more. */
    root = mmb_test_run_json("--workload size-mix --manager rc --scale tiny "
                             "--param temporaries=2");
    ASSERT_EQ(num(json_array_get(json_object_get(root, "benchmarks"), 0), "work_units"), 30320);
    json_decref(root);
}

/* fragment at tiny scale: 2x10^4 fill objects in 79 chunks of 256 slots; the refill adds some
 * (the same number on every manager), none with refill-bytes=0 or free-fraction=0; the manager
 * allocated the chunks besides. Its RSS metrics are there. */
TEST_MMBENCH(allocwl_fragment_exact_counts, "allocwl", 300, "alloc") {
    json_t *root = mmb_test_run_json("--workload fragment --manager rc,cpython,marksweep "
                                     "--scale tiny");
    json_t *list = json_object_get(root, "benchmarks"), *b;
    size_t i;
    ASSERT_EQ(json_array_size(list), 3);
    double units = num(json_array_get(list, 0), "work_units");
    /* 18000 freed, about 35 bytes each, refilled with objects of about 230: some thousands. */
    ASSERT_TRUE(units > 20000 + 1000 && units < 20000 + 6000);
    json_array_foreach(list, i, b) {
        ASSERT_EQ(num(b, "work_units"), units);
        ASSERT_EQ(num(b, "objects_allocated"), units + 79);
        ASSERT_STR_EQ(str(b, "checksum"), str(json_array_get(list, 0), "checksum"));
        ASSERT_TRUE(num(b, "fragment_retained_fraction") > 0);
        ASSERT_TRUE(num(b, "fragment_rss_after_free_bytes") > 0);
        num(b, "fragment_refill_growth_fraction");
    }
    json_decref(root);
    static const char *const none[] = {"--param refill-bytes=0", "--param free-fraction=0"};
    for (int k = 0; k < 2; k++) {
        char extra[200];
        snprintf(extra, sizeof extra, "--workload fragment --manager rc --scale tiny %s", none[k]);
        root = mmb_test_run_json(extra);
        b = json_array_get(json_object_get(root, "benchmarks"), 0);
        ASSERT_EQ(num(b, "work_units"), 20000);
        ASSERT_EQ(num(b, "objects_allocated"), 20079);
        json_decref(root);
    }
}

/* Under every allocator here: the same checksum and the same deterministic counters for each
 * workload and manager (the allocator changes where blocks are, nothing the workload or the
 * manager counts). */
TEST_MMBENCH(allocwl_same_under_every_allocator, "allocwl", 600, "alloc") {
    json_t *root = mmb_test_run_json("--workload size-mix,fragment --manager rc,cpython "
                                     "--scale tiny --allocator all");
    json_t *list = json_object_get(root, "benchmarks"), *b;
    size_t i, seen = 0;
    json_array_foreach(list, i, b) {
        json_t *first = NULL, *c;
        size_t j;
        json_array_foreach(list, j, c) {
            if (strcmp(str(c, "workload"), str(b, "workload")) == 0 &&
                strcmp(str(c, "manager"), str(b, "manager")) == 0) {
                first = c;
                break;
            }
        }
        ASSERT_TRUE(first != NULL);
        seen += first != b;
        ASSERT_STR_EQ(str(b, "checksum"), str(first, "checksum"));
        ASSERT_TRUE(json_equal(json_object_get(mm_of(b), "deterministic"),
                               json_object_get(mm_of(first), "deterministic")));
    }
    ASSERT_TRUE(seen >= 4); /* libc and pool at least: a second allocator for each pair */
    json_decref(root);
}
