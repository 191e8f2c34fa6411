/* The oracle (oracle.h). Invariants of the shadow, which the checks rely on:
 *  - every object the inner manager returned has a record (a serial, counting from 0); `freed` is
 *    set when its block reaches the allocator's free, or, for a manager with MMB_CAP_OWN_MEMORY
 *    (`own`), when the manager reports it through config->on_free (own_free);
 *  - `holds` is the mutator's references; `in_live` counts the slots of not-yet-freed objects that
 *    point at it (with multiplicity);
 *  - the reachability marks (`mark == epoch`) are valid while `reach_valid`: every change the
 *    mutator declares to its references or to slots clears it, frees do not (freeing an unreachable
 *    object leaves reachability unchanged, and freeing a reachable one is already a violation);
 *  - threads: `mu` guards the shadow and is never held across a call into the inner manager, which
 *    may stop the world inside an operation and wait for threads that would be queued on `mu`.
 *    What one operation keeps to itself (its number, the blocks its alloc got, its pending frees)
 *    is an op_ctx on the stack of the thread running it, which the allocator hooks find through
 *    the thread-local `tl_op`. Why each check stays sound: harness/README.md, "The oracle". */
#include "diag.h"
#include "oracle.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "map.h"

#define CANARY_BYTES      MMB_PAYLOAD_RESERVE_BYTES
#define POISON            0xDB
#define QUARANTINE_BLOCKS 4096
#define QUARANTINE_BYTES  (16u << 20)

typedef struct shadow_obj {
    mmb_obj *obj;
    void *block;
    uint64_t label; /* 0: unlabelled */
    uint64_t slot_base;
    uint32_t nslots, payload; /* payload: as the mutator asked, without the canary */
    uint32_t holds, in_live;
    uint32_t live_pos; /* index in the live array while not freed */
    uint32_t mark;
    bool freed, frozen;
} shadow_obj;

typedef struct qblock {
    void *block;
    size_t bytes;
    uint32_t serial_plus1; /* the object it held, or 0 */
} qblock;

/* What one operation keeps to itself, on the stack of the thread running it. The allocator hooks
 * find it through tl_op while they run inside that operation; a hook run on a thread with no
 * operation of this heap in progress (the inner destroy, a thread of the manager's own) finds
 * none. */
typedef struct op_ctx {
    struct oracle_heap *h;
    struct op_ctx *prev; /* the context this one hides, restored at the op's end */
    uint64_t op;         /* the number messages give this operation */
    bool in_alloc;
    void **fresh; /* blocks this thread allocated during its alloc: fresh_inline, or malloc'd */
    size_t nfresh, fresh_cap;
    uint32_t *pending; /* freed while a live slot pointed at them: settled at the op's end */
    size_t npending, pending_cap;
    void *fresh_inline[4];
} op_ctx;

static _Thread_local op_ctx *tl_op;

typedef struct oracle_heap {
    mmb_heap base;
    mmb_manager vt; /* the inner manager's metadata with these functions */
    const mmb_manager *inner_m;
    mmb_heap *inner;
    mmb_allocator under; /* where blocks really come from */
    mmb_oracle_options opt;

    /* The inner manager is thread-safe, and mu is taken. Without threads the manager, and so the
     * oracle, is used by one thread at a time (handed over with a thread start or join), and an
     * uncontended mutex would only cost time. */
    bool threads;
    _Atomic uint64_t op;     /* the last op number given out, or the one set_op named */
    atomic_bool external_op; /* set_op was called: numbers come from the mutator */
    atomic_bool failed;      /* stored (release) under mu, after failure and failed_op */
    uint64_t failed_op;      /* written once, before failed */
    char failure[512];       /* written once, before failed */

    pthread_mutex_t mu; /* guards everything below */
    shadow_obj *objs;
    uint32_t nobjs, objs_cap;
    uint32_t *slots; /* serial + 1, or 0 */
    uint64_t slots_used, slots_cap;
    uint32_t *live; /* serials of objects not freed */
    uint32_t nlive, live_cap;
    uint32_t *stack;
    size_t stack_cap;

    mmb_map blocks;     /* block -> bytes, every block the inner manager holds */
    mmb_map obj_blocks; /* block -> serial + 1, blocks that hold objects */
    mmb_map obj_index;  /* object pointer -> serial + 1, objects not freed */

    uint32_t *orphans; /* pending frees made outside any operation: settled when quiescent */
    size_t norphans, orphans_cap;
    void **retained; /* blocks freed after a violation, kept intact until close */
    size_t nretained, retained_cap;
    qblock quarantine[QUARANTINE_BLOCKS];
    size_t q_head, q_count, q_bytes;

    /* MMB_CAP_OWN_MEMORY: objects are not in our blocks; the manager reports each free through
     * own_free, which passes it on to the outer config's hook (outer_free, when set). */
    bool own;
    mmb_free_fn outer_free;
    void *outer_free_ctx;
    uint64_t frees_reported;
    /* MMB_CAP_CONSERVATIVE: unreachable objects a full collection kept, after the last one
     * checked and at most. */
    uint64_t retained_last, retained_max;

    uint32_t epoch;
    bool reach_valid;
    /* Threads attached, counted from the start of attach to the end of detach (so an upper bound
     * on those that may be inside the manager); 1 from create on. Always 1 for a manager without
     * threads. `thread_events` counts attaches and detaches. */
    uint32_t attached;
    uint64_t thread_events;
    bool closing;
} oracle_heap;

