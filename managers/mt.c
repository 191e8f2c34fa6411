/* The shared machinery of the thread-safe managers (mt.h): records, attach and detach, stopping
 * the world, remote frees and the stop-the-world cycle collector. Design: managers/README.md. */
#include <assert.h>
#include <stdarg.h>
#include <stdlib.h>

#include "mt.h"

_Thread_local mmbi_mt_current mmbi_mt_tls;

/* The calling thread's records, one per heap it is attached to (mt.h, "thread records"). */
static _Thread_local mmbi_mt_record *mine;

/* Heap generations handed out so far: the next heap takes the next one. */
static atomic_uint_fast64_t generations;

#define GC_COLLECTING ((uintptr_t)1)
#define GC_REACHABLE  ((uintptr_t)2)
#define GC_REFS_SHIFT 2
#define GC_REFS_ONE   ((uintptr_t)1 << GC_REFS_SHIFT)

static void lock(mmbi_mt_heap *h) {
    pthread_mutex_lock(&h->mu);
}
static void unlock(mmbi_mt_heap *h) {
    pthread_mutex_unlock(&h->mu);
}

/* ---- misuse ---------------------------------------------------------------------------------- */

/* A broken thread rule (manager.h, "Threads"): the one line, then the end. The program has no way
 * to go on: what follows would be a use after free or a collection waiting for ever. One fprintf,
 * so the line reaches stderr in one piece. */
__attribute__((format(printf, 3, 4))) static _Noreturn void
misuse(const mmbi_mt_heap *h, const char *hint, const char *what, ...) {
    char text[256];
    va_list ap;
    va_start(ap, what);
    vsnprintf(text, sizeof text, what, ap);
    va_end(ap);
    fprintf(stderr, "mmbench: error: %s: %s (hint: %s)\n", h->base.manager->name, text, hint);
    abort();
}

/* ---- the calling thread's records ------------------------------------------------------------ */

static mmbi_mt_record *find_mine(const mmbi_mt_heap *h) {
    for (mmbi_mt_record *r = mine; r; r = r->next_mine)
        if (r->heap == h)
            return r;
    return NULL;
}

static void forget_mine(mmbi_mt_record *r) {
    for (mmbi_mt_record **p = &mine; *p; p = &(*p)->next_mine)
        if (*p == r) {
            *p = r->next_mine;
            r->next_mine = NULL;
            return;
        }
}

/* A thread that ends attached would hold its records for ever: every collection would wait for
 * it to park, and detach could never give its objects to another thread. So that is misuse too,
 * caught here, as the thread ends (a pthread key's destructor runs at pthread_exit or the return
 * from the thread's function; exit() runs none, so a process may end with threads attached). */
static pthread_key_t exit_key;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;
static _Thread_local bool exit_watched;

static void on_thread_exit(void *value) {
    (void)value;
    if (mine)
        misuse(mine->heap, "call mmb_thread_detach before the thread returns",
               "a thread ended while still attached to a heap");
}

static void make_exit_key(void) {
    if (pthread_key_create(&exit_key, on_thread_exit) != 0) {
        fprintf(stderr, "mmbench: error: threads: cannot watch thread exits (pthread_key_create "
                        "failed) (hint: the process has used up its thread-specific keys)\n");
        abort();
    }
}

static void watch_exit(void) {
    if (exit_watched)
        return;
    pthread_once(&exit_key_once, make_exit_key);
    pthread_setspecific(exit_key, &exit_watched); /* any non-null value: the destructor runs */
    exit_watched = true;
}

/* ---- records --------------------------------------------------------------------------------- */

/* Mutex held. The per-thread budget of net tracked allocations (allocations less frees, as
 * CPython counts: refcounting's own churn never sets off a collection): max(threshold, a quarter
 * of the last collection's survivors), shared among the attached threads. A thread collects when
 * its own count exceeds its share, so between two collections the threads allocated at least
 * about a quarter of what each examines, divided by the number of threads: amortised linear. */
