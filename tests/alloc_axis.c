/* run's allocator axis (issue 14, allocaxis): the oracle passes under every allocator, cell names
 * gain the allocator only with more than one, bad names are refused, a preloaded allocator that
 * did not take effect is caught, and every cell records its allocator and what it measured.
 * Tests that need an allocator this build lacks exit 77 (skipped). */
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc_registry.h"
#include "metrics.h"
#include "mmbench_cli.h"
#include "test.h"

static const char *const attach_names[] = {"builtin", "api", "preload"};

/* The allocator of that name, or a skip when this build does not have it. */
static const mmb_alloc_impl *need(const char *name) {
    const char *why = NULL;
    int i = mmb_alloc_index(name);
    ASSERT_TRUE(i >= 0);
    const mmb_alloc_impl *a = mmb_alloc_impl_at((size_t)i, &why);
    if (!a)
        SKIP("allocator %s is not available here: %s", name, why);
    return a;
}

static json_t *mm_of(json_t *b) {
    return json_object_get(b, "mmbench");
}

static const char *mm_string(json_t *b, const char *key) {
    const char *s = json_string_value(json_object_get(mm_of(b), key));
    return s ? s : "";
}

/* The tiny conformance matrix for one allocator: every bundled manager on churn and rings under
 * the oracle, each cell recording that allocator (or "own"), and its name without it. */
static void conformance(const char *name) {
    const mmb_alloc_impl *a = need(name);
    char extra[256];
    snprintf(extra, sizeof extra,
             "--verify --scale tiny --workload churn,rings --manager all --allocator %s", name);
    json_t *root = mmb_test_run_json(extra);
    size_t i, n = 0;
    json_t *b;
    json_array_foreach(json_object_get(root, "benchmarks"), i, b) {
        ASSERT_TRUE(!json_is_true(json_object_get(b, "error_occurred")));
        ASSERT_TRUE(strstr(mm_string(b, "cell"), "allocator=") == NULL);
        if (strcmp(mm_string(b, "allocator"), "own") == 0)
            continue;
        ASSERT_STR_EQ(mm_string(b, "allocator"), name);
        ASSERT_STR_EQ(mm_string(b, "allocator_attach"), attach_names[a->attach]);
        n++;
    }
    ASSERT_TRUE(n >= 2 * 6); /* six bundled managers at least, two workloads */
    json_decref(root);
}

TEST_MMBENCH(alloc_conformance_libc, "alloc", 600, "alloc") {
    conformance("libc");
}
TEST_MMBENCH(alloc_conformance_pool, "alloc", 600, "alloc") {
    conformance("pool");
}
TEST_MMBENCH(alloc_conformance_mimalloc, "alloc", 600, "alloc") {
    conformance("mimalloc");
}
TEST_MMBENCH(alloc_conformance_jemalloc, "alloc", 600, "alloc") {
    conformance("jemalloc");
}
TEST_MMBENCH(alloc_conformance_tcmalloc, "alloc", 600, "alloc") {
    conformance("tcmalloc");
}

/* One allocator, even a preloaded one: the names are today's. */
TEST_MMBENCH(alloc_one_allocator_keeps_cell_names, "alloc", 300, "alloc") {
    const char *name =
        mmb_alloc_impl_at((size_t)mmb_alloc_index("jemalloc"), NULL) ? "jemalloc" : "libc";
    char extra[256];
    snprintf(extra, sizeof extra, "--manager rc --workload churn --scale tiny --allocator %s",
             name);
    json_t *root = mmb_test_run_json(extra);
    json_t *b = json_array_get(json_object_get(root, "benchmarks"), 0);
    ASSERT_STR_EQ(mm_string(b, "cell"), "churn/rc/tiny");
    ASSERT_STR_EQ(mm_string(b, "allocator"), name);
    json_decref(root);
}

/* Two allocators asked for: each name gains its allocator, even where the second one is not
 * available here (the names do not depend on the machine). */
