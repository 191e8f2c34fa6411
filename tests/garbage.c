/* The exact garbage sampler (harness/measure/garbage.h, run --sample-garbage): exact counts on
 * graphs the tests build and count themselves, a manager whose stats lie caught by exactly its
 * lie, and the run's results (format, metrics with registry rows, threads refused). */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "garbage.h"
#include "metrics.h"
#include "mmbench/manager.h"
#include "mmbench_cli.h"
#include "test.h"
#include "workload.h"

static mmb_heap *wrapped_heap(const mmb_manager *m, uint64_t interval) {
    mmb_heap_config cfg;
    mmb_config_defaults(m, &cfg);
    mmb_heap *inner = NULL, *h = NULL;
    char err[256];
    ASSERT_EQ(mmb_heap_create(m, &cfg, &inner, err, sizeof err), 0);
    ASSERT_EQ(mmb_garbage_wrap(inner, interval, &h, err, sizeof err), 0);
    return h;
}

static uint64_t header_of(mmb_heap *h) {
    mmb_stats st;
    mmb_stats_get(h, &st);
    return st.header_bytes;
}

static uint64_t bytes_of(mmb_heap *h, uint32_t nslots, uint32_t payload) {
    return header_of(h) + mmb_obj_bytes(nslots, payload);
}

/* marksweep frees nothing until it collects (4 MiB first): a held chain of 2, a dropped ring of 3
 * and a dropped leaf hanging off the held chain's cut-off tail. Garbage is exactly what was
 * dropped, in objects and in bytes, then 0 after a collection. */
TEST(garbage_known_graph_exact) {
    mmb_heap *h = wrapped_heap(mmb_manager_find("marksweep"), 0);
    mmb_obj *a = mmb_alloc(h, 1, 16), *b = mmb_alloc(h, 2, 0);
    mmb_store(h, a, 0, b);
    mmb_decref(h, b); /* b stays reachable through a */
    mmb_obj *r[3];
    for (int i = 0; i < 3; i++)
        r[i] = mmb_alloc(h, 1, 8);
    for (int i = 0; i < 3; i++)
        mmb_store(h, r[i], 0, r[(i + 1) % 3]);
    mmb_obj *leaf = mmb_alloc(h, 0, 40);
    mmb_store(h, b, 1, leaf);
    mmb_decref(h, leaf);
    mmb_garbage_sample s;
    mmb_garbage_sample_now(h, &s);
    ASSERT_EQ(s.live_objects, 6);
    ASSERT_EQ(s.reachable_objects, 6); /* the ring is still held */
    ASSERT_EQ(s.garbage_objects, 0);
    ASSERT_EQ(s.ops, 13);
    for (int i = 0; i < 3; i++)
        mmb_decref(h, r[i]);
    mmb_store(h, b, 1, NULL); /* the leaf is cut off */
    mmb_garbage_sample_now(h, &s);
    ASSERT_EQ(s.live_objects, 6);
    ASSERT_EQ(s.reachable_objects, 2);
    ASSERT_EQ(s.reachable_bytes, bytes_of(h, 1, 16) + bytes_of(h, 2, 0));
    ASSERT_EQ(s.garbage_objects, 4);
    ASSERT_EQ(s.garbage_bytes, 3 * bytes_of(h, 1, 8) + bytes_of(h, 0, 40));
    ASSERT_EQ(s.live_bytes, s.reachable_bytes + s.garbage_bytes);
    ASSERT_TRUE(!s.inconsistent);
    mmb_collect(h);
    mmb_garbage_sample_now(h, &s);
    ASSERT_EQ(s.live_objects, 2);
    ASSERT_EQ(s.garbage_objects, 0);
    ASSERT_EQ(s.garbage_bytes, 0);
    mmb_garbage_summary sum;
    mmb_garbage_summary_get(h, &sum);
    ASSERT_EQ(sum.samples, 3);
    ASSERT_EQ(sum.peak_objects, 4);
    ASSERT_EQ(sum.peak_bytes, 3 * bytes_of(h, 1, 8) + bytes_of(h, 0, 40));
    ASSERT_TRUE(fabs(sum.mean_objects - 4.0 / 3) < 1e-12);
    ASSERT_EQ(sum.ops, 18);
    mmb_decref(h, a);
    h->manager->destroy(h);
}

/* A random graph on marksweep (no collection: its first is at 4 MiB), the test keeping its own
 * copy of every edge and reference by index and counting the reachable set itself, by its own
 * traversal; the sampler, every 7 operations, must agree at each sample exactly. */
