/* `mmbench run` end to end: its JSON read back with Jansson and checked field by field, and the
 * deterministic counters identical across two runs. The test's argument is the mmbench binary. */
#include <jansson.h>
#include <math.h>
#include <unistd.h>

#include "mmbench/manager.h"
#include "recorder.h"
#include "mmbench_cli.h"
#include "test.h"

static const char *str(json_t *o, const char *key) {
    const char *s = json_string_value(json_object_get(o, key));
    if (!s)
        fprintf(stderr, "missing string '%s'\n", key);
    ASSERT_TRUE(s != NULL);
    return s;
}

static double num(json_t *o, const char *key) {
    json_t *v = json_object_get(o, key);
    if (!json_is_number(v))
        fprintf(stderr, "missing number '%s'\n", key);
    ASSERT_TRUE(json_is_number(v));
    return json_number_value(v);
}

TEST_MMBENCH(run_json_fields, "run", 600, "run") {
    ASSERT_TRUE(mmb_test_arg != NULL);
    json_t *root = mmb_test_run_json("--workload churn --manager rc,marksweep --scale tiny "
                                     "--repetitions 2 --option min-bytes=64K");
    json_t *ctx = json_object_get(root, "context");
    str(ctx, "host_name");
    ASSERT_TRUE(num(ctx, "num_cpus") >= 1);
    json_t *mm = json_object_get(ctx, "mmbench");
    str(mm, "git_revision");
    str(mm, "version");
    str(mm, "build_type");
    str(mm, "cpu_model");
    ASSERT_TRUE(json_array_size(json_object_get(mm, "command")) > 3);
    json_t *benchmarks = json_object_get(root, "benchmarks");
    size_t i, iterations = 0;
    json_t *b;
    json_array_foreach(benchmarks, i, b) {
        json_t *m = json_object_get(b, "mmbench");
        const char *cell = str(m, "cell");
        ASSERT_TRUE(strncmp(str(b, "name"), cell, strlen(cell)) == 0);
        ASSERT_STR_CONTAINS(cell, "churn/");
        ASSERT_TRUE(strcmp(str(m, "scale"), "tiny") == 0);
        ASSERT_TRUE(num(json_object_get(m, "params"), "objects") == 20000);
        ASSERT_TRUE(num(m, "seed") == 1);
        if (strcmp(str(b, "run_type"), "iteration") != 0)
            continue;
        iterations++;
        ASSERT_TRUE(!json_is_true(json_object_get(b, "error_occurred")));
        ASSERT_TRUE(strcmp(str(b, "time_unit"), "ms") == 0);
        ASSERT_TRUE(num(b, "real_time") > 0);
        ASSERT_TRUE(num(b, "work_units") == 20000);
        ASSERT_TRUE(num(b, "work_units_per_second") > 0);
        json_t *det = json_object_get(m, "deterministic");
        ASSERT_TRUE(num(det, "objects_allocated") == num(b, "objects_allocated"));
        ASSERT_TRUE(num(det, "objects_allocated") == 20000);
        ASSERT_TRUE(num(det, "live_objects_after_final_collection") == 0);
        ASSERT_TRUE(num(det, "increments") == num(b, "increments"));
        ASSERT_TRUE(num(m, "peak_rss_bytes") > 0);
        ASSERT_TRUE(num(m, "run_ns") > 0);
        json_t *pauses = json_object_get(m, "pauses");
        json_t *full = json_object_get(pauses, "full");
        bool tracing = strstr(cell, "/marksweep/") != NULL;
        /* marksweep with a 64 KiB trigger collects during the run; rc never does. */
        ASSERT_TRUE(tracing ? num(full, "count") > 0 : num(full, "count") == 0);
        ASSERT_TRUE(num(full, "count") == num(b, "collections_full"));
        ASSERT_TRUE(num(full, "max_ns") >= num(full, "p99_ns") * 0.99);
        ASSERT_TRUE(json_array_size(json_object_get(full, "buckets")) > 0 || !tracing);
        json_t *mmu = json_object_get(m, "mmu");
        ASSERT_EQ(json_array_size(mmu), 10);
        double last = 0;
        size_t k;
        json_t *w;
        json_array_foreach(mmu, k, w) {
            double u = num(w, "utilization"), bounded = num(w, "bounded");
            ASSERT_TRUE(u >= 0 && u <= 1);
            ASSERT_TRUE(bounded <= u + 1e-12);
            ASSERT_TRUE(bounded >= last - 1e-12); /* bounded MMU grows with the window */
            last = bounded;
        }
        ASSERT_TRUE(num(b, "mmu_10ms") >= 0 && num(b, "mmu_10ms") <= 1);
    }
    ASSERT_EQ(iterations, 4); /* 2 cells x 2 repetitions */
    json_decref(root);
}

