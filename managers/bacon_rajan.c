/* bacon-rajan: reference counting with synchronous cycle collection by trial deletion, after
 * Bacon & Rajan, "Concurrent Cycle Collection in Reference Counted Systems" (ECOOP 2001),
 * section 3, as PHP's collector does it. Design notes: managers/README.md. */
#include <assert.h>

#include "internal.h"

/* ---- the header ------------------------------------------------------------------------------
 *
 * Colors (the paper's Table 1, less the concurrent algorithm's red and orange):
 *   black   in use (or free)
 *   gray    possible member of a garbage cycle: MarkGray has subtracted its internal references
 *   white   member of a garbage cycle
 *   purple  possible root of a garbage cycle
 * The paper's green (acyclic) is a shape, not a stored color: an object with no slots can be on
 * no cycle, so possible_root never buffers it. It still takes part in MarkGray, Scan and
 * CollectWhite as a leaf, which is how a garbage cycle's acyclic members are freed with it.
 *
 * `word` packs bits 0-1 color, bit 2 buffered (the object is a candidate in the roots buffer) and
 * bits 3-63 the reference count: mutator references plus slots pointing here. The link puts
 * every object on exactly one list: `roots` when buffered, `garbage` from collect_white until
 * free_garbage, `objects` otherwise. The roots buffer is that list rather than an array so that
 * an object leaves it in O(1) when freed, with no buffer index in the header: 24 bytes, as rc's,
 * so the two compare on equal memory. Outside a collection:
 *   - every object is black or purple, and purple implies buffered;
 *   - the count is 0 only while the object is being freed;
 *   - `garbage` is empty. */
typedef struct br_header {
    mmb_link link;
    uint64_t word;
} br_header;

typedef enum br_color { BLACK = 0, GRAY = 1, WHITE = 2, PURPLE = 3 } br_color;

#define COLOR_MASK   UINT64_C(3)
#define BUFFERED_BIT UINT64_C(4)
#define RC_SHIFT     3
#define RC_ONE       (UINT64_C(1) << RC_SHIFT)

typedef struct br_heap {
    mmb_heap base;
    mmb_heap_config cfg;
    mmb_stats stats;
    uint64_t buffer_limit; /* option "buffer": collect (at a safe point) at this many roots */
    uint64_t roots_count;  /* objects on `roots` */
    /* Option "adaptive": PHP 7.3+'s policy (managers/README.md). php_cap is then PHP's
     * gc_threshold less its reserved entry 0, moving between buffer_default and
     * PHP_THRESHOLD_MAX - 1 by gc_adjust_threshold's rule after every automatic collection, and
     * buffer_limit is php_cap + 1: collect_if_full sees the buffer run past php_cap, which only a
     * candidate meeting the full buffer at an operation's top level makes it do. Without the
     * option php_cap is UINT64_MAX. */
    bool adaptive;
    bool collecting;         /* inside collect_cycles */
    uint64_t php_cap;        /* a candidate meeting this many roots sets off a collection */
    uint64_t buffer_default; /* the option's value: the floor the threshold comes back down to */
    mmb_link roots;          /* the roots buffer, in the order the candidates were buffered */
    mmb_link objects;        /* every object not freed that is on neither of the other lists */
    mmb_link garbage;        /* white objects collect_white took, in the order it took them */
    mmb_stack cascade_work;  /* release's pending objects (adaptive: a collection may start in a
                              * cascade, so they are apart from the collector's) */
    mmb_stack work;          /* mark_gray's and scan's frontier */
    mmb_stack black_work;    /* scan_black's frontier: it runs while scan's entries wait on work */
} br_heap;

