/* marksweep-inc: an incremental tri-colour mark-sweep (as Lua 5.4's incremental mode) with a
 * snapshot-at-the-beginning deletion barrier (Yuasa), bounded steps paced by allocation, and
 * lazy sweeping with two whites. No reference counts. See managers/README.md. */
#include <assert.h>
#include <stdlib.h>

#include "roots.h"

/* Colours. Two whites, as Lua's: `cur_white` is the colour of "not (yet) reached" while marking
 * and of "survives" while sweeping; the other white is "dead" while sweeping.
 *
 * Invariants (phase by phase):
 *   PAUSE: every object is cur_white; the gray stack is empty; no barrier runs.
 *   MARK:  no object has the other white. A gray object is on the gray stack exactly once; a
 *          black one has had its slots examined. Objects allocated now are born black.
 *          SATB: every object reachable when the cycle began is black, gray, or reachable
 *          from a gray object or from an unscanned root-table entry along a path that existed
 *          when the cycle began. store keeps it by shading the value it overwrites (the
 *          deletion barrier); decref keeps it by shading an unscanned root it removes.
 *          The root table is scanned from the top down: entries [0, root_scan) are unscanned.
 *          Swap-remove moves the last entry into the hole; that entry is at or above
 *          root_scan (then scanned already, or rooted after the cycle began, and is merely
 *          scanned again) unless root_scan == roots.count, where root_scan is clamped to the new
 *          roots.count. Roots added during marking go above root_scan: they are new (black) or were
 *          loaded from a slot, so reachable at the start and covered by SATB.
 *          Marking ends when the gray stack is empty and root_scan is 0: then every object
 *          reachable at the start is black, and the whites are garbage. cur_white flips.
 *   SWEEP: no gray object. The cursor walks the list: an object of the other white is freed,
 *          any other becomes cur_white. Objects allocated now are cur_white (they survive).
 *          When the cursor reaches the end, every object is cur_white: PAUSE. */
enum { WHITE0 = 0, WHITE1 = 1, GRAY = 2, BLACK = 3 };
enum { PHASE_PAUSE, PHASE_MARK, PHASE_SWEEP };

/* 16 bytes: list link, root-table index, root count (30 bits) and colour (2 bits). root_count
 * counts the mutator's references only; root_count > 0 <=> the object is at roots[root_index]. */
typedef struct msi_header {
    struct msi_header *next;
    uint32_t root_index;
    uint32_t root_count : 30;
    uint32_t colour : 2;
} msi_header;

#define MSI_ROOT_COUNT_MAX 0x3fffffffu
/* An object of n slots costs 1 + n / MSI_SLOTS_PER_UNIT units of marking work. */
#define MSI_SLOTS_PER_UNIT 16
/* Bytes of allocation that one unit of work pays for at stepmul=100 (Lua's WORK2MEM). */
#define MSI_WORK2MEM 16

enum { OPT_MIN_BYTES, OPT_PAUSE, OPT_STEPMUL, OPT_STEP_OBJECTS, OPT_STEP_US };

typedef struct msi_heap {
    mmb_heap base;
    mmb_heap_config cfg;
    mmb_stats stats;
    msi_header *objects; /* every object, newest first */
    mmb_roots roots;     /* every object with root_count > 0 */
    int phase;
    unsigned cur_white;
    size_t root_scan;    /* MARK: roots[0, root_scan) not yet scanned */
    mmb_stack gray;      /* MARK: the gray objects; released when marking ends */
    bool gray_live;      /* gray was initialised */
    msi_header **sweep;  /* SWEEP: the link to the next object to examine */
    uint64_t threshold;  /* PAUSE: a cycle starts when live_bytes reaches this */
    uint64_t debt_bytes; /* allocation not yet paid for by steps */
    uint64_t step_bytes; /* allocation one step pays for */
} msi_heap;

static inline msi_header *hdr(mmb_obj *o) {
    return (msi_header *)o - 1;
}
static inline mmb_obj *obj(msi_header *r) {
    return (mmb_obj *)(r + 1);
}
static inline bool is_white(const msi_header *r) {
    return r->colour <= WHITE1;
}

/* ---- the root table ------------------------------------------------------------------------- */

