/* Fidelity of the bundled bacon-rajan with adaptive=on to the real PHP 8.2 collector (the php8.2
 * adapter): the same mutators on both, collections compared one by one; and the adapter's own
 * contract (one heap at a time, destroy reports every object, deep chains). Design notes:
 * managers/README.md (bacon-rajan, php8.2). Tests that need php8.2 skip where it was not built. */
#include "fidelity.h"
#include "mmbench/manager.h"
#include "oracle.h"
#include "stress.h"
#include "test.h"
#include "workload.h"

/* ---- what is compared ----------------------------------------------------------------------- */

/* The full collections (as events: bacon-rajan's cascades are not PHP's) and what each freed,
 * these counters after the mutator, and the live objects after one more collection. */
static const fid_counter php_counters[] = {
    FID_COUNTER(objects_freed_by_rc),
    FID_COUNTER(objects_freed_by_gc),
    FID_COUNTER(live_objects),
};
static const fid_spec php_spec = {
    .kinds = 1u << MMB_EVENT_FULL,
    .close = true,
    .counters = php_counters,
    .ncounters = sizeof php_counters / sizeof php_counters[0],
};

static const mmb_manager *php_or_skip(void) {
    return fid_need("php8.2", "libphp8.2-embed and php8.2-dev");
}

static const char *const bundled_php[] = {"adaptive=on", "buffer=10000"};

static const mmb_manager *bundled(void) {
    const mmb_manager *m = mmb_manager_find("bacon-rajan");
    ASSERT_TRUE(m != NULL);
    return m;
}

/* ---- mutators ----------------------------------------------------------------------------------
 */

/* N two-object cycles, each made and dropped. */
static void cycles(mmb_heap *h, const void *ctx) {
    fid_cycles(h, *(const uint64_t *)ctx, 0);
}

/* Collections that free nothing: K live objects (one slot each, held), each in turn taken and
 * released again (a decrement to non-zero: a candidate), `arrivals` times in all; then, when
 * `then_cycles` is set, that many two-object cycles. */
typedef struct live_roots {
    uint64_t objects, arrivals, then_cycles;
} live_roots;

static void live_candidates(mmb_heap *h, const void *ctx) {
    const live_roots *p = ctx;
    mmb_obj **objs = calloc(p->objects, sizeof *objs);
    ASSERT_TRUE(objs != NULL);
    for (uint64_t i = 0; i < p->objects; i++)
        objs[i] = mmb_alloc(h, 1, 0);
    for (uint64_t i = 0; i < p->arrivals; i++) {
        mmb_obj *o = objs[i % p->objects];
        mmb_incref(h, o);
        mmb_decref(h, o);
    }
    cycles(h, &p->then_cycles);
    for (uint64_t i = 0; i < p->objects; i++)
        mmb_decref(h, objs[i]);
    free(objs);
}

static void replay(mmb_heap *h, const void *ctx) {
    fid_replay(h, ctx);
}

/* A benchmark workload by name at small scale, seed 1, its default parameters (none of those run
 * here has workers): fid_run_workload's argument. */
static fid_workload small_workload(const char *name) {
    return (fid_workload){mmb_workload_find(name), MMB_SCALE_SMALL, 1};
}

/* ---- bacon-rajan's adaptive threshold, on its own ----------------------------------------------
 */

/* 10^6 candidates that are all live: every collection frees nothing, so with adaptive=on each
 * raises the threshold by 10000. The k-th collection starts when a candidate meets a buffer of
 * 10000 k roots, after 1 + 10000 k(k+1)/2 arrivals (the one that set it off is buffered after
 * it), so 10^6 arrivals make 13 collections; without it, one per 10000: 100. */
TEST(bacon_rajan_adaptive_threshold_rises) {
    live_roots p = {300000, 1000000, 0};
    fid_run on, off;
    fid_record(bundled(), &php_spec, bundled_php, 2, live_candidates, &p, &on);
    ASSERT_EQ(on.count, 13);
    for (size_t i = 0; i < on.count; i++)
        ASSERT_EQ(on.events[i].freed, 0);
    ASSERT_EQ(on.live_after, 0);
    static const char *const fixed[] = {"buffer=10000"};
    fid_record(bundled(), &php_spec, fixed, 1, live_candidates, &p, &off);
    ASSERT_EQ(off.count, 100);
    fid_run_free(&on);
    fid_run_free(&off);
}

