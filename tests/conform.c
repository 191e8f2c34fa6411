/* mmbench conform's parts: trace shrinking (shrink.h) keeps a failing trace valid and small, and a
 * check's forked child turns a crash, a timeout or a failure into one reason. The command itself:
 * the cli.conform_* tests (tests/CMakeLists.txt). */
#include <signal.h>
#include <unistd.h>

#include "conform_internal.h"
#include "shrink.h"
#include "stress.h"
#include "test.h"

static size_t count_kind(const mmb_trace *t, mmb_op_kind kind) {
    size_t n = 0;
    for (size_t i = 0; i < t->count; i++)
        n += mmb_op_kind_of(&t->ops[i]) == kind;
    return n;
}

/* "Fails" while the trace stores at least three times and collects at least once. */
static bool three_sets_and_a_collect(const mmb_trace *t, void *ctx) {
    (*(size_t *)ctx)++;
    return count_kind(t, MMB_OP_SET) >= 3 && count_kind(t, MMB_OP_COLLECT) >= 1;
}

static bool has_collect(const mmb_trace *t, void *ctx) {
    (*(size_t *)ctx)++;
    return count_kind(t, MMB_OP_COLLECT) >= 1;
}

static int write_fn(FILE *out, const mmb_trace *t) {
    return mmb_trace_write(t, out);
}

TEST(conform_shrink_keeps_the_failure_and_a_valid_trace) {
    mmb_trace t, small;
    mmb_trace_init(&t);
    mmb_trace_init(&small);
    mmb_stress_generate(&t, 7, MMB_SHAPE_MIXED, 3000);
    ASSERT_TRUE(three_sets_and_a_collect(&t, &(size_t){0}));
    size_t calls = 0;
    mmb_shrink_stats st;
    mmb_shrink_trace(&t, three_sets_and_a_collect, &calls, 60, &small, &st);
    ASSERT_EQ(st.ops_before, 3000);
    ASSERT_EQ(st.ops_after, small.count);
    ASSERT_EQ(st.candidates, calls);
    ASSERT_TRUE(!st.out_of_time);
    ASSERT_TRUE(three_sets_and_a_collect(&small, &calls));
    /* 1-minimal: three sets, the collect, and a `new` for each object they name (one to six). */
    ASSERT_TRUE(small.count >= 5 && small.count <= 10);
    /* The shrunk trace reads back as the same operations. */
    char buf[4096];
    FILE *f = fmemopen(buf, sizeof buf, "w");
    ASSERT_EQ(write_fn(f, &small), 0);
    long len = ftell(f);
    fclose(f);
    mmb_trace back;
    mmb_trace_init(&back);
    char err[256];
    ASSERT_EQ(mmb_trace_parse(&back, "shrunk", buf, (size_t)len, NULL, err, sizeof err), 0);
    ASSERT_EQ(back.count, small.count);
    mmb_trace_free(&back);
    mmb_trace_free(&small);
    mmb_trace_free(&t);
}

TEST(conform_shrink_drops_operations_on_removed_objects) {
    mmb_trace t, small;
    mmb_trace_init(&t);
    mmb_trace_init(&small);
    char err[256];
    /* Only the collect matters: every other operation goes, none left dangling. */
    ASSERT_EQ(mmb_trace_new(&t, 1, 2, 0, 1, err, sizeof err), 0);
    ASSERT_EQ(mmb_trace_new(&t, 2, 1, 8, 2, err, sizeof err), 0);
    ASSERT_EQ(mmb_trace_set(&t, 1, 0, 2, 3, err, sizeof err), 0);
    ASSERT_EQ(mmb_trace_get(&t, 1, 0, 4, err, sizeof err), 0);
    ASSERT_EQ(mmb_trace_drop(&t, 2, 5, err, sizeof err), 0);
    mmb_trace_collect(&t, 6);
    ASSERT_EQ(mmb_trace_drop(&t, 2, 7, err, sizeof err), 0);
    mmb_shrink_stats st;
    size_t calls = 0;
    mmb_shrink_trace(&t, three_sets_and_a_collect, &calls, 60, &small, &st);
    ASSERT_EQ(small.count, t.count); /* it never failed with less */
    mmb_trace_free(&small);
    mmb_trace_init(&small);
    calls = 0;
    /* A predicate on collects alone: one collect is all that is left. */
    mmb_shrink_trace(&t, has_collect, &calls, 60, &small, &st);
    ASSERT_EQ(small.count, 1);
    ASSERT_EQ(count_kind(&small, MMB_OP_COLLECT), 1);
    ASSERT_EQ(st.ops_before, 7);
    mmb_trace_free(&small);
    mmb_trace_free(&t);
}

static int child_crashes(void *ctx, mmb_conform_report *r) {
    (void)ctx;
    (void)r;
    raise(SIGKILL); /* not SIGSEGV: a sanitizer would catch that and exit 1 */
    return 0;
}

static int child_hangs(void *ctx, mmb_conform_report *r) {
    (void)ctx;
    (void)r;
    for (;;)
        pause();
    return 0;
}

