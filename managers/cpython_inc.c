/* cpython-inc: reference counting plus the incremental cycle collector of CPython 3.14.0
 * (Python/gc.c): a young generation and an old one split into a visited and a pending space;
 * each collection takes the young generation plus an increment of the pending space, grown
 * transitively so it is closed, sized by work_to_do; a "mark alive from roots" pass moves what
 * the mutator's references reach into the visited space, in bounded steps. managers/README.md
 * says where this follows 3.14.0 and where it simplifies. */
#include <assert.h>

#include "trial.h"

/* gc_bits: bit 0 TRACKED (has slots), bits 1-2 COLLECTING and UNREACHABLE and bits 8-63 gc_refs
 * (trial deletion's, managers/trial.h), bit 3 OLD (in the old generation; else young or
 * untracked), bit 4 SPACE (which old space). */
#define GC_TRACKED    (UINT64_C(1) << 0)
#define GC_COLLECTING MMB_GC_COLLECTING
#define GC_OLD        (UINT64_C(1) << 3)
#define GC_SPACE      (UINT64_C(1) << 4)

/* 3.14.0's SCAN_RATE_DIVISOR: with the default threshold1 of 10, 1% of the heap per increment. */
#define SCAN_RATE_DIVISOR 10

typedef struct gc_header {
    mmb_link link;         /* young, an old space, gray, untracked, or a collection's list */
    mmb_link root;         /* on roots_todo or roots_done while mutator_refs > 0 */
    uint64_t refcount;     /* mutator references + slots pointing here */
    uint64_t mutator_refs; /* references held by the mutator: this model's stack and globals */
    uint64_t gc_bits;
} gc_header;

typedef enum { PHASE_MARK, PHASE_COLLECT } gc_phase;

typedef struct inc_heap {
    mmb_heap base;
    mmb_heap_config cfg;
    mmb_stats stats;
    mmb_link young, old[2], gray, untracked;
    mmb_link roots_todo, roots_done; /* roots not yet / already marked from this cycle */
    int64_t young_count, threshold0, threshold1, scale_pct;
    int64_t work_to_do;
    uint64_t heap_size; /* tracked objects, as gcstate->heap_size */
    unsigned visited_space;
    gc_phase phase;
    bool collecting;
    mmb_stack work;
} inc_heap;

static inline gc_header *hdr(mmb_obj *o) {
    return (gc_header *)o - 1;
}
static inline mmb_obj *obj_of(mmb_link *l) {
    return (mmb_obj *)((gc_header *)l + 1);
}
static inline void set_visited(inc_heap *h, gc_header *g) {
    g->gc_bits = (g->gc_bits & ~GC_SPACE) | GC_OLD | (h->visited_space ? GC_SPACE : 0);
}
/* An old object in the pending space: what marking and increments may take. */
static inline bool is_pending(const inc_heap *h, const gc_header *g) {
    return (g->gc_bits & (GC_OLD | GC_COLLECTING)) == GC_OLD &&
           ((g->gc_bits & GC_SPACE) != 0) != (h->visited_space != 0);
}

/* ---- reference counting --------------------------------------------------------------------- */

static void free_object(mmb_heap *heap, mmb_obj *o) {
    inc_heap *h = (inc_heap *)heap;
    gc_header *g = hdr(o);
    size_t bytes = mmb_block_bytes(sizeof(gc_header), o);
    mmb_list_remove(&g->link);
    if (g->root.next)
        mmb_list_remove(&g->root);
    if (g->gc_bits & GC_TRACKED) {
        h->heap_size--;
        if (h->young_count > 0)
            h->young_count--;
    }
    mmb_stats_freed(&h->stats, bytes, h->collecting);
    h->cfg.allocator.free(h->cfg.allocator.ctx, g, bytes);
}

static uint64_t dec(mmb_obj *o) {
    return --hdr(o)->refcount;
}

static const mmb_rc_class inc_class = {.dec = dec, .survived = NULL, .free_obj = free_object};

static void release(inc_heap *h, mmb_obj *o) {
    if (h->collecting)
        mmb_rc_cascade(&h->base, &inc_class, &h->work, &h->stats, &h->cfg, o, NULL);
    else
        mmb_rc_release(&h->base, &inc_class, &h->work, &h->stats, &h->cfg, o);
}

static void decref(inc_heap *h, mmb_obj *o) {
    h->stats.decrements++;
    if (dec(o) == 0)
        release(h, o);
}

static void slot_incref(mmb_heap *heap, mmb_obj *o) {
    ((inc_heap *)heap)->stats.increments++;
    hdr(o)->refcount++;
}

static void slot_decref(mmb_heap *heap, mmb_obj *o) {
    decref((inc_heap *)heap, o);
}

