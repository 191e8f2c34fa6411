/* cpython: reference counting plus the generational cycle collector of CPython 3.11
 * (Python/gc.c): three generations, update_refs / subtract_refs / move_unreachable, the
 * long-lived heuristic and gc.freeze(). See managers/README.md. */
#include <assert.h>

#include "trial.h"

#define NUM_GENERATIONS 3
#define GEN_PERMANENT   3 /* the generation field's value for frozen objects */

/* gc_bits packs the collector's per-object state, as CPython packs it into _gc_prev:
 *
 *   bit 0      TRACKED      the object has slots, so it can be on a cycle; it is on a generation
 *                           list or the permanent list for life. Objects without slots are never
 *                           tracked (CPython's untracked atomic objects) and sit on `untracked`.
 *   bits 1-2   COLLECTING, UNREACHABLE: trial deletion's, in the generations being collected
 *                           (managers/trial.h). Never set outside a collection.
 *   bits 3-4   generation   0..2, or GEN_PERMANENT; outside a collection it names the list a
 *                           tracked object is on. 0 for untracked objects.
 *   bits 8-63  gc_refs      trial deletion's, meaningful only while COLLECTING (trial.h). */
#define GC_TRACKED     (UINT64_C(1) << 0)
#define GC_COLLECTING  MMB_GC_COLLECTING
#define GC_UNREACHABLE MMB_GC_UNREACHABLE
#define GC_GEN_SHIFT   3
#define GC_GEN_MASK    (UINT64_C(3) << GC_GEN_SHIFT)

/* The link comes first so that a list element is its header. */
typedef struct gc_header {
    mmb_link link;     /* the list this object is on (see gc_bits) */
    uint64_t refcount; /* mutator references + slots pointing here; 0 only while being freed */
    uint64_t gc_bits;
} gc_header;

/* `count` is, for generation 0, tracked allocations minus tracked deallocations since it was last
 * collected; for older ones, collections of the next younger generation since then. */
typedef struct gc_generation {
    mmb_link head;
    int64_t threshold;
    int64_t count;
} gc_generation;

typedef struct cpython_heap {
    mmb_heap base;
    mmb_heap_config cfg;
    mmb_stats stats;
    gc_generation generations[NUM_GENERATIONS];
    mmb_link permanent; /* frozen: examined by no collection, still freed by refcounting */
    mmb_link untracked; /* objects without slots: they cannot be on a cycle */
    /* The long-lived heuristic: survivors of the last full collection, and objects that have
     * reached generation 2 since then; a full collection waits until pending is a quarter of
     * total, which keeps full collections linear overall as the heap grows. */
    uint64_t long_lived_total;
    uint64_t long_lived_pending;
    bool collecting; /* frees now belong to a collection's pause, not to a cascade */
    mmb_stack work;  /* the cascade's pending frees, kept between calls to avoid regrowing */
} cpython_heap;

static inline gc_header *hdr(mmb_obj *o) {
    return (gc_header *)o - 1;
}

static inline void gc_set_gen(gc_header *g, unsigned gen) {
    g->gc_bits = (g->gc_bits & ~GC_GEN_MASK) | (uint64_t)gen << GC_GEN_SHIFT;
}

#ifndef NDEBUG
static unsigned gc_get_gen(const gc_header *g) {
    return (unsigned)((g->gc_bits & GC_GEN_MASK) >> GC_GEN_SHIFT);
}

/* The invariant outside collections, for one generation list. Only the lists about to be
 * collected are checked, so a young collection never pays for walking the old generation. */
static void validate_list(const mmb_link *head, unsigned gen) {
    for (const mmb_link *l = head->next; l != head; l = l->next) {
        const gc_header *g = (const gc_header *)l;
        assert(l->next->prev == l);
        assert(g->gc_bits & GC_TRACKED);
        assert(gc_get_gen(g) == gen);
        assert(!(g->gc_bits & (GC_COLLECTING | GC_UNREACHABLE)));
        assert(g->refcount > 0);
    }
}
#else
#define validate_list(head, gen) ((void)0)
#endif