static void set_budget(mmbi_mt_heap *h) {
    int64_t per = INT64_MAX;
    if (h->threshold > 0) {
        uint64_t base =
            h->survivors / 4 > (uint64_t)h->threshold ? h->survivors / 4 : (uint64_t)h->threshold;
        per = (int64_t)(base / (h->attached ? h->attached : 1));
        if (per < 1)
            per = 1;
    }
    atomic_store_explicit(&h->budget, per, memory_order_relaxed);
}

/* Mutex held, world not stopped: a free record from the pool, or a new one. */
static mmbi_mt_record *take_record(mmbi_mt_heap *h) {
    for (uint32_t i = 0; i < h->nrecords; i++)
        if (!h->records[i]->in_use)
            return h->records[i];
    if (h->nrecords == MMBI_MT_MAX_RECORDS)
        misuse(h, "raise MMBI_MT_MAX_RECORDS in managers/mt.h",
               "more than %d threads attached at once", MMBI_MT_MAX_RECORDS);
    mmbi_mt_record *r = mmb_alloc_or_die(&h->cfg.allocator, sizeof *r);
    memset(r, 0, sizeof *r);
    mmb_list_init(&r->tracked);
    mmb_list_init(&r->untracked);
    mmb_stack_init(&r->work, &h->cfg.allocator);
    r->index = h->nrecords;
    atomic_init(&r->remote.head, NULL);
    atomic_init(&r->merge.head, NULL);
    h->records[h->nrecords++] = r;
    return r;
}

/* Mutex held, the calling thread not attached to h: gives it a record. */
static void attach_locked(mmbi_mt_heap *h) {
    while (atomic_load_explicit(&h->stop, memory_order_relaxed))
        pthread_cond_wait(&h->resume_cv, &h->mu);
    mmbi_mt_record *r = take_record(h);
    r->in_use = true;
    r->heap = h;
    r->next_mine = mine;
    mine = r;
    h->attached++;
    set_budget(h);
    mmbi_mt_tls = (mmbi_mt_current){h->generation, r};
}

/* The calling thread's own record of h; failing that, a thread that never attached gets the
 * record of the only attached thread: the heap was handed over as a single-threaded heap is (with
 * the happens-before of a thread start or join), e.g. by a wrapper that does not pass attach and
 * detach on. The record stays its attached thread's (on that thread's list).
 *
 * At the start of an operation, after the safepoint. The mutex also orders after the thread's
 * return whatever a collection of h did while the thread counted as parked on h from another heap
 * (park_elsewhere): the safepoint's relaxed load of `stop` cannot, and unpark_elsewhere empties
 * the cache so that the next operation on h comes here. A collection still under way parks the
 * thread here. */
mmbi_mt_record *mmbi_mt_self_slow(mmbi_mt_heap *h) {
    mmbi_mt_record *found = find_mine(h);
    bool own = found != NULL;
    lock(h);
    bool stopped = atomic_load_explicit(&h->stop, memory_order_relaxed);
    for (uint32_t i = 0; i < h->nrecords && h->attached == 1 && !found; i++)
        if (h->records[i]->in_use)
            found = h->records[i];
    unlock(h);
    if (!found)
        misuse(h, "mmb_thread_attach first", "a thread used a heap it is not attached to");
    if (stopped && own)
        mmbi_mt_park(h);
    mmbi_mt_tls = (mmbi_mt_current){h->generation, found};
    return found;
}

/* ---- stopping the world ---------------------------------------------------------------------- */

/* Mutex held, caller attached: waits out every collection under way. Parked, the thread counts in
 * `parked`; it re-checks `stop` after each collection ends without running anything in between,
 * so a collector that saw it parked was right even if the next collection starts at once. */
static void wait_while_stopped(mmbi_mt_heap *h) {
    while (atomic_load_explicit(&h->stop, memory_order_relaxed)) {
        h->parked++;
        pthread_cond_broadcast(&h->parked_cv);
        uint64_t epoch = h->epoch;
        while (h->epoch == epoch)
            pthread_cond_wait(&h->resume_cv, &h->mu);
        h->parked--;
    }
}

/* r, or the first record after it on the calling thread's list that is not h's: with
 * elsewhere(mine, h) first, its records on every other heap in turn. */
