/* Thread-safe managers under threads: each manager with MMB_CAP_THREAD_SAFE, four threads at a
 * time, on private churn with cycles, shared objects, handoffs between threads, collections set
 * off while others run, threads attaching and detaching over and over, and a heap handed over
 * without attaching, several heaps per thread; and each misuse of the thread rules, in a child
 * process, refused with one error line. Payload tags catch an early free; exact final counts
 * catch a lost or extra count; a watchdog turns a deadlock into a failure. Run under
 * ThreadSanitizer by the tsan preset (the label threads). One CTest per manager:
 * unit.threads_NAME.MANAGER. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mmbench/manager.h"
#include "test.h"

#define NTHREADS         4
#define WATCHDOG_SECONDS 120

/* ---- helpers ----------------------------------------------------------------------------------
 */

static mmb_heap *open_heap(const mmb_manager *m, const char *option, mmb_heap_config *cfg) {
    char err[512];
    const char *kv[1] = {option};
    ASSERT_EQ(mmb_options_parse(m, kv, option ? 1 : 0, cfg, err, sizeof err), 0);
    mmb_heap *h = NULL;
    ASSERT_EQ(mmb_heap_create(m, cfg, &h, err, sizeof err), 0);
    return h;
}

/* A payload that names its object: `key` and a check derived from it. */
typedef struct tag {
    uint64_t key, check;
} tag;

static uint64_t check_of(uint64_t key) {
    return ~key * 0x9E3779B97F4A7C15ull;
}

static mmb_obj *tagged(mmb_heap *h, uint32_t nslots, uint64_t key) {
    mmb_obj *o = mmb_alloc(h, nslots, sizeof(tag));
    ASSERT_TRUE(o != NULL);
    tag t = {key, check_of(key)};
    memcpy(mmb_payload(o), &t, sizeof t);
    return o;
}

static uint64_t tag_key(mmb_obj *o) {
    tag t;
    memcpy(&t, mmb_payload(o), sizeof t);
    ASSERT_EQ(t.check, check_of(t.key));
    return t.key;
}

