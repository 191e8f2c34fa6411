/* Threaded workloads with several workers, before any bundled manager is thread-safe: a test-only
 * manager puts one lock around every operation of a single-threaded one (cpython, or the oracle
 * over it) and checks the thread contract as a stop-the-world collector would rely on it. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "corrupt_manager.h"
#include "mmbench/manager.h"
#include "oracle.h"
#include "test.h"
#include "workload.h"

/* ---- the locked manager ----------------------------------------------------------------------
 * Every operation runs under one mutex, so any single-threaded manager becomes safe to call from
 * several threads. On top, the wrapper checks the rules of manager.h's "Threads":
 *  - every operation comes from an attached thread, and a thread attaches at most once;
 *  - every STW_EVERY-th operation and every collection stops the world: it waits (holding the
 *    lock) until every attached thread has entered an operation or a detach. A thread that
 *    blocks while attached never does, and the wait times out with a violation.
 * `entered` counts the attached threads inside an operation or a detach, including those waiting
 * for the lock; attach is not counted (an attaching thread is not yet attached). */
enum { STW_EVERY = 1024 };

typedef struct locked_heap {
    mmb_heap base;
    mmb_heap *inner;
    pthread_mutex_t mu;
    atomic_uint entered;
    unsigned attached; /* under mu */
    uint64_t ops, stops, detaches;
    uint64_t stw_timeout_ns;
    char violation[256]; /* the first one; "" while none */
} locked_heap;

static _Thread_local locked_heap *attached_to;

static void violation(locked_heap *h, const char *what) {
    if (!h->violation[0])
        snprintf(h->violation, sizeof h->violation, "%s", what);
}

static void stop_the_world(locked_heap *h) {
    h->stops++;
    uint64_t start = mmb_now_ns();
    while (atomic_load(&h->entered) < h->attached) {
        if (mmb_now_ns() - start > h->stw_timeout_ns) {
            char msg[200];
            snprintf(msg, sizeof msg,
                     "stop-the-world: %u attached threads, only %u reached an operation in %llu ms",
                     h->attached, atomic_load(&h->entered),
                     (unsigned long long)(h->stw_timeout_ns / 1000000));
            violation(h, msg);
            return;
        }
        struct timespec ts = {0, 20000};
        nanosleep(&ts, NULL);
    }
}

static locked_heap *enter(mmb_heap *heap, const char *op, bool stop) {
    locked_heap *h = (locked_heap *)heap;
    atomic_fetch_add(&h->entered, 1);
    pthread_mutex_lock(&h->mu);
    if (attached_to != h) {
        char msg[100];
        snprintf(msg, sizeof msg, "%s by a thread that is not attached", op);
        violation(h, msg);
    }
    if (++h->ops % STW_EVERY == 0 || stop)
        stop_the_world(h);
    return h;
}

static void leave(locked_heap *h) {
    atomic_fetch_sub(&h->entered, 1); /* before the unlock: the next holder must not count us */
    pthread_mutex_unlock(&h->mu);
}

static mmb_obj *l_alloc(mmb_heap *heap, uint32_t nslots, uint32_t payload_bytes) {
    locked_heap *h = enter(heap, "alloc", false);
    mmb_obj *o = mmb_alloc(h->inner, nslots, payload_bytes);
    leave(h);
    return o;
}

static void l_incref(mmb_heap *heap, mmb_obj *o) {
    locked_heap *h = enter(heap, "incref", false);
    mmb_incref(h->inner, o);
    leave(h);
}

static void l_decref(mmb_heap *heap, mmb_obj *o) {
    locked_heap *h = enter(heap, "decref", false);
    mmb_decref(h->inner, o);
    leave(h);
}

static void l_store(mmb_heap *heap, mmb_obj *o, uint32_t slot, mmb_obj *value) {
    locked_heap *h = enter(heap, "store", false);
    mmb_store(h->inner, o, slot, value);
    leave(h);
}