/* The deterministic section and checksum of every cell: a string to compare across runs. */
static char *deterministic_part(json_t *root) {
    json_t *all = json_array();
    size_t i;
    json_t *b;
    json_array_foreach(json_object_get(root, "benchmarks"), i, b) {
        json_t *m = json_object_get(b, "mmbench");
        if (!json_object_get(m, "deterministic"))
            continue;
        json_array_append_new(all, json_pack("{sOsOsO}", "cell", json_object_get(m, "cell"), "d",
                                             json_object_get(m, "deterministic"), "checksum",
                                             json_object_get(m, "checksum")));
    }
    char *s = json_dumps(all, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(all);
    return s;
}

TEST_MMBENCH(run_deterministic_counters_repeat, "run", 600, "run") {
    ASSERT_TRUE(mmb_test_arg != NULL);
    /* One worker: with more, which thread frees what, and when collections run, depend on the
     * interleaving (work units and checksums do not). */
    const char *args =
        "--workload all --manager all --scale tiny --option min-bytes=64K --param threads=1";
    json_t *a = mmb_test_run_json(args), *b = mmb_test_run_json(args);
    char *da = deterministic_part(a), *db = deterministic_part(b);
    ASSERT_TRUE(strlen(da) > 100);
    if (strcmp(da, db) != 0)
        fprintf(stderr, "first:  %s\nsecond: %s\n", da, db);
    ASSERT_TRUE(strcmp(da, db) == 0);
    free(da);
    free(db);
    json_decref(a);
    json_decref(b);
}

/* Coordinated omission: an open-loop schedule of one request a millisecond, each taking 0.1 ms,
 * with one 100 ms stall. Measured from the actual start only the stalled request looks slow;
 * from the scheduled start, the ~100 requests queued behind the stall are late too. */
TEST(recorder_corrects_coordinated_omission) {
    mmb_recorder *r = mmb_recorder_new();
    ASSERT_TRUE(r != NULL);
    mmb_recorder_start(r, 0);
    const uint64_t ms = 1000000, n = 1000;
    uint64_t free_at = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t scheduled = i * ms;
        uint64_t start = scheduled > free_at ? scheduled : free_at;
        uint64_t service = i == 100 ? 100 * ms : ms / 10;
        uint64_t end = start + service;
        mmb_recorder_on_request(r, scheduled, start, end);
        free_at = end;
    }
    ASSERT_EQ(r->latency_corrected.count, n);
    /* Uncorrected: 999 requests of 0.1 ms and one of 100 ms. */
    ASSERT_TRUE(fabs(mmb_hist_percentile(&r->latency_uncorrected, 99) - 0.1 * ms) <= 0.001 * ms);
    ASSERT_TRUE(r->latency_uncorrected.max == 100 * ms);
    /* Corrected: requests 100..~199 waited for the stall, from ~100 ms down to ~1 ms; the 90th
     * percentile of all 1000 is in that queue, far above the 0.1 ms service time. */
    double p90 = mmb_hist_percentile(&r->latency_corrected, 90);
    ASSERT_TRUE(p90 >= 5 * ms);
    ASSERT_TRUE(fabs(mmb_hist_percentile(&r->latency_corrected, 50) - 0.1 * ms) <= 0.001 * ms);
    ASSERT_TRUE(r->latency_corrected.max == 100 * ms);
    mmb_recorder_free(r);
}

static bool file_contains(const char *path, const char *needle) {
    char buf[4096] = "";
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    if (!strstr(buf, needle))
        fprintf(stderr, "%s does not contain \"%s\": %s\n", path, needle, buf);
    return strstr(buf, needle) != NULL;
}

