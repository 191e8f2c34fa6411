/* rc: plain reference counting with no cycle collection, the baseline. Garbage cycles leak by
 * design; everything else is freed the moment its count drops to zero. See managers/README.md. */
#include "internal.h"

/* The link puts every object on one list, used only by destroy to free leaked cycles too. */
typedef struct rc_header {
    mmbi_link link;
    uint64_t refcount; /* mutator references + slots pointing here; 0 only while being freed */
} rc_header;

typedef struct rc_heap {
    mmb_heap base;
    mmb_heap_config cfg;
    mmb_stats stats;
    mmbi_link objects; /* every live object */
    mmbi_stack work;   /* the cascade's pending frees, kept between calls to avoid regrowing */
} rc_heap;

static inline rc_header *hdr(mmb_obj *o) {
    return (rc_header *)o - 1;
}

static mmb_obj *rc_alloc(mmb_heap *heap, uint32_t nslots, uint32_t payload_bytes) {
    rc_heap *h = (rc_heap *)heap;
    size_t bytes = sizeof(rc_header) + mmb_obj_bytes(nslots, payload_bytes);
    rc_header *r = h->cfg.allocator.alloc(h->cfg.allocator.ctx, bytes);
    if (!r)
        return NULL;
    r->refcount = 1;
    mmbi_list_append(&h->objects, &r->link);
    return mmbi_obj_init(r + 1, nslots, payload_bytes, &h->stats, bytes);
}

static void free_object(rc_heap *h, mmb_obj *o) {
    rc_header *r = hdr(o);
    size_t bytes = mmbi_block_bytes(sizeof(rc_header), o);
    mmbi_list_remove(&r->link);
    h->stats.live_objects--;
    h->stats.live_bytes -= bytes;
    h->stats.objects_freed++;
    h->stats.objects_freed_by_rc++;
    h->cfg.allocator.free(h->cfg.allocator.ctx, r, bytes);
}

/* Frees `o`, whose count just reached zero, and everything whose count reaches zero as a result.
 * A parent is freed after decrementing its children but before any of them is freed, so a
 * 10^7-long chain needs one stack entry, not 10^7 C frames. */
static void release(rc_heap *h, mmb_obj *o) {
    mmbi_cascade c;
    mmbi_cascade_begin(&c, &h->cfg);
    mmbi_stack_push(&h->work, o);
    while (!mmbi_stack_empty(&h->work)) {
        mmb_obj *p = mmbi_stack_pop(&h->work);
        c.visited++;
        for (uint32_t i = 0; i < p->nslots; i++) {
            mmb_obj *child = p->slots[i];
            if (!child)
                continue;
            h->stats.decrements++;
            if (--hdr(child)->refcount == 0) {
                mmbi_stack_push(&h->work, child);
                mmbi_cascade_grew(&c, &h->cfg);
            }
        }
        free_object(h, p);
        c.freed++;
    }
    if (mmbi_cascade_end(&c, &h->cfg))
        h->stats.cascades_reported++;
}

static void rc_incref(mmb_heap *heap, mmb_obj *o) {
    rc_heap *h = (rc_heap *)heap;
    h->stats.increments++;
    hdr(o)->refcount++;
}

static void rc_decref(mmb_heap *heap, mmb_obj *o) {
    rc_heap *h = (rc_heap *)heap;
    h->stats.decrements++;
    if (--hdr(o)->refcount == 0)
        release(h, o);
}

static void rc_store(mmb_heap *heap, mmb_obj *o, uint32_t slot, mmb_obj *value) {
    rc_heap *h = (rc_heap *)heap;
    if (value) {
        h->stats.increments++;
        hdr(value)->refcount++;
    }
    mmb_obj *old = o->slots[slot];
    o->slots[slot] = value;
    if (old)
        rc_decref(heap, old);
}

static void rc_collect(mmb_heap *heap) {
    (void)heap; /* nothing to do: rc reclaims no cycles */
}

static void rc_stats(mmb_heap *heap, mmb_stats *out) {
    *out = ((rc_heap *)heap)->stats;
}

static void rc_destroy(mmb_heap *heap) {
    rc_heap *h = (rc_heap *)heap;
    while (!mmbi_list_empty(&h->objects)) {
        rc_header *r = (rc_header *)h->objects.next;
        mmbi_list_remove(&r->link);
        mmb_obj *o = (mmb_obj *)(r + 1);
        h->cfg.allocator.free(h->cfg.allocator.ctx, r, mmbi_block_bytes(sizeof *r, o));
    }
    mmbi_stack_release(&h->work);
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
    rc_heap *h = mmbi_heap_new(cfg, sizeof *h, &mmb_manager_rc, err, err_bytes);
    if (!h)
        return -1;
    h->cfg = *cfg;
    h->stats.header_bytes = sizeof(rc_header);
    mmbi_list_init(&h->objects);
    mmbi_stack_init(&h->work, &h->cfg.allocator);
    *out = &h->base;
    return 0;
}