static uint64_t next_rand(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint32_t below(uint64_t *state, uint32_t n) {
    return (uint32_t)(next_rand(state) % n);
}

typedef void (*work_fn)(mmb_heap *h, unsigned index, void *arg);

typedef struct crew {
    mmb_heap *heap;
    work_fn fn;
    void *arg;
    pthread_barrier_t start;
} crew;

typedef struct worker {
    crew *crew;
    unsigned index;
} worker;

static void *worker_main(void *p) {
    worker *w = p;
    pthread_barrier_wait(&w->crew->start); /* not attached yet: holds up no collection */
    mmb_thread_attach(w->crew->heap);
    w->crew->fn(w->crew->heap, w->index, w->crew->arg);
    mmb_thread_detach(w->crew->heap);
    return NULL;
}

/* Runs fn on NTHREADS threads at once, each attached; the calling thread (attached on entry)
 * detaches while it waits for them. */
static void run_workers(mmb_heap *h, work_fn fn, void *arg) {
    crew c = {.heap = h, .fn = fn, .arg = arg};
    worker ws[NTHREADS];
    pthread_t threads[NTHREADS];
    pthread_barrier_init(&c.start, NULL, NTHREADS);
    alarm(WATCHDOG_SECONDS); /* a deadlock fails the test (SIGALRM) rather than hanging it */
    mmb_thread_detach(h);
    for (unsigned i = 0; i < NTHREADS; i++) {
        ws[i] = (worker){&c, i};
        ASSERT_EQ(pthread_create(&threads[i], NULL, worker_main, &ws[i]), 0);
    }
    for (unsigned i = 0; i < NTHREADS; i++)
        pthread_join(threads[i], NULL);
    alarm(0);
    mmb_thread_attach(h);
    pthread_barrier_destroy(&c.start);
}

/* After a full collection with nothing held, nothing is left and the books balance. */
static void expect_empty(mmb_heap *h) {
    mmb_collect(h);
    mmb_stats s;
    mmb_stats_get(h, &s);
    ASSERT_EQ(s.live_objects, 0);
    ASSERT_EQ(s.live_bytes, 0);
    ASSERT_EQ(s.objects_allocated, s.objects_freed);
    ASSERT_EQ(s.objects_freed, s.objects_freed_by_rc + s.objects_freed_by_gc);
}

/* The manager of this CTest (its argument: one CTest per manager); one that is not thread-safe is
 * skipped. */
static const mmb_manager *thread_safe_manager(void) {
    const mmb_manager *m = mmb_test_manager(mmb_test_arg);
    if (!(m->caps & MMB_CAP_THREAD_SAFE))
        SKIP("%s is not thread-safe", m->name);
    return m;
}

/* ---- private churn with cycles ------------------------------------------------------------------
 */

#define WINDOW 16

typedef struct churner {
    mmb_heap *h;
    uint64_t rng, seq;
    mmb_obj *window[WINDOW];
} churner;

static churner churn_start(mmb_heap *h, unsigned index) {
    return (churner){.h = h, .rng = index + 1, .seq = (uint64_t)index << 40};
}

/* One step: a ring, a chain with a slotless leaf, a cross-link between held objects (cycles
 * through the window), or a walk that checks every tag it passes. */
static void churn_step(churner *c) {
    mmb_heap *h = c->h;
    unsigned w = below(&c->rng, WINDOW);
    mmb_obj *keep = NULL;
    switch (below(&c->rng, 4)) {
    case 0: { /* a ring of 2..5 */
        unsigned n = 2 + below(&c->rng, 4);
        mmb_obj *first = tagged(h, 2, c->seq++), *prev = first;
        for (unsigned k = 1; k < n; k++) {
            mmb_obj *o = tagged(h, 2, c->seq++);
            mmb_store(h, prev, 0, o);
            if (prev != first)
                mmb_decref(h, prev);
            prev = o;
        }
        mmb_store(h, prev, 0, first);
        if (prev != first)
            mmb_decref(h, prev);
        keep = first;
        break;
    }
    case 1: { /* a chain ending in a leaf without slots */
        mmb_obj *leaf = tagged(h, 0, c->seq++), *o = tagged(h, 2, c->seq++);
        mmb_store(h, o, 1, leaf);
        mmb_decref(h, leaf);
        keep = o;
        break;
    }
    case 2: { /* link two held objects */
        mmb_obj *a = c->window[w], *b = c->window[below(&c->rng, WINDOW)];
        if (a && b)
            mmb_store(h, a, 1, b);
        break;
    }
    default: { /* walk and check */
        mmb_obj *o = c->window[w];
        for (int d = 0; o && d < 8; d++) {
            tag_key(o);
            o = mmb_load(h, o, (uint32_t)(d & 1));
        }
        break;
    }
    }
    if (keep) {
        if (c->window[w])
            mmb_decref(h, c->window[w]);
        c->window[w] = keep;
    }
}

static void churn_end(churner *c) {
    for (unsigned k = 0; k < WINDOW; k++)
        if (c->window[k])
            mmb_decref(c->h, c->window[k]);
}

static void churn(mmb_heap *h, unsigned index, void *p) {
    const unsigned *iterations = p;
    churner c = churn_start(h, index);
    for (unsigned it = 0; it < *iterations; it++)
        churn_step(&c);
    churn_end(&c);
}

TEST_EACH(threads_private_churn_with_cycles, "unit.threads_private_churn_with_cycles.{manager}",
          600, "unit threads") {
    const mmb_manager *m = thread_safe_manager();
    mmb_heap_config cfg;
    mmb_heap *h = open_heap(m, "threshold=2000", &cfg);
    unsigned iterations = 150000;
    run_workers(h, churn, &iterations);
    mmb_stats s;
    mmb_stats_get(h, &s);
    ASSERT_TRUE(s.objects_allocated > NTHREADS * iterations / 2);
    ASSERT_TRUE(s.collections_full > 0);
    expect_empty(h);
    m->destroy(h);
}

/* ---- shared objects
 * ------------------------------------------------------------------------------ */

#define NSHARED 32
#define HELD    8

typedef struct shared_arg {
    mmb_obj *objs[NSHARED];
    unsigned iterations;
} shared_arg;

/* Every thread takes and drops references to the same objects, stores them into its own slot of
 * others (slot `index`: no two threads write one slot), and makes private objects that point at
 * them. Only its own slots are its to write; it clears them at the end. */
static void share(mmb_heap *h, unsigned index, void *p) {
    shared_arg *arg = p;
    uint64_t rng = 100 + index;
    mmb_obj *held[HELD] = {0};
    for (unsigned it = 0; it < arg->iterations; it++) {
        mmb_obj *a = arg->objs[below(&rng, NSHARED)], *b = arg->objs[below(&rng, NSHARED)];
        switch (below(&rng, 4)) {
        case 0: {
            unsigned k = below(&rng, HELD);
            if (held[k])
                mmb_decref(h, held[k]);
            mmb_incref(h, a);
            held[k] = a;
            break;
        }
        case 1:
            mmb_store(h, a, index, below(&rng, 4) ? b : NULL);
            break;
        case 2: { /* a private object holding a shared one, dropped: a cascade's decrement */
            mmb_obj *o = tagged(h, 1, it);
            mmb_store(h, o, 0, a);
            mmb_decref(h, o);
            break;
        }
        default:
            ASSERT_TRUE(tag_key(a) < NSHARED);
            break;
        }
    }
    for (unsigned k = 0; k < HELD; k++)
        if (held[k])
            mmb_decref(h, held[k]);
    for (unsigned k = 0; k < NSHARED; k++)
        mmb_store(h, arg->objs[k], index, NULL);
}

TEST_EACH(threads_shared_objects_counts_exact, "unit.threads_shared_objects_counts_exact.{manager}",
          600, "unit threads") {
    const mmb_manager *m = thread_safe_manager();
    mmb_heap_config cfg;
    mmb_heap *h = open_heap(m, "threshold=500", &cfg);
    shared_arg arg = {.iterations = 400000};
    for (uint64_t k = 0; k < NSHARED; k++)
        arg.objs[k] = tagged(h, NTHREADS, k);
    run_workers(h, share, &arg);
    /* Every private object is gone; every shared one is held once, by this thread: a count
     * one too low would have freed it (its tag is checked below), one too high keeps it past
     * the final collection. */
    mmb_collect(h);
    mmb_stats s;
    mmb_stats_get(h, &s);
    ASSERT_EQ(s.live_objects, NSHARED);
    for (uint64_t k = 0; k < NSHARED; k++) {
        ASSERT_EQ(tag_key(arg.objs[k]), k);
        for (unsigned t = 0; t < NTHREADS; t++)
            ASSERT_TRUE(mmb_load(h, arg.objs[k], t) == NULL);
        mmb_decref(h, arg.objs[k]);
    }
    expect_empty(h);
    m->destroy(h);
}

/* ---- handoff: producers to consumers through a queue
 * ---------------------------------------------- */

#define QUEUE_CAP 16
#define PRODUCED  20000 /* graphs per producer (even); half the threads produce */
#define HANDED    (NTHREADS / 2 * PRODUCED / 2 * 3) /* queue items: shared graphs go twice */

typedef struct handoff {
    mmb_heap *heap;
    pthread_mutex_t mu;
    pthread_cond_t changed;
    mmb_obj *items[QUEUE_CAP];
    unsigned head, count, consumed;
} handoff;

/* Blocking on the queue would hold up a collection, so a thread detaches around it. */
static void put(handoff *q, mmb_obj *o) {
    mmb_thread_detach(q->heap);
    pthread_mutex_lock(&q->mu);
    while (q->count == QUEUE_CAP)
        pthread_cond_wait(&q->changed, &q->mu);
    q->items[(q->head + q->count++) % QUEUE_CAP] = o;
    pthread_cond_broadcast(&q->changed);
    pthread_mutex_unlock(&q->mu);
    mmb_thread_attach(q->heap);
}

/* NULL when every item has been taken. */
static mmb_obj *get(handoff *q) {
    mmb_obj *o = NULL;
    mmb_thread_detach(q->heap);
    pthread_mutex_lock(&q->mu);
    while (q->count == 0 && q->consumed < HANDED)
        pthread_cond_wait(&q->changed, &q->mu);
    if (q->count) {
        o = q->items[q->head];
        q->head = (q->head + 1) % QUEUE_CAP;
        q->count--;
        q->consumed++;
        pthread_cond_broadcast(&q->changed);
    }
    pthread_mutex_unlock(&q->mu);
    mmb_thread_attach(q->heap);
    return o;
}

/* Producers (even indices) alternate two graphs of four objects, `a` first, a slotless leaf in
 * a's slot 1:
 *   - private: a ring a -> b -> c -> a, handed to one consumer, which checks it, breaks the ring
 *     half the time (so refcounting frees it on the consumer's thread) and drops it;
 *   - shared: a chain a -> b -> c, handed to two consumers (two references), each of which checks
 *     it, stores an object of its own into its own slot of a (2 or 3) and drops it. Whichever
 *     drops last frees the chain, reading the slot the other wrote. */
static void hand_over(mmb_heap *h, unsigned index, void *p) {
    handoff *q = p;
    if (index % 2 == 0) {
        for (uint64_t i = 0; i < PRODUCED; i++) {
            bool shared = i % 2;
            uint64_t key = ((uint64_t)index << 32 | i) * 4;
            mmb_obj *a = tagged(h, 4, key), *b = tagged(h, 2, key + 1), *c = tagged(h, 2, key + 2);
            mmb_obj *leaf = tagged(h, 0, key + 3);
            mmb_store(h, a, 0, b);
            mmb_store(h, b, 0, c);
            if (!shared)
                mmb_store(h, c, 0, a);
            mmb_store(h, a, 1, leaf);
            mmb_decref(h, b);
            mmb_decref(h, c);
            mmb_decref(h, leaf);
            if (shared) {
                mmb_incref(h, a);
                put(q, a);
            }
            put(q, a);
        }
        return;
    }
    for (mmb_obj *a; (a = get(q)) != NULL;) {
        uint64_t key = tag_key(a);
        bool shared = key / 4 % 2;
        mmb_obj *o = a;
        for (uint64_t k = 1; k <= 2; k++) {
            o = mmb_load(h, o, 0);
            ASSERT_EQ(tag_key(o), key + k);
        }
        ASSERT_TRUE(mmb_load(h, o, 0) == (shared ? NULL : a));
        ASSERT_EQ(tag_key(mmb_load(h, a, 1)), key + 3);
        if (shared) {
            mmb_obj *mine = tagged(h, 0, key);
            mmb_store(h, a, 2 + index / 2, mine);
            mmb_decref(h, mine);
        } else if (key / 8 % 2) {
            mmb_store(h, a, 0, NULL);
        }
        mmb_decref(h, a);
    }
}

TEST_EACH(threads_handoff_between_threads, "unit.threads_handoff_between_threads.{manager}", 600,
          "unit threads") {
    const mmb_manager *m = thread_safe_manager();
    mmb_heap_config cfg;
    mmb_heap *h = open_heap(m, "threshold=1000", &cfg);
    handoff q = {.heap = h};
    pthread_mutex_init(&q.mu, NULL);
    pthread_cond_init(&q.changed, NULL);
    run_workers(h, hand_over, &q);
    ASSERT_EQ(q.consumed, HANDED);
    mmb_stats s;
    mmb_stats_get(h, &s);
    ASSERT_EQ(s.objects_allocated, NTHREADS / 2 * PRODUCED / 2 * (4 + 6));
    expect_empty(h);
    pthread_mutex_destroy(&q.mu);
    pthread_cond_destroy(&q.changed);
    m->destroy(h);
}

/* ---- collections set off while other threads run
 * ------------------------------------------------- */

typedef struct event_log {
    pthread_mutex_t mu;
    uint64_t full, bad;
} event_log;

static void on_event(void *ctx, const mmb_event *e) {
    event_log *log = ctx;
    pthread_mutex_lock(&log->mu);
    if (e->kind == MMB_EVENT_FULL)
        log->full++;
    if (e->end_ns < e->start_ns || e->objects_freed > e->objects_visited)
        log->bad++;
    pthread_mutex_unlock(&log->mu);
}

/* The phase hook's begin/end pairs nest properly on each thread. */
static _Thread_local int phase_depth;

static void on_phase(void *ctx, mmb_phase phase, int begin) {
    event_log *log = ctx;
    (void)phase;
    phase_depth += begin ? 1 : -1;
    if (phase_depth < 0) {
        pthread_mutex_lock(&log->mu);
        log->bad++;
        pthread_mutex_unlock(&log->mu);
    }
}

typedef struct busy_arg {
    atomic_bool done;
    unsigned collections;
} busy_arg;

/* Thread 0 collects `collections` times, a little churn between; the others churn (and set off
 * collections of their own: the threshold is small) until it is done, the last without
 * allocating. Were a safepoint missing, thread 0's first collection would wait for that thread to
 * detach, which it never would: the watchdog ends the test. */
static void busy(mmb_heap *h, unsigned index, void *p) {
    busy_arg *arg = p;
    churner c = churn_start(h, index);
    if (index == 0) {
        for (unsigned i = 0; i < arg->collections; i++) {
            for (int k = 0; k < 20; k++)
                churn_step(&c);
            mmb_collect(h);
        }
        atomic_store(&arg->done, true);
    } else if (index < NTHREADS - 1) {
        while (!atomic_load_explicit(&arg->done, memory_order_relaxed))
            churn_step(&c);
    } else { /* never allocates: parks only at the safepoints of incref, decref and store */
        for (int k = 0; k < 100; k++)
            churn_step(&c);
        for (unsigned n = 0; !atomic_load_explicit(&arg->done, memory_order_relaxed); n++) {
            mmb_obj *a = c.window[n % WINDOW], *b = c.window[(n * 7 + 3) % WINDOW];
            if (!a || !b)
                continue;
            mmb_incref(h, b);
            mmb_store(h, a, 1, b);
            mmb_decref(h, b);
        }
    }
    churn_end(&c);
}

TEST_EACH(threads_collections_while_others_run,
          "unit.threads_collections_while_others_run.{manager}", 600, "unit threads") {
    const mmb_manager *m = thread_safe_manager();
    event_log log = {.full = 0};
    pthread_mutex_init(&log.mu, NULL);
    mmb_heap_config cfg;
    char err[512];
    const char *kv[] = {"threshold=64", "cascade-threshold=1"};
    ASSERT_EQ(mmb_options_parse(m, kv, 2, &cfg, err, sizeof err), 0);
    cfg.on_event = on_event;
    cfg.event_ctx = &log;
    cfg.on_phase = on_phase;
    cfg.phase_ctx = &log;
    mmb_heap *h = NULL;
    ASSERT_EQ(mmb_heap_create(m, &cfg, &h, err, sizeof err), 0);
    busy_arg arg = {.collections = 1000};
    atomic_init(&arg.done, false);
    run_workers(h, busy, &arg);
    expect_empty(h);
    mmb_stats s;
    mmb_stats_get(h, &s);
    ASSERT_TRUE(s.collections_full > arg.collections);
    ASSERT_EQ(log.full, s.collections_full);
    ASSERT_EQ(log.bad, 0);
    ASSERT_EQ(phase_depth, 0);
    m->destroy(h);
    pthread_mutex_destroy(&log.mu);
}

/* ---- attach and detach, over and over
 * -------------------------------------------------------------- */

#define ROUNDS 10000

/* Each round attaches (most likely to a record another thread left), works a little, and
 * carries one object over to the next round, when it may be on another record. */
static void come_and_go(mmb_heap *h, unsigned index, void *p) {
    (void)p;
    uint64_t rng = 7 + index;
    mmb_obj *carry = NULL;
    mmb_thread_detach(h); /* worker_main attached; rounds attach themselves */
    for (unsigned round = 0; round < ROUNDS; round++) {
        mmb_thread_attach(h);
        mmb_obj *a = tagged(h, 1, round), *b = tagged(h, 1, round);
        mmb_store(h, a, 0, b);
        mmb_store(h, b, 0, a);
        if (carry) {
            ASSERT_EQ(tag_key(carry), round - 1);
            if (below(&rng, 2))
                mmb_store(h, carry, 0, NULL); /* break its ring: refcounting frees it */
            mmb_decref(h, carry);
        }
        carry = a;
        mmb_decref(h, b);
        if (below(&rng, 8) == 0)
            mmb_collect(h);
        mmb_thread_detach(h);
    }
    mmb_thread_attach(h);
    mmb_decref(h, carry);
}

TEST_EACH(threads_attach_detach_reuse, "unit.threads_attach_detach_reuse.{manager}", 600,
          "unit threads") {
    const mmb_manager *m = thread_safe_manager();
    mmb_heap_config cfg;
    mmb_heap *h = open_heap(m, "threshold=100", &cfg);
    run_workers(h, come_and_go, NULL);
    mmb_stats s;
    mmb_stats_get(h, &s);
    ASSERT_EQ(s.objects_allocated, NTHREADS * ROUNDS * 2);
    expect_empty(h);
    m->destroy(h);
}

/* One thread attached to two heaps at once: each operation finds the right record. */
TEST_EACH(threads_one_thread_two_heaps, "unit.threads_one_thread_two_heaps.{manager}", 600,
          "unit threads") {
    const mmb_manager *m = thread_safe_manager();
    mmb_heap_config cfg_a, cfg_b;
    mmb_heap *a = open_heap(m, "threshold=10", &cfg_a), *b = open_heap(m, "threshold=10", &cfg_b);
    for (uint64_t i = 0; i < 1000; i++) {
        mmb_obj *x = tagged(a, 1, i), *y = tagged(b, 1, i);
        mmb_store(a, x, 0, x);
        mmb_store(b, y, 0, y);
        mmb_decref(a, x);
        mmb_decref(b, y);
    }
    expect_empty(a);
    expect_empty(b);
    m->destroy(a);
    m->destroy(b);
}

/* ---- a heap handed over without attaching
 * ---------------------------------------------------------- */

static void *use_unattached(void *p) {
    mmb_heap *h = p;
    mmb_obj *a = tagged(h, 1, 1), *b = tagged(h, 1, 2);
    mmb_store(h, a, 0, b);
    mmb_store(h, b, 0, a);
    mmb_decref(h, a);
    mmb_decref(h, b);
    mmb_collect(h);
    return NULL;
}

/* As a single-threaded heap may be (a wrapper such as the oracle passes no attach on): another
 * thread uses it, ordered by the thread's start and join, and takes over the only record. */
TEST_EACH(threads_handover_without_attach, "unit.threads_handover_without_attach.{manager}", 600,
          "unit threads") {
    const mmb_manager *m = thread_safe_manager();
    mmb_heap_config cfg;
    mmb_heap *h = open_heap(m, NULL, &cfg);
    mmb_obj *kept = tagged(h, 1, 0);
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, use_unattached, h), 0);
    pthread_join(t, NULL);
    mmb_stats s;
    mmb_stats_get(h, &s);
    ASSERT_EQ(s.live_objects, 1);
    ASSERT_EQ(tag_key(kept), 0);
    mmb_decref(h, kept);
    expect_empty(h);
    m->destroy(h);
}