static void inc_incref(mmb_heap *heap, mmb_obj *o) {
    inc_heap *h = (inc_heap *)heap;
    gc_header *g = hdr(o);
    /* A root that is not pending is young or visited already: it needs no marking this cycle,
     * and goes on the list the next cycle marks from. */
    if (g->mutator_refs++ == 0)
        mmb_list_append(is_pending(h, g) ? &h->roots_todo : &h->roots_done, &g->root);
    slot_incref(heap, o);
}

static void inc_decref(mmb_heap *heap, mmb_obj *o) {
    gc_header *g = hdr(o);
    if (g->mutator_refs > 0 && --g->mutator_refs == 0)
        mmb_list_remove(&g->root);
    decref((inc_heap *)heap, o);
}

static void inc_store(mmb_heap *heap, mmb_obj *o, uint32_t slot, mmb_obj *value) {
    mmb_rc_store(heap, o, slot, value, slot_incref, slot_decref);
}

/* ---- mark alive from roots ------------------------------------------------------------------ */

/* Moves o's pending children to the gray list, marked visited. */
static void mark_children(inc_heap *h, mmb_obj *o) {
    h->stats.objects_traversed++;
    for (uint32_t i = 0; i < o->nslots; i++) {
        mmb_obj *child = o->slots[i];
        if (!child)
            continue;
        gc_header *c = hdr(child);
        if (is_pending(h, c)) {
            set_visited(h, c);
            mmb_list_remove(&c->link);
            mmb_list_append(&h->gray, &c->link);
        }
    }
}

/* At most `budget` objects of the mark: gray objects are scanned and move to the visited space's
 * list; roots not yet marked this cycle are marked (an old pending root turns gray, a young one
 * has its children marked). Returns the objects examined; *done when nothing is left. */
static int64_t mark_step(inc_heap *h, int64_t budget, bool *done) {
    int64_t n = 0;
    mmb_link *visited = &h->old[h->visited_space];
    *done = false;
    while (n < budget) {
        if (!mmb_list_empty(&h->gray)) {
            mmb_link *l = h->gray.next;
            mmb_list_remove(l);
            mmb_list_append(visited, l);
            mark_children(h, obj_of(l));
        } else if (!mmb_list_empty(&h->roots_todo)) {
            gc_header *g = (gc_header *)((char *)h->roots_todo.next - offsetof(gc_header, root));
            mmb_list_remove(&g->root);
            mmb_list_append(&h->roots_done, &g->root);
            if (is_pending(h, g)) {
                set_visited(h, g);
                mmb_list_remove(&g->link);
                mmb_list_append(&h->gray, &g->link);
            } else if ((g->gc_bits & (GC_TRACKED | GC_OLD)) == GC_TRACKED) {
                mark_children(h, (mmb_obj *)(g + 1));
            }
        } else {
            *done = true;
            break;
        }
        n++;
    }
    return n;
}

/* ---- collecting a region (gc_collect_region) ------------------------------------------------ */

/* What trial deletion (trial.h) needs of this manager: survivors join the visited space. */
static void survived(mmb_heap *heap, mmb_obj *o, unsigned to) {
    (void)to;
    set_visited((inc_heap *)heap, hdr(o));
}

static void release_collecting(mmb_heap *heap, mmb_obj *o) {
    release((inc_heap *)heap, o);
}

static const mmb_trial_class inc_trial = {
    .header_bytes = sizeof(gc_header),
    .refcount_offset = offsetof(gc_header, refcount),
    .bits_offset = offsetof(gc_header, gc_bits),
    .survived = survived,
    .decref = slot_decref,
    .release = release_collecting,
};

/* Collects `region` (every object on it visited and old already); survivors join the visited
 * space. Returns the objects freed, cascades included. */
static uint64_t collect_region(inc_heap *h, mmb_link *region, uint64_t *survivors) {
    uint64_t freed_before = h->stats.objects_freed_by_gc;
    mmb_link *visited = &h->old[h->visited_space];
    mmb_link unreachable;
    mmb_list_init(&unreachable);
    mmb_trial_update_refs(&inc_trial, region);
    mmb_trial_subtract_refs(&inc_trial, &h->stats, region);
    *survivors =
        mmb_trial_move_unreachable(&h->base, &inc_trial, &h->stats, region, &unreachable, 0);
    mmb_list_merge(region, visited);
    mmb_trial_delete_garbage(&h->base, &inc_trial, &h->stats, &unreachable, visited, 0);
    return h->stats.objects_freed_by_gc - freed_before;
}

/* Moves the young generation onto `region`, marked old and visited. Returns its size. */
static int64_t take_young(inc_heap *h, mmb_link *region) {
    int64_t n = 0;
    for (mmb_link *l = h->young.next; l != &h->young; l = l->next, n++)
        set_visited(h, (gc_header *)l);
    mmb_list_merge(&h->young, region);
    return n;
}