static void lock(oracle_heap *h) {
    if (h->threads)
        pthread_mutex_lock(&h->mu);
}

static void unlock(oracle_heap *h) {
    if (h->threads)
        pthread_mutex_unlock(&h->mu);
}

/* This thread's operation on heap h, or NULL when it is in none. */
static op_ctx *ctx_of(oracle_heap *h) {
    op_ctx *c = tl_op;
    return c && c->h == h ? c : NULL;
}

static void push_u32(uint32_t **a, size_t *n, size_t *cap, uint32_t v) {
    if (*n == *cap) {
        *cap = *cap ? 2 * *cap : 64;
        *a = mmb_xrealloc(*a, *cap * sizeof **a);
    }
    (*a)[(*n)++] = v;
}

static const char *name_of(oracle_heap *h, uint32_t s, char *buf, size_t n) {
    if (h->objs[s].label)
        snprintf(buf, n, "%" PRIu64, h->objs[s].label);
    else
        snprintf(buf, n, "#%" PRIu32, s + 1);
    return buf;
}

#define NO_OBJECT UINT32_MAX

static void violation(oracle_heap *h, const char *check, uint32_t s, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Records the first violation; with mu held. The op is this thread's operation, or the last one
 * numbered when the thread is in none. */
static void violation(oracle_heap *h, const char *check, uint32_t s, const char *fmt, ...) {
    if (h->failed)
        return;
    op_ctx *c = ctx_of(h);
    uint64_t op = c ? c->op : atomic_load_explicit(&h->op, memory_order_relaxed);
    char obj[32] = "-", what[320];
    if (s != NO_OBJECT)
        name_of(h, s, obj, sizeof obj);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(h->failure, sizeof h->failure, "manager=%s check=%s object=%s op=%" PRIu64 ": %s",
             h->inner_m->name, check, obj, op, what);
    h->failed_op = op;
    atomic_store_explicit(&h->failed, true, memory_order_release);
}

/* ---- canaries ------------------------------------------------------------------------------- */

static uint64_t canary_of(uint32_t s) {
    return 0xC4A9A27D5EEDF00Dull ^ ((uint64_t)(s + 1) * 0x9E3779B97F4A7C15ull);
}

static uint8_t fill_of(uint32_t s) {
    return (uint8_t)(0xA5 ^ (s * 31u));
}

static void write_canary(oracle_heap *h, uint32_t s) {
    shadow_obj *r = &h->objs[s];
    unsigned char *payload = mmb_payload(r->obj);
    uint64_t c = canary_of(s);
    if (h->opt.fill_payload)
        memset(payload, fill_of(s), r->payload);
    memcpy(payload + r->payload, &c, CANARY_BYTES);
}

static bool canary_intact(oracle_heap *h, uint32_t s) {
    shadow_obj *r = &h->objs[s];
    unsigned char *payload = (unsigned char *)&r->obj->slots[r->nslots];
    uint64_t c;
    memcpy(&c, payload + r->payload, CANARY_BYTES);
    if (c != canary_of(s))
        return false;
    if (h->opt.fill_payload)
        for (uint32_t i = 0; i < r->payload; i++)
            if (payload[i] != fill_of(s))
                return false;
    return true;
}

/* ---- reachability --------------------------------------------------------------------------- */

static void push(oracle_heap *h, size_t *top, uint32_t s) {
    if (*top == h->stack_cap) {
        h->stack_cap = h->stack_cap ? 2 * h->stack_cap : 1024;
        h->stack = mmb_xrealloc(h->stack, h->stack_cap * sizeof *h->stack);
    }
    h->stack[(*top)++] = s;
}

/* After: mark == epoch exactly for the objects reachable from the mutator's references (and, with
 * frozen_roots, from frozen objects) through slots of objects not freed. */
static void mark_reachable(oracle_heap *h, bool frozen_roots) {
    if (++h->epoch == 0) {
        for (uint32_t i = 0; i < h->nobjs; i++)
            h->objs[i].mark = 0;
        h->epoch = 1;
    }
    size_t top = 0;
    for (uint32_t i = 0; i < h->nlive; i++) {
        shadow_obj *r = &h->objs[h->live[i]];
        if ((r->holds || (frozen_roots && r->frozen)) && r->mark != h->epoch) {
            r->mark = h->epoch;
            push(h, &top, h->live[i]);
        }
    }
    while (top) {
        shadow_obj *r = &h->objs[h->stack[--top]];
        for (uint32_t i = 0; i < r->nslots; i++) {
            uint32_t c = h->slots[r->slot_base + i];
            if (c && !h->objs[c - 1].freed && h->objs[c - 1].mark != h->epoch) {
                h->objs[c - 1].mark = h->epoch;
                push(h, &top, c - 1);
            }
        }
    }
}

static void compute_reach(oracle_heap *h) {
    if (h->reach_valid)
        return;
    mark_reachable(h, false);
    h->reach_valid = true;
}

/* A live object with a slot pointing at s, or NO_OBJECT. Used only to word a violation. */
static uint32_t referrer_of(oracle_heap *h, uint32_t s) {
    for (uint32_t i = 0; i < h->nlive; i++) {
        shadow_obj *r = &h->objs[h->live[i]];
        for (uint32_t k = 0; k < r->nslots; k++)
            if (h->slots[r->slot_base + k] == s + 1)
                return h->live[i];
    }
    return NO_OBJECT;
}

/* ---- the allocator the inner manager sees --------------------------------------------------- */

static void release_quarantined(oracle_heap *h, qblock q) {
    if (!h->failed) {
        const unsigned char *p = q.block;
        for (size_t i = 0; i < q.bytes; i++)
            if (p[i] != POISON) {
                violation(h, "integrity", q.serial_plus1 ? q.serial_plus1 - 1 : NO_OBJECT,
                          "freed block %p was written after its free (byte %zu)", q.block, i);
                break;
            }
    }
    h->under.free(h->under.ctx, q.block, q.bytes);
}

/* Poisons a freed block and holds it back from reuse for a while, so that a late read sees
 * poison and a late write is caught when the block leaves the quarantine. After a violation,
 * blocks are kept untouched until close instead: the broken manager may still use them. */
static void quarantine(oracle_heap *h, void *block, size_t bytes, uint32_t serial_plus1) {
    if (h->closing) {
        h->under.free(h->under.ctx, block, bytes);
        return;
    }
    if (h->failed) {
        if (h->nretained == h->retained_cap) {
            h->retained_cap = h->retained_cap ? 2 * h->retained_cap : 64;
            h->retained = mmb_xrealloc(h->retained, h->retained_cap * 2 * sizeof *h->retained);
        }
        h->retained[2 * h->nretained] = block;
        h->retained[2 * h->nretained + 1] = (void *)(uintptr_t)bytes;
        h->nretained++;
        return;
    }
    memset(block, POISON, bytes);
    while (h->q_count == QUARANTINE_BLOCKS ||
           (h->q_count && h->q_bytes + bytes > QUARANTINE_BYTES)) {
        qblock q = h->quarantine[h->q_head];
        h->q_head = (h->q_head + 1) % QUARANTINE_BLOCKS;
        h->q_count--;
        h->q_bytes -= q.bytes;
        release_quarantined(h, q);
    }
    h->quarantine[(h->q_head + h->q_count) % QUARANTINE_BLOCKS] =
        (qblock){block, bytes, serial_plus1};
    h->q_count++;
    h->q_bytes += bytes;
}

static void *block_alloc(void *ctx, size_t bytes) {
    oracle_heap *h = ctx;
    void *b = h->under.alloc(h->under.ctx, bytes);
    if (!b)
        return NULL;
    lock(h);
    mmb_map_put(&h->blocks, (uint64_t)(uintptr_t)b, bytes);
    unlock(h);
    op_ctx *c = ctx_of(h);
    if (c && c->in_alloc) {
        if (c->nfresh == c->fresh_cap) {
            void **grown = mmb_xrealloc(c->fresh == c->fresh_inline ? NULL : c->fresh,
                                        2 * c->fresh_cap * sizeof *c->fresh);
            if (c->fresh == c->fresh_inline)
                memcpy(grown, c->fresh_inline, sizeof c->fresh_inline);
            c->fresh = grown;
            c->fresh_cap *= 2;
        }
        c->fresh[c->nfresh++] = b;
    }
    return b;
}

/* Checks that freeing object s now is safe; with mu held. */
static void check_free_is_safe(oracle_heap *h, uint32_t s) {
    shadow_obj *r = &h->objs[s];
    if (r->holds) {
        violation(h, "safety", s, "freed while the mutator holds %" PRIu32 " reference%s to it",
                  r->holds, r->holds == 1 ? "" : "s");
        return;
    }
    if (!r->in_live)
        return; /* nothing points at it: unreachable */
    compute_reach(h);
    if (r->mark == h->epoch) {
        violation(h, "safety", s, "freed while reachable from the mutator's references");
    } else if (!(h->inner_m->caps & MMB_CAP_CYCLES)) {
        /* A refcounter may free a child before its (garbage) parent within one operation, as
         * CPython's deallocators do; by the operation's end the parent must be gone too. The
         * operation is the freeing thread's own: another thread's end says nothing about it. */
        op_ctx *c = ctx_of(h);
        if (c)
            push_u32(&c->pending, &c->npending, &c->pending_cap, s);
        else
            push_u32(&h->orphans, &h->norphans, &h->orphans_cap, s);
    }
}

/* At the end of the operation that freed them: a manager without cycle collection freed nothing
 * that a surviving object still points at (only a cycle could keep that referrer alive). With
 * mu held. */
static void settle(oracle_heap *h, const uint32_t *pending, size_t npending) {
    for (size_t i = 0; i < npending && !h->failed; i++) {
        uint32_t s = pending[i];
        if (h->objs[s].in_live) {
            char by[32];
            uint32_t y = referrer_of(h, s);
            violation(h, "safety", s,
                      "freed by a manager without cycle collection while object %s (garbage) "
                      "still points at it",
                      y == NO_OBJECT ? "?" : name_of(h, y, by, sizeof by));
        }
    }
}

/* Object s was freed (its block freed, or on_free reported it): checked, unless closing or after
 * a violation, then taken out of the live set; with mu held. */
static void object_freed(oracle_heap *h, uint32_t s) {
    shadow_obj *r = &h->objs[s];
    if (!h->closing && !h->failed) {
        check_free_is_safe(h, s);
        if (!h->failed && !canary_intact(h, s))
            violation(h, "integrity", s, "payload canary overwritten while the object lived");
    }
    r->freed = true;
    mmb_map_remove(&h->obj_index, (uint64_t)(uintptr_t)r->obj);
    for (uint32_t i = 0; i < r->nslots; i++) {
        uint32_t c = h->slots[r->slot_base + i];
        if (c && h->objs[c - 1].in_live)
            h->objs[c - 1].in_live--;
    }
    uint32_t last = h->live[--h->nlive];
    h->live[r->live_pos] = last;
    h->objs[last].live_pos = r->live_pos;
}

static void block_free(void *ctx, void *block, size_t bytes) {
    oracle_heap *h = ctx;
    uint64_t key = (uint64_t)(uintptr_t)block, known_bytes, sp1 = 0;
    lock(h);
    if (!mmb_map_get(&h->blocks, key, &known_bytes)) {
        if (!h->failed)
            violation(h, "integrity", NO_OBJECT,
                      "free of block %p, which is not allocated (a double free?)", block);
        unlock(h);
        return; /* never pass a bad pointer on */
    }
    if (known_bytes != bytes)
        violation(h, "integrity", NO_OBJECT,
                  "block %p freed with size %zu, allocated with %" PRIu64, block, bytes,
                  known_bytes);
    mmb_map_remove(&h->blocks, key);
    if (mmb_map_get(&h->obj_blocks, key, &sp1)) {
        mmb_map_remove(&h->obj_blocks, key);
        object_freed(h, (uint32_t)(sp1 - 1));
    }
    quarantine(h, block, (size_t)known_bytes, (uint32_t)sp1);
    unlock(h);
}

/* config->on_free of a manager with MMB_CAP_OWN_MEMORY: the object is still readable, so the
 * checks a block free gets run here, except poisoning (the memory is the runtime's). */
static void own_free(void *ctx, mmb_obj *o) {
    oracle_heap *h = ctx;
    uint64_t sp1;
    lock(h);
    h->frees_reported++;
    if (mmb_map_get(&h->obj_index, (uint64_t)(uintptr_t)o, &sp1))
        object_freed(h, (uint32_t)(sp1 - 1));
    else if (!h->failed)
        violation(h, "integrity", NO_OBJECT,
                  "on_free of %p, which is not a live object (a double free?)", (void *)o);
    unlock(h);
    if (h->outer_free)
        h->outer_free(h->outer_free_ctx, o);
}

/* ---- the mutator's operations --------------------------------------------------------------- */

/* Starts an operation on this thread: numbers it (the mutator's number, after set_op) and makes
 * it the context the allocator hooks see. Attach and detach are not numbered: they take the last
 * number given out. No lock: the number is atomic, the context the thread's own. */
static void op_begin(oracle_heap *h, op_ctx *c, bool numbered) {
    uint64_t op;
    if (!numbered || atomic_load_explicit(&h->external_op, memory_order_relaxed))
        op = atomic_load_explicit(&h->op, memory_order_relaxed);
    else
        op = atomic_fetch_add_explicit(&h->op, 1, memory_order_relaxed) + 1;
    *c = (op_ctx){.h = h, .prev = tl_op, .op = op, .fresh_cap = 4};
    c->fresh = c->fresh_inline;
    tl_op = c;
}

/* Judges what this operation freed while a live slot still pointed at it; with mu held. */
static void settle_op(oracle_heap *h, op_ctx *c) {
    settle(h, c->pending, c->npending);
    c->npending = 0;
}

/* Ends the operation: settles it (unless its after-work did) and leaves its context. */
static void op_end(oracle_heap *h, op_ctx *c) {
    if (c->npending) {
        lock(h);
        settle_op(h, c);
        unlock(h);
    }
    tl_op = c->prev;
    if (c->pending)
        free(c->pending);
    if (c->fresh != c->fresh_inline)
        free(c->fresh);
}

/* The serial of a live object the mutator names, or NO_OBJECT after reporting misuse; with mu
 * held. */
static uint32_t lookup(oracle_heap *h, mmb_obj *o, const char *op) {
    uint64_t sp1;
    if (o && mmb_map_get(&h->obj_index, (uint64_t)(uintptr_t)o, &sp1))
        return (uint32_t)(sp1 - 1);
    violation(h, "mutator", NO_OBJECT, "%s of %p, which is not a live object", op, (void *)o);
    return NO_OBJECT;
}

/* Gives the object alloc returned its record (the mutator's one reference, null slots, the
 * canary); with mu held. Until now it was only a block: the mutator could name it nowhere. */
static void record_alloc(oracle_heap *h, op_ctx *c, mmb_obj *o, uint32_t nslots, uint32_t payload) {
    size_t need = mmb_obj_bytes(nslots, payload + CANARY_BYTES);
    void *block = NULL;
    uint64_t sp1;
    if (h->own && mmb_map_get(&h->obj_index, (uint64_t)(uintptr_t)o, &sp1)) {
        violation(h, "integrity", (uint32_t)(sp1 - 1),
                  "alloc returned %p, this live object's address: it was reclaimed without "
                  "on_free",
                  (void *)o);
        return;
    }
    for (size_t i = 0; !h->own && i < c->nfresh; i++) {
        uint64_t bytes;
        unsigned char *b = c->fresh[i];
        if (mmb_map_get(&h->blocks, (uint64_t)(uintptr_t)b, &bytes) && (unsigned char *)o >= b &&
            (unsigned char *)o + need <= b + bytes)
            block = b;
    }
    if (!block && !h->own) {
        violation(h, "integrity", NO_OBJECT,
                  "alloc returned %p, which is not inside a live block "
                  "allocated for it",
                  (void *)o);
        return;
    }
    if (h->nobjs == UINT32_MAX - 1) {
        fprintf(stderr, "mmbench: error: oracle: too many objects\n");
        exit(1);
    }
    if (h->nobjs == h->objs_cap) {
        h->objs_cap = h->objs_cap ? 2 * h->objs_cap : 1024;
        h->objs = mmb_xrealloc(h->objs, h->objs_cap * sizeof *h->objs);
    }
    if (h->nlive == h->live_cap) {
        h->live_cap = h->live_cap ? 2 * h->live_cap : 1024;
        h->live = mmb_xrealloc(h->live, h->live_cap * sizeof *h->live);
    }
    while (h->slots_used + nslots > h->slots_cap) {
        h->slots_cap = h->slots_cap ? 2 * h->slots_cap : 4096;
        h->slots = mmb_xrealloc(h->slots, h->slots_cap * sizeof *h->slots);
    }
    uint32_t s = h->nobjs++;
    shadow_obj *r = &h->objs[s];
    *r = (shadow_obj){.obj = o,
                      .block = block,
                      .slot_base = h->slots_used,
                      .nslots = nslots,
                      .payload = payload,
                      .holds = 1,
                      .live_pos = h->nlive};
    if (nslots)
        memset(h->slots + h->slots_used, 0, nslots * sizeof *h->slots);
    h->slots_used += nslots;
    h->live[h->nlive++] = s;
    h->reach_valid = false;
    if (block)
        mmb_map_put(&h->obj_blocks, (uint64_t)(uintptr_t)block, s + 1);
    mmb_map_put(&h->obj_index, (uint64_t)(uintptr_t)o, s + 1);
    if (o->nslots != nslots || o->payload_bytes != payload + CANARY_BYTES) {
        violation(h, "integrity", s,
                  "alloc(%" PRIu32 ", %" PRIu32 ") returned an object with "
                  "%" PRIu32 " slots and %" PRIu32 " payload bytes",
                  nslots, payload, o->nslots, o->payload_bytes);
        return;
    }
    for (uint32_t i = 0; i < nslots; i++)
        if (o->slots[i]) {
            violation(h, "integrity", s, "new object's slot %" PRIu32 " is not null", i);
            return;
        }
    write_canary(h, s);
}

/* Nothing is declared before alloc: the new object has no record until it returns, and what the
 * inner alloc frees is judged against the cached marks of the references as they were. */
static mmb_obj *o_alloc(mmb_heap *heap, uint32_t nslots, uint32_t payload) {
    oracle_heap *h = (oracle_heap *)heap;
    op_ctx c;
    op_begin(h, &c, true);
    c.in_alloc = true;
    mmb_obj *o = h->inner_m->alloc(h->inner, nslots, payload + CANARY_BYTES);
    c.in_alloc = false;
    lock(h);
    settle_op(h, &c);
    if (o && !h->failed)
        record_alloc(h, &c, o, nslots, payload);
    unlock(h);
    op_end(h, &c);
    return o;
}

/* incref, decref and store declare their change to the shadow before the inner call, so that
 * whatever the manager frees during it is judged against the program's references. */
static void o_incref(mmb_heap *heap, mmb_obj *o) {
    oracle_heap *h = (oracle_heap *)heap;
    op_ctx c;
    op_begin(h, &c, true);
    lock(h);
    uint32_t s = lookup(h, o, "incref");
    if (s != NO_OBJECT) {
        h->objs[s].holds++;
        h->reach_valid = false;
    }
    unlock(h);
    if (s != NO_OBJECT)
        h->inner_m->incref(h->inner, o);
    op_end(h, &c);
}

static void o_decref(mmb_heap *heap, mmb_obj *o) {
    oracle_heap *h = (oracle_heap *)heap;
    op_ctx c;
    op_begin(h, &c, true);
    lock(h);
    uint32_t s = lookup(h, o, "decref");
    if (s != NO_OBJECT && h->objs[s].holds == 0) {
        violation(h, "mutator", s, "decref of an object the mutator holds no reference to");
        s = NO_OBJECT;
    }
    if (s != NO_OBJECT) {
        h->objs[s].holds--;
        h->reach_valid = false;
    }
    unlock(h);
    if (s != NO_OBJECT)
        h->inner_m->decref(h->inner, o);
    op_end(h, &c);
}

static void o_store(mmb_heap *heap, mmb_obj *o, uint32_t slot, mmb_obj *value) {
    oracle_heap *h = (oracle_heap *)heap;
    op_ctx c;
    op_begin(h, &c, true);
    lock(h);
    uint32_t s = lookup(h, o, "store into");
    uint32_t v = value ? lookup(h, value, "store of") : NO_OBJECT;
    bool ok = s != NO_OBJECT && (!value || v != NO_OBJECT);
    if (ok && slot >= h->objs[s].nslots) {
        violation(h, "mutator", s,
                  "store into slot %" PRIu32 " of an object with %" PRIu32 " slots", slot,
                  h->objs[s].nslots);
        ok = false;
    }
    if (ok) {
        uint32_t *at = &h->slots[h->objs[s].slot_base + slot];
        if (*at)
            h->objs[*at - 1].in_live--;
        *at = value ? v + 1 : 0;
        if (value)
            h->objs[v].in_live++;
        h->reach_valid = false;
    }
    unlock(h);
    if (ok)
        h->inner_m->store(h->inner, o, slot, value);
    op_end(h, &c);
}

/* A load declares nothing, so it leaves the reachability marks valid. */
static mmb_obj *o_load(mmb_heap *heap, mmb_obj *o, uint32_t slot) {
    oracle_heap *h = (oracle_heap *)heap;
    op_ctx c;
    op_begin(h, &c, true);
    lock(h);
    uint32_t s = lookup(h, o, "load from");
    mmb_obj *expected = NULL;
    if (s != NO_OBJECT && slot >= h->objs[s].nslots) {
        violation(h, "mutator", s, "load from slot %" PRIu32 " of an object with %" PRIu32 " slots",
                  slot, h->objs[s].nslots);
        s = NO_OBJECT;
    }
    if (s != NO_OBJECT) {
        uint32_t want = h->slots[h->objs[s].slot_base + slot];
        expected = want ? h->objs[want - 1].obj : NULL;
    }
    unlock(h);
    if (s != NO_OBJECT) {
        mmb_obj *got = h->inner_m->load ? h->inner_m->load(h->inner, o, slot) : o->slots[slot];
        if (got != expected) {
            lock(h);
            violation(h, "integrity", s, "slot %" PRIu32 " reads %p, the mutator stored %p", slot,
                      (void *)got, (void *)expected);
            unlock(h);
        }
    }
    op_end(h, &c);
    return expected;
}

/* Every live object's header, slots and canaries match the shadow. With mu held, and only where no
 * other thread can be inside an operation: it reads objects the mutator may be writing. */
static void check_integrity(oracle_heap *h) {
    for (uint32_t i = 0; i < h->nlive && !h->failed; i++) {
        uint32_t s = h->live[i];
        shadow_obj *r = &h->objs[s];
        if (r->obj->nslots != r->nslots || r->obj->payload_bytes != r->payload + CANARY_BYTES) {
            violation(h, "integrity", s,
                      "object header changed: %" PRIu32 " slots, %" PRIu32 " payload bytes",
                      r->obj->nslots, r->obj->payload_bytes);
            return;
        }
        for (uint32_t k = 0; k < r->nslots; k++) {
            uint32_t c = h->slots[r->slot_base + k];
            if (r->obj->slots[k] != (c ? h->objs[c - 1].obj : NULL)) {
                violation(h, "integrity", s,
                          "slot %" PRIu32 " was changed behind the mutator's "
                          "back",
                          k);
                return;
            }
        }
        if (!canary_intact(h, s))
            violation(h, "integrity", s, "payload canary overwritten while the object lived");
    }
}

/* After a full collection: a manager with MMB_CAP_CYCLES left no unreachable object; one without
 * left only objects on or reachable from garbage cycles (exactly those: an unreachable object no
 * slot points at would be freed by refcounting, and if none exists, every unreachable object has
 * an unreachable referrer, so following referrers back must close a cycle). */
static void check_complete(oracle_heap *h) {
    /* Frozen objects are outside every collection, so what they reach is kept too. */
    mark_reachable(h, true);
    h->reach_valid = false; /* these marks are not the safety check's */
    bool cycles = h->inner_m->caps & MMB_CAP_CYCLES;
    bool conservative = h->inner_m->caps & MMB_CAP_CONSERVATIVE;
    uint64_t retained = 0;
    for (uint32_t i = 0; i < h->nlive && !h->failed; i++) {
        uint32_t s = h->live[i];
        shadow_obj *r = &h->objs[s];
        if (r->frozen || r->mark == h->epoch)
            continue;
        if (conservative)
            retained++; /* a stale word on a stack may keep it: counted, not a violation */
        else if (cycles)
            violation(h, "completeness", s, "unreachable, yet it survived a full collection");
        else if (r->in_live == 0)
            violation(h, "completeness", s,
                      "unreachable and unreferenced, yet not freed (it is "
                      "on no garbage cycle)");
    }
    if (conservative && !h->failed) {
        h->retained_last = retained;
        if (retained > h->retained_max)
            h->retained_max = retained;
    }
}

/* The completeness and integrity checks need the whole program quiet: a collection only has to
 * reclaim garbage whose references were dropped before it began, and other threads' operations
 * in flight are declared in the shadow before the manager sees them. They run only when the
 * caller was the one attached thread from the collection's start to its end. */
static void o_collect(mmb_heap *heap) {
    oracle_heap *h = (oracle_heap *)heap;
    op_ctx c;
    op_begin(h, &c, true);
    lock(h);
    bool quiet = h->attached <= 1;
    uint64_t events = h->thread_events;
    unlock(h);
    h->inner_m->collect(h->inner);
    lock(h);
    settle_op(h, &c);
    if (quiet && h->attached <= 1 && h->thread_events == events && !h->failed) {
        settle(h, h->orphans, h->norphans);
        h->norphans = 0;
        check_integrity(h);
        if (!h->failed)
            check_complete(h);
    }
    unlock(h);
    op_end(h, &c);
}

static void o_collect_young(mmb_heap *heap) {
    oracle_heap *h = (oracle_heap *)heap;
    op_ctx c;
    op_begin(h, &c, true);
    h->inner_m->collect_young(h->inner);
    op_end(h, &c);
}

/* Freezes, in the shadow, the objects recorded when freeze starts: an object allocated by another
 * thread meanwhile may or may not be frozen by the manager, so freeze belongs at quiet points. */
static void o_freeze(mmb_heap *heap) {
    oracle_heap *h = (oracle_heap *)heap;
    op_ctx c;
    op_begin(h, &c, true);
    lock(h);
    for (uint32_t i = 0; i < h->nlive; i++)
        h->objs[h->live[i]].frozen = true;
    unlock(h);
    h->inner_m->freeze(h->inner);
    op_end(h, &c);
}

/* Attach counts the thread before the inner attach (which may wait for a collection), detach
 * uncounts it after the inner detach (which may still free objects): `attached` never
 * undercounts the threads that may be inside the manager. */
static void o_thread_attach(mmb_heap *heap) {
    oracle_heap *h = (oracle_heap *)heap;
    lock(h);
    h->attached++;
    h->thread_events++;
    unlock(h);
    if (h->inner_m->thread_attach) {
        op_ctx c;
        op_begin(h, &c, false);
        h->inner_m->thread_attach(h->inner);
        op_end(h, &c);
    }
}

static void o_thread_detach(mmb_heap *heap) {
    oracle_heap *h = (oracle_heap *)heap;
    if (h->inner_m->thread_detach) {
        op_ctx c;
        op_begin(h, &c, false);
        h->inner_m->thread_detach(h->inner);
        op_end(h, &c);
    }
    lock(h);
    if (h->attached == 0)
        violation(h, "mutator", NO_OBJECT, "thread_detach while no thread is attached");
    else
        h->attached--;
    h->thread_events++;
    unlock(h);
}

static void o_stats(mmb_heap *heap, mmb_stats *out) {
    oracle_heap *h = (oracle_heap *)heap;
    h->inner_m->stats(h->inner, out);
}

static void o_destroy(mmb_heap *heap) {
    char msg[8];
    mmb_oracle_close(heap, msg, sizeof msg);
}

/* ---- public --------------------------------------------------------------------------------- */

int mmb_oracle_create(const mmb_manager *inner, const mmb_heap_config *config,
                      const mmb_oracle_options *options, mmb_heap **out, char *err,
                      size_t err_bytes) {
    oracle_heap *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, err_bytes, "oracle: out of memory");
        return -1;
    }
    h->vt = *inner;
    h->vt.alloc = o_alloc;
    h->vt.incref = o_incref;
    h->vt.decref = o_decref;
    h->vt.store = o_store;
    h->vt.load = o_load;
    h->vt.collect = o_collect;
    h->vt.collect_young = inner->collect_young ? o_collect_young : NULL;
    h->vt.freeze = inner->freeze ? o_freeze : NULL;
    h->vt.stats = o_stats;
    /* NULL stays NULL for a manager without threads; a thread-safe one is always counted. */
    h->threads = inner->caps & MMB_CAP_THREAD_SAFE;
    bool attach = h->threads || inner->thread_attach || inner->thread_detach;
    h->vt.thread_attach = attach ? o_thread_attach : NULL;
    h->vt.thread_detach = attach ? o_thread_detach : NULL;
    h->vt.destroy = o_destroy;
    h->vt.create = NULL;
    h->base.manager = &h->vt;
    h->inner_m = inner;
    h->under = config->allocator;
    if (options)
        h->opt = *options;
    h->attached = 1; /* create attaches its caller */
    pthread_mutex_init(&h->mu, NULL);
    mmb_map_init(&h->blocks);
    mmb_map_init(&h->obj_blocks);
    mmb_map_init(&h->obj_index);

    mmb_heap_config cfg = *config;
    /* With own memory the blocks are the manager's buffers, not objects: still counted and
     * poisoned, never searched for objects. */
    cfg.allocator = (mmb_allocator){"oracle", h, block_alloc, block_free};
    h->own = inner->caps & MMB_CAP_OWN_MEMORY;
    if (h->own) {
        h->outer_free = config->on_free;
        h->outer_free_ctx = config->free_ctx;
        cfg.on_free = own_free;
        cfg.free_ctx = h;
    }
    if (mmb_heap_create(inner, &cfg, &h->inner, err, err_bytes) != 0) {
        mmb_map_free(&h->blocks);
        mmb_map_free(&h->obj_blocks);
        mmb_map_free(&h->obj_index);
        pthread_mutex_destroy(&h->mu);
        free(h);
        return -1;
    }
    *out = &h->base;
    return 0;
}