typedef struct intruder {
    mmb_heap *heap;
    pthread_barrier_t attached, done;
} intruder;

static void *stay_attached(void *p) {
    intruder *x = p;
    mmb_thread_attach(x->heap);
    pthread_barrier_wait(&x->attached);
    pthread_barrier_wait(&x->done); /* never passed: the process aborts first */
    return NULL;
}

/* ---- thread rules, checked
 * ------------------------------------------------------------------------
 *
 * Each misuse runs in a child process, its stderr in a pipe, under an alarm: it must end the child
 * with one `mmbench: error:` line and SIGABRT, never a hang (the alarm's SIGALRM), a clean exit or
 * a use after free (a sanitizer's report is more output than the one line). */

#define CHILD_SECONDS 60

typedef void (*child_fn)(const mmb_manager *m);

typedef struct child_result {
    int status;     /* from waitpid */
    char err[2048]; /* the child's stderr, cut short if longer */
} child_result;

static void run_child(child_fn fn, const mmb_manager *m, child_result *out) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    ASSERT_TRUE(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], STDERR_FILENO);
        close(fds[1]);
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core); /* an expected abort leaves no core file behind */
        alarm(CHILD_SECONDS);
        fn(m);
        _exit(0);
    }
    close(fds[1]);
    size_t used = 0;
    char rest[256];
    for (ssize_t n = 1; n > 0;) {
        size_t room = sizeof out->err - 1 - used;
        n = room ? read(fds[0], out->err + used, room) : read(fds[0], rest, sizeof rest);
        if (n > 0 && room)
            used += (size_t)n;
    }
    out->err[used] = '\0';
    close(fds[0]);
    ASSERT_EQ(waitpid(pid, &out->status, 0), pid);
}

