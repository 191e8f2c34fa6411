/* The exact garbage sampler (garbage.h). Design notes:
 *  - The wrapper is outermost (over the oracle too, under --verify): the mutator's calls reach it
 *    first, and it sees exactly the references the program declares. `refs` maps each object the
 *    mutator holds to how many references it holds (alloc gives one, incref one more, decref
 *    takes one; an object whose count reaches 0 leaves the map). The slots are the manager's: a
 *    sample reads them directly, so it needs no shadow of the graph.
 *  - A sample runs between two operations, never inside one: the heap is quiescent, and neither
 *    the manager nor its events see it. It asks the manager's stats for live objects and bytes
 *    and traverses from every key of `refs` over slots with an explicit stack (a 10^7-long chain
 *    is fine), marking objects in `seen`, a set cleared before each sample. Reachable bytes are
 *    header_bytes + mmb_obj_bytes per object, which is how live_bytes counts a block.
 *  - Both tables are open-addressed with linear probing and a multiplicative (Fibonacci) hash of
 *    the address, not map.h's SipHash: refs is updated on the timed path (every alloc, incref and
 *    decref), and its keys are the allocator's addresses, not input a user could choose.
 *  - The sampler's own memory (the tables, the stack: about 16 bytes per reachable object at a
 *    sample) is the process's, so a cell's peak RSS includes it. */
#include "garbage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "mmbench/clock.h"

/* ---- pointer tables ------------------------------------------------------------------------- */

typedef struct ptr_table {
    uintptr_t *keys;  /* 0: an empty bucket */
    uint32_t *counts; /* per key; NULL for a set */
    size_t mask;      /* buckets - 1, a power of two */
    size_t count;     /* invariant: count <= buckets / 2 */
    unsigned shift;   /* 64 - log2(buckets) */
} ptr_table;

static void table_init(ptr_table *t, bool with_counts, unsigned log2_buckets) {
    size_t buckets = (size_t)1 << log2_buckets;
    t->keys = mmb_xcalloc(buckets, sizeof *t->keys);
    t->counts = with_counts ? mmb_xcalloc(buckets, sizeof *t->counts) : NULL;
    t->mask = buckets - 1;
    t->count = 0;
    t->shift = 64 - log2_buckets;
}

static void table_free(ptr_table *t) {
    free(t->keys);
    free(t->counts);
    memset(t, 0, sizeof *t);
}

static inline size_t home_of(const ptr_table *t, uintptr_t key) {
    return (size_t)(((uint64_t)key * 0x9E3779B97F4A7C15ull) >> t->shift);
}

/* The bucket holding key, or the empty one where it would go. */
static inline size_t find(const ptr_table *t, uintptr_t key) {
    size_t i = home_of(t, key);
    while (t->keys[i] && t->keys[i] != key)
        i = (i + 1) & t->mask;
    return i;
}

static void grow(ptr_table *t) {
    ptr_table bigger;
    table_init(&bigger, t->counts != NULL, 64 - t->shift + 1);
    for (size_t i = 0; i <= t->mask; i++)
        if (t->keys[i]) {
            size_t j = find(&bigger, t->keys[i]);
            bigger.keys[j] = t->keys[i];
            if (t->counts)
                bigger.counts[j] = t->counts[i];
        }
    bigger.count = t->count;
    table_free(t);
    *t = bigger;
}

/* Inserts key (count 1) or adds one to its count; returns whether it was new. */
static bool table_add(ptr_table *t, uintptr_t key) {
    if (2 * (t->count + 1) > t->mask + 1)
        grow(t);
    size_t i = find(t, key);
    if (t->keys[i]) {
        if (t->counts)
            t->counts[i]++;
        return false;
    }
    t->keys[i] = key;
    if (t->counts)
        t->counts[i] = 1;
    t->count++;
    return true;
}

/* Takes one from key's count, removing it at 0 (backward shift: no tombstones). Does nothing
 * for a key that is absent (a decref the program owed nothing for: the manager's business). */
