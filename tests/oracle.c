/* The oracle on managers and cases the CLI tests do not reach: frozen objects, a plain
 * refcounter that frees children before their parent (correct) or leaves a parent pointing at a
 * freed child (caught), and thread-safe managers used by several threads at once. */
#include "mmbench/manager.h"
#include "map.h"
#include "oracle.h"
#include "test.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <unistd.h>

static mmb_heap *open_verified(const mmb_manager *m) {
    mmb_heap_config cfg;
    mmb_config_defaults(m, &cfg);
    mmb_oracle_options opt = {.fill_payload = true};
    mmb_heap *h = NULL;
    char err[256];
    ASSERT_EQ(mmb_oracle_create(m, &cfg, &opt, &h, err, sizeof err), 0);
    return h;
}

static void close_ok(mmb_heap *h) {
    char msg[600];
    int status = mmb_oracle_close(h, msg, sizeof msg);
    if (status)
        fprintf(stderr, "%s\n", msg);
    ASSERT_EQ(status, 0);
}

/* Garbage frozen by cpython keeps what it points at: not a leak. */
TEST(oracle_frozen_garbage_keeps_its_referents) {
    mmb_heap *h = open_verified(mmb_manager_find("cpython"));
    mmb_obj *a = mmb_alloc(h, 2, 0);
    mmb_store(h, a, 0, a);
    h->manager->freeze(h);
    mmb_obj *b = mmb_alloc(h, 0, 8);
    mmb_store(h, a, 1, b);
    mmb_decref(h, b);
    mmb_decref(h, a);
    mmb_collect(h);
    if (mmb_oracle_failed(h))
        fprintf(stderr, "%s\n", mmb_oracle_failure(h));
    ASSERT_TRUE(!mmb_oracle_failed(h));
    close_ok(h);
}

/* A minimal refcounter whose release frees children first, CPython-deallocator style
 * (recursive: test-only, shallow graphs). With `leak_parent` it forgets to free the parent. */
typedef struct cf_heap {
    mmb_heap base;
    mmb_heap_config cfg;
    mmb_stats stats;
    int leak_parent;
} cf_heap;

typedef struct cf_header {
    uint64_t refcount;
} cf_header;

static mmb_manager childfirst;

static size_t cf_bytes(mmb_obj *o) {
    return sizeof(cf_header) + mmb_obj_bytes(o->nslots, o->payload_bytes);
}

static void cf_release(cf_heap *h, mmb_obj *o, int depth) {
    for (uint32_t i = 0; i < o->nslots; i++) {
        mmb_obj *c = o->slots[i];
        if (c && --((cf_header *)c - 1)->refcount == 0)
            cf_release(h, c, depth + 1);
    }
    if (h->leak_parent && depth == 0)
        return;
    h->stats.live_objects--;
    h->cfg.allocator.free(h->cfg.allocator.ctx, (cf_header *)o - 1, cf_bytes(o));
}

static mmb_obj *cf_alloc(mmb_heap *heap, uint32_t nslots, uint32_t payload) {
    cf_heap *h = (cf_heap *)heap;
    cf_header *r =
        h->cfg.allocator.alloc(h->cfg.allocator.ctx, sizeof *r + mmb_obj_bytes(nslots, payload));
    r->refcount = 1;
    mmb_obj *o = (mmb_obj *)(r + 1);
    o->nslots = nslots;
    o->payload_bytes = payload;
    memset(o->slots, 0, nslots * sizeof(mmb_obj *));
    h->stats.live_objects++;
    return o;
}

static void cf_incref(mmb_heap *heap, mmb_obj *o) {
    (void)heap;
    ((cf_header *)o - 1)->refcount++;
}

static void cf_decref(mmb_heap *heap, mmb_obj *o) {
    if (--((cf_header *)o - 1)->refcount == 0)
        cf_release((cf_heap *)heap, o, 0);
}

static void cf_store(mmb_heap *heap, mmb_obj *o, uint32_t slot, mmb_obj *v) {
    if (v)
        cf_incref(heap, v);
    mmb_obj *old = o->slots[slot];
    o->slots[slot] = v;
    if (old)
        cf_decref(heap, old);
}