/* ---- reference counting --------------------------------------------------------------------- */

static void free_object(mmb_heap *heap, mmb_obj *o) {
    cpython_heap *h = (cpython_heap *)heap;
    gc_header *g = hdr(o);
    size_t bytes = mmb_block_bytes(sizeof(gc_header), o);
    mmb_list_remove(&g->link); /* whichever list: a generation, permanent, unreachable, ... */
    if ((g->gc_bits & GC_TRACKED) && h->generations[0].count > 0)
        h->generations[0].count--; /* as PyObject_GC_Del: deaths offset allocations */
    mmb_stats_freed(&h->stats, bytes, h->collecting);
    h->cfg.allocator.free(h->cfg.allocator.ctx, g, bytes);
}

static uint64_t dec(mmb_obj *o) {
    return --hdr(o)->refcount;
}

static const mmb_rc_class cpython_class = {.dec = dec, .survived = NULL, .free_obj = free_object};

/* Frees `o`, whose count just reached zero, and everything whose count reaches zero as a result
 * (mmb_rc_cascade): inside a collection untimed, its pause covers it. */
static void release(cpython_heap *h, mmb_obj *o) {
    if (h->collecting)
        mmb_rc_cascade(&h->base, &cpython_class, &h->work, &h->stats, &h->cfg, o, NULL);
    else
        mmb_rc_release(&h->base, &cpython_class, &h->work, &h->stats, &h->cfg, o);
}

static void decref(cpython_heap *h, mmb_obj *o) {
    h->stats.decrements++;
    if (dec(o) == 0)
        release(h, o);
}

static void cpython_incref(mmb_heap *heap, mmb_obj *o) {
    cpython_heap *h = (cpython_heap *)heap;
    h->stats.increments++;
    hdr(o)->refcount++;
}

static void cpython_decref(mmb_heap *heap, mmb_obj *o) {
    decref((cpython_heap *)heap, o);
}

/* No write barrier: the collector finds cross-generation references by subtracting, not by
 * remembering them. */
static void cpython_store(mmb_heap *heap, mmb_obj *o, uint32_t slot, mmb_obj *value) {
    mmb_rc_store(heap, o, slot, value, cpython_incref, cpython_decref);
}

/* ---- the cycle collector -------------------------------------------------------------------- */

/* What trial deletion (trial.h) needs of this manager: a survivor's generation, its decrement
 * and its free inside a collection. */
static void survived(mmb_heap *heap, mmb_obj *o, unsigned gen) {
    (void)heap;
    gc_set_gen(hdr(o), gen);
}

static void release_collecting(mmb_heap *heap, mmb_obj *o) {
    release((cpython_heap *)heap, o);
}

static const mmb_trial_class cpython_trial = {
    .header_bytes = sizeof(gc_header),
    .refcount_offset = offsetof(gc_header, refcount),
    .bits_offset = offsetof(gc_header, gc_bits),
    .survived = survived,
    .decref = cpython_decref,
    .release = release_collecting,
};

