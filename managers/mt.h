/* Machinery shared by the thread-safe managers (rc-atomic, rc-biased): thread records, stopping
 * the world at operation entry, per-record object lists with remote frees, and a stop-the-world
 * trial-deletion cycle collector. Design: managers/README.md, "Threads: the shared machinery". */
#ifndef MMB_MANAGERS_MT_H
#define MMB_MANAGERS_MT_H

#include <pthread.h>
#include <stdatomic.h>

#include "internal.h"

/* ---- objects ------------------------------------------------------------------------------------
 *
 * Every object's header starts with this; the manager's own words follow it, then the object.
 *
 * `link` puts the object on one list of its list owner, the record whose thread allocated it:
 * `tracked` when it has slots, `untracked` when it has none (it can be on no cycle). Only the
 * record's thread links and unlinks, except while the world is stopped, when the collector may.
 *
 * `gc` is one of, by the object's state:
 *   - 0: live, on no stack;
 *   - the address of the next header (or 0) while the object is on a record's remote-free stack
 *     (dead: freed by a thread other than its list owner's, block not yet returned) or on
 *     rc-biased's merge queue (live: the queue holds one of its references);
 *   - while a collector runs, with every stack drained: bit 0 COLLECTING (tracked and not yet
 *     proved reachable or freed), bit 1 REACHABLE, bits 2-63 gc_refs. Headers are 8-aligned, so a
 *     stack address never has the flag bits set. */
typedef struct mmbi_mt_header {
    mmb_link link;
    uintptr_t gc;
} mmbi_mt_header;

/* ---- counters -----------------------------------------------------------------------------------
 *
 * Each record keeps its own counters, written only by the thread holding the record (a collector
 * counts its work in its own record), read by `stats` at any time: relaxed loads and stores, no
 * read-modify-write, so a count costs what a plain one does. */
typedef _Atomic uint64_t mmbi_mt_counter;