static int child_fails(void *ctx, mmb_conform_report *r) {
    snprintf(r->reason, sizeof r->reason, "%s", (const char *)ctx);
    return 1;
}

static int child_passes(void *ctx, mmb_conform_report *r) {
    (void)ctx;
    r->seed = 42;
    return 0;
}

TEST(conform_forked_child_reports_crash_timeout_and_failure) {
    mmb_conform_report r = {0};
    ASSERT_EQ(mmb_conform_forked(child_crashes, NULL, 10, &r), 1);
    ASSERT_STR_CONTAINS(r.reason, "crashed: signal 9");
    memset(&r, 0, sizeof r);
    ASSERT_EQ(mmb_conform_forked(child_hangs, NULL, 1, &r), 1);
    ASSERT_STR_EQ(r.reason, "timed out after 1 s");
    memset(&r, 0, sizeof r);
    ASSERT_EQ(mmb_conform_forked(child_fails, "it is wrong", 10, &r), 1);
    ASSERT_STR_EQ(r.reason, "it is wrong");
    memset(&r, 0, sizeof r);
    ASSERT_EQ(mmb_conform_forked(child_passes, NULL, 10, &r), 0);
    ASSERT_EQ(r.seed, 42); /* what the child set comes back */
}

/* ---- the checks catch what they are for, on managers broken one way each (rc underneath) ---- */

extern const mmb_manager mmb_manager_rc;

static const mmb_conform_check *check_named(const char *name) {
    for (const mmb_conform_check *k = mmb_conform_checks; k->name; k++)
        if (strcmp(k->name, name) == 0)
            return k;
    ASSERT_TRUE(!"no such check");
    return NULL;
}

/* Runs check NAME on m over one stress trace; returns its verdict, the reason in reason. */
static int run_named(const char *name, const mmb_manager *m, char *reason, size_t n) {
    const mmb_conform_check *k = check_named(name);
    mmb_conform_ctx c = {.manager = m,
                         .seed = 1,
                         .seeds = 1,
                         .ops = 2000,
                         .chain = 1000,
                         .threads = 2,
                         .timeout_s = 60};
    reason[0] = '\0';
    if (k->run) {
        mmb_conform_report r = {0};
        int failed = k->run(&c, &r);
        snprintf(reason, n, "%s", r.reason);
        return failed;
    }
    mmb_trace t;
    mmb_trace_init(&t);
    mmb_stress_generate(&t, 1, (mmb_shape)k->shape, c.ops);
    int failed = k->run_trace(&c, &t, reason, n);
    mmb_trace_free(&t);
    return failed;
}

static mmb_heap_config phase_cfg; /* the config the phase-breaking manager was created with */

static int phase_create(const mmb_heap_config *config, mmb_heap **out, char *err, size_t n) {
    phase_cfg = *config;
    return mmb_manager_rc.create(config, out, err, n);
}

static void phase_collect(mmb_heap *h) {
    if (phase_cfg.on_phase)
        phase_cfg.on_phase(phase_cfg.phase_ctx, MMB_PHASE_COLLECTOR, 1); /* never ended */
    mmb_manager_rc.collect(h);
}

static void lying_stats(mmb_heap *h, mmb_stats *out) {
    mmb_manager_rc.stats(h, out);
    out->objects_allocated++;
}

static const mmb_option_spec bad_default[] = {
    {"size", MMB_OPT_INT, 100, 1, 10, "a default outside its own bounds"},
    {NULL, 0, 0, 0, 0, NULL},
};

TEST(conform_checks_catch_broken_contracts) {
    char reason[1024];
    mmb_manager young = mmb_manager_rc;
    young.caps |= MMB_CAP_YOUNG; /* and no collect_young */
    ASSERT_EQ(run_named("young-freeze", &young, reason, sizeof reason), 1);
    ASSERT_STR_CONTAINS(reason, "claims MMB_CAP_YOUNG but its collect_young is NULL");
    mmb_manager phases = mmb_manager_rc;
    phases.create = phase_create;
    phases.collect = phase_collect;
    ASSERT_EQ(run_named("events", &phases, reason, sizeof reason), 1);
    ASSERT_STR_CONTAINS(reason, "phases begun and never ended");
    mmb_manager stats = mmb_manager_rc;
    stats.stats = lying_stats;
    ASSERT_EQ(run_named("stats", &stats, reason, sizeof reason), 1);
    ASSERT_STR_CONTAINS(reason, "objects_allocated is ");
    mmb_manager options = mmb_manager_rc;
    options.options = bad_default;
    ASSERT_EQ(run_named("options", &options, reason, sizeof reason), 1);
    ASSERT_STR_CONTAINS(reason, "option size: default 100 outside its bounds 1..10");
    /* rc itself passes them all. */
    ASSERT_EQ(run_named("events", &mmb_manager_rc, reason, sizeof reason), 0);
    ASSERT_EQ(run_named("stats", &mmb_manager_rc, reason, sizeof reason), 0);
    ASSERT_EQ(run_named("options", &mmb_manager_rc, reason, sizeof reason), 0);
    ASSERT_EQ(run_named("long-chain-cascade", &mmb_manager_rc, reason, sizeof reason), 0);
}
