/* A test plug-in (tests/plugins.c): "toy", plain reference counting written against the public
 * headers alone, as a plug-in outside the tree would be. Built once as the good plug-in and once
 * per validation rule with TOY_BROKEN naming what it gets wrong (tests/CMakeLists.txt). */
#include <string.h>

#ifndef TOY_BROKEN
#define TOY_BROKEN 0
#endif

#include "mmbench/clock.h"
#include "mmbench/manager.h"
#include "mmbench/plugin.h"

#define TOY_MAX_OPTIONS 2

/* Every object is on one list (destroy frees leaked cycles too); `next` chains a cascade's
 * pending frees, so the cascade needs no stack of its own. */
typedef struct toy_header {
    struct toy_header *prev, *next_obj, *next_free;
    uint64_t refcount;
    size_t bytes;
} toy_header;

typedef struct toy_heap {
    mmb_heap base;
    mmb_heap_config cfg;
    mmb_stats stats;
    toy_header *objects;
} toy_heap;

static toy_header *hdr(mmb_obj *o) {
    return (toy_header *)o - 1;
}

static int toy_create(const mmb_heap_config *cfg, mmb_heap **out, char *err, size_t err_bytes) {
    toy_heap *h = cfg->allocator.alloc(cfg->allocator.ctx, sizeof *h);
    if (!h) {
        strncpy(err, "toy: out of memory", err_bytes - 1);
        err[err_bytes - 1] = '\0';
        return -1;
    }
    memset(h, 0, sizeof *h);
    h->cfg = *cfg;
    h->stats.header_bytes = sizeof(toy_header);
    *out = &h->base;
    return 0;
}

static void unlink_obj(toy_heap *h, toy_header *r) {
    if (r->prev)
        r->prev->next_obj = r->next_obj;
    else
        h->objects = r->next_obj;
    if (r->next_obj)
        r->next_obj->prev = r->prev;
}

static void toy_destroy(mmb_heap *heap) {
    toy_heap *h = (toy_heap *)heap;
    for (toy_header *r = h->objects, *next; r; r = next) {
        next = r->next_obj;
        h->cfg.allocator.free(h->cfg.allocator.ctx, r, r->bytes);
    }
    h->cfg.allocator.free(h->cfg.allocator.ctx, h, sizeof *h);
}

static mmb_obj *toy_alloc(mmb_heap *heap, uint32_t nslots, uint32_t payload_bytes) {
    toy_heap *h = (toy_heap *)heap;
    size_t bytes = sizeof(toy_header) + mmb_obj_bytes(nslots, payload_bytes);
    toy_header *r = h->cfg.allocator.alloc(h->cfg.allocator.ctx, bytes);
    if (!r)
        return NULL;
    *r = (toy_header){NULL, h->objects, NULL, 1, bytes};
    if (h->objects)
        h->objects->prev = r;
    h->objects = r;
    mmb_obj *o = (mmb_obj *)(r + 1);
    o->nslots = nslots;
    o->payload_bytes = payload_bytes;
    memset(o->slots, 0, (size_t)nslots * sizeof o->slots[0]);
    h->stats.objects_allocated++;
    h->stats.live_objects++;
    h->stats.live_bytes += bytes;
    return o;
}

static void toy_incref(mmb_heap *heap, mmb_obj *o) {
    ((toy_heap *)heap)->stats.increments++;
    hdr(o)->refcount++;
}