static void show_child(const char *expected, const child_result *r) {
    fprintf(stderr, "child status %#x (%s %d), expected \"%s\"; its stderr:\n%s\n", r->status,
            WIFSIGNALED(r->status) ? "signal" : "exit",
            WIFSIGNALED(r->status) ? WTERMSIG(r->status) : WEXITSTATUS(r->status), expected,
            r->err);
}

/* fn, run under m, stops the process with exactly one line `mmbench: error: M: ...what... (hint:
 * ...)` and SIGABRT. */
static void expect_refused(child_fn fn, const mmb_manager *m, const char *what) {
    child_result r;
    run_child(fn, m, &r);
    char prefix[128];
    snprintf(prefix, sizeof prefix, "mmbench: error: %s: ", m->name);
    size_t len = strlen(r.err);
    bool ok = WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGABRT &&
              strncmp(r.err, prefix, strlen(prefix)) == 0 && strstr(r.err, what) &&
              strstr(r.err, " (hint: ") && len > 0 && strchr(r.err, '\n') == r.err + len - 1;
    if (!ok)
        show_child(what, &r);
    ASSERT_TRUE(!(WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGALRM)); /* not a hang */
    ASSERT_TRUE(ok);
}

/* fn, run under m, ends cleanly and says nothing. */
static void expect_clean(child_fn fn, const mmb_manager *m) {
    child_result r;
    run_child(fn, m, &r);
    bool ok = WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0 && r.err[0] == '\0';
    if (!ok)
        show_child("a clean exit", &r);
    ASSERT_TRUE(!(WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGALRM)); /* not a hang */
    ASSERT_TRUE(ok);
}