static void table_drop(ptr_table *t, uintptr_t key) {
    size_t i = find(t, key);
    if (!t->keys[i] || --t->counts[i] > 0)
        return;
    size_t hole = i;
    for (size_t j = (i + 1) & t->mask; t->keys[j]; j = (j + 1) & t->mask) {
        size_t home = home_of(t, t->keys[j]);
        bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
        if (movable) {
            t->keys[hole] = t->keys[j];
            t->counts[hole] = t->counts[j];
            hole = j;
        }
    }
    t->keys[hole] = 0;
    t->count--;
}

static void table_clear(ptr_table *t) {
    memset(t->keys, 0, (t->mask + 1) * sizeof *t->keys);
    t->count = 0;
}

/* ---- the wrapper ---------------------------------------------------------------------------- */

typedef struct garbage_heap {
    mmb_heap base;
    mmb_manager vt; /* the inner heap's metadata with these functions */
    mmb_heap *inner;
    const mmb_manager *inner_m;
    uint64_t interval, until_next, ops;
    ptr_table refs; /* the mutator's references: object -> how many */
    ptr_table seen; /* a sample's reachable objects */
    mmb_obj **stack;
    size_t stack_cap;
    uint64_t t0_ns;
    mmb_garbage_summary sum;
    mmb_garbage_sample last;
    double sum_objects, sum_bytes;
    mmb_garbage_sample series[MMB_GARBAGE_SERIES_MAX];
    size_t nseries;
    uint64_t stride; /* the series keeps the samples whose index is a multiple of this */
} garbage_heap;

static void push(garbage_heap *h, size_t *top, mmb_obj *o) {
    if (*top == h->stack_cap) {
        h->stack_cap = h->stack_cap ? 2 * h->stack_cap : 1024;
        h->stack = mmb_xrealloc(h->stack, h->stack_cap * sizeof *h->stack);
    }
    h->stack[(*top)++] = o;
}

/* Counts what is reachable from the mutator's references into s. */
static void traverse(garbage_heap *h, uint64_t header_bytes, mmb_garbage_sample *s) {
    table_clear(&h->seen);
    uint64_t objects = 0, bytes = 0;
    size_t top = 0;
    for (size_t i = 0; i <= h->refs.mask; i++) {
        mmb_obj *root = (mmb_obj *)h->refs.keys[i];
        if (!root || !table_add(&h->seen, (uintptr_t)root))
            continue;
        push(h, &top, root);
        while (top) {
            mmb_obj *o = h->stack[--top];
            objects++;
            bytes += header_bytes + mmb_obj_bytes(o->nslots, o->payload_bytes);
            for (uint32_t k = 0; k < o->nslots; k++) {
                mmb_obj *c = o->slots[k];
                if (c && table_add(&h->seen, (uintptr_t)c))
                    push(h, &top, c);
            }
        }
    }
    s->reachable_objects = objects;
    s->reachable_bytes = bytes;
}

/* Adds s to the summary and, every stride-th, to the series (halved when full). */
static void record(garbage_heap *h, const mmb_garbage_sample *s) {
    mmb_garbage_summary *m = &h->sum;
    uint64_t index = m->samples++;
    if (s->garbage_objects > m->peak_objects)
        m->peak_objects = s->garbage_objects;
    if (s->garbage_bytes > m->peak_bytes)
        m->peak_bytes = s->garbage_bytes;
    h->sum_objects += (double)s->garbage_objects;
    h->sum_bytes += (double)s->garbage_bytes;
    m->mean_objects = h->sum_objects / (double)m->samples;
    m->mean_bytes = h->sum_bytes / (double)m->samples;
    m->sampling_ns += s->duration_ns;
    m->inconsistent_samples += s->inconsistent;
    h->last = *s;
    if (index % h->stride)
        return;
    if (h->nseries == MMB_GARBAGE_SERIES_MAX) {
        /* Keep every other point: those whose index is a multiple of the doubled stride, and so
         * is this one's (index is MAX x the old stride here). */
        for (size_t i = 0; i < MMB_GARBAGE_SERIES_MAX / 2; i++)
            h->series[i] = h->series[2 * i];
        h->nseries = MMB_GARBAGE_SERIES_MAX / 2;
        h->stride *= 2;
    }
    h->series[h->nseries++] = *s;
}