static void cf_collect(mmb_heap *heap) {
    (void)heap;
}

static void cf_stats(mmb_heap *heap, mmb_stats *out) {
    *out = ((cf_heap *)heap)->stats;
}

static void cf_destroy(mmb_heap *heap) {
    cf_heap *h = (cf_heap *)heap;
    h->cfg.allocator.free(h->cfg.allocator.ctx, h, sizeof *h);
}

static int leak_parent_flag;

static int cf_create(const mmb_heap_config *cfg, mmb_heap **out, char *err, size_t n) {
    (void)err;
    (void)n;
    cf_heap *h = cfg->allocator.alloc(cfg->allocator.ctx, sizeof *h);
    memset(h, 0, sizeof *h);
    h->base.manager = &childfirst;
    h->cfg = *cfg;
    h->leak_parent = leak_parent_flag;
    *out = &h->base;
    return 0;
}

static mmb_manager childfirst = {
    .name = "childfirst",
    .summary = "test-only",
    .caps = MMB_CAP_REFCOUNT,
    .create = cf_create,
    .destroy = cf_destroy,
    .alloc = cf_alloc,
    .incref = cf_incref,
    .decref = cf_decref,
    .store = cf_store,
    .collect = cf_collect,
    .stats = cf_stats,
};

static void parent_and_child(mmb_heap *h) {
    mmb_obj *a = mmb_alloc(h, 1, 8), *b = mmb_alloc(h, 0, 8);
    mmb_store(h, a, 0, b);
    mmb_decref(h, b);
    mmb_decref(h, a); /* frees b, then (unless leaking) a */
}

TEST(oracle_accepts_child_first_frees) {
    leak_parent_flag = 0;
    mmb_heap *h = open_verified(&childfirst);
    parent_and_child(h);
    if (mmb_oracle_failed(h))
        fprintf(stderr, "%s\n", mmb_oracle_failure(h));
    ASSERT_TRUE(!mmb_oracle_failed(h));
    close_ok(h);
}

TEST(oracle_catches_parent_left_pointing_at_freed_child) {
    leak_parent_flag = 1;
    mmb_heap *h = open_verified(&childfirst);
    parent_and_child(h);
    ASSERT_TRUE(mmb_oracle_failed(h));
    ASSERT_STR_CONTAINS(mmb_oracle_failure(h), "check=safety object=#2 op=5: freed by a manager "
                                               "without cycle collection while object #1");
    char msg[600];
    ASSERT_EQ(mmb_oracle_close(h, msg, sizeof msg), -1);
}

/* ---- threads -------------------------------------------------------------------------------- */

/* A thread-safe manager for tests: a bundled one behind one global mutex, so correct by
 * construction. Attach and detach count their calls. `lk_collect_hook`, when set, runs inside
 * collect, outside the mutex.
 *
 * With `lk_stw`, collect also stops the world as the contract allows: it waits until every other
 * attached thread has entered an operation and holds it there (at lk_enter, the safepoint) until
 * the collection ends. Without it the manager never stops the world, so a test thread may wait on
 * its own barriers while attached; the tests still detach around waits where the contract asks. */
static const mmb_manager *lk_base;
static pthread_mutex_t lk_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_uint lk_attaches, lk_detaches;
static void (*lk_collect_hook)(void);

static bool lk_stw;
static pthread_mutex_t stw_mu = PTHREAD_MUTEX_INITIALIZER; /* guards the stw_ variables */
static pthread_cond_t stw_cv = PTHREAD_COND_INITIALIZER;
static unsigned stw_attached = 1; /* create attaches its caller */
static unsigned stw_parked;       /* attached threads held at the safepoint */
static bool stw_stopping;
static unsigned stw_held_others; /* collections that held at least one other thread */

/* With stw_mu held: waits at the safepoint while a collection stops the world. */
static void stw_park(void) {
    while (stw_stopping) {
        stw_parked++;
        pthread_cond_broadcast(&stw_cv);
        pthread_cond_wait(&stw_cv, &stw_mu);
        stw_parked--;
    }
}

