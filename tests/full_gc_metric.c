/* full_ns_per_live_object (issue 12): a cell's full collections' total pause over their total
 * survivors (manager.h's objects_visited - objects_freed). Known events fed to the recorder, then
 * a real tiny run, where it is present for marksweep and absent without a full collection. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mmbench/manager.h"
#include "mmbench_cli.h"
#include "pauses.h"
#include "recorder.h"
#include "test.h"

static void event(mmb_recorder *r, mmb_event_kind kind, uint64_t start_ns, uint64_t pause_ns,
                  uint64_t visited, uint64_t freed) {
    mmb_event e = {kind, kind == MMB_EVENT_YOUNG ? 0 : -1, start_ns, start_ns + pause_ns, visited,
                   freed};
    mmb_recorder_on_event(r, &e);
}

static mmb_pause_stats *stats_of(mmb_recorder *r) {
    static mmb_pause_stats s; /* large (histograms) */
    mmb_pause_stats_compute(r, 1000000000, &s);
    return &s;
}

/* Two full collections of 10 ms with 10^6 survivors each: 10 ns per live object. Young
 * collections and cascades, however long and however many they examined, are not counted. */
TEST(full_ns_per_live_object_from_known_events) {
    mmb_recorder *r = mmb_recorder_new();
    ASSERT_TRUE(r != NULL);
    const uint64_t ms = 1000000;
    mmb_recorder_start(r, 0);
    event(r, MMB_EVENT_FULL, 0, 10 * ms, 1000500, 500);
    event(r, MMB_EVENT_YOUNG, 100 * ms, 50 * ms, 10, 2);
    event(r, MMB_EVENT_CASCADE, 200 * ms, 7 * ms, 3000, 3000);
    event(r, MMB_EVENT_FULL, 300 * ms, 10 * ms, 1000000, 0);
    ASSERT_EQ(r->full_survivors, 2000000);
    mmb_pause_stats *s = stats_of(r);
    ASSERT_TRUE(s->full_ns_per_live_object == 10.0);
    json_t *p = mmb_pause_stats_json(r, s);
    ASSERT_EQ(json_integer_value(json_object_get(p, "full_survivors")), 2000000);
    ASSERT_TRUE(json_real_value(json_object_get(p, "full_ns_per_live_object")) == 10.0);
    json_decref(p);

    /* No full collection: absent (NAN, no key), not 0. */
    mmb_recorder_start(r, 0);
    event(r, MMB_EVENT_YOUNG, 0, 5 * ms, 1000, 10);
    event(r, MMB_EVENT_CASCADE, 10 * ms, 5 * ms, 1000, 1000);
    s = stats_of(r);
    ASSERT_TRUE(isnan(s->full_ns_per_live_object));
    p = mmb_pause_stats_json(r, s);
    ASSERT_TRUE(json_object_get(p, "full_ns_per_live_object") == NULL);
    ASSERT_EQ(json_integer_value(json_object_get(p, "full_survivors")), 0);
    json_decref(p);

    /* Full collections that freed everything they examined: no survivor, absent. */
    mmb_recorder_start(r, 0);
    event(r, MMB_EVENT_FULL, 0, 5 * ms, 1000, 1000);
    s = stats_of(r);
    ASSERT_TRUE(isnan(s->full_ns_per_live_object));

    /* The total pause over the total survivors, not a mean of ratios: one survivor-less full
     * collection's pause still counts (7 ms over 1000 survivors: 7000 ns). */
    event(r, MMB_EVENT_FULL, 10 * ms, 2 * ms, 1000, 0);
    s = stats_of(r);
    ASSERT_TRUE(s->full_ns_per_live_object == 7000.0);
    mmb_recorder_free(r);
}

static const char *manager_of(json_t *b) {
    return json_string_value(json_object_get(json_object_get(b, "mmbench"), "manager"));
}

static bool file_has(const char *path, const char *needle) {
    const char *text = mmb_test_slurp(path);
    return strstr(text, needle) != NULL;
}