/* 10^5 two-object cycles: every collection frees 10000 objects (at least 100), so the threshold
 * stays at its default: a collection each time a candidate meets 10000 buffered roots, 19 in all
 * before the closing one (which finds the last 10000 and the one that met the 19th). */
TEST(bacon_rajan_adaptive_threshold_stays_at_default) {
    uint64_t n = 100000;
    fid_run r;
    fid_record(bundled(), &php_spec, bundled_php, 2, cycles, &n, &r);
    ASSERT_EQ(r.count, 19);
    for (size_t i = 0; i < r.count; i++)
        ASSERT_EQ(r.events[i].freed, 10000);
    ASSERT_EQ(r.stats.live_objects, 2 * n - 19 * 10000);
    ASSERT_EQ(r.live_after, 0);
    fid_run_free(&r);
}

/* ---- bacon-rajan adaptive=on against the real engine -------------------------------------------
 */

/* f on both, compared: 0 when they agree, else 1 (and what differs on stderr). */
static int fidelity(const char *what, fid_program f, const void *ctx, const char *const *kv,
                    size_t n) {
    const mmb_manager *php = php_or_skip();
    fid_run a, b;
    fid_record(bundled(), &php_spec, kv, n, f, ctx, &a);
    fid_record(php, &php_spec, NULL, 0, f, ctx, &b);
    ASSERT_EQ(b.frees.count, b.stats.objects_allocated); /* destroy included */
    char why[512];
    int differ = fid_compare(&a, &b, why, sizeof why);
    fprintf(stderr,
            "%s: %zu collections, %" PRIu64 " freed by them, %" PRIu64 " by refcount, %" PRIu64
            " live; %s%s\n",
            what, b.count, b.stats.objects_freed_by_gc, b.stats.objects_freed_by_rc,
            b.stats.live_objects, differ ? "differ: " : "agree", why);
    fid_run_free(&a);
    fid_run_free(&b);
    return differ;
}

TEST(fidelity_php_cycles) {
    uint64_t n = 100000;
    ASSERT_EQ(fidelity("cycles 1e5", cycles, &n, bundled_php, 2), 0);
    n = 1000000;
    ASSERT_EQ(fidelity("cycles 1e6", cycles, &n, bundled_php, 2), 0);
}

/* The threshold rising (live candidates), then coming back down (cycles). */
TEST(fidelity_php_threshold_rises_and_falls) {
    live_roots p = {300000, 1000000, 0};
    ASSERT_EQ(fidelity("live candidates", live_candidates, &p, bundled_php, 2), 0);
    live_roots q = {300000, 150001, 200000};
    ASSERT_EQ(fidelity("rise then fall", live_candidates, &q, bundled_php, 2), 0);
}

/* A candidate meeting a full buffer inside a refcount cascade: L and P hold C; the buffer is
 * brought to exactly 10000 roots; then P is dropped, and C, decremented to non-zero while P is
 * being freed, meets the full buffer. Then `after` more cycles. */
static void mid_cascade(mmb_heap *h, const void *ctx) {
    uint64_t after = *(const uint64_t *)ctx;
    mmb_obj *l = mmb_alloc(h, 1, 0), *c = mmb_alloc(h, 1, 0), *p = mmb_alloc(h, 1, 0);
    mmb_store(h, l, 0, c);
    mmb_store(h, p, 0, c);
    mmb_decref(h, c); /* root 1 */
    uint64_t n = 5000;
    cycles(h, &n); /* the 10001st root (b of the 5000th) sets off a run; b stays buffered */
    n = 4999;
    cycles(h, &n); /* 9999 roots */
    mmb_incref(h, l);
    mmb_decref(h, l); /* 10000 */
    mmb_decref(h, p);
    cycles(h, &after);
    mmb_decref(h, l);
}

/* The comparer itself: a deliberately different option on the bundled side is reported. */
TEST(fidelity_php_comparer_reports_a_difference) {
    uint64_t n = 100000;
    static const char *const half[] = {"adaptive=on", "buffer=5000"};
    ASSERT_TRUE(fidelity("cycles, buffer=5000", cycles, &n, half, 2) > 0);
    static const char *const fixed[] = {"buffer=10000"};
    live_roots p = {300000, 1000000, 0};
    ASSERT_TRUE(fidelity("live candidates, adaptive off", live_candidates, &p, fixed, 1) > 0);
}

