/* The measurement primitives: histogram percentiles against exact ones, MMU against brute
 * force. */
#include <math.h>

#include "hist.h"
#include "mmu.h"
#include "test.h"
#include "workload.h"

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

TEST(hist_percentiles_within_1_percent) {
    static mmb_hist h;
    enum { N = 200000 };
    uint64_t *v = malloc(N * sizeof *v);
    mmb_rng rng = {7};
    for (int trial = 0; trial < 3; trial++) {
        mmb_hist_init(&h);
        for (int i = 0; i < N; i++) {
            /* Log-uniform from 1 ns to 100 s, plus a few exact small values. */
            double e = mmb_rng_unit(&rng) * 11.0;
            v[i] = trial == 2 ? (uint64_t)mmb_rng_below(&rng, 200) : (uint64_t)pow(10.0, e) + 1;
            mmb_hist_record(&h, v[i]);
        }
        qsort(v, N, sizeof *v, cmp_u64);
        ASSERT_EQ(h.count, N);
        ASSERT_EQ(h.max, v[N - 1]);
        ASSERT_EQ(h.min, v[0]);
        const double ps[] = {1, 10, 50, 90, 99, 99.9, 99.99, 100};
        for (size_t k = 0; k < sizeof ps / sizeof ps[0]; k++) {
            size_t rank = (size_t)ceil(ps[k] / 100.0 * N);
            double exact = (double)v[rank - 1], got = mmb_hist_percentile(&h, ps[k]);
            if (fabs(got - exact) > exact / 100.0)
                fprintf(stderr, "p%g: got %f, exact %f\n", ps[k], got, exact);
            ASSERT_TRUE(fabs(got - exact) <= exact / 100.0);
        }
    }
    free(v);
    mmb_hist_init(&h);
    ASSERT_TRUE(mmb_hist_percentile(&h, 50) == 0);
    mmb_hist_record(&h, 100000000000ull); /* 100 s */
    ASSERT_TRUE(mmb_hist_percentile(&h, 99) == 1e11);
}

TEST(hist_buckets_cover_values) {
    /* Every value falls in the bucket its index names. */
    mmb_rng rng = {3};
    for (int i = 0; i < 100000; i++) {
        uint64_t v = mmb_rng_next(&rng) >> mmb_rng_below(&rng, 64);
        if (v > (1ull << 60))
            continue;
        unsigned idx = mmb_hist_index(v);
        ASSERT_TRUE(idx < MMB_HIST_BUCKETS);
        uint64_t low, width;
        mmb_hist_bucket(idx, &low, &width);
        ASSERT_TRUE(v >= low && v - low < width);
    }
}

TEST(hist_hgrm_format) {
    static mmb_hist h;
    mmb_hist_init(&h);
    for (uint64_t v = 1000; v <= 100000; v += 7)
        mmb_hist_record(&h, v);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ASSERT_EQ(mmb_hist_write_hgrm(&h, f, 1e3), 0);
    fclose(f);
    ASSERT_STR_CONTAINS(buf, "Value     Percentile TotalCount 1/(1-Percentile)");
    ASSERT_STR_CONTAINS(buf, "#[Max     =       99.994, Total count    =        14143]");
    ASSERT_STR_CONTAINS(buf, "0.500000000000");
    free(buf);
}

/* Brute force: every integer window start. With integer pause boundaries and window, the worst
 * window starts at an integer, so this is exact. */
static double mmu_brute(const mmb_pause *p, size_t n, uint64_t run, uint64_t w) {
    if (w > run)
        w = run;
    uint64_t worst = 0;
    for (uint64_t t = 0; t + w <= run; t++) {
        uint64_t paused = 0;
        for (size_t i = 0; i < n; i++) {
            uint64_t a = p[i].start_ns > t ? p[i].start_ns : t;
            uint64_t b = p[i].end_ns < t + w ? p[i].end_ns : t + w;
            if (b > a)
                paused += b - a;
        }
        if (paused > worst)
            worst = paused;
    }
    return 1.0 - (double)worst / (double)w;
}

