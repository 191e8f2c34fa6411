/* marksweep: a stop-the-world mark-and-sweep collector with no reference counts, the tracing
 * baseline. Nothing is freed until a collection finds it unreachable. See managers/README.md. */
#include <assert.h>
#include <stdlib.h>

#include "roots.h"

/* The header before every object.
 *
 * root_count counts the mutator's references only; slots count for nothing, because reachability
 * is found by tracing. Invariants:
 *   - root_count > 0  <=>  the object is in the root table, at roots[root_index];
 *   - marked is 0 between collections; during one it means "reached, slots scanned or queued".
 * root_count has 31 bits so that the mark bit fits beside it and the header stays 16 bytes;
 * incref aborts rather than wrap past MS_ROOT_COUNT_MAX references to one object. */
typedef struct ms_header {
    struct ms_header *next; /* the next object on the heap's list; NULL ends it */
    uint32_t root_index;    /* where the object sits in roots[] while root_count > 0 */
    uint32_t root_count : 31;
    uint32_t marked : 1;
} ms_header;

#define MS_ROOT_COUNT_MAX 0x7fffffffu

/* Indices into cfg.options, in the order of ms_options. */
enum { OPT_MIN_BYTES, OPT_GROWTH };

typedef struct ms_heap {
    mmb_heap base;
    mmb_heap_config cfg;
    mmb_stats stats;
    ms_header *objects;                /* every object, live or garbage, newest first */
    mmb_roots roots;                   /* every object with root_count > 0 */
    uint64_t allocated_since_gc_bytes; /* block bytes allocated since the last collection */
    uint64_t trigger_bytes;            /* alloc collects once the above exceeds this */
} ms_heap;

static inline ms_header *hdr(mmb_obj *o) {
    return (ms_header *)o - 1;
}

static inline mmb_obj *obj(ms_header *r) {
    return (mmb_obj *)(r + 1);
}

/* ---- the root table ------------------------------------------------------------------------- */

/* Removes `o`, whose root_count just went from 1 to 0, by moving the last root into its place. */
static void root_remove(ms_heap *h, mmb_obj *o) {
    uint32_t i = hdr(o)->root_index;
    hdr(mmb_roots_remove(&h->roots, i))->root_index = i;
}

/* ---- collection ----------------------------------------------------------------------------- */

/* Marks every root and queues it on `work`; returns how many it marked. After: every root is
 * marked, and `work` holds exactly the marked objects whose slots are not yet examined. */
static uint64_t mark_roots(ms_heap *h, mmb_stack *work) {
    for (size_t i = 0; i < h->roots.count; i++) {
        mmb_obj *o = h->roots.at[i];
        hdr(o)->marked = 1;
        mmb_stack_push(work, o);
    }
    return h->roots.count;
}

/* Examines the slots of everything on `work`, marking and queueing each unmarked child; returns
 * how many objects it marked. Marking on push rather than on pop queues each object at most once,
 * so the stack never outgrows the live objects and a 10^7-long chain needs a single entry.
 * After: `work` is empty, and the marked objects are exactly those reachable from the roots. */
static uint64_t mark(ms_heap *h, mmb_stack *work) {
    uint64_t marked = 0;
    while (!mmb_stack_empty(work)) {
        mmb_obj *p = mmb_stack_pop(work);
        h->stats.objects_traversed++;
        for (uint32_t i = 0; i < p->nslots; i++) {
            mmb_obj *child = p->slots[i];
            if (!child || hdr(child)->marked)
                continue;
            hdr(child)->marked = 1;
            mmb_stack_push(work, child);
            marked++;
        }
    }
    return marked;
}

/* Frees every unmarked object and clears the mark of every other; adds to *swept the objects it
 * examined and to *freed those it freed. After: the list holds exactly the reachable objects, all
 * unmarked again, and the stats count the freed ones out. */
static void sweep(ms_heap *h, uint64_t *swept, uint64_t *freed) {
    ms_header **link = &h->objects;
    while (*link) {
        ms_header *r = *link;
        (*swept)++;
        if (r->marked) {
            r->marked = 0;
            link = &r->next;
            continue;
        }
        *link = r->next;
        size_t bytes = mmb_block_bytes(sizeof *r, obj(r));
        mmb_stats_freed(&h->stats, bytes, true);
        h->cfg.allocator.free(h->cfg.allocator.ctx, r, bytes);
        (*freed)++;
    }
}

/* Sets the allocation budget until the next automatic collection: the heap may grow by `growth`
 * percent of what survived this one (as Go's GOGC), and never collects more often than every
 * min-bytes. The proportional part is what keeps building a long list amortised O(n): a
 * collection costs O(S + A) for S bytes surviving the last one and A allocated since, and the
 * budget makes A >= S * growth / 100, so the cost is O(A * (1 + 100 / growth)), a constant per
 * byte allocated. A fixed budget alone would re-mark the whole growing list every min-bytes,
 * O(n^2) in all. */
static void set_trigger(ms_heap *h) {
    uint64_t min_bytes = (uint64_t)h->cfg.options[OPT_MIN_BYTES];
    uint64_t growth = (uint64_t)h->cfg.options[OPT_GROWTH];
    uint64_t live = h->stats.live_bytes;
    uint64_t grown = live > UINT64_MAX / growth ? UINT64_MAX : live * growth / 100;
    h->trigger_bytes = grown > min_bytes ? grown : min_bytes;
    h->allocated_since_gc_bytes = 0;
}

