/* CPython's trial deletion (Python/gc.c: update_refs, subtract_refs, move_unreachable,
 * delete_garbage) over one list of objects, shared by cpython (a generation and the younger ones)
 * and cpython-inc (the young generation plus an increment of the old). As sdk.h's mmb_rc_*
 * templates: each manager keeps its own header and passes a constant class, so everything
 * inlines. Design: managers/README.md, "cpython" and "cpython-inc". */
#ifndef MMB_MANAGERS_TRIAL_H
#define MMB_MANAGERS_TRIAL_H

#include <assert.h>

#include "internal.h"

/* The header sits just before the object and starts with its list link; it holds a refcount and
 * a gc_bits word, both uint64_t, at offsets the class gives. Bits of gc_bits the phases use (the
 * others are the manager's):
 *   bit 1      COLLECTING   in the set being collected; set by update_refs, cleared when
 *                           move_unreachable proves the object reachable or delete_garbage finds
 *                           it still alive. Never set outside a collection.
 *   bit 2      UNREACHABLE  on the collection's unreachable list (tentatively, until
 *                           move_unreachable ends; for certain after). Never set outside one.
 *   bits 8-63  gc_refs      meaningful only while COLLECTING: references from outside the set,
 *                           as far as the current phase has established.
 * gc_refs starts as a copy of refcount, so refcounts must stay below 2^56: every reference is a
 * slot or a mutator incref, and neither can reach that count. */
#define MMB_GC_COLLECTING  (UINT64_C(1) << 1)
#define MMB_GC_UNREACHABLE (UINT64_C(1) << 2)
#define MMB_GC_REFS_SHIFT  8
#define MMB_GC_FLAGS_MASK  ((UINT64_C(1) << MMB_GC_REFS_SHIFT) - 1)
#define MMB_GC_REFS_MAX    (UINT64_MAX >> MMB_GC_REFS_SHIFT)

typedef struct mmb_trial_class {
    size_t header_bytes;                 /* the header's size: it ends where the object starts */
    size_t refcount_offset, bits_offset; /* offsetof its refcount and its gc_bits */
    /* o is no longer COLLECTING and stays: it was proved reachable (move_unreachable) or outlived
     * the clearing of the garbage (delete_garbage). Records where it now belongs (`to`: a
     * generation, or whatever the manager passed). */
    void (*survived)(mmb_heap *heap, mmb_obj *o, unsigned to);
    /* The manager's decrement (counted in its stats), and its free of a count that reached 0
     * inside a collection (the cascade untimed: the pause covers it). */
    void (*decref)(mmb_heap *heap, mmb_obj *o);
    void (*release)(mmb_heap *heap, mmb_obj *o);
} mmb_trial_class;

static inline mmb_link *mmb_trial_link(const mmb_trial_class *k, mmb_obj *o) {
    return (mmb_link *)((char *)o - k->header_bytes);
}
static inline mmb_obj *mmb_trial_obj(const mmb_trial_class *k, mmb_link *l) {
    return (mmb_obj *)((char *)l + k->header_bytes);
}
static inline uint64_t *mmb_trial_bits(const mmb_trial_class *k, mmb_obj *o) {
    return (uint64_t *)((char *)mmb_trial_link(k, o) + k->bits_offset);
}
static inline uint64_t *mmb_trial_refcount(const mmb_trial_class *k, mmb_obj *o) {
    return (uint64_t *)((char *)mmb_trial_link(k, o) + k->refcount_offset);
}
static inline uint64_t mmb_trial_get_refs(uint64_t bits) {
    return bits >> MMB_GC_REFS_SHIFT;
}
static inline void mmb_trial_set_refs(uint64_t *bits, uint64_t refs) {
    *bits = (*bits & MMB_GC_FLAGS_MASK) | refs << MMB_GC_REFS_SHIFT;
}

/* After: every object on `set` is COLLECTING with gc_refs == refcount. Returns their number. */
static inline uint64_t mmb_trial_update_refs(const mmb_trial_class *k, mmb_link *set) {
    uint64_t n = 0;
    for (mmb_link *l = set->next; l != set; l = l->next) {
        mmb_obj *o = mmb_trial_obj(k, l);
        uint64_t *bits = mmb_trial_bits(k, o);
        assert(*mmb_trial_refcount(k, o) <= MMB_GC_REFS_MAX);
        *bits |= MMB_GC_COLLECTING;
        mmb_trial_set_refs(bits, *mmb_trial_refcount(k, o));
        n++;
    }
    return n;
}

/* After: each object's gc_refs counts only the references from outside `set` (the mutator, other
 * generations or spaces, frozen objects). gc_refs > 0 marks a root of the set; an object with
 * gc_refs == 0 may still be reachable from one. */