static void lk_enter(void) {
    if (lk_stw) {
        pthread_mutex_lock(&stw_mu);
        stw_park();
        pthread_mutex_unlock(&stw_mu);
    }
    pthread_mutex_lock(&lk_mu);
}

static void lk_leave(void) {
    pthread_mutex_unlock(&lk_mu);
}

static mmb_obj *lk_alloc(mmb_heap *h, uint32_t nslots, uint32_t payload) {
    lk_enter();
    mmb_obj *o = lk_base->alloc(h, nslots, payload);
    lk_leave();
    return o;
}

static void lk_incref(mmb_heap *h, mmb_obj *o) {
    lk_enter();
    lk_base->incref(h, o);
    lk_leave();
}

static void lk_decref(mmb_heap *h, mmb_obj *o) {
    lk_enter();
    lk_base->decref(h, o);
    lk_leave();
}

static void lk_store(mmb_heap *h, mmb_obj *o, uint32_t slot, mmb_obj *v) {
    lk_enter();
    lk_base->store(h, o, slot, v);
    lk_leave();
}

static void lk_collect(mmb_heap *h) {
    if (lk_collect_hook)
        lk_collect_hook();
    if (lk_stw) {
        pthread_mutex_lock(&stw_mu);
        stw_park(); /* another collection first */
        stw_stopping = true;
        while (stw_parked + 1 < stw_attached)
            pthread_cond_wait(&stw_cv, &stw_mu);
        stw_held_others += stw_parked > 0;
        pthread_mutex_unlock(&stw_mu);
    }
    pthread_mutex_lock(&lk_mu);
    lk_base->collect(h);
    pthread_mutex_unlock(&lk_mu);
    if (lk_stw) {
        pthread_mutex_lock(&stw_mu);
        stw_stopping = false;
        pthread_cond_broadcast(&stw_cv);
        pthread_mutex_unlock(&stw_mu);
    }
}

static void lk_collect_young(mmb_heap *h) {
    lk_enter();
    lk_base->collect_young(h);
    lk_leave();
}

static void lk_freeze(mmb_heap *h) {
    lk_enter();
    lk_base->freeze(h);
    lk_leave();
}

static void lk_stats(mmb_heap *h, mmb_stats *out) {
    lk_enter();
    lk_base->stats(h, out);
    lk_leave();
}

static void lk_destroy(mmb_heap *h) {
    lk_enter();
    lk_base->destroy(h);
    lk_leave();
}

/* Attach waits for a collection in progress to end; detach may be what it waits for. */
static void lk_attach(mmb_heap *h) {
    (void)h;
    atomic_fetch_add(&lk_attaches, 1);
    if (lk_stw) {
        pthread_mutex_lock(&stw_mu);
        while (stw_stopping)
            pthread_cond_wait(&stw_cv, &stw_mu);
        stw_attached++;
        pthread_mutex_unlock(&stw_mu);
    }
}

static void lk_detach(mmb_heap *h) {
    (void)h;
    atomic_fetch_add(&lk_detaches, 1);
    if (lk_stw) {
        pthread_mutex_lock(&stw_mu);
        stw_attached--;
        pthread_cond_broadcast(&stw_cv);
        pthread_mutex_unlock(&stw_mu);
    }
}

/* `base` (a bundled manager without a read barrier) behind the mutex, thread-safe. */
static mmb_manager locked(const char *base, const char *name) {
    lk_base = mmb_manager_find(base);
    ASSERT_TRUE(lk_base && !lk_base->load);
    mmb_manager m = *lk_base;
    m.name = name;
    m.summary = "test-only: a bundled manager behind one mutex";
    m.caps |= MMB_CAP_THREAD_SAFE;
    m.destroy = lk_destroy;
    m.alloc = lk_alloc;
    m.incref = lk_incref;
    m.decref = lk_decref;
    m.store = lk_store;
    m.collect = lk_collect;
    m.collect_young = lk_base->collect_young ? lk_collect_young : NULL;
    m.freeze = lk_base->freeze ? lk_freeze : NULL;
    m.stats = lk_stats;
    m.thread_attach = lk_attach;
    m.thread_detach = lk_detach;
    return m;
}