static void shade(msi_heap *h, mmb_obj *o) {
    hdr(o)->colour = GRAY;
    mmb_stack_push(&h->gray, o);
}

/* Removes `o` (root_count now 0) by swap-remove; while marking, an unscanned root is a deletion
 * from the snapshot and is shaded, and root_scan is kept within the table (see the invariants). */
static void root_remove(msi_heap *h, mmb_obj *o) {
    uint32_t i = hdr(o)->root_index;
    if (h->phase == PHASE_MARK && i < h->root_scan && is_white(hdr(o)))
        shade(h, o);
    hdr(mmb_roots_remove(&h->roots, i))->root_index = i;
    if (h->root_scan > h->roots.count)
        h->root_scan = h->roots.count;
}

/* ---- the cycle ------------------------------------------------------------------------------ */

static void cycle_start(msi_heap *h) {
    h->phase = PHASE_MARK;
    h->root_scan = h->roots.count;
    mmb_stack_init(&h->gray, &h->cfg.allocator);
    h->gray_live = true;
}

/* Marking work up to `budget` units (UINT64_MAX: to the end); adds to *visited the objects whose
 * slots it examined. Returns the units done; on finishing marking, flips the whites and enters
 * SWEEP. */
static uint64_t mark_some(msi_heap *h, uint64_t budget, uint64_t *visited, uint64_t deadline_ns) {
    uint64_t work = 0;
    while (work < budget) {
        if (deadline_ns && (work & 63) == 63 && mmb_now_ns() > deadline_ns)
            break;
        if (!mmb_stack_empty(&h->gray)) {
            mmb_obj *p = mmb_stack_pop(&h->gray);
            hdr(p)->colour = BLACK;
            h->stats.objects_traversed++;
            (*visited)++;
            for (uint32_t i = 0; i < p->nslots; i++) {
                mmb_obj *c = p->slots[i];
                if (c && is_white(hdr(c)))
                    shade(h, c);
            }
            work += 1 + p->nslots / MSI_SLOTS_PER_UNIT;
        } else if (h->root_scan > 0) {
            mmb_obj *r = h->roots.at[--h->root_scan];
            if (is_white(hdr(r)))
                shade(h, r);
            work++;
        } else {
            mmb_stack_release(&h->gray);
            h->gray_live = false;
            h->cur_white ^= 1u;
            h->phase = PHASE_SWEEP;
            h->sweep = &h->objects;
            break;
        }
    }
    return work;
}

static void set_pause(msi_heap *h) {
    uint64_t min_bytes = (uint64_t)h->cfg.options[OPT_MIN_BYTES];
    uint64_t pause = (uint64_t)h->cfg.options[OPT_PAUSE];
    uint64_t live = h->stats.live_bytes;
    uint64_t t = live > UINT64_MAX / pause ? UINT64_MAX : live * pause / 100;
    h->threshold = t > min_bytes ? t : min_bytes;
    h->debt_bytes = 0;
}

/* Sweeping work up to `budget` objects; adds to *visited and *freed. On reaching the end, enters
 * PAUSE and sets the next cycle's threshold. */
static uint64_t sweep_some(msi_heap *h, uint64_t budget, uint64_t *visited, uint64_t *freed) {
    unsigned dead = h->cur_white ^ 1u;
    uint64_t work = 0;
    while (work < budget && *h->sweep) {
        msi_header *r = *h->sweep;
        work++;
        (*visited)++;
        if (r->colour != dead) {
            r->colour = h->cur_white & 1u;
            h->sweep = &r->next;
            continue;
        }
        *h->sweep = r->next;
        size_t bytes = mmb_block_bytes(sizeof *r, obj(r));
        mmb_stats_freed(&h->stats, bytes, true);
        h->cfg.allocator.free(h->cfg.allocator.ctx, r, bytes);
        (*freed)++;
    }
    if (!*h->sweep) {
        h->phase = PHASE_PAUSE;
        set_pause(h);
    }
    return work;
}

/* One step of `budget` units, ending early where a phase ends (so that a step examines each
 * object once). Reported as MMB_EVENT_INCREMENT. */