TEST(mmu_matches_brute_force) {
    mmb_rng rng = {11};
    mmb_pause p[64];
    for (int trial = 0; trial < 300; trial++) {
        size_t n = mmb_rng_below(&rng, 20);
        uint64_t run = 200 + mmb_rng_below(&rng, 2000);
        for (size_t i = 0; i < n; i++) {
            uint64_t s = mmb_rng_below(&rng, (uint32_t)run);
            uint64_t len = 1 + mmb_rng_below(&rng, 60);
            p[i].start_ns = s;
            p[i].end_ns = s + len > run ? run : s + len;
        }
        n = mmb_pauses_normalize(p, n);
        for (size_t i = 1; i < n; i++)
            ASSERT_TRUE(p[i].start_ns > p[i - 1].end_ns);
        const uint64_t ws[] = {1, 5, 17, 100, 333, 1000, 5000};
        for (size_t k = 0; k < sizeof ws / sizeof ws[0]; k++) {
            double fast = mmb_mmu(p, n, run, ws[k]), brute = mmu_brute(p, n, run, ws[k]);
            if (fabs(fast - brute) > 1e-12)
                fprintf(stderr, "trial %d w %llu: %f vs brute %f\n", trial,
                        (unsigned long long)ws[k], fast, brute);
            ASSERT_TRUE(fabs(fast - brute) <= 1e-12);
        }
    }
    ASSERT_TRUE(mmb_mmu(NULL, 0, 1000, 10) == 1.0);
    mmb_pause whole = {0, 1000};
    ASSERT_TRUE(mmb_mmu(&whole, 1, 1000, 10) == 0.0);
}

/* ---- the Google Benchmark wrapper: a C function timed, its counters and time read back ----- */

#include <jansson.h>
#include <unistd.h>

#include "gbench.h"

static int fake_iteration(void *arg, mmb_gb_sink *sink, double *seconds, char *err, size_t n) {
    (void)err;
    (void)n;
    int *calls = arg;
    (*calls)++;
    mmb_gb_counter(sink, "objects", 1000, MMB_GB_COUNTER_PLAIN);
    mmb_gb_counter(sink, "objects_per_second", 1000, MMB_GB_COUNTER_RATE);
    *seconds = 0.25; /* what the caller measured */
    return 0;
}

TEST(gbench_runs_c_function) {
    static int calls;
    char path[] = "/tmp/mmbench-gb-XXXXXX";
    int fd = mkstemp(path);
    ASSERT_TRUE(fd >= 0);
    close(fd);
    char out_flag[64];
    snprintf(out_flag, sizeof out_flag, "--benchmark_out=%s", path);
    char *argv[] = {"mmbench",
                    out_flag,
                    "--benchmark_out_format=json",
                    "--benchmark_repetitions=3",
                    "--benchmark_format=json",
                    NULL};
    FILE *saved = freopen("/dev/null", "w", stdout); /* the console reporter */
    ASSERT_TRUE(saved != NULL);
    mmb_gb_register("fake/cell", fake_iteration, &calls);
    ASSERT_EQ(mmb_gb_run(5, argv), 0);
    ASSERT_EQ(calls, 3);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    unlink(path);
    ASSERT_TRUE(root != NULL);
    ASSERT_TRUE(json_is_object(json_object_get(root, "context")));
    json_t *first = json_array_get(json_object_get(root, "benchmarks"), 0);
    ASSERT_STR_CONTAINS(json_string_value(json_object_get(first, "name")), "fake/cell");
    ASSERT_TRUE(fabs(json_real_value(json_object_get(first, "real_time")) - 250.0) < 1e-6);
    ASSERT_STR_CONTAINS(json_string_value(json_object_get(first, "time_unit")), "ms");
    ASSERT_TRUE(json_number_value(json_object_get(first, "objects")) == 1000);
    ASSERT_TRUE(fabs(json_number_value(json_object_get(first, "objects_per_second")) - 4000) <
                1e-6);
    json_decref(root);
}