static void collect(ms_heap *h) {
    uint64_t start_ns = mmb_collect_begin(&h->cfg);
    mmb_stack work;
    /* A stack per collection: one wide graph must not pin its peak stack for the heap's life. */
    mmb_stack_init(&work, &h->cfg.allocator);
    uint64_t marked = mark_roots(h, &work);
    marked += mark(h, &work);
    mmb_stack_release(&work);
    uint64_t swept = 0, freed = 0;
    sweep(h, &swept, &freed);
    h->stats.collections_full++;
    set_trigger(h);
    /* Each object counted once (manager.h): the sweep examines every object, the marked among
     * them, so visited is `swept` and its survivors, swept - freed, are the marked. */
    assert(swept - freed == marked);
    (void)marked; /* read only by the assertion */
    mmb_collect_end(&h->cfg, MMB_EVENT_FULL, -1, start_ns, swept, freed);
}

/* ---- operations ----------------------------------------------------------------------------- */

static mmb_obj *ms_alloc(mmb_heap *heap, uint32_t nslots, uint32_t payload_bytes) {
    ms_heap *h = (ms_heap *)heap;
    if (h->allocated_since_gc_bytes > h->trigger_bytes)
        collect(h);
    if (!mmb_roots_reserve(&h->roots, &h->cfg.allocator))
        return NULL;
    size_t bytes;
    ms_header *r = mmb_block_alloc(&h->cfg.allocator, sizeof *r, nslots, payload_bytes, &bytes);
    if (!r)
        return NULL;
    r->next = h->objects;
    h->objects = r;
    r->marked = 0;
    r->root_count = 1;
    mmb_obj *o = mmb_obj_init(obj(r), nslots, payload_bytes, &h->stats, bytes);
    mmb_roots_add(&h->roots, o, &hdr(o)->root_index);
    h->allocated_since_gc_bytes += bytes;
    return o;
}

static void ms_incref(mmb_heap *heap, mmb_obj *o) {
    ms_heap *h = (ms_heap *)heap;
    ms_header *r = hdr(o);
    h->stats.increments++;
    if (r->root_count == 0) {
        if (!mmb_roots_reserve(&h->roots, &h->cfg.allocator))
            mmb_allocator_out_of_memory(&h->cfg.allocator, 2 * h->roots.cap * sizeof *h->roots.at);
        mmb_roots_add(&h->roots, o, &hdr(o)->root_index);
    } else if (r->root_count == MS_ROOT_COUNT_MAX) {
        fprintf(stderr, "mmbench: error: marksweep: over %u references to one object\n",
                MS_ROOT_COUNT_MAX);
        abort();
    }
    r->root_count++;
}

/* Never frees: an object the mutator drops stays until a collection finds it unreachable. */
static void ms_decref(mmb_heap *heap, mmb_obj *o) {
    ms_heap *h = (ms_heap *)heap;
    ms_header *r = hdr(o);
    h->stats.decrements++;
    if (--r->root_count == 0)
        root_remove(h, o);
}

/* No barrier: collections are stop-the-world and run to completion, so the marker never sees a
 * slot change under it. */
static void ms_store(mmb_heap *heap, mmb_obj *o, uint32_t slot, mmb_obj *value) {
    (void)heap;
    o->slots[slot] = value;
}

static void ms_collect(mmb_heap *heap) {
    collect((ms_heap *)heap);
}

static void ms_stats(mmb_heap *heap, mmb_stats *out) {
    *out = ((ms_heap *)heap)->stats;
}

static void ms_destroy(mmb_heap *heap) {
    ms_heap *h = (ms_heap *)heap;
    while (h->objects) {
        ms_header *r = h->objects;
        h->objects = r->next;
        h->cfg.allocator.free(h->cfg.allocator.ctx, r, mmb_block_bytes(sizeof *r, obj(r)));
    }
    mmb_roots_free(&h->roots, &h->cfg.allocator);
    h->cfg.allocator.free(h->cfg.allocator.ctx, h, sizeof *h);
}

static int ms_create(const mmb_heap_config *cfg, mmb_heap **out, char *err, size_t err_bytes);

static const mmb_option_spec ms_options[] = {
    [OPT_MIN_BYTES] = {"min-bytes", MMB_OPT_BYTES, 4 << 20, 0, INT64_MAX,
                       "least allocation between automatic collections (bytes, default 4M)"},
    [OPT_GROWTH] = {"growth", MMB_OPT_INT, 100, 1, INT64_MAX,
                    "heap growth past the last collection's survivors that triggers the next, "
                    "as Go's GOGC (percent, default 100)"},
    {NULL, MMB_OPT_INT, 0, 0, 0, NULL},
};

const mmb_manager mmb_manager_marksweep = {
    .name = "marksweep",
    .summary = "stop-the-world mark and sweep from a root table, no reference counts",
    .caps = MMB_CAP_CYCLES,
    .options = ms_options,
    .create = ms_create,
    .destroy = ms_destroy,
    .alloc = ms_alloc,
    .incref = ms_incref,
    .decref = ms_decref,
    .store = ms_store,
    .load = NULL,
    .collect = ms_collect,
    .collect_young = NULL,
    .freeze = NULL,
    .stats = ms_stats,
};

static int ms_create(const mmb_heap_config *cfg, mmb_heap **out, char *err, size_t err_bytes) {
    if (cfg->options[OPT_MIN_BYTES] < 0 || cfg->options[OPT_GROWTH] < 1) {
        snprintf(err, err_bytes, "need min-bytes >= 0 and growth >= 1, got %lld and %lld",
                 (long long)cfg->options[OPT_MIN_BYTES], (long long)cfg->options[OPT_GROWTH]);
        return -1;
    }
    ms_heap *h = mmb_heap_new(cfg, sizeof *h, &mmb_manager_marksweep, err, err_bytes);
    if (!h)
        return -1;
    h->cfg = *cfg;
    h->stats.header_bytes = sizeof(ms_header);
    set_trigger(h);
    *out = &h->base;
    return 0;
}