void mmb_garbage_sample_now(mmb_heap *heap, mmb_garbage_sample *out) {
    garbage_heap *h = (garbage_heap *)heap;
    uint64_t start = mmb_now_ns();
    mmb_garbage_sample s;
    memset(&s, 0, sizeof s);
    uint64_t since = start > h->t0_ns ? start - h->t0_ns : 0;
    s.t_ns = since > h->sum.sampling_ns ? since - h->sum.sampling_ns : 0;
    s.ops = h->ops;
    mmb_stats st;
    memset(&st, 0, sizeof st);
    h->inner_m->stats(h->inner, &st);
    s.live_objects = st.live_objects;
    s.live_bytes = st.live_bytes;
    traverse(h, st.header_bytes, &s);
    s.inconsistent = s.reachable_objects > s.live_objects || s.reachable_bytes > s.live_bytes;
    s.garbage_objects =
        s.live_objects > s.reachable_objects ? s.live_objects - s.reachable_objects : 0;
    s.garbage_bytes = s.live_bytes > s.reachable_bytes ? s.live_bytes - s.reachable_bytes : 0;
    s.duration_ns = mmb_now_ns() - start;
    record(h, &s);
    if (out)
        *out = s;
}

/* One operation done: a sample after every interval-th. */
static inline void tick(garbage_heap *h) {
    h->ops++;
    if (h->interval && --h->until_next == 0) {
        mmb_garbage_sample_now(&h->base, NULL);
        h->until_next = h->interval;
    }
}

static mmb_obj *g_alloc(mmb_heap *heap, uint32_t nslots, uint32_t payload_bytes) {
    garbage_heap *h = (garbage_heap *)heap;
    mmb_obj *o = h->inner_m->alloc(h->inner, nslots, payload_bytes);
    if (o)
        table_add(&h->refs, (uintptr_t)o);
    tick(h);
    return o;
}

static void g_incref(mmb_heap *heap, mmb_obj *o) {
    garbage_heap *h = (garbage_heap *)heap;
    table_add(&h->refs, (uintptr_t)o);
    h->inner_m->incref(h->inner, o);
    tick(h);
}

static void g_decref(mmb_heap *heap, mmb_obj *o) {
    garbage_heap *h = (garbage_heap *)heap;
    table_drop(&h->refs, (uintptr_t)o);
    h->inner_m->decref(h->inner, o);
    tick(h);
}

static void g_store(mmb_heap *heap, mmb_obj *o, uint32_t slot, mmb_obj *value) {
    garbage_heap *h = (garbage_heap *)heap;
    h->inner_m->store(h->inner, o, slot, value);
    tick(h);
}

static mmb_obj *g_load(mmb_heap *heap, mmb_obj *o, uint32_t slot) {
    garbage_heap *h = (garbage_heap *)heap;
    return h->inner_m->load(h->inner, o, slot);
}

static void g_collect(mmb_heap *heap) {
    garbage_heap *h = (garbage_heap *)heap;
    h->inner_m->collect(h->inner);
    tick(h);
}

static void g_collect_young(mmb_heap *heap) {
    garbage_heap *h = (garbage_heap *)heap;
    h->inner_m->collect_young(h->inner);
    tick(h);
}

static void g_freeze(mmb_heap *heap) {
    garbage_heap *h = (garbage_heap *)heap;
    h->inner_m->freeze(h->inner);
    tick(h);
}

static void g_stats(mmb_heap *heap, mmb_stats *out) {
    garbage_heap *h = (garbage_heap *)heap;
    h->inner_m->stats(h->inner, out);
}

static void g_thread_attach(mmb_heap *heap) {
    garbage_heap *h = (garbage_heap *)heap;
    h->inner_m->thread_attach(h->inner);
}

static void g_thread_detach(mmb_heap *heap) {
    garbage_heap *h = (garbage_heap *)heap;
    h->inner_m->thread_detach(h->inner);
}

static void g_destroy(mmb_heap *heap) {
    mmb_heap *inner = mmb_garbage_unwrap(heap);
    inner->manager->destroy(inner);
}