/* Waits on a barrier detached, as the contract asks of a thread about to block. */
static void wait_detached(mmb_heap *h, pthread_barrier_t *b) {
    mmb_thread_detach(h);
    pthread_barrier_wait(b);
    mmb_thread_attach(h);
}

static uint64_t crew_rng(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

#define CREW   4
#define ROUNDS 50
#define CHURN  32 /* rings per round */

typedef struct crew {
    mmb_heap *h;
    pthread_barrier_t round;
    mmb_obj *mailbox[2][CREW]; /* [round parity][receiver]: written before, read after a wait */
} crew;

typedef struct member {
    crew *crew;
    unsigned index;
} member;

/* Each round: private churn (rings of one to three objects, some hung from the member's `home`,
 * some pointing back at it, each replacing the last as garbage), then a parcel pointing at home
 * handed to the next member with a reference taken here and dropped there; the receiver links its
 * home to the sender's, so the homes form a cycle across threads. Some rounds collect while the
 * others run. */
static void *crew_member(void *arg) {
    member *me = arg;
    crew *cw = me->crew;
    mmb_heap *h = cw->h;
    uint64_t rng = me->index + 1;
    mmb_thread_attach(h);
    mmb_obj *home = mmb_alloc(h, 2, 16);
    for (unsigned r = 0; r < ROUNDS; r++) {
        for (int k = 0; k < CHURN; k++) {
            unsigned len = 1 + (unsigned)(crew_rng(&rng) % 3);
            mmb_obj *first = mmb_alloc(h, 2, 16), *last = first;
            for (unsigned j = 1; j < len; j++) {
                mmb_obj *o = mmb_alloc(h, 2, 16);
                mmb_store(h, last, 0, o);
                if (last != first)
                    mmb_decref(h, last);
                last = o;
            }
            mmb_store(h, last, 0, first);
            if (crew_rng(&rng) % 4 == 0)
                mmb_store(h, last, 1, home);
            if (last != first)
                mmb_decref(h, last);
            if (crew_rng(&rng) % 2)
                mmb_store(h, home, 0, first);
            mmb_decref(h, first);
            if (k == CHURN / 2 && r % CREW == me->index)
                mmb_collect(h); /* while the others may be anywhere in theirs */
        }
        mmb_obj *parcel = mmb_alloc(h, 1, 8);
        mmb_store(h, parcel, 0, home);
        mmb_incref(h, parcel); /* the receiver's reference */
        cw->mailbox[r & 1][(me->index + 1) % CREW] = parcel;
        bool drop_first = crew_rng(&rng) % 2; /* who drops the parcel last varies */
        if (drop_first)
            mmb_decref(h, parcel);
        wait_detached(h, &cw->round);
        mmb_obj *got = cw->mailbox[r & 1][me->index];
        mmb_obj *their_home = mmb_load(h, got, 0);
        mmb_incref(h, their_home);
        mmb_decref(h, got);
        mmb_store(h, home, 1, their_home);
        mmb_decref(h, their_home);
        if (!drop_first)
            mmb_decref(h, parcel);
    }
    mmb_decref(h, home);
    mmb_thread_detach(h);
    return NULL;
}

/* Runs the crew on h, the calling thread detached meanwhile as mmb_run_threads does, then
 * collects; the oracle must have found nothing, and attach and detach reached the manager each
 * time. */
static void run_crew(mmb_heap *h) {
    ASSERT_TRUE(h->manager->thread_attach && h->manager->thread_detach);
    unsigned attaches = atomic_load(&lk_attaches), detaches = atomic_load(&lk_detaches);
    crew cw = {.h = h};
    pthread_barrier_init(&cw.round, NULL, CREW);
    member ms[CREW];
    pthread_t threads[CREW];
    mmb_thread_detach(h);
    for (unsigned i = 0; i < CREW; i++) {
        ms[i] = (member){&cw, i};
        ASSERT_EQ(pthread_create(&threads[i], NULL, crew_member, &ms[i]), 0);
    }
    for (unsigned i = 0; i < CREW; i++)
        pthread_join(threads[i], NULL);
    mmb_thread_attach(h);
    pthread_barrier_destroy(&cw.round);
    mmb_collect(h);
    if (mmb_oracle_failed(h))
        fprintf(stderr, "%s\n", mmb_oracle_failure(h));
    ASSERT_TRUE(!mmb_oracle_failed(h));
    ASSERT_EQ(atomic_load(&lk_attaches) - attaches, CREW * (ROUNDS + 1) + 1);
    ASSERT_EQ(atomic_load(&lk_detaches) - detaches, CREW * (ROUNDS + 1) + 1);
}

/* Four threads on a correct thread-safe manager that collects cycles: nothing found, nothing
 * left after the final collection. */
TEST_THREADS(oracle_accepts_a_correct_thread_safe_manager) {
    static mmb_manager m;
    m = locked("cpython", "locked-cpython");
    mmb_heap *h = open_verified(&m);
    run_crew(h);
    mmb_stats st;
    mmb_stats_get(h, &st);
    ASSERT_EQ(st.live_objects, 0);
    close_ok(h);
}

/* On a manager whose collections stop the world: one thread collects again and again while the
 * others, attached, keep entering operations, so each collection holds them at the safepoint.
 * Had the oracle held its lock across a call into the manager, a thread queued on it could never
 * reach that safepoint: a deadlock, which the alarm turns into a failure instead of a hang. */
#define STW_COLLECTIONS 20

static atomic_uint stw_running;
static atomic_bool stw_done;

static void *stw_member(void *arg) {
    member *me = arg;
    mmb_heap *h = me->crew->h;
    mmb_thread_attach(h);
    atomic_fetch_add(&stw_running, 1);
    if (me->index == 0) {
        while (atomic_load(&stw_running) < CREW)
            sched_yield(); /* attached but in no operation: nobody waits for this thread */
        for (int i = 0; i < STW_COLLECTIONS; i++)
            mmb_collect(h);
        atomic_store(&stw_done, true);
    } else {
        mmb_obj *home = mmb_alloc(h, 1, 0);
        while (!atomic_load(&stw_done)) {
            mmb_obj *a = mmb_alloc(h, 2, 8), *b = mmb_alloc(h, 2, 8);
            mmb_store(h, a, 0, b);
            mmb_store(h, b, 0, a);
            mmb_store(h, b, 1, home);
            mmb_store(h, home, 0, a);
            mmb_decref(h, a);
            mmb_decref(h, b);
        }
        mmb_decref(h, home);
    }
    mmb_thread_detach(h);
    return NULL;
}

TEST_THREADS(oracle_does_not_hold_up_a_stop_the_world_collector) {
    static mmb_manager m;
    m = locked("cpython", "stw-cpython");
    lk_stw = true;
    alarm(300);
    mmb_heap *h = open_verified(&m);
    crew cw = {.h = h};
    member ms[CREW];
    pthread_t threads[CREW];
    mmb_thread_detach(h);
    for (unsigned i = 0; i < CREW; i++) {
        ms[i] = (member){&cw, i};
        ASSERT_EQ(pthread_create(&threads[i], NULL, stw_member, &ms[i]), 0);
    }
    for (unsigned i = 0; i < CREW; i++)
        pthread_join(threads[i], NULL);
    mmb_thread_attach(h);
    ASSERT_EQ(stw_held_others, STW_COLLECTIONS);
    mmb_collect(h);
    if (mmb_oracle_failed(h))
        fprintf(stderr, "%s\n", mmb_oracle_failure(h));
    ASSERT_TRUE(!mmb_oracle_failed(h));
    close_ok(h);
}

/* atomic-rc: a refcounter with atomic counts and no lock around operations, so the oracle's
 * allocator hooks run on several threads at once. It frees children before their parent (the
 * oracle settles that per thread) and leaks cycles (it claims no cycle collection). Recursive:
 * test-only, shallow graphs. */
typedef struct arc_header {
    _Atomic uint64_t refcount;
    struct arc_header *prev, *next; /* every object, for destroy; under arc_heap.mu */
} arc_header;

typedef struct arc_heap {
    mmb_heap base;
    mmb_heap_config cfg;
    pthread_mutex_t mu;
    arc_header all;
    atomic_uint_fast64_t allocated, freed;
} arc_heap;

static mmb_manager atomic_rc;

static size_t arc_bytes(mmb_obj *o) {
    return sizeof(arc_header) + mmb_obj_bytes(o->nslots, o->payload_bytes);
}

static arc_header *arc_of(mmb_obj *o) {
    return (arc_header *)o - 1;
}

static int arc_create(const mmb_heap_config *cfg, mmb_heap **out, char *err, size_t n) {
    (void)err;
    (void)n;
    arc_heap *h = cfg->allocator.alloc(cfg->allocator.ctx, sizeof *h);
    memset(h, 0, sizeof *h);
    h->base.manager = &atomic_rc;
    h->cfg = *cfg;
    pthread_mutex_init(&h->mu, NULL);
    h->all.prev = h->all.next = &h->all;
    *out = &h->base;
    return 0;
}

static mmb_obj *arc_alloc(mmb_heap *heap, uint32_t nslots, uint32_t payload) {
    arc_heap *h = (arc_heap *)heap;
    arc_header *r =
        h->cfg.allocator.alloc(h->cfg.allocator.ctx, sizeof *r + mmb_obj_bytes(nslots, payload));
    atomic_init(&r->refcount, 1);
    mmb_obj *o = (mmb_obj *)(r + 1);
    o->nslots = nslots;
    o->payload_bytes = payload;
    memset(o->slots, 0, nslots * sizeof(mmb_obj *));
    pthread_mutex_lock(&h->mu);
    r->next = h->all.next;
    r->prev = &h->all;
    h->all.next->prev = r;
    h->all.next = r;
    pthread_mutex_unlock(&h->mu);
    atomic_fetch_add(&h->allocated, 1);
    return o;
}

static void arc_free(arc_heap *h, mmb_obj *o) {
    arc_header *r = arc_of(o);
    pthread_mutex_lock(&h->mu);
    r->prev->next = r->next;
    r->next->prev = r->prev;
    pthread_mutex_unlock(&h->mu);
    atomic_fetch_add(&h->freed, 1);
    h->cfg.allocator.free(h->cfg.allocator.ctx, r, arc_bytes(o));
}

static void arc_decref(mmb_heap *heap, mmb_obj *o) {
    if (atomic_fetch_sub_explicit(&arc_of(o)->refcount, 1, memory_order_acq_rel) != 1)
        return;
    for (uint32_t i = 0; i < o->nslots; i++)
        if (o->slots[i])
            arc_decref(heap, o->slots[i]);
    arc_free((arc_heap *)heap, o);
}

static void arc_incref(mmb_heap *heap, mmb_obj *o) {
    (void)heap;
    atomic_fetch_add_explicit(&arc_of(o)->refcount, 1, memory_order_relaxed);
}

static void arc_store(mmb_heap *heap, mmb_obj *o, uint32_t slot, mmb_obj *v) {
    if (v)
        arc_incref(heap, v);
    mmb_obj *old = o->slots[slot];
    o->slots[slot] = v;
    if (old)
        arc_decref(heap, old);
}

static void arc_collect(mmb_heap *heap) {
    (void)heap;
}

static void arc_stats(mmb_heap *heap, mmb_stats *out) {
    arc_heap *h = (arc_heap *)heap;
    memset(out, 0, sizeof *out);
    out->objects_allocated = atomic_load(&h->allocated);
    out->objects_freed = atomic_load(&h->freed);
    out->live_objects = out->objects_allocated - out->objects_freed;
}

static void arc_destroy(mmb_heap *heap) {
    arc_heap *h = (arc_heap *)heap;
    while (h->all.next != &h->all)
        arc_free(h, (mmb_obj *)(h->all.next + 1));
    pthread_mutex_destroy(&h->mu);
    h->cfg.allocator.free(h->cfg.allocator.ctx, h, sizeof *h);
}

static mmb_manager atomic_rc = {
    .name = "atomic-rc",
    .summary = "test-only: atomic reference counts, no cycle collection",
    .caps = MMB_CAP_REFCOUNT | MMB_CAP_THREAD_SAFE,
    .create = arc_create,
    .destroy = arc_destroy,
    .alloc = arc_alloc,
    .incref = arc_incref,
    .decref = arc_decref,
    .store = arc_store,
    .collect = arc_collect,
    .stats = arc_stats,
    .thread_attach = lk_attach,
    .thread_detach = lk_detach,
};

TEST_THREADS(oracle_accepts_an_atomic_refcounter_on_threads) {
    mmb_heap *h = open_verified(&atomic_rc);
    run_crew(h);
    close_ok(h);
}

/* A manager without threads gets no attach or detach through the oracle either. */
TEST_THREADS(oracle_keeps_single_threaded_managers_without_attach) {
    mmb_heap *h = open_verified(mmb_manager_find("cpython"));
    ASSERT_TRUE(!h->manager->thread_attach && !h->manager->thread_detach);
    close_ok(h);
}

/* broken-thread-counts: rc behind the mutex, but, like a biased refcounter that forgets its shared
 * counter, it drops increments made by any thread but the object's allocating one. An object its
 * allocator releases while another thread holds a reference is freed early. */
static mmb_map btc_owner; /* object -> allocating thread's id; under lk_mu */
static atomic_uint btc_next_id;
static _Thread_local uint64_t btc_id;

static uint64_t btc_thread_id(void) {
    if (!btc_id)
        btc_id = atomic_fetch_add(&btc_next_id, 1) + 1;
    return btc_id;
}

static mmb_obj *btc_alloc(mmb_heap *h, uint32_t nslots, uint32_t payload) {
    lk_enter();
    mmb_obj *o = lk_base->alloc(h, nslots, payload);
    if (o)
        mmb_map_put(&btc_owner, (uint64_t)(uintptr_t)o, btc_thread_id());
    lk_leave();
    return o;
}

static void btc_incref(mmb_heap *h, mmb_obj *o) {
    lk_enter();
    uint64_t owner = 0;
    mmb_map_get(&btc_owner, (uint64_t)(uintptr_t)o, &owner);
    if (owner == btc_thread_id())
        lk_base->incref(h, o);
    lk_leave();
}

static pthread_barrier_t btc_handed, btc_released;

typedef struct btc_args {
    mmb_heap *h;
    mmb_obj *x;
} btc_args;

/* The other thread: takes a reference to x, then, once the allocating thread has released its
 * own, drops it (unless the oracle has already stopped the run). */
static void *btc_other_thread(void *arg) {
    btc_args *a = arg;
    mmb_thread_attach(a->h);
    mmb_incref(a->h, a->x); /* op 2: dropped by the broken manager */
    wait_detached(a->h, &btc_handed);
    wait_detached(a->h, &btc_released);
    if (!mmb_oracle_failed(a->h))
        mmb_decref(a->h, a->x);
    mmb_thread_detach(a->h);
    return NULL;
}

/* Sequenced by barriers, not by luck: alloc (op 1) here, incref (op 2) there, decref (op 3) here
 * frees the object the other thread still holds. */
TEST_THREADS(oracle_catches_an_increment_lost_on_another_thread) {
    static mmb_manager m;
    m = locked("rc", "broken-thread-counts");
    m.alloc = btc_alloc;
    m.incref = btc_incref;
    mmb_map_init(&btc_owner);
    pthread_barrier_init(&btc_handed, NULL, 2);
    pthread_barrier_init(&btc_released, NULL, 2);
    mmb_heap *h = open_verified(&m);
    btc_args a = {h, mmb_alloc(h, 1, 8)}; /* op 1 */
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, btc_other_thread, &a), 0);
    wait_detached(h, &btc_handed);
    ASSERT_TRUE(!mmb_oracle_failed(h));
    mmb_decref(h, a.x); /* op 3: the manager's count reaches zero, the other thread's is lost */
    ASSERT_TRUE(mmb_oracle_failed(h));
    ASSERT_STR_CONTAINS(mmb_oracle_failure(h),
                        "manager=broken-thread-counts check=safety object=#1 op=3: freed while "
                        "the mutator holds 1 reference to it");
    ASSERT_EQ(mmb_oracle_failure_op(h), 3);
    wait_detached(h, &btc_released);
    mmb_thread_detach(h);
    pthread_join(t, NULL);
    mmb_thread_attach(h);
    char msg[600];
    ASSERT_EQ(mmb_oracle_close(h, msg, sizeof msg), -1);
    ASSERT_STR_CONTAINS(msg, "check=safety object=#1 op=3");
    mmb_map_free(&btc_owner);
}