static void step(msi_heap *h, uint64_t budget) {
    uint64_t start_ns = mmb_collect_begin(&h->cfg);
    uint64_t us = (uint64_t)h->cfg.options[OPT_STEP_US];
    uint64_t deadline = us ? mmb_now_ns() + us * 1000 : 0;
    uint64_t visited = 0, freed = 0;
    if (h->phase == PHASE_PAUSE)
        cycle_start(h);
    if (h->phase == PHASE_MARK)
        mark_some(h, budget, &visited, deadline);
    else
        sweep_some(h, budget, &visited, &freed);
    mmb_collect_end(&h->cfg, MMB_EVENT_INCREMENT, -1, start_ns, visited, freed);
}

/* collect: finishes the cycle in progress, then runs a whole one, as one MMB_EVENT_FULL event:
 * visited is the final cycle's swept objects plus what finishing freed (manager.h). */
static void collect_full(msi_heap *h) {
    uint64_t start_ns = mmb_collect_begin(&h->cfg);
    uint64_t v_finish = 0, freed_finish = 0, visited = 0, freed = 0, marked = 0;
    if (h->phase == PHASE_MARK)
        mark_some(h, UINT64_MAX, &marked, 0);
    if (h->phase == PHASE_SWEEP)
        sweep_some(h, UINT64_MAX, &v_finish, &freed_finish);
    cycle_start(h);
    mark_some(h, UINT64_MAX, &marked, 0);
    sweep_some(h, UINT64_MAX, &visited, &freed);
    h->stats.collections_full++;
    mmb_collect_end(&h->cfg, MMB_EVENT_FULL, -1, start_ns, visited + freed_finish,
                    freed + freed_finish);
}

/* ---- operations ----------------------------------------------------------------------------- */

static mmb_obj *msi_alloc(mmb_heap *heap, uint32_t nslots, uint32_t payload_bytes) {
    msi_heap *h = (msi_heap *)heap;
    if (h->phase == PHASE_PAUSE && h->stats.live_bytes >= h->threshold) {
        h->debt_bytes = h->step_bytes;
    }
    if (h->debt_bytes >= h->step_bytes) {
        uint64_t k = h->debt_bytes / h->step_bytes;
        h->debt_bytes -= k * h->step_bytes;
        step(h, k * (uint64_t)h->cfg.options[OPT_STEP_OBJECTS]);
        if (h->phase == PHASE_PAUSE)
            h->debt_bytes = 0;
    }
    if (!mmb_roots_reserve(&h->roots, &h->cfg.allocator))
        return NULL;
    size_t bytes;
    msi_header *r = mmb_block_alloc(&h->cfg.allocator, sizeof *r, nslots, payload_bytes, &bytes);
    if (!r)
        return NULL;
    r->next = h->objects;
    h->objects = r;
    r->colour = h->phase == PHASE_MARK ? BLACK : h->cur_white;
    r->root_count = 1;
    mmb_obj *o = mmb_obj_init(obj(r), nslots, payload_bytes, &h->stats, bytes);
    mmb_roots_add(&h->roots, o, &hdr(o)->root_index);
    if (h->phase != PHASE_PAUSE)
        h->debt_bytes += bytes;
    return o;
}

static void msi_incref(mmb_heap *heap, mmb_obj *o) {
    msi_heap *h = (msi_heap *)heap;
    msi_header *r = hdr(o);
    h->stats.increments++;
    if (r->root_count == 0) {
        if (!mmb_roots_reserve(&h->roots, &h->cfg.allocator))
            mmb_allocator_out_of_memory(&h->cfg.allocator, 2 * h->roots.cap * sizeof *h->roots.at);
        mmb_roots_add(&h->roots, o, &hdr(o)->root_index);
    } else if (r->root_count == MSI_ROOT_COUNT_MAX) {
        fprintf(stderr, "mmbench: error: marksweep-inc: over %u references to one object\n",
                MSI_ROOT_COUNT_MAX);
        abort();
    }
    r->root_count++;
}

static void msi_decref(mmb_heap *heap, mmb_obj *o) {
    msi_heap *h = (msi_heap *)heap;
    msi_header *r = hdr(o);
    h->stats.decrements++;
    if (--r->root_count == 0)
        root_remove(h, o);
}

