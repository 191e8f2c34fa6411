/* The root table of the tracing managers (marksweep, marksweep-inc): every object the mutator
 * holds (root_count > 0 in its header), in no order, each header keeping its index, so adding and
 * removing are O(1) (swap-remove). Its blocks come from the manager's allocator. */
#ifndef MMB_MANAGERS_ROOTS_H
#define MMB_MANAGERS_ROOTS_H

#include <string.h>

#include "internal.h"

#define MMB_ROOTS_INITIAL 64 /* entries in the first block */

typedef struct mmb_roots {
    mmb_obj **at; /* NULL until the first root */
    size_t count, cap;
} mmb_roots;

/* Room for one more root: doubles the table when it is full. False when the allocator is out of
 * memory (the table unchanged). */
static inline bool mmb_roots_reserve(mmb_roots *t, const mmb_allocator *a) {
    if (t->count < t->cap)
        return true;
    size_t cap = t->cap ? t->cap * 2 : MMB_ROOTS_INITIAL;
    mmb_obj **at = a->alloc(a->ctx, cap * sizeof *at);
    if (!at)
        return false;
    if (t->at) {
        memcpy(at, t->at, t->count * sizeof *at);
        a->free(a->ctx, t->at, t->cap * sizeof *at);
    }
    t->at = at;
    t->cap = cap;
    return true;
}

/* Adds o, whose root_count just went from 0 to 1, writing its place to *index; the caller has
 * reserved room. */
static inline void mmb_roots_add(mmb_roots *t, mmb_obj *o, uint32_t *index) {
    *index = (uint32_t)t->count;
    t->at[t->count++] = o;
}

/* Removes the root at index i (its root_count just went from 1 to 0) by moving the last root into
 * its place. Returns the root now at i, whose header's index the caller sets to i (when it was
 * the last one, that is the removed object itself, which is harmless). */
static inline mmb_obj *mmb_roots_remove(mmb_roots *t, uint32_t i) {
    mmb_obj *last = t->at[--t->count];
    t->at[i] = last;
    return last;
}

static inline void mmb_roots_free(mmb_roots *t, const mmb_allocator *a) {
    if (t->at)
        a->free(a->ctx, t->at, t->cap * sizeof *t->at);
}

#endif