static mmbi_mt_record *elsewhere(mmbi_mt_record *r, const mmbi_mt_heap *h) {
    while (r && r->heap == h)
        r = r->next_mine;
    return r;
}

/* The calling thread is about to wait on h's mutex (to park, to stop h's world and collect, or to
 * attach). Meanwhile it is in no operation on any other heap it is attached to, so it counts as
 * parked there: collectors of those heaps need not wait for it. Otherwise two threads attached to
 * two heaps, each stopping one heap's world, would each wait for the other to park, for ever.
 * Coming back (unpark_elsewhere) it leaves those counts, and goes on with its operation on h,
 * which touches no other heap (the mutator meanwhile only reads slots, which a collector does
 * not write). A collection of another heap x may still be under way, writing this thread's record
 * there, and end with a `stop` cleared that the safepoint's relaxed load does not synchronize
 * with: so the thread empties its record cache if it holds x's, and its next operation on x finds
 * its record through mmbi_mt_self_slow, under x's mutex, parking there if x is still stopped. One
 * mutex at a time, never nested. A thread on one heap skips it all. */
static void park_elsewhere(const mmbi_mt_heap *h) {
    for (mmbi_mt_record *r = elsewhere(mine, h); r; r = elsewhere(r->next_mine, h)) {
        mmbi_mt_heap *x = r->heap;
        lock(x);
        x->parked++;
        pthread_cond_broadcast(&x->parked_cv);
        unlock(x);
    }
}

static void unpark_elsewhere(const mmbi_mt_heap *h) {
    for (mmbi_mt_record *r = elsewhere(mine, h); r; r = elsewhere(r->next_mine, h)) {
        mmbi_mt_heap *x = r->heap;
        lock(x);
        x->parked--;
        if (atomic_load_explicit(&x->stop, memory_order_relaxed) &&
            mmbi_mt_tls.generation == x->generation)
            mmbi_mt_tls = (mmbi_mt_current){0, NULL};
        unlock(x);
    }
}

void mmbi_mt_park(mmbi_mt_heap *h) {
    park_elsewhere(h);
    lock(h);
    wait_while_stopped(h);
    unlock(h);
    unpark_elsewhere(h);
}

/* Stops the world for `self`: every other attached thread waits at its next safepoint. When
 * another thread is collecting, waits that collection out first; then, unless `forced`, collects
 * only if self's trigger still holds (the other collection reset it). Returns whether the world
 * is stopped. The mutex orders everything the parked threads did before everything the collector
 * does, and the collector's work before everything they do after resume_world. */
static bool stop_world(mmbi_mt_heap *h, mmbi_mt_record *self, bool forced) {
    lock(h);
    if (atomic_load_explicit(&h->stop, memory_order_relaxed)) {
        wait_while_stopped(h);
        if (!forced &&
            self->net_tracked <= atomic_load_explicit(&h->budget, memory_order_relaxed)) {
            unlock(h);
            return false;
        }
    }
    atomic_store_explicit(&h->stop, 1, memory_order_relaxed);
    while (h->parked + 1 < h->attached)
        pthread_cond_wait(&h->parked_cv, &h->mu);
    unlock(h);
    self->stopped = true;
    return true;
}

static void resume_world(mmbi_mt_heap *h, mmbi_mt_record *self) {
    self->stopped = false;
    lock(h);
    atomic_store_explicit(&h->stop, 0, memory_order_relaxed);
    h->epoch++;
    pthread_cond_broadcast(&h->resume_cv);
    unlock(h);
}

/* ---- remote frees and queues ----------------------------------------------------------------- */

/* By r's thread, or by a collector: unlinks the dead objects other threads pushed on r's
 * remote-free stack and returns their blocks (their frees were counted when they died). */
static void drain_remote(mmbi_mt_heap *h, mmbi_mt_record *r) {
    mmbi_mt_header *m = mmbi_mt_take_all(&r->remote);
    while (m) {
        mmbi_mt_header *next = (mmbi_mt_header *)m->gc;
        mmb_list_remove(&m->link);
        h->cfg.allocator.free(h->cfg.allocator.ctx, m,
                              mmb_block_bytes(h->header_bytes, mmbi_mt_obj(h, m)));
        m = next;
    }
}