#define RG_OBJECTS 3000
#define RG_SLOTS   3
typedef struct rg_state {
    mmb_obj *obj[RG_OBJECTS];
    int edge[RG_OBJECTS][RG_SLOTS]; /* index + 1, 0: null */
    int held[RG_OBJECTS];
    uint32_t payload[RG_OBJECTS];
    int n;
} rg_state;

static uint64_t rg_reachable_garbage_bytes(const rg_state *g, mmb_heap *h, uint64_t *objects) {
    static bool seen[RG_OBJECTS];
    static int stack[RG_OBJECTS];
    memset(seen, 0, sizeof seen);
    int top = 0;
    for (int i = 0; i < g->n; i++)
        if (g->held[i] && !seen[i]) {
            seen[i] = true;
            stack[top++] = i;
        }
    while (top) {
        int i = stack[--top];
        for (int k = 0; k < RG_SLOTS; k++) {
            int j = g->edge[i][k] - 1;
            if (j >= 0 && !seen[j]) {
                seen[j] = true;
                stack[top++] = j;
            }
        }
    }
    uint64_t garbage = 0, bytes = 0;
    for (int i = 0; i < g->n; i++)
        if (!seen[i]) {
            garbage++;
            bytes += bytes_of(h, RG_SLOTS, g->payload[i]);
        }
    *objects = garbage;
    return bytes;
}

TEST(garbage_random_graph_matches_independent_count) {
    mmb_heap *h = wrapped_heap(mmb_manager_find("marksweep"), 7);
    static rg_state g;
    memset(&g, 0, sizeof g);
    mmb_rng rng = {42};
    uint64_t ops = 0, checked = 0, last_samples = 0;
    while (g.n < RG_OBJECTS) {
        uint32_t pick = mmb_rng_below(&rng, 10);
        int held_any = -1;
        for (int tries = 0; tries < 8 && held_any < 0 && g.n; tries++) {
            int i = (int)mmb_rng_below(&rng, (uint32_t)g.n);
            if (g.held[i])
                held_any = i;
        }
        if (pick < 4 || held_any < 0) { /* allocate, held */
            int i = g.n++;
            g.payload[i] = 8 * mmb_rng_below(&rng, 4);
            g.obj[i] = mmb_alloc(h, RG_SLOTS, g.payload[i]);
            g.held[i] = 1;
        } else if (pick < 8) { /* store a held object, or null, into a held one's slot */
            int j = (int)mmb_rng_below(&rng, (uint32_t)g.n);
            bool null = !g.held[j] || mmb_rng_below(&rng, 4) == 0;
            uint32_t k = mmb_rng_below(&rng, RG_SLOTS);
            mmb_store(h, g.obj[held_any], k, null ? NULL : g.obj[j]);
            g.edge[held_any][k] = null ? 0 : j + 1;
        } else if (pick < 9) {
            mmb_incref(h, g.obj[held_any]);
            g.held[held_any]++;
        } else {
            mmb_decref(h, g.obj[held_any]);
            g.held[held_any]--;
        }
        ops++;
        mmb_garbage_summary sum;
        mmb_garbage_summary_get(h, &sum);
        ASSERT_EQ(sum.ops, ops);
        ASSERT_EQ(sum.samples, ops / 7);
        if (sum.samples == last_samples)
            continue;
        last_samples = sum.samples;
        mmb_garbage_sample last, *s = &last;
        ASSERT_TRUE(mmb_garbage_last_sample(h, &last));
        ASSERT_EQ(s->ops, ops);
        uint64_t want_objects, want_bytes = rg_reachable_garbage_bytes(&g, h, &want_objects);
        ASSERT_EQ(s->live_objects, g.n); /* marksweep has freed nothing */
        ASSERT_EQ(s->garbage_objects, want_objects);
        ASSERT_EQ(s->garbage_bytes, want_bytes);
        checked++;
    }
    ASSERT_TRUE(checked > 100);
    mmb_garbage_summary sum;
    mmb_garbage_summary_get(h, &sum);
    ASSERT_TRUE(sum.peak_objects > 0); /* the graph did drop something */
    h->manager->destroy(h);
}

/* A 10^6-long chain held at its head: the traversal is iterative (a recursive one would overflow
 * the C stack here). rc frees nothing of it, so garbage is 0. */
