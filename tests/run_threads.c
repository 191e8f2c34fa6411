/* `mmbench run` with threads, placements and counters, end to end: the JSON read back. The test's
 * argument is the mmbench binary. */
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <unistd.h>

#include "mmbench_cli.h"
#include "test.h"

static json_t *entry_of(json_t *root, const char *cell) {
    size_t i;
    json_t *b;
    json_array_foreach(json_object_get(root, "benchmarks"), i, b) {
        const char *name =
            json_string_value(json_object_get(json_object_get(b, "mmbench"), "cell"));
        const char *type = json_string_value(json_object_get(b, "run_type"));
        if (name && strcmp(name, cell) == 0 && type && strcmp(type, "iteration") == 0)
            return b;
    }
    fprintf(stderr, "no iteration entry for %s\n", cell);
    ASSERT_TRUE(false);
    return NULL;
}

/* The counters context says what is counted and why not the rest; each cell has per-phase counts
 * of only the events that were counted. cpython collects at tiny scale, so its collector phase
 * has CPU time whenever task-clock is counted at all. */
TEST_MMBENCH(run_counters_recorded, "run", 600, "run") {
    ASSERT_TRUE(mmb_test_arg != NULL);
    json_t *root = mmb_test_run_json("--workload binary-trees --manager cpython --scale tiny "
                                     "--counters default,task-clock");
    json_t *ctx =
        json_object_get(json_object_get(json_object_get(root, "context"), "mmbench"), "counters");
    ASSERT_TRUE(json_is_object(ctx));
    json_t *available = json_object_get(ctx, "available");
    ASSERT_TRUE(json_is_boolean(available));
    json_t *backend = json_object_get(ctx, "backend");
    if (!json_is_true(available)) {
        const char *reason = json_string_value(json_object_get(ctx, "reason"));
        ASSERT_TRUE(reason && strlen(reason) > 10);
    }
    json_t *b = entry_of(root, "binary-trees/cpython/tiny");
    json_t *counts = json_object_get(json_object_get(b, "mmbench"), "counters");
    ASSERT_TRUE(json_is_object(json_object_get(counts, "mutator")));
    ASSERT_TRUE(json_is_object(json_object_get(counts, "collector")));
    ASSERT_EQ(json_integer_value(json_object_get(counts, "threads_counted")), 1);
    const char *key;
    json_t *how;
    json_object_foreach(backend, key, how) {
        bool counted = strcmp(json_string_value(how), "unavailable") != 0;
        /* Never a silent zero: an event that was not counted is absent from every phase. */
        ASSERT_EQ(json_object_get(json_object_get(counts, "mutator"), key) != NULL, counted);
    }
    if (strcmp(json_string_value(json_object_get(backend, "task-clock")), "unavailable") != 0) {
        ASSERT_TRUE(json_integer_value(
                        json_object_get(json_object_get(counts, "mutator"), "task-clock")) > 0);
        ASSERT_TRUE(json_integer_value(
                        json_object_get(json_object_get(counts, "collector"), "task-clock")) > 0);
    }
    json_decref(root);
}

/* Threads: a single-threaded manager is left out of a threaded cell with the reason; a
 * thread-safe one runs bound (compact: PUs 0 and 1 here), each worker reports its share, and the
 * 2-thread cell gets its scaling against the 1-thread one. */
TEST_MMBENCH(run_threads_placement_and_scaling, "run", 600, "run threads") {
    ASSERT_TRUE(mmb_test_arg != NULL);
    if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
        SKIP("needs 2 CPUs");
    }
    json_t *root =
        mmb_test_run_json("--workload parallel-churn --manager rc,rc-atomic --scale tiny "
                          "--param threads=1,2 --placement compact");
    json_t *mm = json_object_get(json_object_get(root, "context"), "mmbench");
    json_t *skipped = json_object_get(mm, "skipped");
    ASSERT_EQ(json_array_size(skipped), 1);
    ASSERT_TRUE(strcmp(json_string_value(json_object_get(json_array_get(skipped, 0), "cell")),
                       "parallel-churn/rc/tiny/threads=2") == 0);
    ASSERT_STR_CONTAINS(json_string_value(json_object_get(json_array_get(skipped, 0), "reason")),
                        "not thread-safe");
    json_t *topo = json_object_get(mm, "topology");
    ASSERT_TRUE(json_integer_value(json_object_get(topo, "pus")) >= 2);
    ASSERT_TRUE(json_is_true(json_object_get(json_object_get(topo, "placements"), "compact")));

    json_t *one = entry_of(root, "parallel-churn/rc-atomic/tiny/threads=1/placement=compact");
    json_t *two = entry_of(root, "parallel-churn/rc-atomic/tiny/threads=2/placement=compact");
    entry_of(root, "parallel-churn/rc/tiny/threads=1/placement=compact");
    json_t *th = json_object_get(json_object_get(two, "mmbench"), "threads");
    ASSERT_EQ(json_integer_value(json_object_get(th, "count")), 2);
    ASSERT_TRUE(strcmp(json_string_value(json_object_get(th, "placement")), "compact") == 0);
    ASSERT_TRUE(json_is_true(json_object_get(th, "bound")));
    json_t *pus = json_object_get(th, "pus"), *each = json_object_get(th, "per_thread");
    ASSERT_EQ(json_array_size(pus), 2);
    ASSERT_EQ(json_array_size(each), 2);
    double units = 0;
    for (size_t i = 0; i < 2; i++) {
        json_t *w = json_array_get(each, i);
        ASSERT_TRUE(json_object_get(w, "bind_error") == NULL);
        /* Bound with HWLOC_CPUBIND_STRICT: the worker ends on its planned PU. */
        ASSERT_EQ(json_integer_value(json_object_get(w, "cpu")),
                  json_integer_value(json_array_get(pus, i)));
        units += json_number_value(json_object_get(w, "work_units"));
    }
    ASSERT_TRUE(units == json_number_value(json_object_get(two, "work_units")));
    ASSERT_TRUE(json_number_value(json_object_get(two, "per_thread_units_per_second")) > 0);
    json_t *sc = json_object_get(json_object_get(two, "mmbench"), "scaling");
    ASSERT_TRUE(strcmp(json_string_value(json_object_get(sc, "baseline_cell")),
                       "parallel-churn/rc-atomic/tiny/threads=1/placement=compact") == 0);
    double speedup = json_number_value(json_object_get(sc, "speedup"));
    double ratio = json_number_value(json_object_get(two, "work_units_per_second")) /
                   json_number_value(json_object_get(one, "work_units_per_second"));
    ASSERT_TRUE(fabs(speedup - ratio) < 1e-9 * ratio);
    ASSERT_TRUE(fabs(json_number_value(json_object_get(sc, "efficiency")) - speedup / 2) < 1e-12);
    ASSERT_TRUE(json_object_get(json_object_get(one, "mmbench"), "scaling") == NULL);
    json_decref(root);
}