TEST_MMBENCH(alloc_two_allocators_name_cells, "alloc", 300, "alloc") {
    json_t *root =
        mmb_test_run_json("--manager rc --workload churn --scale tiny --allocator libc,tcmalloc");
    json_t *list = json_object_get(root, "benchmarks");
    ASSERT_STR_EQ(mm_string(json_array_get(list, 0), "cell"), "churn/rc/tiny/allocator=libc");
    if (mmb_alloc_impl_at((size_t)mmb_alloc_index("tcmalloc"), NULL)) {
        ASSERT_EQ(json_array_size(list), 2);
        ASSERT_STR_EQ(mm_string(json_array_get(list, 1), "cell"),
                      "churn/rc/tiny/allocator=tcmalloc");
    } else {
        ASSERT_EQ(json_array_size(list), 1);
    }
    json_decref(root);
}

/* An unknown allocator: one line, exit 2, nothing run. */
TEST_MMBENCH(alloc_unknown_allocator_is_refused, "alloc", 60, "alloc") {
    char err[] = "/tmp/mmbench-alloc-err-XXXXXX";
    mmb_test_temp_file(err);
    ASSERT_EQ(mmb_test_mmbench("run --manager rc --workload churn --scale tiny --allocator "
                               "libc,nope --format none",
                               NULL, err),
              2);
    const char *text = mmb_test_slurp(err);
    unlink(err);
    ASSERT_STR_CONTAINS(text, "mmbench: error: run: --allocator: unknown allocator 'nope'");
    ASSERT_TRUE(strchr(text, '\n') == text + strlen(text) - 1); /* one line */
}

/* The check that a preloaded library took effect catches a cell started without it: the cell
 * fails with the line that says so (and the run exits 1). */
static void preload_missing(const char *name) {
    need(name);
    char err[] = "/tmp/mmbench-alloc-err-XXXXXX", args[256], want[128];
    mmb_test_temp_file(err);
    snprintf(args, sizeof args,
             "run --manager rc --workload churn --scale tiny --allocator %s --format none", name);
    setenv("MMBENCH_TEST_NO_PRELOAD", "1", 1);
    int status = mmb_test_mmbench(args, NULL, err);
    unsetenv("MMBENCH_TEST_NO_PRELOAD");
    const char *text = mmb_test_slurp(err);
    unlink(err);
    fputs(text, stderr);
    ASSERT_EQ(status, 1);
    snprintf(want, sizeof want, "churn/rc/tiny: %s is not in use in this process", name);
    ASSERT_STR_CONTAINS(text, want);
}

TEST_MMBENCH(alloc_jemalloc_not_preloaded_is_caught, "alloc", 120, "alloc") {
    preload_missing("jemalloc");
}
TEST_MMBENCH(alloc_tcmalloc_not_preloaded_is_caught, "alloc", 120, "alloc") {
    preload_missing("tcmalloc");
}

/* Every allocator here, two managers, two workloads: each entry records its allocator, version
 * and attachment; the context lists them; every numeric key has a metric row; the allocation
 * metrics are there; every block allocated was freed; and the managers' deterministic counters
 * are the same under every allocator (the counting wrapper changes nothing they count). */