void mmb_oracle_set_op(mmb_heap *heap, uint64_t op_index) {
    oracle_heap *h = (oracle_heap *)heap;
    atomic_store_explicit(&h->op, op_index, memory_order_relaxed);
    atomic_store_explicit(&h->external_op, true, memory_order_relaxed);
}

void mmb_oracle_label(mmb_heap *heap, mmb_obj *obj, uint64_t label) {
    oracle_heap *h = (oracle_heap *)heap;
    uint64_t sp1;
    lock(h);
    if (mmb_map_get(&h->obj_index, (uint64_t)(uintptr_t)obj, &sp1))
        h->objs[sp1 - 1].label = label;
    unlock(h);
}

const char *mmb_oracle_scope(const mmb_manager *m) {
    bool own = m->caps & MMB_CAP_OWN_MEMORY, conservative = m->caps & MMB_CAP_CONSERVATIVE;
    if (own && conservative)
        return "own-memory, conservative: safety, integrity, canaries, retained counted; no "
               "poisoning";
    if (own)
        return "own-memory: safety, completeness, integrity, canaries; no poisoning";
    if (conservative)
        return "conservative: safety, integrity, canaries, poisoning, retained counted";
    return "full: safety, completeness, integrity, canaries, poisoning";
}

void mmb_oracle_summary_get(mmb_heap *heap, mmb_oracle_summary *out) {
    oracle_heap *h = (oracle_heap *)heap;
    lock(h);
    *out = (mmb_oracle_summary){.scope = mmb_oracle_scope(h->inner_m),
                                .own_memory = h->own,
                                .conservative = h->inner_m->caps & MMB_CAP_CONSERVATIVE,
                                .frees_reported = h->frees_reported,
                                .retained_last = h->retained_last,
                                .retained_max = h->retained_max};
    unlock(h);
}

