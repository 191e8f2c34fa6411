/* rc-biased: biased reference counting (Choi, Shull & Torrellas, PACT 2018), as free-threaded
 * CPython 3.13 does it: the thread that allocated an object counts with plain stores, every other
 * thread atomically; a stop-the-world trial-deletion cycle collector (mt.h) on top. See
 * managers/README.md. */
#include <assert.h>

#include "mt.h"

/* ---- the header ---------------------------------------------------------------------------------
 *
 * `local` packs bits 0-15, the index of the object's list owner (the record whose thread
 * allocated it; fixed for life), bit 16 BIASED and bits 17-63 the local count. While BIASED, the
 * list owner's thread is the object's owner: only it writes `local` (relaxed loads and stores,
 * no read-modify-write), counting its increments and decrements there. Other threads only read
 * `local`, to learn that they are not the owner; a collector, while every owner is parked, stands
 * in for them. Clearing BIASED (a merge) zeroes the local
 * count; from then on nobody writes `local` and every thread counts in `shared`.
 *
 * `shared` is (count << 2) | QUEUED | MERGED, updated atomically by every thread but the owner.
 * Its count may be negative while the object is biased: another thread may release a reference
 * the owner counted. The object's references are local count + shared count, always; `merge`
 * below keeps that true.
 *   - QUEUED: a non-owner found shared == 0 when it released a reference: it could not tell
 *     whether that was the last. It set QUEUED instead of decrementing (the queue now holds that
 *     reference) and pushed the object on the owner's merge queue, through `mt.gc`. An object is
 *     queued at most once: after QUEUED, shared is never 0 again before MERGED.
 *   - MERGED: the count is all in `shared` (not biased): the thread that takes it to zero frees.
 * A dead object has no references: local count + shared count == 0. 40 bytes in all. */
typedef struct rb_header {
    mmbi_mt_header mt;
    _Atomic uint64_t local;
    _Atomic int64_t shared;
} rb_header;

#define OWNER_MASK  UINT64_C(0xffff)
#define BIASED      (UINT64_C(1) << 16)
#define LOCAL_SHIFT 17
#define LOCAL_ONE   (UINT64_C(1) << LOCAL_SHIFT)

#define QUEUED     INT64_C(1)
#define MERGED     INT64_C(2)
#define FLAGS      INT64_C(3)
#define SHARED_ONE INT64_C(4)

static inline rb_header *hdr(mmb_obj *o) {
    return (rb_header *)o - 1;
}

/* The count in a shared word (exact division: the flags are its low two bits). */
static inline int64_t shared_count(int64_t shared) {
    return (shared - (shared & FLAGS)) / SHARED_ONE;
}

static inline bool owns(const mmbi_mt_record *self, uint64_t local) {
    return (local & (OWNER_MASK | BIASED)) == ((uint64_t)self->index | BIASED);
}

static mmbi_mt_record *owner_of(const mmbi_mt_heap *h, mmb_obj *o) {
    return h->records[atomic_load_explicit(&hdr(o)->local, memory_order_relaxed) & OWNER_MASK];
}

/* ---- reference counting ---------------------------------------------------------------------- */

/* The owner's local count reached zero (`local` is the word with count 0): the owner gives up its
 * bias. If nobody else ever counted, the object is dead; otherwise MERGED goes into the shared
 * word (clearing QUEUED: the queue's reference stays counted there) and whoever takes the shared
 * count to zero frees. Returns whether the object is dead. Acquires what the non-owners did before
 * their decrements. */
static bool merge_zero_local(rb_header *r, uint64_t local) {
    int64_t shared = atomic_load_explicit(&r->shared, memory_order_acquire);
    if (shared == 0) {
        atomic_store_explicit(&r->local, local, memory_order_relaxed);
        return true;
    }
    atomic_store_explicit(&r->local, local & OWNER_MASK, memory_order_relaxed);
    int64_t merged;
    do {
        merged = (shared & ~FLAGS) | MERGED;
    } while (!atomic_compare_exchange_weak_explicit(&r->shared, &shared, merged,
                                                    memory_order_acq_rel, memory_order_acquire));
    return merged == MERGED;
}

/* One decrement by `self`; true when it was the last reference. A thread that has stopped the
 * world stands in for every owner (they are all parked): were it to queue instead, an object that
 * only garbage held would wait, unfreed, for its owner's next allocation. */
static bool drop(mmbi_mt_heap *h, mmbi_mt_record *self, mmb_obj *o) {
    mmbi_mt_count(&self->stats.decrements, 1);
    rb_header *r = hdr(o);
    uint64_t local = atomic_load_explicit(&r->local, memory_order_relaxed);
    if (owns(self, local) || (self->stopped && (local & BIASED))) {
        local -= LOCAL_ONE;
        if (local >> LOCAL_SHIFT) {
            atomic_store_explicit(&r->local, local, memory_order_relaxed);
            return false;
        }
        return merge_zero_local(r, local);
    }
    int64_t shared = atomic_load_explicit(&r->shared, memory_order_relaxed), next;
    bool queue;
    do {
        queue = shared == 0;
        next = queue ? QUEUED : shared - SHARED_ONE;
    } while (!atomic_compare_exchange_weak_explicit(&r->shared, &shared, next, memory_order_acq_rel,
                                                    memory_order_relaxed));
    if (queue) {
        mmbi_mt_push(&h->records[local & OWNER_MASK]->merge, &r->mt);
        return false;
    }
    return next == MERGED;
}