/* Collects generation `gen` and every younger one (CPython's gc_collect_main). */
static void collect(cpython_heap *h, int gen) {
    assert(!h->collecting && gen >= 0 && gen < NUM_GENERATIONS);
    uint64_t start_ns = mmb_collect_begin(&h->cfg);
    uint64_t freed_before = h->stats.objects_freed_by_gc;
    h->collecting = true;

    if (gen + 1 < NUM_GENERATIONS)
        h->generations[gen + 1].count++;
    for (int i = 0; i <= gen; i++)
        h->generations[i].count = 0;
    for (int i = 0; i <= gen; i++)
        validate_list(&h->generations[i].head, (unsigned)i);

    mmb_link *young = &h->generations[gen].head;
    for (int i = 0; i < gen; i++)
        mmb_list_merge(&h->generations[i].head, young);
    int old_gen = gen + 1 < NUM_GENERATIONS ? gen + 1 : gen;
    mmb_link *old = &h->generations[old_gen].head;

    mmb_link unreachable;
    mmb_list_init(&unreachable);
    uint64_t examined = mmb_trial_update_refs(&cpython_trial, young);
    mmb_trial_subtract_refs(&cpython_trial, &h->stats, young);
    uint64_t survivors = mmb_trial_move_unreachable(&h->base, &cpython_trial, &h->stats, young,
                                                    &unreachable, (unsigned)old_gen);

    if (gen == NUM_GENERATIONS - 2)
        h->long_lived_pending += survivors;
    if (gen == NUM_GENERATIONS - 1) {
        h->long_lived_pending = 0;
        h->long_lived_total = survivors;
    } else {
        mmb_list_merge(young, old);
    }

    mmb_trial_delete_garbage(&h->base, &cpython_trial, &h->stats, &unreachable, old,
                             (unsigned)old_gen);

    h->collecting = false;
    uint64_t freed = h->stats.objects_freed_by_gc - freed_before;
    assert(freed >= examined - survivors);
    (void)examined; /* read only by the assertion */
    /* Every object examined survived or was freed; cascades may also free objects outside the
     * collected set (older ones that only garbage referenced), examined by the pause too. */
    uint64_t visited = survivors + freed;
    if (gen == NUM_GENERATIONS - 1) {
        h->stats.collections_full++;
        mmb_collect_end(&h->cfg, MMB_EVENT_FULL, gen, start_ns, visited, freed);
    } else {
        h->stats.collections_young++;
        mmb_collect_end(&h->cfg, MMB_EVENT_YOUNG, gen, start_ns, visited, freed);
    }
}

/* Collects the oldest generation whose count exceeds its threshold (CPython's
 * gc_collect_generations), except that generation 2 waits for the long-lived heuristic. */
static void collect_generations(cpython_heap *h) {
    for (int i = NUM_GENERATIONS - 1; i >= 0; i--) {
        if (h->generations[i].count <= h->generations[i].threshold)
            continue;
        if (i == NUM_GENERATIONS - 1 && h->long_lived_pending < h->long_lived_total / 4)
            continue;
        collect(h, i);
        return;
    }
}

/* ---- operations ----------------------------------------------------------------------------- */

static mmb_obj *cpython_alloc(mmb_heap *heap, uint32_t nslots, uint32_t payload_bytes) {
    cpython_heap *h = (cpython_heap *)heap;
    size_t bytes;
    gc_header *g = mmb_block_alloc(&h->cfg.allocator, sizeof *g, nslots, payload_bytes, &bytes);
    if (!g)
        return NULL;
    g->refcount = 1;
    g->gc_bits = 0;
    mmb_obj *o = mmb_obj_init(g + 1, nslots, payload_bytes, &h->stats, bytes);
    if (nslots == 0) {
        mmb_list_append(&h->untracked, &g->link);
        return o;
    }
    /* As _PyObject_GC_Link: count, and maybe collect, before the new object is tracked; the
     * collection cannot see it, so it survives. threshold0 == 0 disables automatic collection
     * (gc.set_threshold(0)). */
    g->gc_bits = GC_TRACKED;
    gc_generation *gen0 = &h->generations[0];
    gen0->count++;
    if (gen0->threshold > 0 && gen0->count > gen0->threshold)
        collect_generations(h);
    mmb_list_append(&gen0->head, &g->link);
    return o;
}

static void cpython_collect(mmb_heap *heap) {
    collect((cpython_heap *)heap, NUM_GENERATIONS - 1);
}

static void cpython_collect_young(mmb_heap *heap) {
    collect((cpython_heap *)heap, 0);
}