bool mmb_oracle_failed(mmb_heap *heap) {
    return atomic_load_explicit(&((oracle_heap *)heap)->failed, memory_order_acquire);
}

const char *mmb_oracle_failure(mmb_heap *heap) {
    oracle_heap *h = (oracle_heap *)heap;
    return mmb_oracle_failed(heap) ? h->failure : NULL;
}

uint64_t mmb_oracle_failure_op(mmb_heap *heap) {
    oracle_heap *h = (oracle_heap *)heap;
    return mmb_oracle_failed(heap) ? h->failed_op : 0;
}

/* Called as destroy is: by an attached thread, no other attached, so the program is quiet. The
 * inner destroy runs without mu held: its frees take it. */
int mmb_oracle_close(mmb_heap *heap, char *msg, size_t msg_bytes) {
    oracle_heap *h = (oracle_heap *)heap;
    lock(h);
    if (!h->failed) {
        settle(h, h->orphans, h->norphans);
        h->norphans = 0;
        check_integrity(h);
    }
    h->closing = true;
    unlock(h);
    h->inner_m->destroy(h->inner);
    lock(h);
    if (h->own && h->nlive && !h->failed)
        violation(h, "leak", h->live[0],
                  "destroy did not report it through on_free (%" PRIu32 " object%s unreported)",
                  h->nlive, h->nlive == 1 ? "" : "s");
    if (h->blocks.count && !h->failed)
        violation(h, "leak", NO_OBJECT, "destroy left %zu block%s allocated", h->blocks.count,
                  h->blocks.count == 1 ? "" : "s");
    while (h->q_count) {
        qblock q = h->quarantine[h->q_head];
        h->q_head = (h->q_head + 1) % QUARANTINE_BLOCKS;
        h->q_count--;
        release_quarantined(h, q);
    }
    for (size_t i = 0; i < h->nretained; i++)
        h->under.free(h->under.ctx, h->retained[2 * i], (size_t)(uintptr_t)h->retained[2 * i + 1]);
    /* Blocks a broken manager never freed: return them so the process ends clean. */
    for (size_t i = 0; i <= h->blocks.mask; i++)
        if (h->blocks.keys[i])
            h->under.free(h->under.ctx, (void *)(uintptr_t)h->blocks.keys[i],
                          (size_t)h->blocks.values[i]);
    int status = h->failed ? -1 : 0;
    snprintf(msg, msg_bytes, "%s", h->failed ? h->failure : "");
    unlock(h);
    pthread_mutex_destroy(&h->mu);
    mmb_map_free(&h->blocks);
    mmb_map_free(&h->obj_blocks);
    mmb_map_free(&h->obj_index);
    free(h->objs);
    free(h->slots);
    free(h->live);
    free(h->stack);
    free(h->retained);
    free(h->orphans);
    free(h);
    return status;
}