/* A count reaching zero frees its object and, iteratively, all that only it kept. */
static void toy_decref(mmb_heap *heap, mmb_obj *o) {
    toy_heap *h = (toy_heap *)heap;
    h->stats.decrements++;
    if (--hdr(o)->refcount != 0)
        return;
    uint64_t start_ns = h->cfg.on_event ? mmb_now_ns() : 0, freed = 0;
    toy_header *pending = hdr(o);
    pending->next_free = NULL;
    while (pending) {
        toy_header *r = pending;
        pending = r->next_free;
        mmb_obj *obj = (mmb_obj *)(r + 1);
        for (uint32_t s = 0; s < obj->nslots; s++) {
            mmb_obj *child = obj->slots[s];
            if (!child)
                continue;
            h->stats.decrements++;
            if (--hdr(child)->refcount == 0) {
                hdr(child)->next_free = pending;
                pending = hdr(child);
            }
        }
        unlink_obj(h, r);
        h->stats.objects_freed++;
        h->stats.objects_freed_by_rc++;
        h->stats.live_objects--;
        h->stats.live_bytes -= r->bytes;
        h->cfg.allocator.free(h->cfg.allocator.ctx, r, r->bytes);
        freed++;
    }
    if (h->cfg.on_event && freed >= h->cfg.cascade_threshold) {
        h->stats.cascades_reported++;
        mmb_event e = {MMB_EVENT_CASCADE, -1, start_ns, mmb_now_ns(), freed, freed};
        h->cfg.on_event(h->cfg.event_ctx, &e);
    }
}

static void toy_store(mmb_heap *heap, mmb_obj *o, uint32_t slot, mmb_obj *value) {
    mmb_obj *old = o->slots[slot];
    if (value)
        toy_incref(heap, value);
    o->slots[slot] = value;
    if (old)
        toy_decref(heap, old);
}

static void toy_collect(mmb_heap *heap) {
    (void)heap; /* plain reference counting: garbage cycles stay */
}

static void toy_stats(mmb_heap *heap, mmb_stats *out) {
    *out = ((toy_heap *)heap)->stats;
}

static const mmb_option_spec toy_options[TOY_MAX_OPTIONS + 2] = {
    {"toy-knob", MMB_OPT_INT,
#if TOY_BROKEN == 8 /* bad default */
     99,
#else
     4,
#endif
     1, 16, "a knob that changes nothing (units)"},
#if TOY_BROKEN == 7 /* duplicate option */
    {"toy-knob", MMB_OPT_INT, 4, 1, 16, "the same knob again (units)"},
#endif
    {NULL, MMB_OPT_INT, 0, 0, 0, NULL},
};

static const mmb_manager toy = {
#if TOY_BROKEN == 4 /* no name */
    .name = NULL,
#elif TOY_BROKEN == 9 /* a bundled manager's name */
    .name = "rc",
#else
    .name = "toy",
#endif
    .summary = "a test plug-in: plain reference counting",
    .caps = MMB_CAP_REFCOUNT,
    .options = toy_options,
    .create = toy_create,
    .destroy = toy_destroy,
    .alloc = toy_alloc,
    .incref = toy_incref,
    .decref = toy_decref,
#if TOY_BROKEN != 6 /* missing operation */
    .store = toy_store,
#endif
    .collect = toy_collect,
    .stats = toy_stats,
};

/* A second manager, toy's operations under another name without options (a plug-in may hold
 * several): filled in from toy by mmbench_plugin. */
static mmb_manager toy2;

static const mmb_manager *const toy_managers[] = {&toy, &toy2};

#if TOY_BROKEN != 1 /* no symbol */
__attribute__((visibility("default"))) const mmb_plugin *mmbench_plugin(int abi_version) {
    toy2 = toy;
    toy2.name = TOY_BROKEN == 5 ? "toy" : "toy-two"; /* 5: two managers of one name */
    toy2.summary = "a test plug-in's second manager: the same as toy";
    toy2.options = NULL;
    toy2.store = toy_store;
    static const mmb_plugin plugin = {
#if TOY_BROKEN == 2 /* wrong ABI */
        MMB_ABI_VERSION + 1,
#else
        MMB_ABI_VERSION,
#endif
        "toy",
        "1.2.3",
        toy_managers,
        2
    };
    /* TOY_BROKEN 3: NULL whatever the version */
    return TOY_BROKEN != 3 && (abi_version == MMB_ABI_VERSION || TOY_BROKEN == 2) ? &plugin : NULL;
}
#else
/* Exported under another name: a shared library, but not a plug-in. */
const mmb_manager *const *toy_not_the_entry(void);
__attribute__((visibility("default"))) const mmb_manager *const *toy_not_the_entry(void) {
    return toy_managers;
}
#endif