/* The trace without its collect operations: garbage then waits for the automatic runs. */
static void replay_without_collects(mmb_heap *h, const void *ctx) {
    mmb_trace t = *(const mmb_trace *)ctx;
    mmb_op *ops = malloc((t.count ? t.count : 1) * sizeof *ops);
    ASSERT_TRUE(ops != NULL);
    size_t n = 0;
    for (size_t i = 0; i < t.count; i++)
        if (mmb_op_kind_of(&t.ops[i]) != MMB_OP_COLLECT)
            ops[n++] = t.ops[i];
    t.ops = ops;
    t.count = n;
    replay(h, &t);
    free(ops);
}

static int fidelity_stress(mmb_shape shape, uint64_t seed, uint64_t ops, bool collects) {
    mmb_trace t;
    mmb_trace_init(&t);
    mmb_stress_generate(&t, seed, shape, ops);
    char what[64];
    snprintf(what, sizeof what, "%s seed %" PRIu64 "%s", mmb_shape_names[shape], seed,
             collects ? "" : " (no collects)");
    int diffs = fidelity(what, collects ? replay : replay_without_collects, &t, bundled_php, 2);
    mmb_trace_free(&t);
    return diffs;
}

TEST(fidelity_php_mid_cascade) {
    uint64_t after = 20000;
    ASSERT_EQ(fidelity("mid-cascade", mid_cascade, &after, bundled_php, 2), 0);
}

TEST(fidelity_php_workloads) {
    static const char *const names[] = {"rings", "binary-trees", "live-heap", "server"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        fid_workload w = small_workload(names[i]);
        ASSERT_EQ(fidelity(names[i], fid_run_workload, &w, bundled_php, 2), 0);
    }
}

TEST(fidelity_php_stress_shapes) {
    php_or_skip();
    for (int shape = 0; shape < MMB_SHAPE_COUNT; shape++)
        for (uint64_t seed = 1; seed <= 3; seed++)
            ASSERT_EQ(fidelity_stress((mmb_shape)shape, seed, 1000000, true), 0);
}

TEST(fidelity_php_stress_shapes_automatic_runs_only) {
    php_or_skip();
    for (int shape = 0; shape < MMB_SHAPE_COUNT; shape++)
        for (uint64_t seed = 1; seed <= 3; seed++)
            fidelity_stress((mmb_shape)shape, seed, 1000000, false);
}

/* ---- under the oracle
 * ---------------------------------------------------------------------------- */

/* f on a heap of m (options kv) under the oracle, then a collection: 0 when no violation. */
static int under_oracle(const mmb_manager *m, const char *const *kv, size_t n, fid_program f,
                        const void *ctx) {
    mmb_heap_config cfg;
    char err[512];
    mmb_config_defaults(m, &cfg);
    ASSERT_EQ(mmb_options_parse(m, kv, n, &cfg, err, sizeof err), 0);
    mmb_heap *h = NULL;
    if (mmb_oracle_create(m, &cfg, NULL, &h, err, sizeof err) != 0) {
        fprintf(stderr, "oracle: %s\n", err);
        return -1;
    }
    f(h, ctx);
    if (!mmb_oracle_failed(h))
        mmb_collect(h);
    if (mmb_oracle_close(h, err, sizeof err) != 0) {
        fprintf(stderr, "oracle: %s\n", err);
        return -1;
    }
    return 0;
}

/* The adaptive paths (a run set off by a candidate, the deferral inside a cascade, survivors
 * of garbage buffered, the threshold moving both ways) are safe and complete. */
TEST(bacon_rajan_adaptive_under_the_oracle) {
    uint64_t after = 20000;
    ASSERT_EQ(under_oracle(bundled(), bundled_php, 2, mid_cascade, &after), 0);
    live_roots q = {30000, 150001, 100000};
    ASSERT_EQ(under_oracle(bundled(), bundled_php, 2, live_candidates, &q), 0);
    fid_workload w = small_workload("live-heap"); /* collections inside its final cascade */
    ASSERT_EQ(under_oracle(bundled(), bundled_php, 2, fid_run_workload, &w), 0);
}

/* The same paths on the real engine under the oracle (own memory: every free seen through
 * on_free), and a 10^5-cycle trace that leaves 10000 candidates for the closing collection. */