static mmb_obj *l_load(mmb_heap *heap, mmb_obj *o, uint32_t slot) {
    locked_heap *h = enter(heap, "load", false);
    mmb_obj *v = mmb_load(h->inner, o, slot);
    leave(h);
    return v;
}

static void l_collect(mmb_heap *heap) {
    locked_heap *h = enter(heap, "collect", true);
    mmb_collect(h->inner);
    leave(h);
}

static void l_stats(mmb_heap *heap, mmb_stats *out) {
    locked_heap *h = enter(heap, "stats", false);
    mmb_stats_get(h->inner, out);
    leave(h);
}

static void l_attach(mmb_heap *heap) {
    locked_heap *h = (locked_heap *)heap;
    pthread_mutex_lock(&h->mu); /* waits out a stop-the-world in progress, as attach may */
    if (attached_to)
        violation(h, "attach by a thread already attached");
    attached_to = h;
    h->attached++;
    pthread_mutex_unlock(&h->mu);
}

static void l_detach(mmb_heap *heap) {
    locked_heap *h = enter(heap, "detach", false);
    attached_to = NULL;
    h->attached--;
    h->detaches++;
    leave(h);
}

/* Wraps `inner`; the calling thread is attached, as create attaches it. */
static mmb_heap *locked_wrap(mmb_heap *inner, const mmb_manager *table) {
    locked_heap *h = calloc(1, sizeof *h);
    ASSERT_TRUE(h != NULL);
    h->base.manager = table;
    h->inner = inner;
    pthread_mutex_init(&h->mu, NULL);
    h->stw_timeout_ns = 5000000000u; /* generous: a loaded 2-core machine under sanitizers */
    h->attached = 1;
    attached_to = h;
    return &h->base;
}

/* Frees the wrapper; returns the heap it wrapped. */
static mmb_heap *locked_unwrap(mmb_heap *heap) {
    locked_heap *h = (locked_heap *)heap;
    mmb_heap *inner = h->inner;
    pthread_mutex_destroy(&h->mu);
    free(h);
    if (attached_to == h)
        attached_to = NULL;
    return inner;
}

static void l_destroy(mmb_heap *heap) {
    mmb_heap *inner = locked_unwrap(heap);
    inner->manager->destroy(inner);
}

static const char *locked_violation(mmb_heap *heap) {
    locked_heap *h = (locked_heap *)heap;
    return h->violation[0] ? h->violation : NULL;
}

/* A locked table for heaps of `inner`, named `name`. */
static mmb_manager locked_table(const char *name, const mmb_manager *inner) {
    return (mmb_manager){
        .name = name,
        .summary = "test only: one lock around every operation of another manager",
        .caps = inner->caps | MMB_CAP_THREAD_SAFE,
        .destroy = l_destroy,
        .alloc = l_alloc,
        .incref = l_incref,
        .decref = l_decref,
        .store = l_store,
        .load = l_load,
        .collect = l_collect,
        .stats = l_stats,
        .thread_attach = l_attach,
        .thread_detach = l_detach,
    };
}

extern const mmb_manager mmb_manager_cpython;

static mmb_manager locked_cpython;

static int locked_cpython_create(const mmb_heap_config *cfg, mmb_heap **out, char *err,
                                 size_t err_bytes) {
    mmb_heap *inner;
    if (mmb_heap_create(&mmb_manager_cpython, cfg, &inner, err, err_bytes) != 0)
        return -1;
    *out = locked_wrap(inner, &locked_cpython);
    return 0;
}

/* "locked-cpython", registered like a plug-in and found by name. */
static const mmb_manager *locked_manager(void) {
    if (!mmb_manager_find("locked-cpython")) {
        locked_cpython = locked_table("locked-cpython", &mmb_manager_cpython);
        locked_cpython.create = locked_cpython_create;
        ASSERT_EQ(mmb_manager_register(&locked_cpython), 0);
    }
    const mmb_manager *m = mmb_manager_find("locked-cpython");
    ASSERT_TRUE(m != NULL);
    ASSERT_TRUE(m->caps & MMB_CAP_THREAD_SAFE);
    return m;
}