/* N shards, merged, are exactly the unsharded run: the same cells in the same order, with the
 * same deterministic counters and checksums; and merge refuses incomplete or foreign shards. */
TEST_MMBENCH(run_shards_merge_to_the_whole, "run", 600, "run") {
    ASSERT_TRUE(mmb_test_arg != NULL);
    char dir[] = "/tmp/mmbench-shards-XXXXXX";
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    const char *matrix = "--workload churn,rings,binary-trees --scale tiny --format none";
    char args[1024], err[600];
    snprintf(err, sizeof err, "%s/err", dir);
    snprintf(args, sizeof args, "run %s --out %s/all.json", matrix, dir);
    ASSERT_EQ(mmb_test_mmbench(args, NULL, NULL), 0);
    for (int k = 1; k <= 3; k++) {
        snprintf(args, sizeof args, "run %s --shard %d/3 --out %s/s%d.json", matrix, k, dir, k);
        ASSERT_EQ(mmb_test_mmbench(args, NULL, NULL), 0);
    }
    snprintf(args, sizeof args,
             "merge --format none --out %s/merged.json %s/s2.json %s/s3.json %s/s1.json", dir, dir,
             dir, dir);
    ASSERT_EQ(mmb_test_mmbench(args, NULL, NULL), 0);
    json_t *all = mmb_test_load_json(dir, "all.json");
    json_t *merged = mmb_test_load_json(dir, "merged.json");
    size_t bundled = 0; /* what the default --manager all means */
    for (size_t i = 0; i < mmb_manager_count(); i++)
        bundled += !mmb_manager_is_external(mmb_manager_at(i));
    ASSERT_EQ(json_array_size(json_object_get(all, "benchmarks")), 3 * bundled);
    char *a = deterministic_part(all), *m = deterministic_part(merged);
    if (strcmp(a, m) != 0)
        fprintf(stderr, "whole:  %s\nmerged: %s\n", a, m);
    ASSERT_TRUE(strcmp(a, m) == 0);
    ASSERT_EQ(json_array_size(json_object_get(
                  json_object_get(json_object_get(merged, "context"), "mmbench"), "shards")),
              3);
    free(a);
    free(m);

    /* Refusals: a missing shard, a shard twice, a shard of another build, a whole run. */
    snprintf(args, sizeof args, "merge %s/s1.json %s/s2.json", dir, dir);
    ASSERT_EQ(mmb_test_mmbench(args, NULL, err), 2);
    ASSERT_TRUE(file_contains(err, "merge: shard 3 of 3 is missing"));
    snprintf(args, sizeof args, "merge %s/s1.json %s/s1.json %s/s2.json", dir, dir, dir);
    ASSERT_EQ(mmb_test_mmbench(args, NULL, err), 2);
    ASSERT_TRUE(file_contains(err, "s1.json: shard 1 of 3 given twice"));
    json_t *s2 = mmb_test_load_json(dir, "s2.json");
    char path[700];
    json_object_set_new(json_object_get(json_object_get(s2, "context"), "mmbench"), "git_revision",
                        json_string("0123456789ab"));
    snprintf(path, sizeof path, "%s/s2-other-build.json", dir);
    ASSERT_EQ(json_dump_file(s2, path, 0), 0);
    json_decref(s2);
    snprintf(args, sizeof args, "merge %s/s1.json %s/s2-other-build.json %s/s3.json", dir, dir,
             dir);
    ASSERT_EQ(mmb_test_mmbench(args, NULL, err), 2);
    ASSERT_TRUE(file_contains(err, "s2-other-build.json has git_revision '0123456789ab'"));
    snprintf(args, sizeof args, "merge %s/all.json", dir);
    ASSERT_EQ(mmb_test_mmbench(args, NULL, err), 2);
    ASSERT_TRUE(file_contains(err, "all.json: not a shard's results"));
    json_decref(all);
    json_decref(merged);
    snprintf(args, sizeof args, "rm -rf %s", dir);
    ASSERT_EQ(system(args), 0);
}