/* A heap of m for a misuse in a child process (its config lives as long as the child). */
static mmb_heap *child_heap(const mmb_manager *m, const char *option) {
    static mmb_heap_config cfg;
    return open_heap(m, option, &cfg);
}

/* fn(arg) on a new thread, waited for. */
static void on_a_new_thread(void *(*fn)(void *), void *arg) {
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, fn, arg), 0);
    pthread_join(t, NULL);
}

static void third_uses_unattached(const mmb_manager *m) {
    intruder x = {.heap = child_heap(m, NULL)};
    pthread_barrier_init(&x.attached, NULL, 2);
    pthread_barrier_init(&x.done, NULL, 2);
    pthread_t t;
    pthread_create(&t, NULL, stay_attached, &x);
    pthread_barrier_wait(&x.attached);
    pthread_create(&t, NULL, use_unattached, x.heap);
    pthread_join(t, NULL);
}

/* With two threads attached, a third that never attached is refused, with one line saying so. */
TEST_EACH(threads_unattached_thread_is_refused,
          "unit.threads_unattached_thread_is_refused.{manager}", 600, "unit threads") {
    const mmb_manager *m = thread_safe_manager();
    expect_refused(third_uses_unattached, m, "a thread used a heap it is not attached to");
}

/* destroy while another thread is still attached: that thread's next operation would use the
 * freed heap (it did: a heap-use-after-free in its decref, and the oracle said ok). */
