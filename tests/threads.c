/* Thread-safe managers under threads: every manager with MMB_CAP_THREAD_SAFE, four threads at a
 * time, on private churn with cycles, shared objects, handoffs between threads, collections set
 * off while others run, threads attaching and detaching over and over, and a heap handed over
 * without attaching. Payload tags catch an early free; exact final counts catch a lost or extra
 * count; a watchdog turns a deadlock into a failure. Run under ThreadSanitizer by the tsan preset
 * (`ctest --preset tsan -R threads`). */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/wait.h>
#include <unistd.h>

#include "manager.h"
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

#define FOR_EACH_THREAD_SAFE_MANAGER(m)                                                            \
    for (size_t i_ = 0; i_ < mmb_manager_count(); i_++)                                            \
        for (const mmb_manager *m = mmb_manager_at(i_); m; m = NULL)                               \
            if (m->caps & MMB_CAP_THREAD_SAFE)

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

TEST(threads_private_churn_with_cycles) {
    FOR_EACH_THREAD_SAFE_MANAGER(m) {
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

TEST(threads_shared_objects_counts_exact) {
    FOR_EACH_THREAD_SAFE_MANAGER(m) {
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

TEST(threads_handoff_between_threads) {
    FOR_EACH_THREAD_SAFE_MANAGER(m) {
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

TEST(threads_collections_while_others_run) {
    FOR_EACH_THREAD_SAFE_MANAGER(m) {
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

TEST(threads_attach_detach_reuse) {
    FOR_EACH_THREAD_SAFE_MANAGER(m) {
        mmb_heap_config cfg;
        mmb_heap *h = open_heap(m, "threshold=100", &cfg);
        run_workers(h, come_and_go, NULL);
        mmb_stats s;
        mmb_stats_get(h, &s);
        ASSERT_EQ(s.objects_allocated, NTHREADS * ROUNDS * 2);
        expect_empty(h);
        m->destroy(h);
    }
}

/* One thread attached to two heaps at once: each operation finds the right record. */
TEST(threads_one_thread_two_heaps) {
    FOR_EACH_THREAD_SAFE_MANAGER(m) {
        mmb_heap_config cfg_a, cfg_b;
        mmb_heap *a = open_heap(m, "threshold=10", &cfg_a),
                 *b = open_heap(m, "threshold=10", &cfg_b);
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
TEST(threads_handover_without_attach) {
    FOR_EACH_THREAD_SAFE_MANAGER(m) {
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

/* With two threads attached, a third that never attached is refused, with one line saying so. */
TEST(threads_unattached_thread_is_refused) {
    FOR_EACH_THREAD_SAFE_MANAGER(m) {
        fflush(NULL);
        pid_t pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
            mmb_heap_config cfg;
            intruder x = {.heap = open_heap(m, NULL, &cfg)};
            pthread_barrier_init(&x.attached, NULL, 2);
            pthread_barrier_init(&x.done, NULL, 2);
            pthread_t t;
            pthread_create(&t, NULL, stay_attached, &x);
            pthread_barrier_wait(&x.attached);
            pthread_create(&t, NULL, use_unattached, x.heap);
            pthread_join(t, NULL);
            _exit(0); /* not reached */
        }
        int status;
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFSIGNALED(status));
        ASSERT_EQ(WTERMSIG(status), SIGABRT);
    }
}