/* Adds to `region` the pending objects reachable from those on it from `from` on (3.14.0's
 * expand_region_transitively_reachable): the region's own list is the work list. */
static int64_t expand_region(inc_heap *h, mmb_link *region, mmb_link *from) {
    int64_t n = 0;
    for (mmb_link *l = from; l != region; l = l->next) {
        mmb_obj *o = obj_of(l);
        h->stats.objects_traversed++;
        for (uint32_t i = 0; i < o->nslots; i++) {
            mmb_obj *child = o->slots[i];
            if (!child || !is_pending(h, hdr(child)))
                continue;
            set_visited(h, hdr(child));
            mmb_list_remove(&hdr(child)->link);
            mmb_list_append(region, &hdr(child)->link);
            n++;
        }
    }
    return n;
}

/* The pending space is exhausted: the visited space becomes the pending one (3.14.0's
 * completed_scavenge), and marking starts again from every root. */
static void completed_scavenge(inc_heap *h) {
    h->visited_space ^= 1u;
    mmb_list_merge(&h->gray, &h->old[h->visited_space ^ 1u]);
    mmb_list_merge(&h->roots_done, &h->roots_todo);
    h->work_to_do = 0;
    h->phase = PHASE_MARK;
}

/* 3.14.0's assess_work_to_do, scaled by the increment-scale option. */
static int64_t assess_work_to_do(inc_heap *h) {
    int64_t scale_factor = h->threshold1 < 2 ? 2 : h->threshold1;
    int64_t new_objects = h->young_count;
    int64_t max_heap_fraction = new_objects * 3 / 2;
    int64_t heap_fraction = (int64_t)h->heap_size / SCAN_RATE_DIVISOR / scale_factor;
    if (heap_fraction > max_heap_fraction)
        heap_fraction = max_heap_fraction;
    h->young_count = 0;
    return (new_objects + heap_fraction) * h->scale_pct / 100;
}

/* One pause: the young generation plus a mark step (mark phase) or an increment of the pending
 * space (collect phase), as 3.14.0's gc_collect_increment. */
static void collect_increment(inc_heap *h) {
    assert(!h->collecting);
    uint64_t start_ns = mmb_collect_begin(&h->cfg);
    h->collecting = true;
    h->work_to_do += assess_work_to_do(h);
    bool mark_done;
    int64_t budget = h->work_to_do > 0 ? h->work_to_do : 1;
    int64_t marked = mark_step(h, budget, &mark_done);
    h->work_to_do -= marked;
    if (h->phase == PHASE_MARK && mark_done)
        h->phase = PHASE_COLLECT;
    mmb_link region;
    mmb_list_init(&region);
    int64_t size = take_young(h, &region);
    mmb_link *pending = &h->old[h->visited_space ^ 1u];
    if (h->phase == PHASE_COLLECT) {
        while (size < h->work_to_do && !mmb_list_empty(pending)) {
            mmb_link *l = pending->next;
            set_visited(h, (gc_header *)l);
            mmb_list_remove(l);
            mmb_list_append(&region, l);
            size += 1 + expand_region(h, &region, l);
        }
    }
    uint64_t survivors;
    uint64_t freed = collect_region(h, &region, &survivors);
    int64_t scale_factor = h->threshold1 < 2 ? 2 : h->threshold1;
    h->work_to_do += (int64_t)h->heap_size / SCAN_RATE_DIVISOR / scale_factor;
    /* A mark-phase pause is 3.14.0's mark_at_start, which collects no young generation: the young
     * one it collects here is not charged to the work, or marking would crawl. */
    if (h->phase == PHASE_COLLECT)
        h->work_to_do -= size;
    if (h->phase == PHASE_COLLECT && mmb_list_empty(pending))
        completed_scavenge(h);
    h->collecting = false;
    h->stats.collections_young++;
    mmb_collect_end(&h->cfg, MMB_EVENT_INCREMENT, 1, start_ns, survivors + freed, freed);
}

/* gc.collect(): the young generation and both old spaces at once (3.14.0's gc_collect_full). */
static void collect_full(inc_heap *h) {
    assert(!h->collecting);
    uint64_t start_ns = mmb_collect_begin(&h->cfg);
    h->collecting = true;
    mmb_link region;
    mmb_list_init(&region);
    take_young(h, &region);
    for (int s = 0; s < 2; s++) {
        for (mmb_link *l = h->old[s].next; l != &h->old[s]; l = l->next)
            set_visited(h, (gc_header *)l);
        mmb_list_merge(&h->old[s], &region);
    }
    for (mmb_link *l = h->gray.next; l != &h->gray; l = l->next)
        set_visited(h, (gc_header *)l);
    mmb_list_merge(&h->gray, &region);
    uint64_t survivors;
    uint64_t freed = collect_region(h, &region, &survivors);
    h->young_count = 0;
    completed_scavenge(h);
    h->collecting = false;
    h->stats.collections_full++;
    mmb_collect_end(&h->cfg, MMB_EVENT_FULL, 2, start_ns, survivors + freed, freed);
}