typedef struct pair {
    mmb_heap *heap;
    pthread_barrier_t ready, go;
    mmb_obj *obj;
} pair;

static void *attach_and_hold(void *p) {
    pair *x = p;
    mmb_thread_attach(x->heap);
    x->obj = tagged(x->heap, 1, 1);
    pthread_barrier_wait(&x->ready);
    pthread_barrier_wait(&x->go);
    mmb_decref(x->heap, x->obj);
    mmb_thread_detach(x->heap);
    return NULL;
}

static void destroy_while_another_holds(const mmb_manager *m, bool detach_first) {
    pair x = {.heap = child_heap(m, NULL)};
    pthread_barrier_init(&x.ready, NULL, 2);
    pthread_barrier_init(&x.go, NULL, 2);
    if (detach_first)
        mmb_thread_detach(x.heap);
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, attach_and_hold, &x), 0);
    pthread_barrier_wait(&x.ready);
    m->destroy(x.heap);
    pthread_barrier_wait(&x.go);
    pthread_join(t, NULL);
}

static void destroy_with_other_attached(const mmb_manager *m) {
    destroy_while_another_holds(m, false);
}

/* As above, by a thread that detached first: the other is still attached. */
static void destroy_detached_with_other_attached(const mmb_manager *m) {
    destroy_while_another_holds(m, true);
}

TEST_EACH(threads_destroy_while_another_is_attached_is_refused,
          "unit.threads_destroy_while_another_is_attached_is_refused.{manager}", 600,
          "unit threads") {
    const mmb_manager *m = thread_safe_manager();
    expect_refused(destroy_with_other_attached, m,
                   "destroy while 1 other thread is still attached");
    expect_refused(destroy_detached_with_other_attached, m,
                   "destroy while 1 other thread is still attached");
}

/* A thread that ends attached: every later collection (explicit, or set off by an allocation)
 * used to wait for it to park, for ever. It is caught as it ends. */
static void *attach_and_leave(void *p) {
    mmb_heap *h = p;
    mmb_thread_attach(h);
    mmb_obj *a = tagged(h, 1, 1);
    mmb_store(h, a, 0, a);
    mmb_decref(h, a);
    return NULL; /* no detach */
}

static void end_attached_then_collect(const mmb_manager *m) {
    mmb_heap *h = child_heap(m, "threshold=10");
    on_a_new_thread(attach_and_leave, h);
    mmb_collect(h);
}

static void end_attached_then_allocate(const mmb_manager *m) {
    mmb_heap *h = child_heap(m, "threshold=10");
    on_a_new_thread(attach_and_leave, h);
    for (uint64_t i = 0; i < 1000; i++) /* sets off collections */
        mmb_decref(h, tagged(h, 1, i));
}

TEST_EACH(threads_thread_ending_attached_is_refused,
          "unit.threads_thread_ending_attached_is_refused.{manager}", 600, "unit threads") {
    const mmb_manager *m = thread_safe_manager();
    expect_refused(end_attached_then_collect, m, "a thread ended while still attached to a heap");
    expect_refused(end_attached_then_allocate, m, "a thread ended while still attached to a heap");
}

/* The creating thread attaching again took a second record, and its next collection waited for
 * that record's thread, itself, for ever. */
static void creator_attaches_again(const mmb_manager *m) {
    mmb_heap *h = child_heap(m, NULL);
    mmb_thread_attach(h);
    mmb_collect(h);
}

TEST_EACH(threads_creator_attaching_again_is_refused,
          "unit.threads_creator_attaching_again_is_refused.{manager}", 600, "unit threads") {
    const mmb_manager *m = thread_safe_manager();
    expect_refused(creator_attaches_again, m,
                   "a thread attached to a heap it is already attached to");
}

