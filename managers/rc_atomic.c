/* rc-atomic: thread-safe reference counting with one atomic count per object, and a
 * stop-the-world trial-deletion cycle collector (mt.h). See managers/README.md. */
#include "mt.h"

/* `word` packs bits 48-63, the index of the object's list owner (the record whose thread
 * allocated it; fixed for life), and bits 0-47, the reference count: mutator references plus
 * slots pointing here. Every update is one atomic add or subtract on the whole word, which leaves
 * the owner bits alone as long as the count stays below 2^48. The count is 0 only once the
 * object is dead (being freed, or on its owner's remote-free stack). 32 bytes in all. */
typedef struct ra_header {
    mmbi_mt_header mt;
    _Atomic uint64_t word;
} ra_header;

#define OWNER_SHIFT 48
#define COUNT_MASK  ((UINT64_C(1) << OWNER_SHIFT) - 1)

static inline ra_header *hdr(mmb_obj *o) {
    return (ra_header *)o - 1;
}

static mmbi_mt_record *owner_of(const mmbi_mt_heap *h, mmb_obj *o) {
    return h->records[atomic_load_explicit(&hdr(o)->word, memory_order_relaxed) >> OWNER_SHIFT];
}

/* One decrement; true when it was the last reference. The decrement releases what this thread
 * did to the object; the thread that takes the count to zero then acquires, through the count,
 * what every other thread did before its own decrement (a load rather than a fence, which
 * ThreadSanitizer does not model). */
static bool drop(mmbi_mt_heap *h, mmbi_mt_record *self, mmb_obj *o) {
    (void)h;
    mmbi_mt_count(&self->stats.decrements, 1);
    ra_header *r = hdr(o);
    uint64_t old = atomic_fetch_sub_explicit(&r->word, 1, memory_order_release);
    if ((old & COUNT_MASK) != 1)
        return false;
    (void)atomic_load_explicit(&r->word, memory_order_acquire);
    return true;
}

/* Out of line: drop is a few instructions, inlined into every decrement, and the cascade's frame
 * would cost each of them. */
static MMB_NOINLINE void cascade(mmbi_mt_heap *h, mmbi_mt_record *self, mmb_obj *o) {
    mmbi_mt_cascade(h, self, o, drop, owner_of);
}

static void release(mmbi_mt_heap *h, mmbi_mt_record *self, mmb_obj *o) {
    mmbi_mt_release(h, self, o, drop, cascade);
}

/* An increment needs no ordering: the thread already holds a reference, so the count cannot
 * reach zero meanwhile. */
static void take(mmbi_mt_record *self, mmb_obj *o) {
    mmbi_mt_count(&self->stats.increments, 1);
    atomic_fetch_add_explicit(&hdr(o)->word, 1, memory_order_relaxed);
}

static uint64_t refs(mmb_obj *o) {
    return atomic_load_explicit(&hdr(o)->word, memory_order_relaxed) & COUNT_MASK;
}

static const mmbi_mt_class ra_class = {
    .header_bytes = sizeof(ra_header),
    .refs = refs,
    .drop = release,
    .settle = NULL,
};

static mmb_obj *ra_alloc(mmb_heap *heap, uint32_t nslots, uint32_t payload_bytes) {
    mmbi_mt_record *self;
    mmb_obj *o = mmbi_mt_alloc((mmbi_mt_heap *)heap, nslots, payload_bytes, &self);
    if (o)
        atomic_init(&hdr(o)->word, (uint64_t)self->index << OWNER_SHIFT | 1);
    return o;
}

static void ra_incref(mmb_heap *heap, mmb_obj *o) {
    mmbi_mt_incref(heap, o, take);
}

static void ra_decref(mmb_heap *heap, mmb_obj *o) {
    mmbi_mt_decref(heap, o, release);
}

static void ra_store(mmb_heap *heap, mmb_obj *o, uint32_t slot, mmb_obj *value) {
    mmbi_mt_store(heap, o, slot, value, take, release);
}

static int ra_create(const mmb_heap_config *cfg, mmb_heap **out, char *err, size_t err_bytes);

const mmb_manager mmb_manager_rc_atomic = {
    .name = "rc-atomic",
    .summary = "thread-safe atomic reference counts plus a stop-the-world cycle collector",
    .caps = MMB_CAP_REFCOUNT | MMB_CAP_CYCLES | MMB_CAP_THREAD_SAFE,
    .options = mmbi_mt_options,
    .create = ra_create,
    .destroy = mmbi_mt_destroy,
    .alloc = ra_alloc,
    .incref = ra_incref,
    .decref = ra_decref,
    .store = ra_store,
    .load = NULL,
    .collect = mmbi_mt_collect,
    .collect_young = NULL,
    .freeze = NULL,
    .stats = mmbi_mt_stats,
    .thread_attach = mmbi_mt_thread_attach,
    .thread_detach = mmbi_mt_thread_detach,
};

static int ra_create(const mmb_heap_config *cfg, mmb_heap **out, char *err, size_t err_bytes) {
    return mmbi_mt_create(cfg, sizeof(mmbi_mt_heap), &mmb_manager_rc_atomic, &ra_class,
                          cfg->options[0], out, err, err_bytes);
}
