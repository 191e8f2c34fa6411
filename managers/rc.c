/* rc: plain reference counting with no cycle collection, the baseline. Garbage cycles leak by
 * design; everything else is freed the moment its count drops to zero. See managers/README.md. */
#include "internal.h"

/* The link puts every object on one list, used only by destroy to free leaked cycles too. */
typedef struct rc_header {
    mmb_link link;
    uint64_t refcount; /* mutator references + slots pointing here; 0 only while being freed */
} rc_header;

typedef struct rc_heap {
    mmb_heap base;
    mmb_heap_config cfg;
    mmb_stats stats;
    mmb_link objects; /* every live object */
    mmb_stack work;   /* the cascade's pending frees, kept between calls to avoid regrowing */
} rc_heap;

static inline rc_header *hdr(mmb_obj *o) {
    return (rc_header *)o - 1;
}

static mmb_obj *rc_alloc(mmb_heap *heap, uint32_t nslots, uint32_t payload_bytes) {
    rc_heap *h = (rc_heap *)heap;
    size_t bytes;
    rc_header *r = mmb_block_alloc(&h->cfg.allocator, sizeof *r, nslots, payload_bytes, &bytes);
    if (!r)
        return NULL;
    r->refcount = 1;
    mmb_list_append(&h->objects, &r->link);
    return mmb_obj_init(r + 1, nslots, payload_bytes, &h->stats, bytes);
}

static uint64_t dec(mmb_obj *o) {
    return --hdr(o)->refcount;
}

static void free_object(mmb_heap *heap, mmb_obj *o) {
    rc_heap *h = (rc_heap *)heap;
    size_t bytes = mmb_block_bytes(sizeof(rc_header), o);
    mmb_list_remove(&hdr(o)->link);
    mmb_stats_freed(&h->stats, bytes, false);
    h->cfg.allocator.free(h->cfg.allocator.ctx, hdr(o), bytes);
}

static const mmb_rc_class rc_class = {.dec = dec, .survived = NULL, .free_obj = free_object};

static void rc_incref(mmb_heap *heap, mmb_obj *o) {
    rc_heap *h = (rc_heap *)heap;
    h->stats.increments++;
    hdr(o)->refcount++;
}

/* A count that reaches zero frees its object and all that only it kept (mmb_rc_release). */
static void rc_decref(mmb_heap *heap, mmb_obj *o) {
    rc_heap *h = (rc_heap *)heap;
    h->stats.decrements++;
    if (dec(o) == 0)
        mmb_rc_release(heap, &rc_class, &h->work, &h->stats, &h->cfg, o);
}

static void rc_store(mmb_heap *heap, mmb_obj *o, uint32_t slot, mmb_obj *value) {
    mmb_rc_store(heap, o, slot, value, rc_incref, rc_decref);
}

static void rc_collect(mmb_heap *heap) {
    (void)heap; /* nothing to do: rc reclaims no cycles */
}

static void rc_stats(mmb_heap *heap, mmb_stats *out) {
    *out = ((rc_heap *)heap)->stats;
}

static void rc_destroy(mmb_heap *heap) {
    rc_heap *h = (rc_heap *)heap;
    mmb_list_free_all(&h->objects, &h->cfg.allocator, sizeof(rc_header));
    mmb_stack_release(&h->work);
    h->cfg.allocator.free(h->cfg.allocator.ctx, h, sizeof *h);
}

static int rc_create(const mmb_heap_config *cfg, mmb_heap **out, char *err, size_t err_bytes);

const mmb_manager mmb_manager_rc = {
    .name = "rc",
    .summary = "plain reference counting; garbage cycles leak (the baseline)",
    .caps = MMB_CAP_REFCOUNT,
    .options = NULL,
    .create = rc_create,
    .destroy = rc_destroy,
    .alloc = rc_alloc,
    .incref = rc_incref,
    .decref = rc_decref,
    .store = rc_store,
    .load = NULL,
    .collect = rc_collect,
    .collect_young = NULL,
    .freeze = NULL,
    .stats = rc_stats,
};

static int rc_create(const mmb_heap_config *cfg, mmb_heap **out, char *err, size_t err_bytes) {
    rc_heap *h = mmb_heap_new(cfg, sizeof *h, &mmb_manager_rc, err, err_bytes);
    if (!h)
        return -1;
    h->cfg = *cfg;
    h->stats.header_bytes = sizeof(rc_header);
    mmb_list_init(&h->objects);
    mmb_stack_init(&h->work, &h->cfg.allocator);
    *out = &h->base;
    return 0;
}