/* Completeness is checked only after a collection during which the caller was the one attached
 * thread: garbage that other threads' operations in flight make is not yet the collection's. A
 * leaky manager (rc claiming cycle collection) shows it: not caught while a second thread is
 * attached, nor when one attaches and detaches during the collection, caught once quiet. */
static pthread_barrier_t quiet_attached, quiet_collected;
static atomic_int quiet_in_collect;
static atomic_uint quiet_detach_target;

static void *quiet_stay_attached(void *arg) {
    mmb_heap *h = arg;
    mmb_thread_attach(h);
    pthread_barrier_wait(&quiet_attached); /* attached on purpose: the collection must see it */
    pthread_barrier_wait(&quiet_collected);
    mmb_thread_detach(h);
    return NULL;
}

/* Runs inside the collection: lets quiet_come_and_go in and out. */
static void quiet_hook(void) {
    atomic_store(&quiet_in_collect, 1);
    while (atomic_load(&lk_detaches) < atomic_load(&quiet_detach_target))
        sched_yield();
}

static void *quiet_come_and_go(void *arg) {
    mmb_heap *h = arg;
    while (!atomic_load(&quiet_in_collect))
        sched_yield();
    mmb_thread_attach(h);
    mmb_thread_detach(h);
    return NULL;
}