/* ---- public --------------------------------------------------------------------------------- */

int mmb_garbage_wrap(mmb_heap *inner, uint64_t interval_ops, mmb_heap **out, char *err,
                     size_t err_bytes) {
    garbage_heap *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, err_bytes, "garbage sampler: out of memory");
        return -1;
    }
    const mmb_manager *m = inner->manager;
    h->vt = *m;
    h->vt.alloc = g_alloc;
    h->vt.incref = g_incref;
    h->vt.decref = g_decref;
    h->vt.store = g_store;
    h->vt.load = m->load ? g_load : NULL; /* NULL: the mutator reads slots itself, uncounted */
    h->vt.collect = g_collect;
    h->vt.collect_young = m->collect_young ? g_collect_young : NULL;
    h->vt.freeze = m->freeze ? g_freeze : NULL;
    h->vt.stats = g_stats;
    h->vt.thread_attach = m->thread_attach ? g_thread_attach : NULL;
    h->vt.thread_detach = m->thread_detach ? g_thread_detach : NULL;
    h->vt.destroy = g_destroy;
    h->vt.create = NULL;
    h->base.manager = &h->vt;
    h->inner = inner;
    h->inner_m = m;
    h->interval = interval_ops;
    h->until_next = interval_ops;
    h->stride = 1;
    h->sum.interval_ops = interval_ops;
    h->t0_ns = mmb_now_ns();
    table_init(&h->refs, true, 10);
    table_init(&h->seen, false, 10);
    *out = &h->base;
    return 0;
}

void mmb_garbage_start(mmb_heap *heap, uint64_t now_ns) {
    ((garbage_heap *)heap)->t0_ns = now_ns;
}

void mmb_garbage_summary_get(mmb_heap *heap, mmb_garbage_summary *out) {
    garbage_heap *h = (garbage_heap *)heap;
    *out = h->sum;
    out->ops = h->ops;
}

bool mmb_garbage_last_sample(mmb_heap *heap, mmb_garbage_sample *out) {
    garbage_heap *h = (garbage_heap *)heap;
    *out = h->last;
    return h->sum.samples > 0;
}

const mmb_garbage_sample *mmb_garbage_series(mmb_heap *heap, size_t *count) {
    garbage_heap *h = (garbage_heap *)heap;
    *count = h->nseries;
    return h->series;
}

json_t *mmb_garbage_json(mmb_heap *heap) {
    garbage_heap *h = (garbage_heap *)heap;
    mmb_garbage_summary s;
    mmb_garbage_summary_get(heap, &s);
    json_t *series = json_array();
    for (size_t i = 0; i < h->nseries; i++) {
        const mmb_garbage_sample *p = &h->series[i];
        json_array_append_new(
            series, json_pack("[fIIII]", (double)p->t_ns * 1e-6, (json_int_t)p->live_objects,
                              (json_int_t)p->live_bytes, (json_int_t)p->garbage_objects,
                              (json_int_t)p->garbage_bytes));
    }
    json_t *o =
        json_pack("{sbsIsIsIsIsfsfsIsIso}", "available", 1, "interval_ops",
                  (json_int_t)s.interval_ops, "samples", (json_int_t)s.samples, "peak_objects",
                  (json_int_t)s.peak_objects, "peak_bytes", (json_int_t)s.peak_bytes,
                  "mean_objects", s.mean_objects, "mean_bytes", s.mean_bytes, "sampling_ns",
                  (json_int_t)s.sampling_ns, "operations", (json_int_t)s.ops, "series", series);
    if (s.inconsistent_samples)
        json_object_set_new(o, "inconsistent_samples",
                            json_integer((json_int_t)s.inconsistent_samples));
    return o;
}

json_t *mmb_garbage_unavailable_json(const char *reason) {
    return json_pack("{sbss}", "available", 0, "reason", reason);
}

mmb_heap *mmb_garbage_unwrap(mmb_heap *heap) {
    garbage_heap *h = (garbage_heap *)heap;
    mmb_heap *inner = h->inner;
    table_free(&h->refs);
    table_free(&h->seen);
    free(h->stack);
    free(h);
    return inner;
}