/* ---- running a workload ------------------------------------------------------------------- */

/* Fills env for workload `name` at tiny scale with `threads` workers and one more override. */
static const mmb_workload *tiny_env(const char *name, unsigned threads, const char *extra,
                                    uint64_t seed, mmb_workload_env *env) {
    const mmb_workload *w = mmb_workload_find(name);
    ASSERT_TRUE(w != NULL);
    char kv_threads[32];
    snprintf(kv_threads, sizeof kv_threads, "threads=%u", threads);
    const char *kv[2] = {kv_threads, extra};
    char err[512] = "";
    *env = (mmb_workload_env){.seed = seed};
    int rc = mmb_params_parse(w, MMB_SCALE_TINY, kv, extra ? 2 : 1, env, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "%s\n", err);
    ASSERT_EQ(rc, 0);
    return w;
}

/* Runs workload `name` on a fresh locked-cpython heap; checks that it passed its self-check, kept
 * the thread contract, and left nothing behind after a final collection. */
static mmb_workload_result run_locked(const char *name, unsigned threads, const char *extra,
                                      uint64_t seed) {
    const mmb_manager *m = locked_manager();
    mmb_workload_env env;
    const mmb_workload *w = tiny_env(name, threads, extra, seed, &env);
    mmb_heap_config cfg;
    mmb_config_defaults(m, &cfg);
    char err[512] = "";
    ASSERT_EQ(mmb_heap_create(m, &cfg, &env.heap, err, sizeof err), 0);
    mmb_workload_result r = {0};
    int status = w->run(&env, &r, err, sizeof err);
    if (status != 0)
        fprintf(stderr, "%s threads=%u: self-check failed: %s\n", name, threads, err);
    ASSERT_EQ(status, 0);
    mmb_collect(env.heap);
    mmb_stats s;
    mmb_stats_get(env.heap, &s);
    const char *v = locked_violation(env.heap);
    if (v)
        fprintf(stderr, "%s threads=%u: %s\n", name, threads, v);
    ASSERT_TRUE(v == NULL);
    ASSERT_TRUE(s.objects_allocated > 0);
    ASSERT_EQ(s.objects_freed, s.objects_allocated);
    ASSERT_EQ(s.live_objects, 0);
    ASSERT_TRUE(r.work_units > 0);
    printf("%s threads=%u%s%s seed=%llu: %llu %s, checksum %016llx, %llu stops, %llu detaches\n",
           name, threads, extra ? " " : "", extra ? extra : "", (unsigned long long)seed,
           (unsigned long long)r.work_units, r.unit, (unsigned long long)r.checksum,
           (unsigned long long)((locked_heap *)env.heap)->stops,
           (unsigned long long)((locked_heap *)env.heap)->detaches);
    m->destroy(env.heap);
    return r;
}

static void expect_same(mmb_workload_result a, mmb_workload_result b) {
    ASSERT_EQ(a.work_units, b.work_units);
    ASSERT_EQ(a.checksum, b.checksum);
}

/* ---- the tests ------------------------------------------------------------------------------ */

/* Every threaded workload takes `threads` as the harness expects: an integer, 2 at every scale,
 * 1 to 256. */
TEST(threaded_workloads_declare_threads) {
    const char *names[] = {"shared-counts", "handoff", "parallel-churn"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const mmb_workload *w = mmb_workload_find(names[i]);
        ASSERT_TRUE(w != NULL);
        ASSERT_TRUE(strcmp(w->family, "threaded") == 0);
        const mmb_param_spec *p = &w->params[0];
        ASSERT_TRUE(strcmp(p->name, "threads") == 0);
        ASSERT_TRUE(p->integer);
        for (int s = 0; s < MMB_SCALE_COUNT; s++)
            ASSERT_EQ(p->defaults[s], 2);
        ASSERT_EQ(p->min, 1);
        ASSERT_EQ(p->max, 256);
    }
}

