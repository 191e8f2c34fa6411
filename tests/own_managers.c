/* mmbench-own: the mmbench CLI with bundled managers made into MMB_CAP_OWN_MEMORY managers, as an
 * adapter to a real runtime is: objects in memory of their own (libc), every reclaimed object
 * reported through config->on_free while still readable. Two correct ones (own-rc, own-cpython),
 * one conservative (own-retain) and two broken ones, so tests can show the oracle's own-memory
 * checks pass and catch each bug. Test-only. Design: harness/README.md, "The oracle". */
#include "commands.h"
#include "mmbench/manager.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

extern const mmb_manager mmb_manager_rc;
extern const mmb_manager mmb_manager_cpython;

typedef enum own_mode {
    OWN_CORRECT,
    OWN_EARLY,  /* reports the first object stored into a slot as freed: it is still reachable */
    OWN_FORGET, /* destroy does not report the first object it frees */
} own_mode;

typedef struct own_heap {
    mmb_heap base;
    mmb_heap *inner; /* the bundled manager's heap, its blocks from own_block_alloc */
    own_mode mode;
    mmb_free_fn on_free;
    void *free_ctx;
    bool destroying, lied, forgot;
} own_heap;

/* Each block starts with this prefix (16 bytes, so the block stays 16-aligned): where the object
 * in it starts, + 1, or 0 for the manager's own buffers. */
typedef struct own_prefix {
    size_t bytes;
    size_t obj_offset_plus1;
} own_prefix;

/* The blocks allocated during this thread's alloc (the first 64: rc and cpython take one or two):
 * the object's is the one it lies in. */
static _Thread_local own_prefix *fresh[64];
static _Thread_local size_t nfresh;
static _Thread_local bool in_alloc;

static void *own_block_alloc(void *ctx, size_t bytes) {
    (void)ctx;
    own_prefix *p = malloc(sizeof *p + bytes);
    if (!p)
        return NULL;
    *p = (own_prefix){bytes, 0};
    if (in_alloc && nfresh < sizeof fresh / sizeof fresh[0])
        fresh[nfresh++] = p;
    return p + 1;
}

static void own_block_free(void *ctx, void *block, size_t bytes) {
    own_heap *h = ctx;
    own_prefix *p = (own_prefix *)block - 1;
    (void)bytes;
    if (p->obj_offset_plus1 && h->on_free) {
        mmb_obj *o = (mmb_obj *)((char *)block + p->obj_offset_plus1 - 1);
        bool forget = h->mode == OWN_FORGET && h->destroying && !h->forgot;
        h->forgot |= forget;
        if (!forget)
            h->on_free(h->free_ctx, o); /* before the free: the object is still readable */
    }
    free(p);
}

static int own_create(const mmb_manager *inner, own_mode mode, const mmb_heap_config *config,
                      mmb_heap **out, char *err, size_t err_bytes) {
    own_heap *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, err_bytes, "out of memory");
        return -1;
    }
    h->mode = mode;
    h->on_free = config->on_free;
    h->free_ctx = config->free_ctx;
    mmb_heap_config cfg = *config;
    cfg.allocator = (mmb_allocator){"own", h, own_block_alloc, own_block_free};
    cfg.on_free = NULL;
    if (mmb_heap_create(inner, &cfg, &h->inner, err, err_bytes) != 0) {
        free(h);
        return -1;
    }
    *out = &h->base;
    return 0;
}

static mmb_heap *in(mmb_heap *heap) {
    return ((own_heap *)heap)->inner;
}

static mmb_obj *own_alloc(mmb_heap *heap, uint32_t nslots, uint32_t payload_bytes) {
    mmb_heap *i = in(heap);
    in_alloc = true;
    nfresh = 0;
    mmb_obj *o = i->manager->alloc(i, nslots, payload_bytes);
    in_alloc = false;
    for (size_t k = 0; o && k < nfresh; k++) {
        char *b = (char *)(fresh[k] + 1);
        if ((char *)o >= b && (char *)o < b + fresh[k]->bytes)
            fresh[k]->obj_offset_plus1 = (size_t)((char *)o - b) + 1;
    }
    return o;
}