static inline br_header *hdr(mmb_obj *o) {
    return (br_header *)o - 1;
}
static inline mmb_obj *obj_of(mmb_link *l) {
    return (mmb_obj *)((br_header *)l + 1); /* link is the header's first member */
}
static inline br_color color(mmb_obj *o) {
    return (br_color)(hdr(o)->word & COLOR_MASK);
}
static inline void set_color(mmb_obj *o, br_color c) {
    hdr(o)->word = (hdr(o)->word & ~COLOR_MASK) | (uint64_t)c;
}
static inline bool buffered(mmb_obj *o) {
    return hdr(o)->word & BUFFERED_BIT;
}
static inline uint64_t refcount(mmb_obj *o) {
    return hdr(o)->word >> RC_SHIFT;
}
static inline void rc_inc(mmb_obj *o) {
    hdr(o)->word += RC_ONE;
}
/* Returns the new count. */
static inline uint64_t rc_dec(mmb_obj *o) {
    assert(refcount(o) > 0);
    hdr(o)->word -= RC_ONE;
    return refcount(o);
}

static mmb_obj *br_alloc(mmb_heap *heap, uint32_t nslots, uint32_t payload_bytes) {
    br_heap *h = (br_heap *)heap;
    size_t bytes;
    br_header *r = mmb_block_alloc(&h->cfg.allocator, sizeof *r, nslots, payload_bytes, &bytes);
    if (!r)
        return NULL;
    r->word = RC_ONE | BLACK;
    mmb_list_append(&h->objects, &r->link);
    return mmb_obj_init(r + 1, nslots, payload_bytes, &h->stats, bytes);
}

static void move_to(mmb_link *list, mmb_obj *o) {
    mmb_list_remove(&hdr(o)->link);
    mmb_list_append(list, &hdr(o)->link);
}

static void buffer_root(br_heap *h, mmb_obj *o) {
    hdr(o)->word |= BUFFERED_BIT;
    move_to(&h->roots, o);
    h->roots_count++;
}

static void unbuffer(br_heap *h, mmb_obj *o) {
    hdr(o)->word &= ~BUFFERED_BIT;
    move_to(&h->objects, o);
    h->roots_count--;
}

/* Returns o's block to the allocator, taking it out of the roots buffer if it is there. It does
 * not look at the slots: release has decremented the children, and a collection frees only
 * white objects, whose children are white too or had their counts cut by mark_gray. */
static void free_object(br_heap *h, mmb_obj *o, bool by_gc) {
    br_header *r = hdr(o);
    size_t bytes = mmb_block_bytes(sizeof(br_header), o);
    if (buffered(o))
        h->roots_count--;
    mmb_list_remove(&r->link);
    mmb_stats_freed(&h->stats, bytes, by_gc);
    h->cfg.allocator.free(h->cfg.allocator.ctx, r, bytes);
}

/* ---- reference counting (the paper's Increment, Decrement, Release, PossibleRoot) ----------- */

static void release(br_heap *h, mmb_obj *o);
static void collect_cycles_adaptive(br_heap *h, bool automatic);

/* Adaptive mode, candidate s meeting a full buffer inside a cascade or a collection: PHP's
 * gc_possible_root_when_full (php_overflow below is the same at an operation's top level). PHP's
 * buffer is full when no freed entry is left to reuse and the next new one would reach the
 * threshold; every run compacts it and only a candidate's free frees an entry, so while the
 * entries in use stay within php_cap (they pass it only when a run leaves more candidates than
 * that) full is exactly roots_count >= php_cap. Collect first, with s held so that it survives,
 * then buffer s unless the collection freed its last referrer (then s goes now, by refcount) or
 * buffered it already. Inside a cascade, as PHP does: the objects release has yet to free have
 * count zero, no referrer and their slots intact, so no collection reaches them, mark_roots
 * drops them from the buffer (PHP never traverses an object being freed) and what they point
 * at keeps their references as outside ones; their stack is not the collector's. If the
 * collection left s with no reference, s joins that cascade's stack (`in_cascade`), so the
 * cascade under way frees it and counts it as its own, as PHP's recursive free would; at an
 * operation's end s is released as any count reaching zero. Returns whether s is to be buffered
 * now. */