/* shared-counts: rounds go out in batches seeded by batch, so work units and checksum are the same
 * for every thread count, and from run to run. */
TEST_THREADS(threaded_shared_counts_same_for_every_thread_count) {
    for (uint64_t seed = 1; seed <= 2; seed++) {
        mmb_workload_result one = run_locked("shared-counts", 1, NULL, seed);
        expect_same(one, run_locked("shared-counts", 2, NULL, seed));
        expect_same(one, run_locked("shared-counts", 3, NULL, seed));
        expect_same(one, run_locked("shared-counts", 4, NULL, seed));
        expect_same(one, run_locked("shared-counts", 4, NULL, seed));
    }
    ASSERT_TRUE(run_locked("shared-counts", 2, NULL, 1).checksum !=
                run_locked("shared-counts", 2, NULL, 2).checksum);
}

/* handoff: the checksum is a sum over graphs, each made from its own seed: the same whichever
 * consumer took it, for every thread count and queue size. With a one-graph queue the workers
 * wait on it often, and each wait is a detach. */
TEST_THREADS(threaded_handoff_same_for_every_thread_count) {
    for (uint64_t seed = 1; seed <= 2; seed++) {
        mmb_workload_result one = run_locked("handoff", 1, NULL, seed);
        ASSERT_EQ(one.work_units, 1000 * 15); /* graphs x graph-size at tiny scale */
        expect_same(one, run_locked("handoff", 2, NULL, seed));
        expect_same(one, run_locked("handoff", 3, NULL, seed));
        expect_same(one, run_locked("handoff", 4, NULL, seed));
        expect_same(one, run_locked("handoff", 4, NULL, seed));
        expect_same(one, run_locked("handoff", 1, "queue=1", seed));
        expect_same(one, run_locked("handoff", 4, "queue=1", seed));
        expect_same(one, run_locked("handoff", 4, "queue=1000", seed));
    }
    ASSERT_TRUE(run_locked("handoff", 2, NULL, 1).checksum !=
                run_locked("handoff", 2, NULL, 2).checksum);
    /* More producers than graphs: some produce nothing and still finish. */
    mmb_workload_result few = run_locked("handoff", 8, "graphs=3", 1);
    ASSERT_EQ(few.work_units, 3 * 15);
    expect_same(few, run_locked("handoff", 1, "graphs=3", 1));
}

TEST_THREADS(threaded_handoff_detaches_to_wait) {
    const mmb_manager *m = locked_manager();
    mmb_workload_env env;
    const mmb_workload *w = tiny_env("handoff", 4, "queue=1", 7, &env);
    mmb_heap_config cfg;
    mmb_config_defaults(m, &cfg);
    char err[512] = "";
    ASSERT_EQ(mmb_heap_create(m, &cfg, &env.heap, err, sizeof err), 0);
    mmb_workload_result r = {0};
    ASSERT_EQ(w->run(&env, &r, err, sizeof err), 0);
    locked_heap *h = (locked_heap *)env.heap;
    ASSERT_TRUE(locked_violation(env.heap) == NULL);
    /* The calling thread and each worker detach once at the end; the rest are waits. */
    printf("handoff threads=4 queue=1: %llu detaches, %llu stops\n",
           (unsigned long long)h->detaches, (unsigned long long)h->stops);
    ASSERT_TRUE(h->detaches > 4 + 1);
    ASSERT_TRUE(h->stops > 0);
    m->destroy(env.heap);
}

/* parallel-churn: each worker has its own stream, so the checksum depends on the thread count,
 * but not on the run; work units are the objects asked for, for every thread count. */
TEST_THREADS(threaded_parallel_churn_repeats_for_each_thread_count) {
    for (unsigned t = 1; t <= 4; t++) {
        mmb_workload_result a = run_locked("parallel-churn", t, NULL, 1);
        ASSERT_EQ(a.work_units, 20000);
        expect_same(a, run_locked("parallel-churn", t, NULL, 1));
    }
    mmb_workload_result odd = run_locked("parallel-churn", 3, "objects=1001", 1);
    ASSERT_EQ(odd.work_units, 1001);
    ASSERT_TRUE(run_locked("parallel-churn", 2, NULL, 1).checksum !=
                run_locked("parallel-churn", 2, NULL, 2).checksum);
}