static void own_incref(mmb_heap *heap, mmb_obj *o) {
    mmb_incref(in(heap), o);
}

static void own_decref(mmb_heap *heap, mmb_obj *o) {
    mmb_decref(in(heap), o);
}

static void own_store(mmb_heap *heap, mmb_obj *o, uint32_t slot, mmb_obj *value) {
    own_heap *h = (own_heap *)heap;
    mmb_store(h->inner, o, slot, value);
    if (h->mode == OWN_EARLY && value && !h->lied && h->on_free) {
        h->lied = true;
        h->on_free(h->free_ctx, value); /* a lie: the mutator holds it, a slot points at it */
    }
}

static void own_collect(mmb_heap *heap) {
    mmb_collect(in(heap));
}

static void own_collect_young(mmb_heap *heap) {
    in(heap)->manager->collect_young(in(heap));
}

static void own_freeze(mmb_heap *heap) {
    in(heap)->manager->freeze(in(heap));
}

static void own_stats(mmb_heap *heap, mmb_stats *out) {
    mmb_stats_get(in(heap), out);
}

static void own_destroy(mmb_heap *heap) {
    own_heap *h = (own_heap *)heap;
    h->destroying = true;
    h->inner->manager->destroy(h->inner);
    free(h);
}

#define OWN_CREATE(fn, inner, mode)                                                                \
    static int fn(const mmb_heap_config *c, mmb_heap **out, char *err, size_t n) {                 \
        return own_create(&(inner), mode, c, out, err, n);                                         \
    }
OWN_CREATE(create_own_rc, mmb_manager_rc, OWN_CORRECT)
OWN_CREATE(create_own_cpython, mmb_manager_cpython, OWN_CORRECT)
OWN_CREATE(create_own_retain, mmb_manager_rc, OWN_CORRECT)
OWN_CREATE(create_own_early, mmb_manager_rc, OWN_EARLY)
OWN_CREATE(create_own_forget, mmb_manager_rc, OWN_FORGET)

/* The wrapper of `inner` (neither thread-safe nor with a read barrier: rc, cpython). */
static mmb_manager own_of(const mmb_manager *inner, const char *name, const char *summary,
                          int (*create)(const mmb_heap_config *, mmb_heap **, char *, size_t)) {
    mmb_manager m = *inner;
    m.name = name;
    m.summary = summary;
    m.caps |= MMB_CAP_OWN_MEMORY;
    m.create = create;
    m.destroy = own_destroy;
    m.alloc = own_alloc;
    m.incref = own_incref;
    m.decref = own_decref;
    m.store = own_store;
    m.load = NULL;
    m.collect = own_collect;
    m.collect_young = inner->collect_young ? own_collect_young : NULL;
    m.freeze = inner->freeze ? own_freeze : NULL;
    m.stats = own_stats;
    return m;
}

static mmb_manager own_rc, own_cpython, own_retain, own_early, own_forget;

int main(int argc, char **argv) {
    own_rc = own_of(&mmb_manager_rc, "own-rc", "test-only: rc, objects in its own memory",
                    create_own_rc);
    own_cpython = own_of(&mmb_manager_cpython, "own-cpython",
                         "test-only: cpython, objects in its own memory", create_own_cpython);
    /* rc claiming a conservative cycle collector: the cycles it never frees are "retained". */
    own_retain = own_of(&mmb_manager_rc, "own-retain",
                        "test-only: rc claiming conservative cycle collection", create_own_retain);
    own_retain.caps |= MMB_CAP_CYCLES | MMB_CAP_CONSERVATIVE;
    own_early = own_of(&mmb_manager_rc, "own-broken-early",
                       "test-only: reports a reachable object freed", create_own_early);
    own_forget = own_of(&mmb_manager_rc, "own-broken-forget",
                        "test-only: destroy leaves one object unreported", create_own_forget);
    const mmb_manager *all[] = {&own_rc, &own_cpython, &own_retain, &own_early, &own_forget};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (mmb_manager_register(all[i])) {
            fprintf(stderr, "mmbench-own: cannot register %s\n", all[i]->name);
            return 1;
        }
    return mmb_cli_main(argc, argv);
}