TEST(php_under_the_oracle) {
    const mmb_manager *php = php_or_skip();
    uint64_t after = 20000;
    ASSERT_EQ(under_oracle(php, NULL, 0, mid_cascade, &after), 0);
    live_roots q = {30000, 150001, 100000};
    ASSERT_EQ(under_oracle(php, NULL, 0, live_candidates, &q), 0);
    uint64_t n = 100000;
    ASSERT_EQ(under_oracle(php, NULL, 0, cycles, &n), 0);
    fid_workload w = small_workload("live-heap"); /* runs inside its final cascade */
    ASSERT_EQ(under_oracle(php, NULL, 0, fid_run_workload, &w), 0);
}

/* ---- the adapter's contract --------------------------------------------------------------------
 */

TEST(php_one_heap_at_a_time) {
    const mmb_manager *php = php_or_skip();
    fid_run r;
    mmb_heap *h = fid_open(php, &php_spec, NULL, 0, &r);
    mmb_heap_config cfg;
    mmb_config_defaults(php, &cfg);
    mmb_heap *second = NULL;
    char err[256] = "";
    ASSERT_EQ(mmb_heap_create(php, &cfg, &second, err, sizeof err), -1);
    ASSERT_STR_CONTAINS(err, "one php8.2 heap at a time");
    ASSERT_TRUE(strchr(err, '\n') == NULL);
    h->manager->destroy(h);
    fid_run_free(&r);
    ASSERT_EQ(mmb_heap_create(php, &cfg, &second, err, sizeof err), 0);
    second->manager->destroy(second);
}

/* destroy frees live objects, garbage cycles and held cycles alike, each through on_free, and
 * the next heap starts with an empty root buffer (its first collection frees only its own). */
TEST(php_destroy_reports_every_object) {
    const mmb_manager *php = php_or_skip();
    fid_run r;
    mmb_heap *h = fid_open(php, &php_spec, NULL, 0, &r);
    mmb_obj *held = mmb_alloc(h, 2, 16);
    for (int i = 0; i < 100; i++) { /* garbage cycles, buffered, not collected */
        mmb_obj *a = mmb_alloc(h, 1, 8), *b = mmb_alloc(h, 1, 0);
        mmb_store(h, a, 0, b);
        mmb_store(h, b, 0, a);
        mmb_decref(h, a);
        mmb_decref(h, b);
    }
    mmb_obj *leaf = mmb_alloc(h, 0, 100);
    mmb_store(h, held, 0, leaf);
    mmb_store(h, held, 1, held);
    mmb_decref(h, leaf);
    mmb_stats s;
    mmb_stats_get(h, &s);
    ASSERT_EQ(s.live_objects, 202);
    ASSERT_EQ(r.frees.count, 0);
    h->manager->destroy(h);
    ASSERT_EQ(r.frees.count, 202);

    fid_run_free(&r);
    h = fid_open(php, &php_spec, NULL, 0, &r);
    uint64_t one = 1;
    cycles(h, &one);
    mmb_collect(h);
    ASSERT_EQ(r.count, 1);
    ASSERT_EQ(r.events[0].freed, 2);
    h->manager->destroy(h);
    fid_run_free(&r);
}

/* A 10^6-long chain freed by one decrement, and a 10^6-long garbage ring freed by a collection:
 * neither may recurse once per object (the engine's own free path would). */
TEST(php_deep_chain_and_ring) {
    const mmb_manager *php = php_or_skip();
    fid_run r;
    mmb_heap *h = fid_open(php, &php_spec, NULL, 0, &r);
    const uint32_t n = 1000000;
    for (int ring = 0; ring < 2; ring++) {
        mmb_obj *head = mmb_alloc(h, 1, 0), *tail = head;
        for (uint32_t i = 1; i < n; i++) {
            mmb_obj *o = mmb_alloc(h, 1, 0);
            mmb_store(h, tail, 0, o);
            mmb_decref(h, o);
            tail = o;
        }
        if (ring)
            mmb_store(h, tail, 0, head);
        mmb_decref(h, head);
        mmb_stats s;
        mmb_stats_get(h, &s);
        ASSERT_EQ(s.live_objects, ring ? n : 0);
        mmb_collect(h);
        mmb_stats_get(h, &s);
        ASSERT_EQ(s.live_objects, 0);
    }
    mmb_stats s;
    mmb_stats_get(h, &s);
    ASSERT_EQ(s.objects_freed_by_rc, n);
    ASSERT_EQ(s.objects_freed_by_gc, n);
    ASSERT_EQ(r.frees.count, 2 * (uint64_t)n);
    h->manager->destroy(h);
    fid_run_free(&r);
}
