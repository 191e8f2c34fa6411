/* The SDK: what a manager written outside this tree may use besides the contract (manager.h), and
 * exactly what the bundled managers use: lists, an explicit work stack (every traversal is
 * iterative), object blocks and their counting, event and phase reporting for collections and
 * refcount cascades, out of memory, and the refcounting managers' common operations as inline
 * templates. Defined in managers/common.c (the library mmbench::sdk, libmmbench_sdk.a); see
 * managers/README.md. */
#ifndef MMBENCH_SDK_H
#define MMBENCH_SDK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mmbench/clock.h"
#include "mmbench/manager.h"

#ifdef __cplusplus
extern "C" {
#define MMB_NORETURN [[noreturn]]
#else
#define MMB_NORETURN _Noreturn
#endif

/* An intrusive circular doubly linked list; a list head is a link whose prev/next point to itself
 * when empty. Managers that must find every object (to free them all at destroy, or to scan a
 * generation) put one in their header. */
typedef struct mmb_link {
    struct mmb_link *prev, *next;
} mmb_link;

static inline void mmb_list_init(mmb_link *head) {
    head->prev = head->next = head;
}
static inline bool mmb_list_empty(const mmb_link *head) {
    return head->next == head;
}
static inline void mmb_list_append(mmb_link *head, mmb_link *l) {
    l->prev = head->prev;
    l->next = head;
    head->prev->next = l;
    head->prev = l;
}
static inline void mmb_list_remove(mmb_link *l) {
    l->prev->next = l->next;
    l->next->prev = l->prev;
    l->prev = l->next = NULL;
}
/* Moves every element of `from` to the end of `to`, leaving `from` empty. */
static inline void mmb_list_merge(mmb_link *from, mmb_link *to) {
    if (mmb_list_empty(from))
        return;
    mmb_link *first = from->next, *last = from->prev;
    first->prev = to->prev;
    to->prev->next = first;
    last->next = to;
    to->prev = last;
    mmb_list_init(from);
}

/* Frees, without looking at slots or stats, every object on the list at head whose header (of
 * `header_bytes`) begins with its link: what destroy does with a manager's lists. */
static inline void mmb_list_free_all(mmb_link *head, const mmb_allocator *a, size_t header_bytes) {
    while (!mmb_list_empty(head)) {
        mmb_link *l = head->next;
        mmb_list_remove(l);
        const mmb_obj *o = (const mmb_obj *)((char *)l + header_bytes);
        a->free(a->ctx, l, header_bytes + mmb_obj_bytes(o->nslots, o->payload_bytes));
    }
}

/* Sets up a new object right after its header: its shape, null slots, and the allocation in
 * the stats (the block is `bytes` long, header included). Returns the object. */
static inline mmb_obj *mmb_obj_init(void *after_header, uint32_t nslots, uint32_t payload_bytes,
                                    mmb_stats *stats, size_t bytes) {
    mmb_obj *o = (mmb_obj *)after_header;
    o->nslots = nslots;
    o->payload_bytes = payload_bytes;
    memset(o->slots, 0, nslots * sizeof(mmb_obj *));
    stats->objects_allocated++;
    stats->live_objects++;
    stats->live_bytes += bytes;
    return o;
}

/* Size of the block holding an object with a manager header of `header_bytes`. */
static inline size_t mmb_block_bytes(size_t header_bytes, const mmb_obj *o) {
    return header_bytes + mmb_obj_bytes(o->nslots, o->payload_bytes);
}

/* A new object's block, `header_bytes` of manager header first, from allocator a; its size in
 * *bytes. NULL when the allocator fails. Pair with mmb_obj_init. */
static inline void *mmb_block_alloc(const mmb_allocator *a, size_t header_bytes, uint32_t nslots,
                                    uint32_t payload_bytes, size_t *bytes) {
    *bytes = header_bytes + mmb_obj_bytes(nslots, payload_bytes);
    return a->alloc(a->ctx, *bytes);
}

/* Counts out of the stats an object whose block of `bytes` is being freed, by a collection or
 * by a decrement to zero outside one. */
static inline void mmb_stats_freed(mmb_stats *stats, size_t bytes, bool by_gc) {
    stats->live_objects--;
    stats->live_bytes -= bytes;
    stats->objects_freed++;
    if (by_gc)
        stats->objects_freed_by_gc++;
    else
        stats->objects_freed_by_rc++;
}

/* Writes value into o's slot and returns what was there: the first half of every store. */
static inline mmb_obj *mmb_slot_swap(mmb_obj *o, uint32_t slot, mmb_obj *value) {
    mmb_obj *old = o->slots[slot];
    o->slots[slot] = value;
    return old;
}

/* The start of every bundled manager's create: allocates `bytes` for the heap struct (which begins
 * with mmb_heap) from the config's allocator, zeroes it and points it at `m`. NULL, with a reason
 * in err, when the allocator fails. */
void *mmb_heap_new(const mmb_heap_config *cfg, size_t bytes, const mmb_manager *m, char *err,
                   size_t err_bytes);

/* Allocates from the harness's allocator, aborting when it fails: managers have no way to report
 * an out-of-memory inside a collection, and a benchmark that runs out is over anyway. */
void *mmb_alloc_or_die(const mmb_allocator *a, size_t bytes);
/* Out of memory asking A for BYTES: the harness's handler (mmb_set_out_of_memory_handler), else
 * one line and abort. */
MMB_NORETURN void mmb_allocator_out_of_memory(const mmb_allocator *a, size_t bytes);

/* A growable stack of object pointers. The first MMB_STACK_INLINE entries live inside the struct
 * (so short traversals never allocate); beyond that it grows through the heap's allocator.
 * Invariant: 0 <= top <= cap; items points at inline_items or at a block of cap entries. */
#define MMB_STACK_INLINE 64
typedef struct mmb_stack {
    mmb_obj **items;
    size_t top, cap;
    const mmb_allocator *allocator;
    mmb_obj *inline_items[MMB_STACK_INLINE];
} mmb_stack;

void mmb_stack_init(mmb_stack *s, const mmb_allocator *a);
void mmb_stack_grow(mmb_stack *s);
void mmb_stack_release(mmb_stack *s);

static inline void mmb_stack_push(mmb_stack *s, mmb_obj *o) {
    if (s->top == s->cap)
        mmb_stack_grow(s);
    s->items[s->top++] = o;
}
static inline bool mmb_stack_empty(const mmb_stack *s) {
    return s->top == 0;
}
static inline mmb_obj *mmb_stack_pop(mmb_stack *s) {
    return s->items[--s->top];
}

/* Times a refcount cascade without paying for the clock on the common single free: the clock is
 * read when the cascade first frees a second object (or at once when the threshold is 1), so a
 * reported cascade's start is late by at most one object's free. */
typedef struct mmb_cascade {
    uint64_t start_ns;
    uint64_t freed;
    uint64_t visited;
    bool timing;
    bool phase; /* the phase hook was told this cascade began */
} mmb_cascade;

static inline void mmb_cascade_begin(mmb_cascade *c, const mmb_heap_config *cfg) {
    c->freed = 0;
    c->visited = 0;
    c->phase = false;
    c->timing = cfg->on_event && cfg->cascade_threshold <= 1;
    c->start_ns = c->timing ? mmb_now_ns() : 0;
}
/* Call when the cascade's work list grows past its first object. */
static inline void mmb_cascade_grew(mmb_cascade *c, const mmb_heap_config *cfg) {
    if (cfg->on_phase && !c->phase) {
        c->phase = true;
        cfg->on_phase(cfg->phase_ctx, MMB_PHASE_CASCADE, 1);
    }
    if (!c->timing && cfg->on_event) {
        c->timing = true;
        c->start_ns = mmb_now_ns();
    }
}
/* Ends the cascade's phase and reports the cascade when it freed at least the threshold; returns
 * whether it did. */
bool mmb_cascade_end(mmb_cascade *c, const mmb_heap_config *cfg);

/* The start of a collection: tells the phase hook and returns the clock (0 when nobody listens
 * to events). Pair with mmb_collect_end at its end. */
static inline uint64_t mmb_collect_begin(const mmb_heap_config *cfg) {
    if (cfg->on_phase)
        cfg->on_phase(cfg->phase_ctx, MMB_PHASE_COLLECTOR, 1);
    return cfg->on_event ? mmb_now_ns() : 0;
}

/* Ends a collection's phase and reports it: it began at start_ns and ends now. */
void mmb_collect_end(const mmb_heap_config *cfg, mmb_event_kind kind, int generation,
                     uint64_t start_ns, uint64_t visited, uint64_t freed);

/* On a slow path (a cascade) called from a fast one (a decrement): kept out of line, so that the
 * fast path's frame stays small and inlines where it is called. */
#define MMB_NOINLINE __attribute__((noinline))

/* ---- reference counting, single-threaded (rc, cpython, bacon-rajan) ---------------------------
 *
 * The parts every such manager spells the same way, as inline templates over its own count
 * operations: with the class a constant, the calls are direct and inline. */
typedef struct mmb_rc_class {
    /* Takes one from child's count; returns the new count. */
    uint64_t (*dec)(mmb_obj *child);
    /* A child a cascade decremented without freeing it; NULL when that needs nothing. */
    void (*survived)(mmb_heap *heap, mmb_obj *child);
    /* Frees o's block (its children are released already) and counts it out of the stats. */
    void (*free_obj)(mmb_heap *heap, mmb_obj *o);
} mmb_rc_class;

/* Frees `o`, whose count just reached zero, and everything whose count reaches zero as a result,
 * counting each decrement in stats. A parent is freed after decrementing its children but before
 * any of them is freed, so a 10^7-long chain needs one entry of `work`, not 10^7 C frames. `c`
 * times it (mmb_cascade_grew as the work list grows; visited and freed per object); NULL
 * inside a collection, whose pause covers it. */
static inline void mmb_rc_cascade(mmb_heap *heap, const mmb_rc_class *k, mmb_stack *work,
                                  mmb_stats *stats, const mmb_heap_config *cfg, mmb_obj *o,
                                  mmb_cascade *c) {
    mmb_stack_push(work, o);
    while (!mmb_stack_empty(work)) {
        mmb_obj *p = mmb_stack_pop(work);
        for (uint32_t i = 0; i < p->nslots; i++) {
            mmb_obj *child = p->slots[i];
            if (!child)
                continue;
            stats->decrements++;
            if (k->dec(child) == 0) {
                mmb_stack_push(work, child);
                if (c)
                    mmb_cascade_grew(c, cfg);
            } else if (k->survived) {
                k->survived(heap, child);
            }
        }
        k->free_obj(heap, p);
        if (c) {
            c->visited++;
            c->freed++;
        }
    }
}

/* A count reached zero outside any collection: the cascade from `o`, timed, and reported (and
 * counted) when it frees at least the threshold. */
static inline void mmb_rc_release(mmb_heap *heap, const mmb_rc_class *k, mmb_stack *work,
                                  mmb_stats *stats, const mmb_heap_config *cfg, mmb_obj *o) {
    mmb_cascade c;
    mmb_cascade_begin(&c, cfg);
    mmb_rc_cascade(heap, k, work, stats, cfg, o, &c);
    if (mmb_cascade_end(&c, cfg))
        stats->cascades_reported++;
}

/* A store through the manager's own incref and decref: the slot takes a reference to value, then
 * the old value loses the slot's. */
static inline void mmb_rc_store(mmb_heap *heap, mmb_obj *o, uint32_t slot, mmb_obj *value,
                                void (*incref)(mmb_heap *, mmb_obj *),
                                void (*decref)(mmb_heap *, mmb_obj *)) {
    if (value)
        incref(heap, value);
    mmb_obj *old = mmb_slot_swap(o, slot, value);
    if (old)
        decref(heap, old);
}

#ifdef __cplusplus
}
#endif

#endif