/* The name of the registry's workload at index i when it is threaded (family "threaded"), else
 * NULL: the tests below cover each threaded workload, a new one too. */
static const char *threaded_name(size_t i) {
    const mmb_workload *w = mmb_workload_at(i);
    return strcmp(w->family, "threaded") == 0 ? w->name : NULL;
}

/* Several workers under the oracle (behind the lock: its shadow is single-threaded): no
 * violation, nothing left after the final collection, every block returned, and the checksum
 * of a run with one worker. */
TEST_THREADS(threaded_workloads_pass_the_oracle_with_threads) {
    for (size_t i = 0; i < mmb_workload_count(); i++) {
        const char *name = threaded_name(i);
        if (!name)
            continue;
        for (unsigned threads = 1; threads <= 4; threads *= 2) {
            mmb_workload_env env;
            const mmb_workload *w = tiny_env(name, threads, NULL, 42, &env);
            mmb_heap_config cfg;
            mmb_config_defaults(&mmb_manager_cpython, &cfg);
            mmb_oracle_options opt = {.fill_payload = false};
            mmb_heap *oracle;
            char err[512] = "";
            ASSERT_EQ(mmb_oracle_create(&mmb_manager_cpython, &cfg, &opt, &oracle, err, sizeof err),
                      0);
            mmb_manager table = locked_table("locked-oracle", oracle->manager);
            env.heap = locked_wrap(oracle, &table);
            mmb_workload_result r = {0};
            int status = w->run(&env, &r, err, sizeof err);
            if (status != 0)
                fprintf(stderr, "%s threads=%u: %s\n", name, threads, err);
            ASSERT_EQ(status, 0);
            mmb_collect(env.heap);
            mmb_stats s;
            mmb_stats_get(env.heap, &s);
            ASSERT_EQ(s.live_objects, 0);
            ASSERT_TRUE(locked_violation(env.heap) == NULL);
            locked_unwrap(env.heap);
            if (mmb_oracle_failed(oracle))
                fprintf(stderr, "%s threads=%u: %s\n", name, threads, mmb_oracle_failure(oracle));
            ASSERT_TRUE(!mmb_oracle_failed(oracle));
            char msg[512];
            int closed = mmb_oracle_close(oracle, msg, sizeof msg);
            if (closed != 0)
                fprintf(stderr, "%s threads=%u: %s\n", name, threads, msg);
            ASSERT_EQ(closed, 0);
            if (strcmp(name, "parallel-churn") != 0)
                expect_same(r, run_locked(name, 1, NULL, 42));
            printf("%s threads=%u under the oracle ok: %llu %s, checksum %016llx\n", name, threads,
                   (unsigned long long)r.work_units, r.unit, (unsigned long long)r.checksum);
        }
    }
}

/* The corrupting manager (corrupt_manager.h: stores land in the next slot, every 7th store flips
 * a payload bit), behind the lock: every workload's self-check fails with several workers too, and
 * the failing worker stops the others (handoff's producers must not wait for ever on a queue
 * nobody empties). */
TEST_THREADS(threaded_workloads_catch_corruption_with_threads) {
    mmb_manager corrupt = mmb_test_corrupt_manager();
    mmb_manager table = locked_table("locked-corrupt", &corrupt);
    for (size_t i = 0; i < mmb_workload_count(); i++) {
        const char *name = threaded_name(i);
        if (!name)
            continue;
        for (unsigned threads = 1; threads <= 4; threads++) {
            mmb_workload_env env;
            const mmb_workload *w = tiny_env(name, threads, NULL, 42, &env);
            mmb_heap_config cfg;
            mmb_config_defaults(&corrupt, &cfg);
            mmb_heap *inner;
            char err[512] = "";
            ASSERT_EQ(mmb_heap_create(&corrupt, &cfg, &inner, err, sizeof err), 0);
            env.heap = locked_wrap(inner, &table);
            mmb_workload_result r = {0};
            ASSERT_EQ(w->run(&env, &r, err, sizeof err), -1);
            ASSERT_TRUE(strlen(err) > 10);
            ASSERT_TRUE(locked_violation(env.heap) == NULL);
            printf("%s threads=%u: self-check caught it: %s\n", name, threads, err);
            table.destroy(env.heap);
        }
    }
}