static MMB_NOINLINE bool php_when_full(br_heap *h, mmb_obj *s, bool in_cascade) {
    if (h->collecting)
        return true; /* gc_active: PHP grows the buffer past the threshold */
    rc_inc(s);
    collect_cycles_adaptive(h, true);
    if (rc_dec(s) == 0) {
        if (in_cascade)
            mmb_stack_push(&h->cascade_work, s);
        else
            release(h, s);
        return false;
    }
    return !buffered(s);
}

/* A decrement that left the count above zero may have cut the last outside reference to a
 * cycle, so the object becomes a candidate. Buffering it once is enough: it stays buffered until
 * the next collection or its free, however often its color changes meanwhile. At an operation's
 * top level the full buffer is met by collect_if_full, after the operation's one decrement. */
static inline void possible_root(br_heap *h, mmb_obj *s, bool top) {
    if (s->nslots == 0 || color(s) == PURPLE)
        return;
    if (!top && !buffered(s) && h->roots_count >= h->php_cap && !php_when_full(h, s, true))
        return;
    set_color(s, PURPLE);
    if (!buffered(s))
        buffer_root(h, s);
}

static void survived(mmb_heap *heap, mmb_obj *child) {
    possible_root((br_heap *)heap, child, false);
}

static void free_by_rc(mmb_heap *heap, mmb_obj *o) {
    free_object((br_heap *)heap, o, false);
}

/* The paper's Release, through mmb_rc_release with this class: it frees `o`, whose count just
 * reached zero, and everything whose count reaches zero as a result; children left above
 * zero become candidates. A parent is freed before its children are examined, so a 10^7-long
 * chain needs one stack entry, and every freed object has no referrer left that is not freed. A
 * buffered object is freed too, leaving the buffer, as PHP does: the paper only blackens it and
 * leaves the free to MarkRoots, which would keep a dropped structure whose members are
 * candidates (any list built by the mutator) in memory until the next collection. */
static const mmb_rc_class br_class = {.dec = rc_dec, .survived = survived, .free_obj = free_by_rc};

static MMB_NOINLINE void release(br_heap *h, mmb_obj *o) {
    mmb_rc_release(&h->base, &br_class, &h->cascade_work, &h->stats, &h->cfg, o);
}

static void increment(br_heap *h, mmb_obj *o) {
    h->stats.increments++;
    rc_inc(o);
    set_color(o, BLACK); /* o is live now: no longer a candidate, mark_roots will drop it */
}

static void decrement(br_heap *h, mmb_obj *o) {
    h->stats.decrements++;
    if (rc_dec(o) == 0)
        release(h, o);
    else
        possible_root(h, o, true);
}

/* ---- cycle collection (the paper's CollectCycles) ----------------------------------------------
 *
 * The paper writes MarkGray, Scan, ScanBlack and CollectWhite as recursions; here each is a loop
 * over an explicit frontier, which computes the same colors and counts:
 *
 *   mark_gray colors an object gray when it first pushes it, and pops each object once. It
 *   subtracts one for every edge out of an object that turns gray, exactly once, when the object
 *   is popped; the recursion subtracts the same edges once each, when the object turns gray.
 *   After it, every object reachable from a marked root is gray and its count is the number of
 *   references from outside the gray subgraph, whatever the order.
 *
 *   scan_black colors black when it pushes and adds one back for every edge out of an object it
 *   turns black, once each, as the recursion does. Its black set is the closure, under edges,
 *   of where it started.
 *
 *   scan decides an object (black through scan_black if its count is above zero, else white) on
 *   first meeting it gray, rather than on popping it. The count a gray object shows is still
 *   its count after mark_gray: scan_black adds to an object only as it turns it black. So the
 *   final black set is the closure of the reachable gray objects with outside references,
 *   white is the rest of the reachable gray objects, and every count is its outside references
 *   plus its edges from black objects, in any visiting order. The work counters differ from a
 *   recursive implementation's (an object whitened and later blackened is examined twice) but
 *   are fixed for a given sequence of operations.
 *
 *   collect_white cannot free an object as soon as it has pushed its children, as release does:
 *   on a cycle, the last member popped points back at the first, already freed, and the paper's
 *   recursion would read that freed header too. It moves each white object to `garbage` as it
 *   takes it and free_garbage frees the list afterwards, in the order taken, so each object is
 *   still freed after the object through which it was found.
 *
 * A collection frees only white objects and never decrements for them: their children are white
 * too or had their counts cut by mark_gray and not restored. So no cascade nests in it. */