/* World stopped: empties every record's stacks. Settling may free objects whose children go on
 * other records' queues, so it repeats until a pass finds every queue empty. After: every count
 * is exact (cls->refs holds) and no live object's gc word is in use. */
static void flush_all(mmbi_mt_heap *h, mmbi_mt_record *self) {
    for (uint32_t i = 0; i < h->nrecords; i++)
        drain_remote(h, h->records[i]);
    if (!h->cls->settle)
        return;
    for (bool busy = true; busy;) {
        busy = false;
        for (uint32_t i = 0; i < h->nrecords; i++) {
            mmbi_mt_record *r = h->records[i];
            if (!mmbi_mt_stack_empty(&r->merge)) {
                h->cls->settle(h, self, r);
                busy = true;
            }
        }
    }
}

/* ---- the collector: CPython's trial deletion over every record's tracked list -------------------
 *
 * The world is stopped and flush_all has run, so every count is exact and every gc word is free.
 * Objects without slots are never examined: they can be on no cycle, and act as external. */

/* After: every tracked object is COLLECTING with gc_refs == its references. Returns how many. */
static uint64_t update_refs(mmbi_mt_heap *h) {
    uint64_t n = 0;
    for (uint32_t i = 0; i < h->nrecords; i++) {
        mmb_link *head = &h->records[i]->tracked;
        for (mmb_link *l = head->next; l != head; l = l->next) {
            mmbi_mt_header *m = (mmbi_mt_header *)l;
            uint64_t refs = h->cls->refs(mmbi_mt_obj(h, m));
            assert(refs > 0 && m->gc == 0); /* live, on no stack */
            m->gc = (uintptr_t)refs << GC_REFS_SHIFT | GC_COLLECTING;
            n++;
        }
    }
    return n;
}

/* After: each tracked object's gc_refs counts only the references from outside the object graph
 * (objects without slots hold none, so these are the mutator's). gc_refs > 0 marks a root. */
static void subtract_refs(mmbi_mt_heap *h, mmbi_mt_record *self) {
    uint64_t traversed = 0;
    for (uint32_t i = 0; i < h->nrecords; i++) {
        mmb_link *head = &h->records[i]->tracked;
        for (mmb_link *l = head->next; l != head; l = l->next) {
            mmb_obj *o = mmbi_mt_obj(h, (mmbi_mt_header *)l);
            traversed++;
            for (uint32_t k = 0; k < o->nslots; k++) {
                if (!o->slots[k])
                    continue;
                mmbi_mt_header *c = mmbi_mt_hdr(h, o->slots[k]);
                if (c->gc & GC_COLLECTING) {
                    assert(c->gc >= GC_REFS_ONE);
                    c->gc -= GC_REFS_ONE;
                }
            }
        }
    }
    mmbi_mt_count(&self->stats.traversed, traversed);
}

/* After: exactly the tracked objects reachable from a root are REACHABLE. Iterative: the marks
 * stack holds objects marked whose slots are not yet scanned. */
static void mark_reachable(mmbi_mt_heap *h, mmbi_mt_record *self) {
    uint64_t traversed = 0;
    for (uint32_t i = 0; i < h->nrecords; i++) {
        mmb_link *head = &h->records[i]->tracked;
        for (mmb_link *l = head->next; l != head; l = l->next) {
            mmbi_mt_header *m = (mmbi_mt_header *)l;
            if ((m->gc & GC_REACHABLE) || m->gc < GC_REFS_ONE)
                continue;
            m->gc |= GC_REACHABLE;
            mmb_stack_push(&h->marks, mmbi_mt_obj(h, m));
            while (!mmb_stack_empty(&h->marks)) {
                mmb_obj *p = mmb_stack_pop(&h->marks);
                traversed++;
                for (uint32_t k = 0; k < p->nslots; k++) {
                    if (!p->slots[k])
                        continue;
                    mmbi_mt_header *c = mmbi_mt_hdr(h, p->slots[k]);
                    if ((c->gc & (GC_COLLECTING | GC_REACHABLE)) == GC_COLLECTING) {
                        c->gc |= GC_REACHABLE;
                        mmb_stack_push(&h->marks, p->slots[k]);
                    }
                }
            }
        }
    }
    mmbi_mt_count(&self->stats.traversed, traversed);
}