TEST_MMBENCH(alloc_results_record_allocator_and_metrics, "alloc", 600, "alloc") {
    json_t *root = mmb_test_run_json(
        "--manager rc,cpython --workload churn,binary-trees --scale tiny --allocator all");
    json_t *list = json_object_get(root, "benchmarks");
    size_t i;
    json_t *b;
    json_array_foreach(list, i, b) {
        const char *name = mm_string(b, "allocator");
        int k = mmb_alloc_index(name);
        ASSERT_TRUE(k >= 0);
        const mmb_alloc_impl *a = mmb_alloc_impl_at((size_t)k, NULL);
        ASSERT_TRUE(a != NULL);
        ASSERT_STR_EQ(mm_string(b, "allocator_attach"), attach_names[a->attach]);
        ASSERT_TRUE(strcmp(mm_string(b, "allocator_version"), "unknown") != 0);
        ASSERT_TRUE(mm_string(b, "allocator_version")[0] != '\0');
        static const char *const wanted[] = {"alloc_calls",
                                             "free_calls",
                                             "requested_peak_live_bytes",
                                             "fragmentation",
                                             "rss_before_destroy_bytes",
                                             "rss_after_close_bytes",
                                             "memory_returned_bytes",
                                             "alloc_ns_per_call",
                                             "free_ns_per_call"};
        for (size_t w = 0; w < sizeof wanted / sizeof wanted[0]; w++) {
            if (!json_is_number(json_object_get(b, wanted[w])))
                fprintf(stderr, "%s lacks %s\n", mm_string(b, "cell"), wanted[w]);
            ASSERT_TRUE(json_is_number(json_object_get(b, wanted[w])));
        }
        /* Every allocator here can tell what it holds (pool counts its arenas and large blocks). */
        ASSERT_TRUE(json_is_number(json_object_get(b, "allocator_mapped_bytes")));
        ASSERT_EQ(json_number_value(json_object_get(b, "alloc_calls")),
                  json_number_value(json_object_get(b, "free_calls")));
        const char *key;
        json_t *v;
        json_object_foreach(b, key, v) {
            if (json_is_number(v) && !mmb_metric_is_bookkeeping(key) && !mmb_metric_find(key))
                fprintf(stderr, "metric '%s' has no row in harness/core/metrics.c\n", key);
            ASSERT_TRUE(!json_is_number(v) || mmb_metric_is_bookkeeping(key) ||
                        mmb_metric_find(key));
        }
    }
    json_t *context = json_object_get(json_object_get(root, "context"), "mmbench");
    size_t nalloc = json_array_size(json_object_get(context, "allocators"));
    ASSERT_TRUE(nalloc >= 1);
    /* Cells are workload x manager x allocator, allocators innermost. */
    for (i = 0; i < json_array_size(list); i++) {
        json_t *base = json_array_get(list, i - i % nalloc);
        json_t *d0 = json_object_get(mm_of(base), "deterministic");
        json_t *d1 = json_object_get(mm_of(json_array_get(list, i)), "deterministic");
        ASSERT_TRUE(d0 && d1);
        ASSERT_TRUE(json_equal(d0, d1));
        ASSERT_EQ(json_number_value(json_object_get(base, "alloc_calls")),
                  json_number_value(json_object_get(json_array_get(list, i), "alloc_calls")));
    }
    json_decref(root);
}

/* pool is not thread-safe: its threaded cells are skipped with a note (here every cell, so the
 * run refuses), its threads=1 cell runs. pool is bundled (managers/alloc/pool.c): always built, so
 * its absence fails here rather than skipping. */
TEST_MMBENCH(alloc_pool_threaded_cells_are_skipped, "alloc", 120, "alloc") {
    const char *why = NULL;
    int i = mmb_alloc_index("pool");
    ASSERT_TRUE(i >= 0);
    ASSERT_TRUE(mmb_alloc_impl_at((size_t)i, &why) != NULL);
    char err[] = "/tmp/mmbench-alloc-err-XXXXXX";
    mmb_test_temp_file(err);
    int status = mmb_test_mmbench("run --manager rc-atomic --workload parallel-churn --scale tiny "
                                  "--param threads=2 --allocator pool --format none",
                                  NULL, err);
    const char *text = mmb_test_slurp(err);
    unlink(err);
    fputs(text, stderr);
    ASSERT_EQ(status, 2);
    ASSERT_STR_CONTAINS(text, "the pool allocator is not thread-safe");
    json_t *root = mmb_test_run_json("--manager rc-atomic --workload parallel-churn --scale tiny "
                                     "--param threads=1,2 --allocator pool");
    ASSERT_EQ(json_array_size(json_object_get(root, "benchmarks")), 1);
    json_decref(root);
}