/* A real run on live-heap at tiny scale (marksweep with a small collection budget, so that it
 * collects at all): marksweep's cells have the metric, and its survivors are exactly the objects
 * it marked (objects_traversed: marksweep scans each marked object once), which holds only if its
 * events count each object once. rc never collects, cpython only young generations there: no key.
 * report shows the column; compare loads a file that predates the metric. */
TEST_MMBENCH(full_ns_per_live_object_in_a_run, "run", 300, "run") {
    char results[] = "/tmp/mmbench-full-gc-XXXXXX";
    mmb_test_temp_file(results);
    char args[512];
    snprintf(args, sizeof args,
             "run --manager marksweep,rc,cpython --workload live-heap --scale tiny "
             "--repetitions 2 --option min-bytes=65536 --format none --out %s",
             results);
    ASSERT_EQ(mmb_test_mmbench(args, NULL, "/dev/stderr"), 0);
    json_t *root = mmb_test_load_json(NULL, results);
    size_t i, marksweep = 0, without = 0;
    json_t *b;
    json_array_foreach(json_object_get(root, "benchmarks"), i, b) {
        if (strcmp(json_string_value(json_object_get(b, "run_type")), "iteration") != 0)
            continue; /* Google Benchmark's aggregates: no details */
        const char *m = manager_of(b);
        json_t *pauses = json_object_get(json_object_get(b, "mmbench"), "pauses");
        json_t *v = json_object_get(b, "full_ns_per_live_object");
        uint64_t survivors =
            (uint64_t)json_integer_value(json_object_get(pauses, "full_survivors"));
        if (strcmp(m, "marksweep") == 0) {
            ASSERT_TRUE(json_number_value(json_object_get(b, "collections_full")) > 0);
            ASSERT_TRUE(json_is_number(v) && json_number_value(v) > 0);
            ASSERT_TRUE(survivors > 0);
            ASSERT_EQ(survivors,
                      (uint64_t)json_number_value(json_object_get(b, "objects_traversed")));
            marksweep++;
        } else {
            ASSERT_EQ(json_number_value(json_object_get(b, "collections_full")), 0);
            ASSERT_TRUE(v == NULL);
            ASSERT_TRUE(json_object_get(pauses, "full_ns_per_live_object") == NULL);
            ASSERT_EQ(survivors, 0);
            without++;
        }
    }
    ASSERT_EQ(marksweep, 2);
    ASSERT_EQ(without, 4);

    char out[] = "/tmp/mmbench-full-gc-report-XXXXXX";
    mmb_test_temp_file(out);
    snprintf(args, sizeof args, "report --format md %s", results);
    ASSERT_EQ(mmb_test_mmbench(args, out, "/dev/stderr"), 0);
    ASSERT_TRUE(file_has(out, "| full GC ns/live object |"));
    snprintf(args, sizeof args, "report --format csv %s", results);
    ASSERT_EQ(mmb_test_mmbench(args, out, "/dev/stderr"), 0);
    ASSERT_TRUE(file_has(out, ",full_ns_per_live_object,"));

    /* The same results as written before the metric: compare loads both and warns. */
    char old[] = "/tmp/mmbench-full-gc-old-XXXXXX";
    mmb_test_temp_file(old);
    json_array_foreach(json_object_get(root, "benchmarks"), i, b) {
        json_object_del(b, "full_ns_per_live_object");
        json_t *pauses = json_object_get(json_object_get(b, "mmbench"), "pauses");
        json_object_del(pauses, "full_ns_per_live_object");
        json_object_del(pauses, "full_survivors");
    }
    ASSERT_EQ(json_dump_file(root, old, 0), 0);
    snprintf(args, sizeof args, "compare %s %s", old, results);
    ASSERT_EQ(mmb_test_mmbench(args, out, "/dev/stderr"), 0);
    ASSERT_TRUE(file_has(out, "metric full_ns_per_live_object only in NEW"));
    json_decref(root);
    unlink(results);
    unlink(out);
    unlink(old);
}