/* A worker attaching twice was counted twice but parked once: a collection waited for ever. */
static void *attach_twice(void *p) {
    mmb_heap *h = p;
    mmb_thread_attach(h);
    mmb_thread_attach(h);
    mmb_collect(h);
    mmb_thread_detach(h);
    mmb_thread_detach(h);
    return NULL;
}

static void worker_attaches_twice(const mmb_manager *m) {
    mmb_heap *h = child_heap(m, NULL);
    mmb_thread_detach(h);
    on_a_new_thread(attach_twice, h);
}

/* A thread that used the heap as handed over (no attach: it took the only record) and then
 * attaches would hold two records, one of them never parked. */
static void *use_then_attach(void *p) {
    mmb_heap *h = p;
    mmb_decref(h, tagged(h, 0, 1));
    mmb_thread_attach(h);
    mmb_collect(h);
    return NULL;
}

static void handed_over_then_attaches(const mmb_manager *m) {
    on_a_new_thread(use_then_attach, child_heap(m, NULL));
}

TEST_EACH(threads_worker_attaching_twice_is_refused,
          "unit.threads_worker_attaching_twice_is_refused.{manager}", 600, "unit threads") {
    const mmb_manager *m = thread_safe_manager();
    expect_refused(worker_attaches_twice, m,
                   "a thread attached to a heap it is already attached to");
    expect_refused(handed_over_then_attaches, m,
                   "a thread attached to a heap it already uses unattached");
}

/* A thread that never attached detaching would have taken the only record, the creator's, and
 * given it back under the creator's feet. */
static void *detach_only(void *p) {
    mmb_thread_detach(p);
    return NULL;
}

static void unattached_detaches(const mmb_manager *m) {
    mmb_heap *h = child_heap(m, NULL);
    on_a_new_thread(detach_only, h);
    mmb_collect(h);
}

TEST_EACH(threads_detach_without_attach_is_refused,
          "unit.threads_detach_without_attach_is_refused.{manager}", 600, "unit threads") {
    const mmb_manager *m = thread_safe_manager();
    expect_refused(unattached_detaches, m, "a thread detached from a heap it is not attached to");
}

/* Records used to be matched by pthread_self(), and a thread started after an attached one ended
 * usually gets its pthread_t (glibc reuses the descriptor): it was handed the dead thread's record
 * and its objects, silently. Now a thread finds only records on its own list, and the attached
 * thread's end is itself caught: the new thread never runs. */
static void *use_heap(void *p) {
    mmb_heap *h = p;
    mmb_obj *a = tagged(h, 1, 7);
    ASSERT_EQ(tag_key(a), 7);
    mmb_decref(h, a);
    fprintf(stderr, "the new thread used the dead thread's record\n");
    return NULL;
}

static void new_thread_after_attached_one_ended(const mmb_manager *m) {
    mmb_heap *h = child_heap(m, NULL);
    on_a_new_thread(attach_and_leave, h); /* ends attached */
    on_a_new_thread(use_heap, h);         /* usually gets the dead thread's pthread_t */
}

TEST_EACH(threads_reused_pthread_t_gets_no_record,
          "unit.threads_reused_pthread_t_gets_no_record.{manager}", 600, "unit threads") {
    const mmb_manager *m = thread_safe_manager();
    expect_refused(new_thread_after_attached_one_ended, m,
                   "a thread ended while still attached to a heap");
}

/* Two threads, each attached to two heaps, each collecting a different one: each used to wait in
 * stop_world for the other to park (9 runs in 10 deadlocked). A thread waiting to stop one heap's
 * world counts as parked on its others. The heaps may be of two managers: the machinery is
 * shared. */
#define CROSS_ROUNDS 300

typedef struct cross {
    mmb_heap *heaps[2];
    pthread_barrier_t start;
} cross;

typedef struct crosser {
    cross *x;
    unsigned index; /* collects heaps[index] */
} crosser;

static void *cross_collect(void *p) {
    crosser *c = p;
    mmb_heap *mine = c->x->heaps[c->index], *other = c->x->heaps[1 - c->index];
    mmb_thread_attach(c->x->heaps[0]);
    mmb_thread_attach(c->x->heaps[1]);
    pthread_barrier_wait(&c->x->start); /* both attached to both before either collects */
    for (uint64_t i = 0; i < CROSS_ROUNDS; i++) {
        for (int k = 0; k < 2; k++) {
            mmb_heap *h = k ? other : mine;
            mmb_obj *a = tagged(h, 1, i), *b = tagged(h, 1, i);
            mmb_store(h, a, 0, b);
            mmb_store(h, b, 0, a);
            mmb_decref(h, a);
            mmb_decref(h, b);
        }
        mmb_collect(mine);
    }
    mmb_thread_detach(c->x->heaps[1]);
    mmb_thread_detach(c->x->heaps[0]);
    return NULL;
}

static const mmb_manager *cross_second;