/* After: survivors are back to gc 0 on their lists; the garbage (COLLECTING, not REACHABLE) is
 * on `garbage`. Returns the number of survivors. */
static uint64_t sweep(mmbi_mt_heap *h, mmb_link *garbage) {
    uint64_t survivors = 0;
    for (uint32_t i = 0; i < h->nrecords; i++) {
        mmb_link *head = &h->records[i]->tracked;
        for (mmb_link *l = head->next, *next; l != head; l = next) {
            next = l->next;
            mmbi_mt_header *m = (mmbi_mt_header *)l;
            if (m->gc & GC_REACHABLE) {
                m->gc = 0;
                survivors++;
            } else {
                mmb_list_remove(l);
                mmb_list_append(garbage, l);
            }
        }
    }
    return survivors;
}

/* Every reference to a garbage object comes from another garbage object, so the set dies
 * together: first each garbage object drops its references to objects outside the set (which
 * frees only objects without slots that the garbage alone held: a tracked survivor is reachable
 * from a root, so keeps a reference from outside the garbage), reading the flags of garbage
 * children that are all still allocated; then every garbage block is freed. After: `garbage` is
 * empty. */
static void delete_garbage(mmbi_mt_heap *h, mmbi_mt_record *self, mmb_link *garbage) {
    uint64_t traversed = 0;
    for (mmb_link *l = garbage->next; l != garbage; l = l->next) {
        mmb_obj *o = mmbi_mt_obj(h, (mmbi_mt_header *)l);
        traversed++;
        for (uint32_t k = 0; k < o->nslots; k++) {
            mmb_obj *child = o->slots[k];
            if (child && !(mmbi_mt_hdr(h, child)->gc & GC_COLLECTING))
                h->cls->drop(h, self, child);
        }
    }
    mmbi_mt_count(&self->stats.traversed, traversed);
    while (!mmb_list_empty(garbage))
        mmbi_mt_free(h, self, self, mmbi_mt_obj(h, (mmbi_mt_header *)garbage->next));
}

/* World stopped by self. */
static void collect_stopped(mmbi_mt_heap *h, mmbi_mt_record *self) {
    uint64_t start_ns = mmb_collect_begin(&h->cfg);
    flush_all(h, self);
    self->gc_frees = true;
    uint64_t freed_before = atomic_load_explicit(&self->stats.freed, memory_order_relaxed);
    uint64_t examined = update_refs(h);
    subtract_refs(h, self);
    mark_reachable(h, self);
    mmb_link garbage;
    mmb_list_init(&garbage);
    uint64_t survivors = sweep(h, &garbage);
    delete_garbage(h, self, &garbage);
    self->gc_frees = false;
    uint64_t freed = atomic_load_explicit(&self->stats.freed, memory_order_relaxed) - freed_before;
    assert(freed >= examined - survivors);
    (void)examined; /* read only by the assertion */
    for (uint32_t i = 0; i < h->nrecords; i++)
        h->records[i]->net_tracked = 0;
    h->survivors = survivors;
    lock(h);
    set_budget(h);
    unlock(h);
    mmbi_mt_count(&self->stats.collections, 1);
    mmb_collect_end(&h->cfg, MMB_EVENT_FULL, -1, start_ns, survivors + freed, freed);
}

static void collect(mmbi_mt_heap *h, mmbi_mt_record *self, bool forced) {
    park_elsewhere(h);
    if (stop_world(h, self, forced)) {
        collect_stopped(h, self);
        resume_world(h, self);
    }
    unpark_elsewhere(h);
}

/* ---- operations ------------------------------------------------------------------------------ */