/* --instructions: callgrind's counts of the measured region repeat exactly (server aside: it
 * reads the clock for its schedule). Skipped (77) in sanitizer builds, which valgrind cannot
 * run, and where valgrind is missing. */
TEST_MMBENCH(run_instructions_repeat_exactly, "run", 600, "run") {
#if defined(__SANITIZE_ADDRESS__)
    SKIP("valgrind cannot run AddressSanitizer binaries");
#endif
    if (system("valgrind --version >/dev/null 2>&1") != 0) {
        SKIP("no valgrind");
    }
    const char *args = "--workload churn,rings,binary-trees --manager rc,cpython --scale tiny "
                       "--instructions";
    json_t *a = mmb_test_run_json(args), *b = mmb_test_run_json(args);
    json_t *info =
        json_object_get(json_object_get(json_object_get(a, "context"), "mmbench"), "instructions");
    ASSERT_TRUE(json_is_true(json_object_get(info, "available")));
    size_t i;
    json_t *x;
    size_t cells = 0;
    json_array_foreach(json_object_get(a, "benchmarks"), i, x) {
        json_t *y = json_array_get(json_object_get(b, "benchmarks"), i);
        double ia = num(x, "instructions"), ib = num(y, "instructions");
        ASSERT_TRUE(ia > 1e5);
        if (ia != ib)
            fprintf(stderr, "%s: %.0f then %.0f instructions\n",
                    str(json_object_get(x, "mmbench"), "cell"), ia, ib);
        ASSERT_TRUE(ia == ib);
        cells++;
    }
    ASSERT_EQ(cells, 6);
    json_decref(a);
    json_decref(b);
}

/* Without valgrind, --instructions says so once and records why, and the run goes on. */
TEST_MMBENCH(run_instructions_without_valgrind, "run", 600, "run") {
    char dir[] = "/tmp/mmbench-novg-XXXXXX";
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "PATH=/nonexistent %s run --workload churn --manager rc --scale tiny --instructions "
             "--format none --out %s/r.json 2>%s/err",
             mmb_test_arg, dir, dir);
    int status = system(cmd);
    ASSERT_EQ(WEXITSTATUS(status), 0);
    char path[600];
    snprintf(path, sizeof path, "%s/err", dir);
    ASSERT_TRUE(file_contains(path, "--instructions: valgrind not found on PATH"));
    json_t *r = mmb_test_load_json(dir, "r.json");
    json_t *info =
        json_object_get(json_object_get(json_object_get(r, "context"), "mmbench"), "instructions");
    ASSERT_TRUE(json_is_false(json_object_get(info, "available")));
    ASSERT_STR_CONTAINS(json_string_value(json_object_get(info, "reason")), "valgrind not found");
    json_t *first = json_array_get(json_object_get(r, "benchmarks"), 0);
    ASSERT_TRUE(json_object_get(first, "instructions") == NULL); /* never a silent zero */
    json_decref(r);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ASSERT_EQ(system(cmd), 0);
}

/* --fresh-process: every repetition its own iteration entry, from its own process. */
TEST_MMBENCH(run_fresh_process_repetitions, "run", 600, "run") {
    ASSERT_TRUE(mmb_test_arg != NULL);
    json_t *root = mmb_test_run_json("--workload churn --manager rc,cpython --scale tiny "
                                     "--repetitions 3 --fresh-process");
    size_t i;
    json_t *b;
    int seen[2][3] = {{0}};
    json_array_foreach(json_object_get(root, "benchmarks"), i, b) {
        ASSERT_TRUE(strcmp(str(b, "run_type"), "iteration") == 0); /* no in-process aggregates */
        json_t *m = json_object_get(b, "mmbench");
        ASSERT_TRUE(json_is_true(json_object_get(m, "fresh_process")));
        int cell = strstr(str(m, "cell"), "/rc/") ? 0 : 1;
        int r = (int)num(b, "repetition_index");
        ASSERT_TRUE(r >= 0 && r < 3);
        ASSERT_TRUE(num(b, "repetitions") == 3);
        seen[cell][r]++;
    }
    for (int c = 0; c < 2; c++)
        for (int r = 0; r < 3; r++)
            ASSERT_EQ(seen[c][r], 1);
    json_decref(root);
}