/* MarkGray and ScanBlack are one walk, mirrored: paint s with `to` and push it on `work`; pop
 * each object once and, for every edge out of it, add `delta` to the target's count (counted as
 * a decrement or an increment), painting and pushing every target not yet `to`. After: every
 * object reachable from s through objects that were not `to` is `to`, and each count moved once
 * per edge into it from a newly painted object. */
static inline uint64_t paint(br_heap *h, mmb_stack *work, mmb_obj *s, br_color to, int delta) {
    uint64_t painted = 0;
    set_color(s, to);
    mmb_stack_push(work, s);
    while (!mmb_stack_empty(work)) {
        mmb_obj *p = mmb_stack_pop(work);
        h->stats.objects_traversed++;
        painted++;
        for (uint32_t i = 0; i < p->nslots; i++) {
            mmb_obj *t = p->slots[i];
            if (!t)
                continue;
            if (delta < 0) {
                h->stats.decrements++;
                rc_dec(t);
            } else {
                h->stats.increments++;
                rc_inc(t);
            }
            if (color(t) != to) {
                set_color(t, to);
                mmb_stack_push(work, t);
            }
        }
    }
    return painted;
}

/* After: every object reachable from s is gray, and each count was lowered once per edge into it
 * from a newly gray object. Returns how many objects it grayed. */
static uint64_t mark_gray(br_heap *h, mmb_obj *s) {
    return color(s) != GRAY ? paint(h, &h->work, s, GRAY, -1) : 0;
}

/* After: every object reachable from s through objects that were not black is black, and each
 * count was raised once per edge into it from a newly black object. scan_black runs while scan's
 * entries wait on `work`, so it has a stack of its own. */
static void scan_black(br_heap *h, mmb_obj *s) {
    (void)paint(h, &h->black_work, s, BLACK, +1);
}

/* A gray object with outside references is live, and so is all it reaches; one without is
 * garbage unless something live reaches it later, which scan_black then corrects. */
static void scan_decide(br_heap *h, mmb_obj *t) {
    if (refcount(t) > 0) {
        scan_black(h, t);
    } else {
        set_color(t, WHITE);
        mmb_stack_push(&h->work, t);
    }
}

/* After: no object reachable from s is gray; those reachable from an outside reference are
 * black with their counts restored, the rest white. */
static void scan(br_heap *h, mmb_obj *s) {
    if (color(s) != GRAY)
        return;
    scan_decide(h, s);
    while (!mmb_stack_empty(&h->work)) {
        mmb_obj *p = mmb_stack_pop(&h->work);
        if (color(p) != WHITE)
            continue; /* blackened since it was pushed: scan_black went through its children */
        h->stats.objects_traversed++;
        for (uint32_t i = 0; i < p->nslots; i++) {
            mmb_obj *t = p->slots[i];
            if (t && color(t) == GRAY)
                scan_decide(h, t);
        }
    }
}

/* Takes white object t for freeing: black, so that it is taken once, and on `garbage`. */
static void take_white(br_heap *h, mmb_obj *t) {
    set_color(t, BLACK);
    move_to(&h->garbage, t);
}

/* After: every white object reachable from s through white objects that are not buffered is on
 * `garbage`, colored black. `garbage` doubles as the work queue: everything on it before s has
 * been examined already, and objects taken while walking it are appended behind the cursor. */