/* ---- operations ----------------------------------------------------------------------------- */

static mmb_obj *inc_alloc(mmb_heap *heap, uint32_t nslots, uint32_t payload_bytes) {
    inc_heap *h = (inc_heap *)heap;
    size_t bytes;
    gc_header *g = mmb_block_alloc(&h->cfg.allocator, sizeof *g, nslots, payload_bytes, &bytes);
    if (!g)
        return NULL;
    g->refcount = 1;
    g->mutator_refs = 1;
    g->gc_bits = 0;
    mmb_obj *o = mmb_obj_init(g + 1, nslots, payload_bytes, &h->stats, bytes);
    mmb_list_append(&h->roots_done, &g->root); /* young: marked from the next cycle on */
    if (nslots == 0) {
        mmb_list_append(&h->untracked, &g->link);
        return o;
    }
    g->gc_bits = GC_TRACKED;
    h->young_count++;
    if (h->threshold0 > 0 && h->young_count > h->threshold0)
        collect_increment(h);
    h->heap_size++;
    mmb_list_append(&h->young, &g->link);
    return o;
}

static void inc_collect(mmb_heap *heap) {
    collect_full((inc_heap *)heap);
}

static void inc_collect_young(mmb_heap *heap) {
    collect_increment((inc_heap *)heap);
}

static void inc_stats(mmb_heap *heap, mmb_stats *out) {
    *out = ((inc_heap *)heap)->stats;
}

static void inc_destroy(mmb_heap *heap) {
    inc_heap *h = (inc_heap *)heap;
    mmb_link *lists[] = {&h->young, &h->old[0], &h->old[1], &h->gray, &h->untracked};
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        mmb_list_free_all(lists[i], &h->cfg.allocator, sizeof(gc_header));
    mmb_stack_release(&h->work);
    h->cfg.allocator.free(h->cfg.allocator.ctx, h, sizeof *h);
}

static int inc_create(const mmb_heap_config *cfg, mmb_heap **out, char *err, size_t err_bytes);

static const mmb_option_spec inc_options[] = {
    {"threshold0", MMB_OPT_INT, 2000, 0, INT64_MAX,
     "collect the young generation plus an increment when tracked allocations minus "
     "deallocations exceed this (objects; 0 disables automatic collection)"},
    {"threshold1", MMB_OPT_INT, 10, 0, INT64_MAX,
     "3.14.0's old threshold: an increment adds heap size / 10 / this to the work to do "
     "(divisor; below 2 counts as 2)"},
    {"increment-scale", MMB_OPT_INT, 100, 1, 100000,
     "scale on 3.14.0's work_to_do, so on the increment size (percent)"},
    {NULL, MMB_OPT_INT, 0, 0, 0, NULL},
};

const mmb_manager mmb_manager_cpython_inc = {
    .name = "cpython-inc",
    .summary = "reference counting plus CPython 3.14.0's incremental cycle collector",
    .caps = MMB_CAP_REFCOUNT | MMB_CAP_CYCLES | MMB_CAP_INCREMENTAL | MMB_CAP_YOUNG,
    .options = inc_options,
    .create = inc_create,
    .destroy = inc_destroy,
    .alloc = inc_alloc,
    .incref = inc_incref,
    .decref = inc_decref,
    .store = inc_store,
    .load = NULL,
    .collect = inc_collect,
    .collect_young = inc_collect_young,
    .freeze = NULL,
    .stats = inc_stats,
};

static int inc_create(const mmb_heap_config *cfg, mmb_heap **out, char *err, size_t err_bytes) {
    inc_heap *h = mmb_heap_new(cfg, sizeof *h, &mmb_manager_cpython_inc, err, err_bytes);
    if (!h)
        return -1;
    h->cfg = *cfg;
    h->stats.header_bytes = sizeof(gc_header);
    mmb_link *lists[] = {&h->young,     &h->old[0],     &h->old[1],    &h->gray,
                         &h->untracked, &h->roots_todo, &h->roots_done};
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        mmb_list_init(lists[i]);
    h->threshold0 = cfg->options[0];
    h->threshold1 = cfg->options[1];
    h->scale_pct = cfg->options[2];
    h->phase = PHASE_MARK;
    mmb_stack_init(&h->work, &h->cfg.allocator);
    *out = &h->base;
    return 0;
}