TEST(garbage_long_chain) {
    mmb_heap *h = wrapped_heap(mmb_manager_find("rc"), 0);
    mmb_obj *head = mmb_alloc(h, 1, 0);
    for (int i = 1; i < 1000000; i++) {
        mmb_obj *o = mmb_alloc(h, 1, 0);
        mmb_store(h, o, 0, head);
        mmb_decref(h, head);
        head = o;
    }
    mmb_garbage_sample s;
    mmb_garbage_sample_now(h, &s);
    ASSERT_EQ(s.reachable_objects, 1000000);
    ASSERT_EQ(s.live_objects, 1000000);
    ASSERT_EQ(s.garbage_objects, 0);
    ASSERT_EQ(s.reachable_bytes, 1000000 * bytes_of(h, 1, 0));
    mmb_decref(h, head);
    h->manager->destroy(h);
}

/* A manager whose stats lie: rc with EXTRA objects and EXTRA_BYTES more live than there are (or,
 * negative, fewer). The sampler reports exactly the excess as garbage, and an under-count as
 * inconsistent samples with garbage 0, not a wrapped-around number. */
static int64_t extra_objects, extra_bytes;
static void lying_stats(mmb_heap *h, mmb_stats *out) {
    mmb_manager_find("rc")->stats(h, out);
    out->live_objects = (uint64_t)((int64_t)out->live_objects + extra_objects);
    out->live_bytes = (uint64_t)((int64_t)out->live_bytes + extra_bytes);
}

TEST(garbage_catches_stats_that_over_report) {
    static mmb_manager liar;
    liar = *mmb_manager_find("rc");
    liar.name = "rc-lying";
    liar.stats = lying_stats;
    mmb_heap *h = wrapped_heap(&liar, 5);
    extra_objects = 17;
    extra_bytes = 1234;
    mmb_obj *keep = mmb_alloc(h, 2, 8);
    for (int i = 0; i < 20; i++) /* acyclic: rc frees each at once */
        mmb_decref(h, mmb_alloc(h, 1, 8));
    mmb_garbage_summary sum;
    mmb_garbage_summary_get(h, &sum);
    ASSERT_EQ(sum.samples, 41 / 5);
    ASSERT_EQ(sum.peak_objects, 17);
    ASSERT_EQ(sum.peak_bytes, 1234);
    ASSERT_TRUE(sum.mean_objects == 17.0);
    ASSERT_EQ(sum.inconsistent_samples, 0);
    extra_objects = -1; /* now one fewer than the mutator holds */
    extra_bytes = 0;
    mmb_garbage_sample s;
    mmb_garbage_sample_now(h, &s);
    ASSERT_TRUE(s.inconsistent);
    ASSERT_EQ(s.garbage_objects, 0);
    ASSERT_EQ(s.reachable_objects, 1);
    mmb_garbage_summary_get(h, &sum);
    ASSERT_EQ(sum.inconsistent_samples, 1);
    json_t *j = mmb_garbage_json(h);
    ASSERT_EQ(json_integer_value(json_object_get(j, "inconsistent_samples")), 1);
    ASSERT_EQ(json_integer_value(json_object_get(j, "peak_objects")), 17);
    json_decref(j);
    mmb_decref(h, keep);
    h->manager->destroy(h);
}

/* rc on churn (no cycles: every object freed when its last reference goes), sampled after every
 * operation: every sample is 0 garbage. The series keeps at most MMB_GARBAGE_SERIES_MAX points,
 * evenly spaced, from the first sample on. */
TEST(garbage_rc_churn_is_zero_and_series_decimated) {
    const mmb_workload *w = mmb_workload_find("churn");
    mmb_workload_env env;
    char err[256];
    ASSERT_EQ(mmb_params_parse(w, MMB_SCALE_TINY, NULL, 0, &env, err, sizeof err), 0);
    env.heap = wrapped_heap(mmb_manager_find("rc"), 1);
    env.seed = 1;
    mmb_workload_result res;
    memset(&res, 0, sizeof res);
    ASSERT_EQ(w->run(&env, &res, err, sizeof err), 0);
    mmb_garbage_summary sum;
    mmb_garbage_summary_get(env.heap, &sum);
    ASSERT_EQ(sum.samples, sum.ops);
    ASSERT_TRUE(sum.samples > 4 * MMB_GARBAGE_SERIES_MAX);
    ASSERT_EQ(sum.peak_objects, 0);
    ASSERT_EQ(sum.peak_bytes, 0);
    size_t n;
    const mmb_garbage_sample *series = mmb_garbage_series(env.heap, &n);
    ASSERT_TRUE(n > MMB_GARBAGE_SERIES_MAX / 2 && n <= MMB_GARBAGE_SERIES_MAX);
    uint64_t stride = series[1].ops - series[0].ops;
    ASSERT_EQ(series[0].ops, 1);
    ASSERT_TRUE(stride >= 8);
    for (size_t i = 0; i < n; i++) {
        ASSERT_EQ(series[i].ops, 1 + i * stride);
        ASSERT_EQ(series[i].garbage_objects, 0);
        ASSERT_TRUE(i == 0 || series[i].t_ns >= series[i - 1].t_ns);
    }
    json_t *j = mmb_garbage_json(env.heap);
    ASSERT_EQ(json_array_size(json_object_get(j, "series")), n);
    ASSERT_EQ(json_array_size(json_array_get(json_object_get(j, "series"), 0)), 5);
    json_decref(j);
    env.heap->manager->destroy(env.heap);
}