static inline void mmbi_mt_count(mmbi_mt_counter *c, uint64_t n) {
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

typedef struct mmbi_mt_counters {
    mmbi_mt_counter allocated, freed, freed_by_rc, freed_by_gc;
    mmbi_mt_counter bytes_allocated, bytes_freed; /* blocks, headers included */
    mmbi_mt_counter collections, cascades_reported;
    mmbi_mt_counter increments, decrements, traversed;
} mmbi_mt_counters;

/* ---- stacks -------------------------------------------------------------------------------------
 *
 * A lock-free stack of headers, linked through `gc`: any thread pushes (a Treiber push), one
 * thread at a time takes everything at once with an exchange. Nothing is ever popped singly, so a
 * head cannot come back under a pusher's feet (no ABA). The push's release and the take's acquire
 * order everything a pusher wrote before pushing before everything the taker does after. */
typedef struct mmbi_mt_stack {
    _Atomic(mmbi_mt_header *) head;
} mmbi_mt_stack;

static inline void mmbi_mt_push(mmbi_mt_stack *s, mmbi_mt_header *m) {
    mmbi_mt_header *old = atomic_load_explicit(&s->head, memory_order_relaxed);
    do {
        m->gc = (uintptr_t)old;
    } while (!atomic_compare_exchange_weak_explicit(&s->head, &old, m, memory_order_release,
                                                    memory_order_relaxed));
}

static inline mmbi_mt_header *mmbi_mt_take_all(mmbi_mt_stack *s) {
    return atomic_exchange_explicit(&s->head, NULL, memory_order_acquire);
}

static inline bool mmbi_mt_stack_empty(mmbi_mt_stack *s) {
    return atomic_load_explicit(&s->head, memory_order_relaxed) == NULL;
}

/* ---- thread records -----------------------------------------------------------------------------
 *
 * One per attached thread. A detaching thread's record goes back to the heap's pool with its
 * lists, stacks and counters, and the next attaching thread takes it over: attach and detach both
 * go through the heap's mutex, which orders the two threads' use. So the objects a record owns
 * (and, in rc-biased, the local counts biased to it) always have at most one thread. Records are
 * never freed before destroy, so an object's owner index stays valid.
 *
 * A thread's records, one per heap it attached to (create included), are on a list of its own
 * (`next_mine`), which only that thread reads and writes. Every record on it is alive: destroy is
 * refused while a thread other than the caller is attached, and a thread that ends attached stops
 * the process (mt.c), so no list outlives its records and no record outlives its thread. */
#define MMBI_MT_MAX_RECORDS 1024

typedef struct mmbi_mt_heap mmbi_mt_heap;

typedef struct mmbi_mt_record {
    /* The record's thread's; a collector's too, while it has the world stopped. */
    mmb_link tracked;    /* objects with slots this record allocated, not yet unlinked */
    mmb_link untracked;  /* objects without slots */
    mmb_stack work;      /* cascades' pending frees */
    int64_t net_tracked; /* tracked objects allocated less those freed since the last collection */
    bool stopped;        /* this thread has stopped the world: it unlinks any object itself */
    bool gc_frees;       /* frees now belong to a collection */
    uint32_t index;      /* in the heap's table, fixed; what headers store */
    mmbi_mt_counters stats;
    /* Under the heap's mutex. */
    bool in_use;
    /* The attached thread's: a thread finds its records through its own list, never by
     * pthread_self() (which a thread started after another ended may share). */
    mmbi_mt_heap *heap;
    struct mmbi_mt_record *next_mine; /* the thread's next record, on another heap */
    /* Pushed to by other threads: each on a cache line of its own. */
    char pad0[64];
    mmbi_mt_stack remote; /* dead objects of this record's lists that other threads freed */
    char pad1[64];
    mmbi_mt_stack merge; /* rc-biased: objects whose counts await this record's merge */
    char pad2[64];
} mmbi_mt_record;

/* ---- the heap -------------------------------------------------------------------------------- */

/* What the shared machinery needs from a manager. */
typedef struct mmbi_mt_class {
    size_t header_bytes; /* the manager's header, mmbi_mt_header first; a multiple of 8 */
    /* The world is stopped and every stack drained: o's references (mutator's and slots'). A
     * live object has at least one; a dead one none. */
    uint64_t (*refs)(mmb_obj *o);
    /* Drops one reference to o on behalf of `self`, counting a decrement, and frees o and what
     * only it kept alive when that was the last; no safepoint. */
    void (*drop)(mmbi_mt_heap *h, mmbi_mt_record *self, mmb_obj *o);
    /* Settles what other threads queued on record r (rc-biased: merges the counts on r's merge
     * queue), on behalf of `self`: r's own thread, or a collector with the world stopped. NULL
     * when the manager queues nothing. */
    void (*settle)(mmbi_mt_heap *h, mmbi_mt_record *self, mmbi_mt_record *r);
} mmbi_mt_class;

struct mmbi_mt_heap {
    mmb_heap base;
    mmb_heap_config cfg;
    const mmbi_mt_class *cls;
    size_t header_bytes; /* cls->header_bytes, where the hot paths find it */
    uint64_t
        generation;    /* unique to this heap for the process's life (from 1), unlike its address */
    size_t heap_bytes; /* of the manager's heap struct, which starts with this one */
    int64_t threshold; /* option "threshold"; 0: no automatic collection */
    /* Read at every operation's entry and allocation, written rarely: a line of their own. */
    char pad0[64];
    atomic_int stop;        /* a collector wants the world stopped, or has it stopped */
    _Atomic int64_t budget; /* net tracked allocations a thread makes before it collects */
    char pad1[64];
    /* Under the mutex. Invariant: parked <= attached; while stop is set, the world is stopped
     * exactly when parked == attached - 1 (everyone but the collector waits in park, or is in an
     * operation on another heap that waits: see park_elsewhere in mt.c). */
    pthread_mutex_t mu;
    pthread_cond_t parked_cv; /* parked grew or attached shrank: the collector re-checks */
    pthread_cond_t resume_cv; /* a collection ended (epoch moved, stop cleared) */
    unsigned attached, parked;
    uint64_t epoch;    /* collections ended */
    uint32_t nrecords; /* records[0 .. nrecords) exist */
    /* Entries are written once, under the mutex, before their record owns any object. */
    mmbi_mt_record **records;
    /* The collector's, while the world is stopped. */
    uint64_t survivors; /* tracked objects that survived the last collection */
    mmb_stack marks;
};

/* The calling thread's record, cached for the heap it used last. Keyed by the heap's generation,
 * not its address: a heap destroyed and another created at the same address (a program's
 * allocator may well hand the block out again) misses, and finds its own record. 0: none. */
typedef struct mmbi_mt_current {
    uint64_t generation;
    mmbi_mt_record *record;
} mmbi_mt_current;
extern _Thread_local mmbi_mt_current mmbi_mt_tls;

void mmbi_mt_park(mmbi_mt_heap *h);
mmbi_mt_record *mmbi_mt_self_slow(mmbi_mt_heap *h);

static inline mmbi_mt_record *mmbi_mt_self(mmbi_mt_heap *h) {
    if (mmbi_mt_tls.generation == h->generation)
        return mmbi_mt_tls.record;
    return mmbi_mt_self_slow(h);
}

/* The safepoint: the first thing every operation does, before it touches anything. While a
 * collector wants the world stopped, the thread waits here until the collection ends, so no
 * operation is ever half done during one. Returns the calling thread's record. */
static inline mmbi_mt_record *mmbi_mt_enter(mmbi_mt_heap *h) {
    if (atomic_load_explicit(&h->stop, memory_order_relaxed))
        mmbi_mt_park(h);
    return mmbi_mt_self(h);
}

static inline mmbi_mt_header *mmbi_mt_hdr(const mmbi_mt_heap *h, mmb_obj *o) {
    return (mmbi_mt_header *)((char *)o - h->header_bytes);
}
static inline mmb_obj *mmbi_mt_obj(const mmbi_mt_heap *h, mmbi_mt_header *m) {
    return (mmb_obj *)((char *)m + h->header_bytes);
}

/* Frees o, whose last reference is gone and whose children the caller has already dropped, on
 * behalf of `self`; `owner` is the record whose list holds o. The owner (or a collector) unlinks
 * it and returns its block now; any other thread pushes it on the owner's remote-free stack, and
 * touches it no more. The free is counted now, in self's counters. */
static inline void mmbi_mt_free(mmbi_mt_heap *h, mmbi_mt_record *self, mmbi_mt_record *owner,
                                mmb_obj *o) {
    mmbi_mt_header *m = mmbi_mt_hdr(h, o);
    size_t bytes = mmb_block_bytes(h->header_bytes, o);
    mmbi_mt_count(&self->stats.freed, 1);
    mmbi_mt_count(self->gc_frees ? &self->stats.freed_by_gc : &self->stats.freed_by_rc, 1);
    mmbi_mt_count(&self->stats.bytes_freed, bytes);
    if (o->nslots)
        self->net_tracked--; /* as CPython: deaths offset allocations */
    if (owner == self || self->stopped) {
        mmb_list_remove(&m->link);
        h->cfg.allocator.free(h->cfg.allocator.ctx, m, bytes);
    } else {
        mmbi_mt_push(&owner->remote, m);
    }
}

/* Frees o, whose last reference just went, and everything whose last reference goes with it:
 * drop(child) decrements and says whether that was the child's last; owner(o) names o's list
 * owner. As rc.c's release: a parent is freed after dropping its children but before any of them
 * is, so a 10^7-long chain needs one stack entry. Timed and reported as a cascade, except inside
 * a collection, whose pause covers it. Inlined into each manager with its own drop and owner. */
static inline void mmbi_mt_cascade(mmbi_mt_heap *h, mmbi_mt_record *self, mmb_obj *o,
                                   bool (*drop)(mmbi_mt_heap *, mmbi_mt_record *, mmb_obj *),
                                   mmbi_mt_record *(*owner)(const mmbi_mt_heap *, mmb_obj *)) {
    mmb_cascade c = {0};
    bool timed = !self->stopped;
    if (timed)
        mmb_cascade_begin(&c, &h->cfg);
    mmb_stack_push(&self->work, o);
    while (!mmb_stack_empty(&self->work)) {
        mmb_obj *p = mmb_stack_pop(&self->work);
        for (uint32_t i = 0; i < p->nslots; i++) {
            mmb_obj *child = p->slots[i];
            if (child && drop(h, self, child)) {
                mmb_stack_push(&self->work, child);
                if (timed)
                    mmb_cascade_grew(&c, &h->cfg);
            }
        }
        mmbi_mt_free(h, self, owner(h, p), p);
        if (timed) {
            c.visited++;
            c.freed++;
        }
    }
    if (timed && mmb_cascade_end(&c, &h->cfg))
        mmbi_mt_count(&self->stats.cascades_reported, 1);
}

/* ---- the reference-counting operations ---------------------------------------------------------
 *
 * rc-atomic and rc-biased differ only in their count words: each gives `take` (self takes one
 * reference to o, counting an increment), `drop` (self drops one, counting a decrement; true when
 * it was the last) and `owner` (o's list owner), and its release is mmbi_mt_release over them.
 * incref, decref and store are these templates: inline with constant functions, so every call
 * on the hot path stays direct. */
typedef void (*mmbi_mt_take_fn)(mmbi_mt_record *self, mmb_obj *o);
typedef bool (*mmbi_mt_drop_fn)(mmbi_mt_heap *h, mmbi_mt_record *self, mmb_obj *o);
typedef mmbi_mt_record *(*mmbi_mt_owner_fn)(const mmbi_mt_heap *h, mmb_obj *o);
typedef void (*mmbi_mt_release_fn)(mmbi_mt_heap *h, mmbi_mt_record *self, mmb_obj *o);

/* One reference dropped by self, and the cascade when it was the last: the body of a manager's
 * own release (its mmbi_mt_class drop). `cascade` is the manager's mmbi_mt_cascade over its drop
 * and owner; whether it is inlined is the manager's choice, measured (run --instructions). */
static inline void mmbi_mt_release(mmbi_mt_heap *h, mmbi_mt_record *self, mmb_obj *o,
                                   mmbi_mt_drop_fn drop, mmbi_mt_release_fn cascade) {
    if (drop(h, self, o))
        cascade(h, self, o);
}

static inline void mmbi_mt_incref(mmb_heap *heap, mmb_obj *o, mmbi_mt_take_fn take) {
    take(mmbi_mt_enter((mmbi_mt_heap *)heap), o);
}

static inline void mmbi_mt_decref(mmb_heap *heap, mmb_obj *o, mmbi_mt_release_fn release) {
    mmbi_mt_heap *h = (mmbi_mt_heap *)heap;
    release(h, mmbi_mt_enter(h), o);
}

/* No barrier beyond the counts: the slot takes a reference to value, the old one loses its. */
static inline void mmbi_mt_store(mmb_heap *heap, mmb_obj *o, uint32_t slot, mmb_obj *value,
                                 mmbi_mt_take_fn take, mmbi_mt_release_fn release) {
    mmbi_mt_heap *h = (mmbi_mt_heap *)heap;
    mmbi_mt_record *self = mmbi_mt_enter(h);
    if (value)
        take(self, value);
    mmb_obj *old = mmb_slot_swap(o, slot, value);
    if (old)
        release(h, self, old);
}

/* ---- what the managers call ------------------------------------------------------------------ */

/* create: a heap of `heap_bytes` (the manager's heap struct, starting with mmbi_mt_heap), with
 * the calling thread attached. Returns 0, or -1 with a reason in err. */
int mmbi_mt_create(const mmb_heap_config *cfg, size_t heap_bytes, const mmb_manager *m,
                   const mmbi_mt_class *cls, int64_t threshold, mmb_heap **out, char *err,
                   size_t err_bytes);

/* alloc, up to the manager's words: passes the safepoint, returns what other threads freed of
 * this record's objects, settles its queue, maybe collects, then allocates and links an object
 * with null slots and gc 0. Sets *self to the calling thread's record. NULL when the allocator
 * fails. */
mmb_obj *mmbi_mt_alloc(mmbi_mt_heap *h, uint32_t nslots, uint32_t payload_bytes,
                       mmbi_mt_record **self);

/* The option table: options[0] is the threshold to pass to mmbi_mt_create. */
extern const mmb_option_spec mmbi_mt_options[];

/* The rest of the manager table, as they are. Misuse of the thread rules (manager.h, "Threads")
 * is checked on these slow paths and stops the process with one `mmbench: error:` line: destroy
 * while another thread is attached, attach by a thread already attached (or already using the
 * heap), detach by a thread not attached, and a thread ending while attached. */
void mmbi_mt_destroy(mmb_heap *heap);
void mmbi_mt_collect(mmb_heap *heap);
void mmbi_mt_stats(mmb_heap *heap, mmb_stats *out);
void mmbi_mt_thread_attach(mmb_heap *heap);
void mmbi_mt_thread_detach(mmb_heap *heap);

#endif