static inline void mmb_trial_subtract_refs(const mmb_trial_class *k, mmb_stats *stats,
                                           mmb_link *set) {
    for (mmb_link *l = set->next; l != set; l = l->next) {
        mmb_obj *o = mmb_trial_obj(k, l);
        stats->objects_traversed++;
        for (uint32_t i = 0; i < o->nslots; i++) {
            mmb_obj *child = o->slots[i];
            if (!child)
                continue;
            uint64_t *bits = mmb_trial_bits(k, child);
            if (*bits & MMB_GC_COLLECTING) {
                assert(mmb_trial_get_refs(*bits) > 0);
                *bits -= UINT64_C(1) << MMB_GC_REFS_SHIFT;
            }
        }
    }
}

/* What move_unreachable does for each referent of an object it has proved reachable: CPython's
 * visit_reachable. A referent that is no longer COLLECTING is outside the set or already
 * scanned; one already moved to `unreachable` goes back to the end of `set`, to be scanned in
 * turn; one not yet scanned gets gc_refs 1 so the scan will treat it as reachable. */
static inline void mmb_trial_visit_reachable(const mmb_trial_class *k, mmb_obj *child,
                                             mmb_link *set) {
    uint64_t *bits = mmb_trial_bits(k, child);
    if (!(*bits & MMB_GC_COLLECTING))
        return;
    if (*bits & MMB_GC_UNREACHABLE) {
        *bits &= ~MMB_GC_UNREACHABLE;
        mmb_list_remove(mmb_trial_link(k, child));
        mmb_list_append(set, mmb_trial_link(k, child));
        mmb_trial_set_refs(bits, 1);
    } else if (mmb_trial_get_refs(*bits) == 0) {
        mmb_trial_set_refs(bits, 1);
    }
}

/* CPython's single pass: scan `set` in order; an object with gc_refs > 0 is reachable, and so is
 * everything it references, which visit_reachable arranges to be found reachable when the scan
 * reaches it; an object with gc_refs == 0 is moved to `unreachable`, from where a later reachable
 * object may pull it back. The scan's end moves, so this is iterative without a stack. After:
 * `set` holds exactly the objects reachable from outside it, no longer COLLECTING, each passed to
 * k->survived with `to`; `unreachable` holds the rest, COLLECTING and UNREACHABLE. Returns the
 * number of survivors. */
static inline uint64_t mmb_trial_move_unreachable(mmb_heap *heap, const mmb_trial_class *k,
                                                  mmb_stats *stats, mmb_link *set,
                                                  mmb_link *unreachable, unsigned to) {
    uint64_t survivors = 0;
    mmb_link *l = set->next;
    while (l != set) {
        mmb_obj *o = mmb_trial_obj(k, l);
        uint64_t *bits = mmb_trial_bits(k, o);
        mmb_link *next;
        if (mmb_trial_get_refs(*bits) > 0) {
            stats->objects_traversed++;
            for (uint32_t i = 0; i < o->nslots; i++)
                if (o->slots[i])
                    mmb_trial_visit_reachable(k, o->slots[i], set);
            *bits &= ~MMB_GC_COLLECTING;
            k->survived(heap, o, to);
            survivors++;
            next = l->next; /* read after the visits: they may have appended to set */
        } else {
            next = l->next;
            *bits |= MMB_GC_UNREACHABLE;
            mmb_list_remove(l);
            mmb_list_append(unreachable, l);
        }
        l = next;
    }
    return survivors;
}

/* CPython's delete_garbage with tp_clear for every object: clear the first unreachable object's
 * slots while holding a reference to it, so the cascades its clearing sets off cannot free it
 * mid-loop. Clearing frees what only it referenced, unlinking those from whatever list they are
 * on; an object still referenced by uncleared garbage moves to `dest` (passed to k->survived
 * with `to`) and dies when that garbage is cleared. Every reference to an unreachable object
 * comes from another one, so after: every unreachable object has been freed, and `unreachable`
 * is empty. */
static inline void mmb_trial_delete_garbage(mmb_heap *heap, const mmb_trial_class *k,
                                            mmb_stats *stats, mmb_link *unreachable, mmb_link *dest,
                                            unsigned to) {
    while (!mmb_list_empty(unreachable)) {
        mmb_link *l = unreachable->next;
        mmb_obj *o = mmb_trial_obj(k, l);
        uint64_t *refcount = mmb_trial_refcount(k, o);
        stats->increments++;
        (*refcount)++;
        stats->objects_traversed++;
        for (uint32_t i = 0; i < o->nslots; i++) {
            mmb_obj *child = o->slots[i];
            if (!child)
                continue;
            o->slots[i] = NULL;
            k->decref(heap, child);
        }
        stats->decrements++;
        if (--*refcount == 0) {
            k->release(heap, o);
        } else {
            *mmb_trial_bits(k, o) &= ~(MMB_GC_COLLECTING | MMB_GC_UNREACHABLE);
            k->survived(heap, o, to);
            mmb_list_remove(l);
            mmb_list_append(dest, l);
        }
    }
}

#endif