static void two_threads_two_heaps(const mmb_manager *m) {
    mmb_heap_config cfg[2];
    cross x = {.heaps = {open_heap(m, "threshold=50", &cfg[0]),
                         open_heap(cross_second, "threshold=50", &cfg[1])}};
    pthread_barrier_init(&x.start, NULL, 2);
    mmb_thread_detach(x.heaps[0]);
    mmb_thread_detach(x.heaps[1]);
    crosser cs[2] = {{&x, 0}, {&x, 1}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        ASSERT_EQ(pthread_create(&t[i], NULL, cross_collect, &cs[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 2; i++) {
        mmb_thread_attach(x.heaps[i]);
        mmb_stats s;
        mmb_stats_get(x.heaps[i], &s);
        ASSERT_TRUE(s.collections_full >= CROSS_ROUNDS);
        expect_empty(x.heaps[i]);
        x.heaps[i]->manager->destroy(x.heaps[i]);
    }
    pthread_barrier_destroy(&x.start);
}

TEST_EACH(threads_two_threads_two_heaps_collect_apart,
          "unit.threads_two_threads_two_heaps_collect_apart.{manager}", 600, "unit threads") {
    const mmb_manager *m = thread_safe_manager();
    for (size_t k = 0; k < mmb_manager_count(); k++) {
        cross_second = mmb_manager_at(k);
        if (cross_second->caps & MMB_CAP_THREAD_SAFE)
            expect_clean(two_threads_two_heaps, m);
    }
}

/* The per-thread record cache matched on the heap's address alone: a heap destroyed and another
 * created at the same address handed a thread the destroyed heap's record (AddressSanitizer: a
 * heap-use-after-free in mmbi_mt_count; a plain build counted into freed memory). An allocator
 * that hands the destroyed heap's block straight back makes that certain; it frees nothing else
 * until the end, so the old record cannot come back as the new one either. */
typedef struct recycler {
    pthread_mutex_t mu;
    void *watched; /* the block to keep when freed */
    void *kept;
    size_t kept_bytes;
    void **freed; /* every other block freed, for recycle_end */
    size_t nfreed, cap;
} recycler;

static void *recycle_alloc(void *ctx, size_t bytes) {
    recycler *r = ctx;
    pthread_mutex_lock(&r->mu);
    void *block = NULL;
    if (r->kept && r->kept_bytes == bytes) {
        block = r->kept;
        r->kept = NULL;
    }
    pthread_mutex_unlock(&r->mu);
    return block ? block : malloc(bytes);
}

static void recycle_free(void *ctx, void *block, size_t bytes) {
    recycler *r = ctx;
    pthread_mutex_lock(&r->mu);
    if (block == r->watched) {
        r->kept = block;
        r->kept_bytes = bytes;
        r->watched = NULL;
    } else {
        if (r->nfreed == r->cap) {
            r->cap = r->cap ? 2 * r->cap : 64;
            r->freed = realloc(r->freed, r->cap * sizeof *r->freed);
            ASSERT_TRUE(r->freed != NULL);
        }
        r->freed[r->nfreed++] = block;
    }
    pthread_mutex_unlock(&r->mu);
}

static void recycle_end(recycler *r) {
    for (size_t i = 0; i < r->nfreed; i++)
        free(r->freed[i]);
    free(r->freed);
    free(r->kept);
    pthread_mutex_destroy(&r->mu);
}

typedef struct recycled {
    mmb_heap *heap; /* whichever heap is current: written by the main thread between barriers */
    pthread_barrier_t turn;
} recycled;

/* Uses each heap as handed over (never attached: the only record is taken, and cached). */
static void *use_each_heap(void *p) {
    recycled *x = p;
    for (int round = 0; round < 2; round++) {
        pthread_barrier_wait(&x->turn); /* the heap is ours */
        mmb_obj *a = tagged(x->heap, 1, (uint64_t)round);
        ASSERT_EQ(tag_key(a), (uint64_t)round);
        mmb_decref(x->heap, a);
        pthread_barrier_wait(&x->turn); /* and back */
    }
    return NULL;
}

static mmb_heap *open_recycled(const mmb_manager *m, recycler *r) {
    mmb_heap_config cfg;
    char err[512];
    ASSERT_EQ(mmb_options_parse(m, NULL, 0, &cfg, err, sizeof err), 0);
    cfg.allocator = (mmb_allocator){"recycler", r, recycle_alloc, recycle_free};
    mmb_heap *h = NULL;
    ASSERT_EQ(mmb_heap_create(m, &cfg, &h, err, sizeof err), 0);
    return h;
}

TEST_EACH(threads_heap_at_a_recycled_address_gets_its_own_record,
          "unit.threads_heap_at_a_recycled_address_gets_its_own_record.{manager}", 600,
          "unit threads") {
    const mmb_manager *m = thread_safe_manager();
    recycler r = {.watched = NULL};
    pthread_mutex_init(&r.mu, NULL);
    recycled x = {.heap = open_recycled(m, &r)};
    pthread_barrier_init(&x.turn, NULL, 2);
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, use_each_heap, &x), 0);
    pthread_barrier_wait(&x.turn);
    pthread_barrier_wait(&x.turn); /* the thread has the first heap's record cached */
    mmb_heap *first = x.heap;
    r.watched = first;
    m->destroy(first);
    x.heap = open_recycled(m, &r);
    ASSERT_TRUE(x.heap == first); /* the same address */
    pthread_barrier_wait(&x.turn);
    pthread_barrier_wait(&x.turn); /* the thread used the second heap */
    pthread_join(t, NULL);
    mmb_stats s;
    mmb_stats_get(x.heap, &s);
    ASSERT_EQ(s.objects_allocated, 1); /* counted in the second heap's record */
    ASSERT_EQ(s.objects_freed, 1);
    expect_empty(x.heap);
    m->destroy(x.heap);
    pthread_barrier_destroy(&x.turn);
    recycle_end(&r);
}