mmb_obj *mmbi_mt_alloc(mmbi_mt_heap *h, uint32_t nslots, uint32_t payload_bytes,
                       mmbi_mt_record **self_out) {
    mmbi_mt_record *self = mmbi_mt_enter(h);
    *self_out = self;
    if (!mmbi_mt_stack_empty(&self->remote))
        drain_remote(h, self);
    if (h->cls->settle && !mmbi_mt_stack_empty(&self->merge))
        h->cls->settle(h, self, self);
    /* As CPython: count, and maybe collect, before the new object is linked; the collection
     * cannot see it, so it survives. */
    if (nslots && ++self->net_tracked > atomic_load_explicit(&h->budget, memory_order_relaxed))
        collect(h, self, false);
    size_t bytes = h->header_bytes + mmb_obj_bytes(nslots, payload_bytes);
    mmbi_mt_header *m = h->cfg.allocator.alloc(h->cfg.allocator.ctx, bytes);
    if (!m)
        return NULL;
    m->gc = 0;
    mmb_list_append(nslots ? &self->tracked : &self->untracked, &m->link);
    mmbi_mt_count(&self->stats.allocated, 1);
    mmbi_mt_count(&self->stats.bytes_allocated, bytes);
    mmb_obj *o = mmbi_mt_obj(h, m);
    o->nslots = nslots;
    o->payload_bytes = payload_bytes;
    memset(o->slots, 0, nslots * sizeof(mmb_obj *));
    return o;
}

void mmbi_mt_collect(mmb_heap *heap) {
    mmbi_mt_heap *h = (mmbi_mt_heap *)heap;
    collect(h, mmbi_mt_enter(h), true);
}

void mmbi_mt_stats(mmb_heap *heap, mmb_stats *out) {
    mmbi_mt_heap *h = (mmbi_mt_heap *)heap;
    memset(out, 0, sizeof *out);
    uint64_t bytes_allocated = 0, bytes_freed = 0;
    lock(h);
    for (uint32_t i = 0; i < h->nrecords; i++) {
        mmbi_mt_counters *s = &h->records[i]->stats;
#define SUM(field) atomic_load_explicit(&s->field, memory_order_relaxed)
        out->objects_allocated += SUM(allocated);
        out->objects_freed += SUM(freed);
        out->objects_freed_by_rc += SUM(freed_by_rc);
        out->objects_freed_by_gc += SUM(freed_by_gc);
        bytes_allocated += SUM(bytes_allocated);
        bytes_freed += SUM(bytes_freed);
        out->collections_full += SUM(collections);
        out->cascades_reported += SUM(cascades_reported);
        out->increments += SUM(increments);
        out->decrements += SUM(decrements);
        out->objects_traversed += SUM(traversed);
#undef SUM
    }
    unlock(h);
    out->live_objects = out->objects_allocated - out->objects_freed;
    out->live_bytes = bytes_allocated - bytes_freed;
    out->header_bytes = h->header_bytes;
}

/* A second record for a thread already attached (or using the heap as handed over) would never
 * park while the thread waits in the other: every collection would wait for it. */
void mmbi_mt_thread_attach(mmb_heap *heap) {
    mmbi_mt_heap *h = (mmbi_mt_heap *)heap;
    if (find_mine(h))
        misuse(h, "attach once; create attaches the creating thread",
               "a thread attached to a heap it is already attached to");
    if (mmbi_mt_tls.generation == h->generation)
        misuse(h, "attach before the thread's first operation on the heap",
               "a thread attached to a heap it already uses unattached");
    watch_exit();
    park_elsewhere(h);
    lock(h);
    attach_locked(h);
    unlock(h);
    unpark_elsewhere(h);
}

/* The leaving thread settles its own stacks first (others may push more later: the record's next
 * thread, or a collector, settles those). A collector waiting for this thread to park counts it
 * out when `attached` drops. */
void mmbi_mt_thread_detach(mmb_heap *heap) {
    mmbi_mt_heap *h = (mmbi_mt_heap *)heap;
    mmbi_mt_record *self = find_mine(h);
    if (!self)
        misuse(h, "detach once, after the thread's own attach (or create)",
               "a thread detached from a heap it is not attached to");
    if (atomic_load_explicit(&h->stop, memory_order_relaxed))
        mmbi_mt_park(h);
    drain_remote(h, self);
    if (h->cls->settle)
        h->cls->settle(h, self, self);
    forget_mine(self); /* before the mutex hands the record to its next thread */
    lock(h);
    self->in_use = false;
    h->attached--;
    set_budget(h);
    pthread_cond_broadcast(&h->parked_cv);
    unlock(h);
    if (mmbi_mt_tls.generation == h->generation)
        mmbi_mt_tls = (mmbi_mt_current){0, NULL};
}