/* The deletion barrier: while marking, the value overwritten is shaded if white, so an object
 * reachable at the cycle's start stays found however the mutator moves edges. */
static void msi_store(mmb_heap *heap, mmb_obj *o, uint32_t slot, mmb_obj *value) {
    msi_heap *h = (msi_heap *)heap;
    mmb_obj *old = mmb_slot_swap(o, slot, value);
    if (h->phase == PHASE_MARK && old && is_white(hdr(old)))
        shade(h, old);
}

static void msi_collect(mmb_heap *heap) {
    collect_full((msi_heap *)heap);
}

static void msi_stats(mmb_heap *heap, mmb_stats *out) {
    *out = ((msi_heap *)heap)->stats;
}

static void msi_destroy(mmb_heap *heap) {
    msi_heap *h = (msi_heap *)heap;
    while (h->objects) {
        msi_header *r = h->objects;
        h->objects = r->next;
        h->cfg.allocator.free(h->cfg.allocator.ctx, r, mmb_block_bytes(sizeof *r, obj(r)));
    }
    if (h->gray_live)
        mmb_stack_release(&h->gray);
    mmb_roots_free(&h->roots, &h->cfg.allocator);
    h->cfg.allocator.free(h->cfg.allocator.ctx, h, sizeof *h);
}

static int msi_create(const mmb_heap_config *cfg, mmb_heap **out, char *err, size_t err_bytes);

static const mmb_option_spec msi_options[] = {
    [OPT_MIN_BYTES] = {"min-bytes", MMB_OPT_BYTES, 4 << 20, 0, INT64_MAX,
                       "least heap at which a cycle starts (bytes, default 4M)"},
    [OPT_PAUSE] = {"pause", MMB_OPT_INT, 200, 101, 100000,
                   "a cycle starts when the heap reaches this share of what the last one left, "
                   "as Lua's pause (percent, default 200)"},
    [OPT_STEPMUL] = {"stepmul", MMB_OPT_INT, 200, 1, 1000000,
                     "collector speed: units of work per 16 bytes allocated during a cycle, as "
                     "Lua's stepmul (percent, default 200)"},
    [OPT_STEP_OBJECTS] = {"step-objects", MMB_OPT_INT, 1000, 1, INT64_MAX / 2,
                          "work of one step: objects marked or swept (one of n slots counts "
                          "1 + n/16) (objects, default 1000)"},
    [OPT_STEP_US] = {"step-us", MMB_OPT_INT, 0, 0, 10000000,
                     "also end a step after this long; 0: off; when on, the work counters "
                     "depend on timing (microseconds, default 0)"},
    {NULL, MMB_OPT_INT, 0, 0, 0, NULL},
};

const mmb_manager mmb_manager_marksweep_inc = {
    .name = "marksweep-inc",
    .summary = "incremental tri-colour mark-sweep, SATB deletion barrier, paced by allocation",
    .caps = MMB_CAP_CYCLES | MMB_CAP_INCREMENTAL,
    .options = msi_options,
    .create = msi_create,
    .destroy = msi_destroy,
    .alloc = msi_alloc,
    .incref = msi_incref,
    .decref = msi_decref,
    .store = msi_store,
    .load = NULL,
    .collect = msi_collect,
    .collect_young = NULL,
    .freeze = NULL,
    .stats = msi_stats,
};

static int msi_create(const mmb_heap_config *cfg, mmb_heap **out, char *err, size_t err_bytes) {
    msi_heap *h = mmb_heap_new(cfg, sizeof *h, &mmb_manager_marksweep_inc, err, err_bytes);
    if (!h)
        return -1;
    h->cfg = *cfg;
    h->stats.header_bytes = sizeof(msi_header);
    h->cur_white = WHITE0;
    uint64_t units = (uint64_t)cfg->options[OPT_STEP_OBJECTS];
    uint64_t stepmul = (uint64_t)cfg->options[OPT_STEPMUL];
    uint64_t sb = units > UINT64_MAX / (MSI_WORK2MEM * 100) ? UINT64_MAX / 2
                                                            : units * MSI_WORK2MEM * 100 / stepmul;
    h->step_bytes = sb ? sb : 1;
    set_pause(h);
    *out = &h->base;
    return 0;
}