static void join_detached(mmb_heap *h, pthread_t t) {
    mmb_thread_detach(h);
    pthread_join(t, NULL);
    mmb_thread_attach(h);
}

TEST_THREADS(oracle_checks_completeness_only_when_quiet) {
    static mmb_manager m;
    m = locked("rc", "locked-leak");
    m.caps |= MMB_CAP_CYCLES;
    mmb_heap *h = open_verified(&m);
    mmb_obj *a = mmb_alloc(h, 1, 0);
    mmb_store(h, a, 0, a);
    mmb_decref(h, a); /* op 3: a garbage cycle the manager will never free */

    pthread_barrier_init(&quiet_attached, NULL, 2);
    pthread_barrier_init(&quiet_collected, NULL, 2);
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, quiet_stay_attached, h), 0);
    wait_detached(h, &quiet_attached);
    mmb_collect(h); /* op 4: another thread attached */
    ASSERT_TRUE(!mmb_oracle_failed(h));
    wait_detached(h, &quiet_collected);
    join_detached(h, t);

    atomic_store(&quiet_detach_target, atomic_load(&lk_detaches) + 1);
    lk_collect_hook = quiet_hook;
    ASSERT_EQ(pthread_create(&t, NULL, quiet_come_and_go, h), 0);
    mmb_collect(h); /* op 5: another thread came and went */
    lk_collect_hook = NULL;
    ASSERT_TRUE(!mmb_oracle_failed(h));
    join_detached(h, t);

    mmb_collect(h); /* op 6: quiet */
    ASSERT_TRUE(mmb_oracle_failed(h));
    ASSERT_STR_CONTAINS(mmb_oracle_failure(h), "manager=locked-leak check=completeness object=#1 "
                                               "op=6: unreachable, yet it survived");
    char msg[600];
    ASSERT_EQ(mmb_oracle_close(h, msg, sizeof msg), -1);
}