int mmbi_mt_create(const mmb_heap_config *cfg, size_t heap_bytes, const mmb_manager *m,
                   const mmbi_mt_class *cls, int64_t threshold, mmb_heap **out, char *err,
                   size_t err_bytes) {
    mmbi_mt_heap *h = mmb_heap_new(cfg, heap_bytes, m, err, err_bytes);
    if (!h)
        return -1;
    h->cfg = *cfg;
    h->cls = cls;
    h->header_bytes = cls->header_bytes;
    h->heap_bytes = heap_bytes;
    h->generation = atomic_fetch_add_explicit(&generations, 1, memory_order_relaxed) + 1;
    h->threshold = threshold;
    atomic_init(&h->stop, 0);
    atomic_init(&h->budget, INT64_MAX);
    h->records = cfg->allocator.alloc(cfg->allocator.ctx, MMBI_MT_MAX_RECORDS * sizeof(void *));
    if (!h->records) {
        snprintf(err, err_bytes, "out of memory creating a %s heap", m->name);
        cfg->allocator.free(cfg->allocator.ctx, h, heap_bytes);
        return -1;
    }
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->parked_cv, NULL);
    pthread_cond_init(&h->resume_cv, NULL);
    mmb_stack_init(&h->marks, &h->cfg.allocator);
    watch_exit();
    lock(h);
    attach_locked(h);
    unlock(h);
    *out = &h->base;
    return 0;
}

const mmb_option_spec mmbi_mt_options[] = {
    {"threshold", MMB_OPT_INT, 10000, 0, INT64_MAX,
     "collect when a thread's objects with slots allocated less freed since the last collection "
     "exceed its share of this, or of a quarter of that collection's survivors if more (objects; "
     "0 disables automatic collection)"},
    {NULL, MMB_OPT_INT, 0, 0, 0, NULL},
};

static void free_list(mmbi_mt_heap *h, mmb_link *head) {
    while (!mmb_list_empty(head)) {
        mmbi_mt_header *m = (mmbi_mt_header *)head->next;
        mmb_list_remove(&m->link);
        h->cfg.allocator.free(h->cfg.allocator.ctx, m,
                              mmb_block_bytes(h->header_bytes, mmbi_mt_obj(h, m)));
    }
}

/* Every object, live, dead or garbage, is on some record's list (the stacks only thread through
 * objects that are), so freeing the lists frees each block once. Any other thread still attached
 * would use the freed heap at its next operation, and keep the record on its list: refused. */
void mmbi_mt_destroy(mmb_heap *heap) {
    mmbi_mt_heap *h = (mmbi_mt_heap *)heap;
    const mmb_allocator *a = &h->cfg.allocator;
    mmbi_mt_record *self = find_mine(h);
    lock(h);
    unsigned others = h->attached - (self ? 1 : 0);
    unlock(h);
    if (others)
        misuse(h, "every other thread calls mmb_thread_detach before the heap is destroyed",
               "destroy while %u other thread%s still attached", others,
               others == 1 ? " is" : "s are");
    if (self)
        forget_mine(self);
    for (uint32_t i = 0; i < h->nrecords; i++) {
        mmbi_mt_record *r = h->records[i];
        free_list(h, &r->tracked);
        free_list(h, &r->untracked);
        mmb_stack_release(&r->work);
        a->free(a->ctx, r, sizeof *r);
    }
    a->free(a->ctx, h->records, MMBI_MT_MAX_RECORDS * sizeof(void *));
    mmb_stack_release(&h->marks);
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->parked_cv);
    pthread_cond_destroy(&h->resume_cv);
    if (mmbi_mt_tls.generation == h->generation)
        mmbi_mt_tls = (mmbi_mt_current){0, NULL};
    mmb_allocator allocator = *a;
    allocator.free(allocator.ctx, h, h->heap_bytes);
}