/* gc.freeze(). CPython splices the lists in O(1); this also walks them once, so that every
 * object's generation field keeps naming its list. Garbage not yet collected is frozen too, as
 * in CPython: collect first to avoid that. Every generation's count restarts at 0, as CPython
 * 3.11's does (checked against it: tests/fidelity_cpython.c). */
static void cpython_freeze(mmb_heap *heap) {
    cpython_heap *h = (cpython_heap *)heap;
    for (int i = 0; i < NUM_GENERATIONS; i++) {
        mmb_link *head = &h->generations[i].head;
        for (mmb_link *l = head->next; l != head; l = l->next)
            gc_set_gen((gc_header *)l, GEN_PERMANENT);
        mmb_list_merge(head, &h->permanent);
        h->generations[i].count = 0;
    }
}

static void cpython_stats(mmb_heap *heap, mmb_stats *out) {
    *out = ((cpython_heap *)heap)->stats;
}

static void cpython_destroy(mmb_heap *heap) {
    cpython_heap *h = (cpython_heap *)heap;
    for (int i = 0; i < NUM_GENERATIONS; i++)
        mmb_list_free_all(&h->generations[i].head, &h->cfg.allocator, sizeof(gc_header));
    mmb_list_free_all(&h->permanent, &h->cfg.allocator, sizeof(gc_header));
    mmb_list_free_all(&h->untracked, &h->cfg.allocator, sizeof(gc_header));
    mmb_stack_release(&h->work);
    h->cfg.allocator.free(h->cfg.allocator.ctx, h, sizeof *h);
}

static int cpython_create(const mmb_heap_config *cfg, mmb_heap **out, char *err, size_t err_bytes);

/* In table order, so options[i] of the config is generation i's threshold. */
static const mmb_option_spec cpython_options[] = {
    {"threshold0", MMB_OPT_INT, 700, 0, INT64_MAX,
     "collect generation 0 when tracked allocations minus deallocations exceed this (objects; "
     "0 disables automatic collection)"},
    {"threshold1", MMB_OPT_INT, 10, 0, INT64_MAX,
     "collect generation 1 when generation 0 has been collected more than this many times since "
     "(collections)"},
    {"threshold2", MMB_OPT_INT, 10, 0, INT64_MAX,
     "collect generation 2 when generation 1 has been collected more than this many times since, "
     "and objects new to it are at least a quarter of the long-lived ones (collections)"},
    {NULL, MMB_OPT_INT, 0, 0, 0, NULL},
};

const mmb_manager mmb_manager_cpython = {
    .name = "cpython",
    .summary = "reference counting plus CPython 3.11's three-generation cycle collector",
    .caps = MMB_CAP_REFCOUNT | MMB_CAP_CYCLES | MMB_CAP_YOUNG,
    .options = cpython_options,
    .create = cpython_create,
    .destroy = cpython_destroy,
    .alloc = cpython_alloc,
    .incref = cpython_incref,
    .decref = cpython_decref,
    .store = cpython_store,
    .load = NULL,
    .collect = cpython_collect,
    .collect_young = cpython_collect_young,
    .freeze = cpython_freeze,
    .stats = cpython_stats,
};

static int cpython_create(const mmb_heap_config *cfg, mmb_heap **out, char *err, size_t err_bytes) {
    cpython_heap *h = mmb_heap_new(cfg, sizeof *h, &mmb_manager_cpython, err, err_bytes);
    if (!h)
        return -1;
    h->cfg = *cfg;
    h->stats.header_bytes = sizeof(gc_header);
    for (int i = 0; i < NUM_GENERATIONS; i++) {
        mmb_list_init(&h->generations[i].head);
        h->generations[i].threshold = cfg->options[i];
    }
    mmb_list_init(&h->permanent);
    mmb_list_init(&h->untracked);
    mmb_stack_init(&h->work, &h->cfg.allocator);
    *out = &h->base;
    return 0;
}