/* Every iteration entry of a run with --sample-garbage: the agreed "garbage" object, the four
 * metrics (each with its registry row: timed, lower is better, no limit), rc's churn 0, and
 * marksweep's churn, which collects only now and then, some. Under --verify too (the sampler
 * over the oracle), with the same counts: the samples fall at the same operations. */
static void check_run(const char *extra, bool *marksweep_had_garbage) {
    json_t *root = mmb_test_run_json(extra);
    size_t i, entries = 0;
    json_t *b;
    json_array_foreach(json_object_get(root, "benchmarks"), i, b) {
        if (strcmp(json_string_value(json_object_get(b, "run_type")), "iteration") != 0)
            continue;
        entries++;
        json_t *g = json_object_get(json_object_get(b, "mmbench"), "garbage");
        ASSERT_TRUE(json_is_true(json_object_get(g, "available")));
        ASSERT_EQ(json_integer_value(json_object_get(g, "interval_ops")), 1000);
        ASSERT_TRUE(json_integer_value(json_object_get(g, "samples")) > 10);
        ASSERT_TRUE(json_object_get(g, "sampling_ns") != NULL);
        ASSERT_TRUE(json_is_real(json_object_get(g, "mean_bytes")));
        ASSERT_EQ(json_array_size(json_object_get(g, "series")),
                  json_integer_value(json_object_get(g, "samples")));
        static const char *const names[] = {"garbage_peak_objects", "garbage_peak_bytes",
                                            "garbage_mean_objects", "garbage_mean_bytes"};
        for (int k = 0; k < 4; k++) {
            ASSERT_TRUE(json_is_number(json_object_get(b, names[k])));
            const mmb_metric *m = mmb_metric_find(names[k]);
            ASSERT_TRUE(m && m->better == MMB_LOWER_IS_BETTER && !m->exact);
            ASSERT_TRUE(m->limit_percent < 0);
        }
        double peak = json_number_value(json_object_get(b, "garbage_peak_objects"));
        ASSERT_TRUE(peak == (double)json_integer_value(json_object_get(g, "peak_objects")));
        json_t *mm = json_object_get(b, "mmbench");
        const char *manager = json_string_value(json_object_get(mm, "manager"));
        ASSERT_TRUE(manager != NULL);
        if (strcmp(manager, "rc") == 0)
            ASSERT_TRUE(peak == 0);
        else
            *marksweep_had_garbage |= peak > 0;
    }
    ASSERT_EQ(entries, 4);
    json_decref(root);
}

TEST_MMBENCH(garbage_run_results, "garbage", 300, "garbage") {
    bool plain = false, verified = false;
    check_run("--manager rc,marksweep --workload churn --scale tiny --repetitions 2 "
              "--sample-garbage 1000",
              &plain);
    check_run("--manager rc,marksweep --workload churn --scale tiny --repetitions 2 "
              "--sample-garbage 1000 --verify",
              &verified);
    ASSERT_TRUE(plain && verified);
}

/* Without the flag there is no "garbage" object and no garbage metric. */
TEST_MMBENCH(garbage_absent_when_not_asked, "garbage", 300, "garbage") {
    json_t *root = mmb_test_run_json("--manager rc --workload churn --scale tiny");
    json_t *b = json_array_get(json_object_get(root, "benchmarks"), 0);
    ASSERT_TRUE(json_object_get(json_object_get(b, "mmbench"), "garbage") == NULL);
    ASSERT_TRUE(json_object_get(b, "garbage_peak_objects") == NULL);
    json_decref(root);
}