static void collect_white(br_heap *h, mmb_obj *s) {
    if (color(s) != WHITE || buffered(s))
        return;
    take_white(h, s);
    for (mmb_link *l = &hdr(s)->link; l != &h->garbage; l = l->next) {
        mmb_obj *p = obj_of(l);
        h->stats.objects_traversed++;
        for (uint32_t i = 0; i < p->nslots; i++) {
            mmb_obj *t = p->slots[i];
            if (t && color(t) == WHITE && !buffered(t))
                take_white(h, t);
        }
    }
}

/* After: the buffer holds only the roots that were still purple, each marked gray with all it
 * reaches; the others (blackened by an increment, or grayed from an earlier root) are unbuffered.
 * The paper's MarkRoots also frees entries with count zero; release has freed those already
 * (adaptive mode: see collect_cycles_adaptive). Returns how many distinct objects it examined:
 * those it grayed, and the entries it dropped that no root had grayed. */
static uint64_t mark_roots(br_heap *h) {
    uint64_t examined = 0;
    for (mmb_link *l = h->roots.next, *next; l != &h->roots; l = next) {
        next = l->next;
        mmb_obj *s = obj_of(l);
        if (color(s) == PURPLE) {
            assert(refcount(s) > 0);
            examined += mark_gray(h, s);
        } else {
            examined += color(s) != GRAY;
            unbuffer(h, s);
        }
    }
    return examined;
}

/* After: no object is gray. */
static void scan_roots(br_heap *h) {
    for (mmb_link *l = h->roots.next; l != &h->roots; l = l->next)
        scan(h, obj_of(l));
}

/* After: the buffer is empty and every white object is on `garbage`. Each root is unbuffered
 * just before its own collect_white: a white root met earlier from another root is skipped
 * then and taken at its turn (the paper's order). Nothing is freed until all are taken, so no
 * later collect_white reads a freed header. */
static void collect_roots(br_heap *h) {
    while (!mmb_list_empty(&h->roots)) {
        mmb_obj *s = obj_of(h->roots.next);
        unbuffer(h, s);
        collect_white(h, s);
    }
}

/* After: `garbage` is empty, its objects freed in the order collect_white took them. In adaptive
 * mode every survivor a garbage object points to becomes a candidate first, as in PHP, whose
 * collector restores the counts collect_white cut and then frees the garbage through its free
 * handler, whose decrements buffer those survivors. That pass runs before any garbage is freed:
 * a garbage object's slots may point at garbage freed before it. */
static MMB_NOINLINE void buffer_survivors(br_heap *h) {
    /* Gray (no object is gray after scan_roots) tells the garbage from the survivors. */
    for (mmb_link *l = h->garbage.next; l != &h->garbage; l = l->next)
        set_color(obj_of(l), GRAY);
    for (mmb_link *l = h->garbage.next; l != &h->garbage; l = l->next) {
        mmb_obj *p = obj_of(l);
        for (uint32_t i = 0; i < p->nslots; i++) {
            mmb_obj *t = p->slots[i];
            if (t && color(t) != GRAY)
                possible_root(h, t, false);
        }
    }
}

static void free_garbage(br_heap *h) {
    if (h->adaptive)
        buffer_survivors(h);
    while (!mmb_list_empty(&h->garbage))
        free_object(h, obj_of(h->garbage.next), true);
}

/* PHP's gc_adjust_threshold (Zend/zend_gc.c; as Debian's 8.2.36 build has it), in roots rather
 * than buffer entries: an automatic run that freed fewer than PHP_THRESHOLD_TRIGGER objects, or
 * that left the buffer holding at least PHP's threshold (php_cap + 1) roots, raises the
 * threshold by PHP_THRESHOLD_STEP up to PHP_THRESHOLD_MAX; any other lowers it by the step, not
 * below the default. */