/* Inlined where it is called (drop is out of line already, and the cascade beside it costs the
 * decrement nothing): fewer instructions than a call, measured with run --instructions. */
static inline void cascade(mmbi_mt_heap *h, mmbi_mt_record *self, mmb_obj *o) {
    mmbi_mt_cascade(h, self, o, drop, owner_of);
}

static void release(mmbi_mt_heap *h, mmbi_mt_record *self, mmb_obj *o) {
    mmbi_mt_release(h, self, o, drop, cascade);
}

static void take(mmbi_mt_record *self, mmb_obj *o) {
    mmbi_mt_count(&self->stats.increments, 1);
    rb_header *r = hdr(o);
    uint64_t local = atomic_load_explicit(&r->local, memory_order_relaxed);
    if (owns(self, local))
        atomic_store_explicit(&r->local, local + LOCAL_ONE, memory_order_relaxed);
    else
        atomic_fetch_add_explicit(&r->shared, SHARED_ONE, memory_order_relaxed);
}

/* The explicit merge of a queued object, by its owner's thread (or a collector standing in for
 * it): everything goes into the shared word, less the queue's reference. Returns whether that was
 * the last. */
static bool merge_queued(rb_header *r) {
    uint64_t local = atomic_load_explicit(&r->local, memory_order_relaxed);
    int64_t local_count = (int64_t)(local >> LOCAL_SHIFT), total;
    int64_t shared = atomic_load_explicit(&r->shared, memory_order_relaxed);
    do {
        total = shared_count(shared) + local_count - 1;
        assert(total >= 0);
    } while (!atomic_compare_exchange_weak_explicit(&r->shared, &shared,
                                                    total * SHARED_ONE | MERGED,
                                                    memory_order_acq_rel, memory_order_relaxed));
    atomic_store_explicit(&r->local, local & OWNER_MASK, memory_order_relaxed);
    return total == 0;
}

/* Record r's merge queue, settled by `self`: r's thread, or a collector with the world stopped. A
 * queued object holds a reference, so no cascade frees one still waiting further down. */
static void settle(mmbi_mt_heap *h, mmbi_mt_record *self, mmbi_mt_record *r) {
    mmbi_mt_header *m = mmbi_mt_take_all(&r->merge);
    while (m) {
        mmbi_mt_header *next = (mmbi_mt_header *)m->gc;
        m->gc = 0;
        mmb_obj *o = mmbi_mt_obj(h, m);
        if (merge_queued(hdr(o)))
            cascade(h, self, o);
        m = next;
    }
}

static uint64_t refs(mmb_obj *o) {
    rb_header *r = hdr(o);
    int64_t n = (int64_t)(atomic_load_explicit(&r->local, memory_order_relaxed) >> LOCAL_SHIFT) +
                shared_count(atomic_load_explicit(&r->shared, memory_order_relaxed));
    assert(n >= 0);
    return (uint64_t)n;
}

static const mmbi_mt_class rb_class = {
    .header_bytes = sizeof(rb_header),
    .refs = refs,
    .drop = release,
    .settle = settle,
};

/* ---- operations ------------------------------------------------------------------------------ */

static mmb_obj *rb_alloc(mmb_heap *heap, uint32_t nslots, uint32_t payload_bytes) {
    mmbi_mt_record *self;
    mmb_obj *o = mmbi_mt_alloc((mmbi_mt_heap *)heap, nslots, payload_bytes, &self);
    if (o) {
        atomic_init(&hdr(o)->local, (uint64_t)self->index | BIASED | LOCAL_ONE);
        atomic_init(&hdr(o)->shared, 0);
    }
    return o;
}

static void rb_incref(mmb_heap *heap, mmb_obj *o) {
    mmbi_mt_incref(heap, o, take);
}

static void rb_decref(mmb_heap *heap, mmb_obj *o) {
    mmbi_mt_decref(heap, o, release);
}

static void rb_store(mmb_heap *heap, mmb_obj *o, uint32_t slot, mmb_obj *value) {
    mmbi_mt_store(heap, o, slot, value, take, release);
}

static int rb_create(const mmb_heap_config *cfg, mmb_heap **out, char *err, size_t err_bytes);

const mmb_manager mmb_manager_rc_biased = {
    .name = "rc-biased",
    .summary = "thread-safe biased reference counting (as free-threaded CPython) plus a "
               "stop-the-world cycle collector",
    .caps = MMB_CAP_REFCOUNT | MMB_CAP_CYCLES | MMB_CAP_THREAD_SAFE,
    .options = mmbi_mt_options,
    .create = rb_create,
    .destroy = mmbi_mt_destroy,
    .alloc = rb_alloc,
    .incref = rb_incref,
    .decref = rb_decref,
    .store = rb_store,
    .load = NULL,
    .collect = mmbi_mt_collect,
    .collect_young = NULL,
    .freeze = NULL,
    .stats = mmbi_mt_stats,
    .thread_attach = mmbi_mt_thread_attach,
    .thread_detach = mmbi_mt_thread_detach,
};

static int rb_create(const mmb_heap_config *cfg, mmb_heap **out, char *err, size_t err_bytes) {
    return mmbi_mt_create(cfg, sizeof(mmbi_mt_heap), &mmb_manager_rc_biased, &rb_class,
                          cfg->options[0], out, err, err_bytes);
}