/* The checker above fails when it should: a worker that waits while attached holds up a
 * stop-the-world collection (a violation), and the same worker detached for the wait does
 * not. */
typedef struct blocker {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool waiting, collected;
    bool detach; /* whether worker 0 detaches for its wait */
} blocker;

/* Worker 0 waits until worker 1 has collected; worker 1 (detached while it waits for that) collects
 * once worker 0 is waiting. */
static int blocker_worker(const mmb_workload_env *env, unsigned index, void *arg,
                          uint64_t *work_units, char *err, size_t n) {
    (void)err;
    (void)n;
    blocker *b = arg;
    if (index == 0) {
        if (b->detach)
            mmb_thread_detach(env->heap);
        pthread_mutex_lock(&b->mu);
        b->waiting = true;
        pthread_cond_broadcast(&b->cond);
        while (!b->collected)
            pthread_cond_wait(&b->cond, &b->mu);
        pthread_mutex_unlock(&b->mu);
        if (b->detach)
            mmb_thread_attach(env->heap);
    } else {
        mmb_thread_detach(env->heap);
        pthread_mutex_lock(&b->mu);
        while (!b->waiting)
            pthread_cond_wait(&b->cond, &b->mu);
        pthread_mutex_unlock(&b->mu);
        mmb_thread_attach(env->heap);
        mmb_collect(env->heap);
        pthread_mutex_lock(&b->mu);
        b->collected = true;
        pthread_cond_broadcast(&b->cond);
        pthread_mutex_unlock(&b->mu);
    }
    mmb_obj *o = mmb_alloc(env->heap, 0, 0);
    mmb_decref(env->heap, o);
    *work_units += 1;
    return 0;
}

TEST_THREADS(locked_manager_catches_a_thread_blocked_while_attached) {
    const mmb_manager *m = locked_manager();
    for (int detach = 0; detach <= 1; detach++) {
        mmb_heap_config cfg;
        mmb_config_defaults(m, &cfg);
        mmb_workload_env env = {.seed = 1};
        char err[512] = "";
        ASSERT_EQ(mmb_heap_create(m, &cfg, &env.heap, err, sizeof err), 0);
        ((locked_heap *)env.heap)->stw_timeout_ns = 200000000u;
        blocker b = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, false, detach};
        uint64_t units = 0;
        ASSERT_EQ(mmb_run_threads(&env, 2, blocker_worker, &b, &units, err, sizeof err), 0);
        ASSERT_EQ(units, 2);
        const char *v = locked_violation(env.heap);
        printf("waiting %s: %s\n", detach ? "detached" : "attached", v ? v : "no violation");
        if (detach)
            ASSERT_TRUE(v == NULL);
        else
            ASSERT_STR_CONTAINS(v, "stop-the-world: 2 attached threads, only 1 reached");
        m->destroy(env.heap);
    }
    /* And an operation from a thread that never attached. */
    mmb_heap_config cfg;
    mmb_config_defaults(m, &cfg);
    mmb_heap *h;
    char err[512] = "";
    ASSERT_EQ(mmb_heap_create(m, &cfg, &h, err, sizeof err), 0);
    mmb_thread_detach(h);
    mmb_obj *o = mmb_alloc(h, 0, 0);
    ASSERT_STR_CONTAINS(locked_violation(h), "alloc by a thread that is not attached");
    mmb_thread_attach(h);
    mmb_decref(h, o);
    m->destroy(h);
}