#define PHP_THRESHOLD_TRIGGER 100
#define PHP_THRESHOLD_STEP    10000
#define PHP_THRESHOLD_MAX     1000000000
static void adjust_threshold(br_heap *h, uint64_t freed) {
    if (freed < PHP_THRESHOLD_TRIGGER || h->roots_count > h->php_cap) {
        uint64_t raised = h->php_cap + PHP_THRESHOLD_STEP;
        h->php_cap = raised < PHP_THRESHOLD_MAX - 1 ? raised : PHP_THRESHOLD_MAX - 1;
        if (h->php_cap < h->buffer_default)
            h->php_cap = h->buffer_default; /* a default above PHP's maximum stays */
    } else if (h->php_cap > h->buffer_default) {
        uint64_t lowered = h->php_cap - PHP_THRESHOLD_STEP;
        h->php_cap = lowered > h->buffer_default ? lowered : h->buffer_default;
    }
    h->buffer_limit = h->php_cap + 1;
}

/* One collection, reported as a full one. Its objects_visited counts each object it examined
 * once (manager.h): every object freed was grayed, so the survivors are the rest. */
static void collect_cycles(br_heap *h) {
    uint64_t start_ns = mmb_collect_begin(&h->cfg);
    uint64_t freed = h->stats.objects_freed_by_gc;
    uint64_t examined = mark_roots(h);
    scan_roots(h);
    collect_roots(h);
    free_garbage(h);
    h->stats.collections_full++;
    mmb_collect_end(&h->cfg, MMB_EVENT_FULL, -1, start_ns, examined,
                    h->stats.objects_freed_by_gc - freed);
}

/* Adaptive mode's collection. With no candidates there is no run (zend_gc_collect_cycles checks
 * num_roots). Inside a cascade the buffer may hold objects release has yet to free (count zero,
 * no referrer): they leave it untouched first. An automatic run (not the mutator's collect)
 * then moves the threshold, as PHP's gc_possible_root_when_full does; PHP's explicit
 * gc_collect_cycles() does not. */
static MMB_NOINLINE void collect_cycles_adaptive(br_heap *h, bool automatic) {
    for (mmb_link *l = h->roots.next, *next; l != &h->roots; l = next) {
        next = l->next;
        if (refcount(obj_of(l)) == 0)
            unbuffer(h, obj_of(l));
    }
    if (h->roots_count == 0)
        return;
    uint64_t freed = h->stats.objects_freed_by_gc;
    h->collecting = true;
    collect_cycles(h);
    h->collecting = false;
    if (automatic)
        adjust_threshold(h, h->stats.objects_freed_by_gc - freed);
}

/* Adaptive mode: the operation's one decrement to non-zero buffered s, its newest candidate, into
 * a full buffer. PHP collects before buffering it: take it out again and do as php_when_full. */
static MMB_NOINLINE void php_overflow(br_heap *h) {
    mmb_obj *s = obj_of(h->roots.prev);
    unbuffer(h, s);
    set_color(s, BLACK);
    if (php_when_full(h, s, false)) {
        set_color(s, PURPLE);
        buffer_root(h, s);
    }
}

/* Without adaptive, the only place a collection starts on its own: last thing in the public
 * decref and store, never inside release. Trial deletion needs every count to be exactly the
 * mutator's references plus the slots of objects not freed; mid-cascade, the children of the
 * objects waiting on the work stack are still counted for slots about to vanish. So the buffer
 * may run past the limit until the operation ends. (Adaptive mode collects where PHP does, in a
 * cascade too: php_when_full says why that is sound.) */
static MMB_NOINLINE void buffer_full(br_heap *h) {
    if (h->adaptive)
        php_overflow(h);
    else
        collect_cycles(h);
}

static void collect_if_full(br_heap *h) {
    if (h->roots_count >= h->buffer_limit)
        buffer_full(h);
}

/* ---- the operations ------------------------------------------------------------------------- */

static void br_incref(mmb_heap *heap, mmb_obj *o) {
    increment((br_heap *)heap, o);
}

static void br_decrement(mmb_heap *heap, mmb_obj *o) {
    decrement((br_heap *)heap, o);
}

static void br_decref(mmb_heap *heap, mmb_obj *o) {
    br_decrement(heap, o);
    collect_if_full((br_heap *)heap);
}

static void br_store(mmb_heap *heap, mmb_obj *o, uint32_t slot, mmb_obj *value) {
    mmb_rc_store(heap, o, slot, value, br_incref, br_decrement);
    collect_if_full((br_heap *)heap);
}

static void br_collect(mmb_heap *heap) {
    br_heap *h = (br_heap *)heap;
    if (h->adaptive)
        collect_cycles_adaptive(h, false);
    else
        collect_cycles(h);
}

static void br_stats(mmb_heap *heap, mmb_stats *out) {
    *out = ((br_heap *)heap)->stats;
}

static void br_destroy(mmb_heap *heap) {
    br_heap *h = (br_heap *)heap;
    mmb_list_merge(&h->roots, &h->objects);
    mmb_list_free_all(&h->objects, &h->cfg.allocator, sizeof(br_header));
    mmb_stack_release(&h->cascade_work);
    mmb_stack_release(&h->work);
    mmb_stack_release(&h->black_work);
    h->cfg.allocator.free(h->cfg.allocator.ctx, h, sizeof *h);
}

static int br_create(const mmb_heap_config *cfg, mmb_heap **out, char *err, size_t err_bytes);

static const mmb_option_spec br_options[] = {
    {"buffer", MMB_OPT_INT, 10000, 1, INT64_MAX,
     "collect cycles once the roots buffer holds this many candidates (objects; PHP's 10000)"},
    {"adaptive", MMB_OPT_BOOL, 0, 0, 1,
     "PHP 7.3+'s policy: collect as a root meets a full buffer, threshold moving from 'buffer' by "
     "10000 (on/off)"},
    {NULL, MMB_OPT_INT, 0, 0, 0, NULL},
};

const mmb_manager mmb_manager_bacon_rajan = {
    .name = "bacon-rajan",
    .summary = "synchronous trial-deletion cycle collection over refcounts (Bacon-Rajan, as PHP)",
    .caps = MMB_CAP_REFCOUNT | MMB_CAP_CYCLES,
    .options = br_options,
    .create = br_create,
    .destroy = br_destroy,
    .alloc = br_alloc,
    .incref = br_incref,
    .decref = br_decref,
    .store = br_store,
    .load = NULL,
    .collect = br_collect,
    .collect_young = NULL,
    .freeze = NULL,
    .stats = br_stats,
};

static int br_create(const mmb_heap_config *cfg, mmb_heap **out, char *err, size_t err_bytes) {
    if (cfg->options[0] < 1) {
        snprintf(err, err_bytes, "option 'buffer' must be >= 1, got %lld",
                 (long long)cfg->options[0]);
        return -1;
    }
    br_heap *h = mmb_heap_new(cfg, sizeof *h, &mmb_manager_bacon_rajan, err, err_bytes);
    if (!h)
        return -1;
    h->cfg = *cfg;
    h->buffer_limit = (uint64_t)cfg->options[0];
    h->buffer_default = h->buffer_limit;
    h->adaptive = cfg->options[1] != 0;
    h->php_cap = UINT64_MAX;
    if (h->adaptive) {
        h->php_cap = h->buffer_limit;
        h->buffer_limit = h->php_cap + 1;
    }
    h->stats.header_bytes = sizeof(br_header);
    mmb_list_init(&h->roots);
    mmb_list_init(&h->objects);
    mmb_list_init(&h->garbage);
    mmb_stack_init(&h->cascade_work, &h->cfg.allocator);
    mmb_stack_init(&h->work, &h->cfg.allocator);
    mmb_stack_init(&h->black_work, &h->cfg.allocator);
    *out = &h->base;
    return 0;
}
