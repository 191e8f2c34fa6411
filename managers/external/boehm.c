/* boehm: Boehm GC 8.2 (Debian's libgc), the production conservative tracing collector, as a
 * manager: objects in its heap, the mutator's references in a root table it scans, collect =
 * GC_gcollect. boehm_incremental.c is the same adapter with incremental mode on. Design and
 * what the oracle can check: managers/README.md, "boehm". */
#define GC_THREADS /* declares GC_register_my_thread and friends; the library is threaded */
#include <gc/gc.h>
#include <gc/gc_mark.h>
#include <gc/gc_typed.h>
#include <pthread.h>
#include <stdlib.h>

#include "boehm.h"

/* The header before every object, at the start of its Boehm block.
 *
 * `next` links the heap's list of every object it allocated and nobody has reclaimed, newest
 * first, as a hidden pointer (GC_HIDE_POINTER): the collector, scanning the header, sees a
 * number, so the list retains nothing. root_count counts the mutator's references only (slots
 * count for nothing: reachability is traced). Invariants:
 *   - root_count > 0  <=>  the object is in the root table, at roots[root_index];
 *   - an object is on its heap's list from alloc until the collection that finds it unmarked
 *     (then reported through on_free and unlinked, before Boehm can reuse its memory) or destroy.
 * Scanning: the header, nslots/payload_bytes and the slots are scanned as possible pointers (none
 * of the header's words can point into the heap); the payload never is (see descr_for). */
typedef struct bh_header {
    GC_hidden_pointer next;
    uint32_t root_index;
    uint32_t root_count;
} bh_header;

#define BH_ROOT_COUNT_MAX UINT32_MAX
#define BH_ROOTS_INITIAL  64
#define BH_LIST_END       GC_HIDE_POINTER(NULL)

typedef struct bh_heap {
    mmb_heap base;
    mmb_heap_config cfg;
    mmb_stats stats;
    mmb_link heaps;   /* on bh_heaps, the process's boehm heaps */
    bool incremental; /* created by boehm-incremental */
    bool count_frees; /* option count-frees: objects are listed, frees found and counted */
    /* The object list (see bh_header); BH_LIST_END when empty, and always with count-frees
     * off. */
    GC_hidden_pointer first;
    /* The root table: every object with root_count > 0, in no order. Allocated uncollectable,
     * so the collector scans it as a root; entries past nroots are NULL (a stale entry would
     * keep a dropped object alive). */
    mmb_obj **roots;
    size_t nroots, roots_cap;
} bh_heap;

/* ---- process-wide state -----------------------------------------------------------------------
 * Boehm's collector is one per process: one heap, one collection for every boehm heap at once,
 * one event callback. All of it is touched by one thread at a time (the managers are not
 * thread-safe: every boehm heap of a process is used by one thread at a time), and the event
 * callback runs on that thread inside a collection. */
static pthread_once_t bh_once = PTHREAD_ONCE_INIT;
static mmb_link bh_heaps = {&bh_heaps, &bh_heaps};
static size_t bh_plain_heaps, bh_incremental_heaps;
static unsigned long bh_time_limit_ms; /* of the live incremental heaps */
/* The heap whose operation is running: a collection is reported to it (see on_gc_event). */
static bh_heap *bh_current;
static pthread_key_t bh_thread_key;
static _Thread_local bool bh_thread_registered;

/* Typed descriptors by slot count (0 until first needed), and the all-ones bitmap they are made
 * from. Process-wide, from malloc (which the collector does not scan), never freed. */
static GC_descr *bh_descrs;
#define BH_MAX_SCAN_WORDS ((sizeof(bh_header) + sizeof(mmb_obj)) / sizeof(GC_word) + MMB_MAX_SLOTS)
static GC_word bh_ones[BH_MAX_SCAN_WORDS / (8 * sizeof(GC_word)) + 1];

/* The collection being reported: open from its first event to its last. */
static struct {
    bool open;
    bool outer;     /* opened by GC_EVENT_START (an explicit or a stop-the-world collection) */
    bool mark_done; /* GC_EVENT_MARK_END seen: a reclaim follows the world restarting */
    bool full;      /* Boehm's start callback ran: a full collection, not a partial one */
    bh_heap *heap;  /* reported to; NULL: nobody asked (no boehm operation running) */
    uint64_t start_ns, visited, freed;
} bh_gc;

static inline bh_header *hdr(mmb_obj *o) {
    return (bh_header *)o - 1;
}

static inline mmb_obj *obj(bh_header *r) {
    return (mmb_obj *)(r + 1);
}

/* ---- events and reclamation ----------------------------------------------------------------- */

/* Reports every unmarked object of every heap as freed and unlinks it; runs at
 * GC_EVENT_RECLAIM_START, when marking is complete and before Boehm sweeps anything, so each
 * object is still intact. No finalizers are registered (none is needed), so GC_finalize, which
 * runs after this event, marks nothing more: unmarked now is exactly what Boehm reclaims. */
static void reclaim_unmarked(void) {
    for (mmb_link *l = bh_heaps.next; l != &bh_heaps; l = l->next) {
        bh_heap *h = (bh_heap *)((char *)l - offsetof(bh_heap, heaps));
        if (!h->count_frees)
            continue;
        uint64_t visited = 0, freed = 0;
        GC_hidden_pointer *link = &h->first;
        while (*link != BH_LIST_END) {
            bh_header *r = GC_REVEAL_POINTER(*link);
            mmb_obj *o = obj(r);
            visited++;
            if (GC_is_marked(r)) {
                if (o->nslots)
                    h->stats.objects_traversed++; /* Boehm scanned its slots */
                link = &r->next;
                continue;
            }
            *link = r->next;
            mmb_stats_freed(&h->stats, sizeof *r + mmb_obj_bytes(o->nslots, o->payload_bytes),
                            true);
            if (h->cfg.on_free)
                h->cfg.on_free(h->cfg.free_ctx, o); /* which may scribble on it */
            freed++;
        }
        if (h == bh_gc.heap) {
            bh_gc.visited += visited;
            bh_gc.freed += freed;
        }
    }
}

static void gc_open(bool outer) {
    bh_gc.open = true;
    bh_gc.outer = outer;
    bh_gc.mark_done = false;
    bh_gc.heap = bh_current;
    bh_gc.visited = bh_gc.freed = 0;
    bh_gc.start_ns = bh_gc.heap ? mmb_collect_begin(&bh_gc.heap->cfg) : 0;
}

static void gc_close(void) {
    bh_heap *h = bh_gc.heap;
    bool full = bh_gc.full;
    bh_gc.open = false;
    if (!h)
        return;
    if (full)
        h->stats.collections_full++;
    else
        h->stats.collections_young++;
    mmb_collect_end(&h->cfg, full ? MMB_EVENT_FULL : MMB_EVENT_YOUNG, full ? -1 : 0, bh_gc.start_ns,
                    bh_gc.visited, bh_gc.freed);
}

/* Boehm's start callback: a full collection begins (partial ones, in incremental mode, do not
 * call it). */
static void GC_CALLBACK on_full_gc(void) {
    bh_gc.full = true;
}

/* What a pause is, from Boehm's events:
 *   - a stop-the-world collection (every collection of plain boehm, and GC_gcollect in either
 *     mode): GC_EVENT_START .. GC_EVENT_END, which covers finishing any incremental collection in
 *     progress, stopping the world, marking, and the reclaim's eager part (our list walk
 *     included); Boehm sweeps the rest of the heap lazily, in later allocations, unreported.
 *   - in incremental mode, an increment that stops the world: PRE_STOP_WORLD .. POST_START_WORLD
 *     when its marking ran out of time, or .. RECLAIM_END when it finished the collection.
 *     Marking Boehm does a little at a time inside allocations (GC_collect_a_little) without
 *     stopping the world sends no event and is not reported.
 * Each pause is reported once, to the heap whose operation it ran in: FULL when Boehm's start
 * callback said so, else YOUNG with generation 0 (a partial collection of the generational mode).
 * Frees are counted for every heap, each in its own stats. */
static void GC_CALLBACK on_gc_event(GC_EventType e) {
    switch (e) {
    case GC_EVENT_START:
        if (!bh_gc.open)
            gc_open(true);
        break;
    case GC_EVENT_PRE_STOP_WORLD:
        if (!bh_gc.open)
            gc_open(false);
        break;
    case GC_EVENT_MARK_END:
        bh_gc.mark_done = true;
        break;
    case GC_EVENT_POST_START_WORLD:
        if (bh_gc.open && !bh_gc.outer && !bh_gc.mark_done)
            gc_close(); /* an increment that ran out of time; the collection goes on */
        break;
    case GC_EVENT_RECLAIM_START:
        reclaim_unmarked();
        break;
    case GC_EVENT_RECLAIM_END: /* the collection is over, unless GC_EVENT_END is still to come */
        if (!bh_gc.open || !bh_gc.outer) {
            if (bh_gc.open)
                gc_close();
            bh_gc.full = false;
        }
        break;
    case GC_EVENT_END:
        if (bh_gc.open && bh_gc.outer)
            gc_close();
        bh_gc.full = false;
        break;
    default:
        break;
    }
}

/* ---- process setup --------------------------------------------------------------------------- */

static void unregister_thread(void *unused) {
    (void)unused;
    GC_unregister_my_thread();
}

static void bh_init(void) {
    /* No static roots: every reference of the mutator's is in a root table (uncollectable, so
     * always scanned), and mmbench's own data and bss (tens of MiB of harness buffers) would
     * otherwise be scanned conservatively at every collection, a cost and a retention of the
     * harness's, not of the collector's. Stacks and registers are still scanned. */
    GC_set_no_dls(1);
    GC_INIT();
    GC_clear_roots();
    /* Slots and roots point just past the header, not at the block's start. Boehm recognises
     * interior pointers by default; this makes the adapter correct without that. */
    GC_register_displacement(sizeof(bh_header));
    GC_allow_register_threads();
    pthread_key_create(&bh_thread_key, unregister_thread);
    for (size_t i = 0; i < sizeof bh_ones / sizeof bh_ones[0]; i++)
        bh_ones[i] = ~(GC_word)0;
    bh_descrs = calloc(MMB_MAX_SLOTS + 1, sizeof *bh_descrs);
    if (!bh_descrs) {
        fprintf(stderr,
                "mmbench: error: boehm: out of memory for the type descriptors (%zu "
                "bytes)\n",
                (MMB_MAX_SLOTS + 1) * sizeof *bh_descrs);
        abort();
    }
    GC_set_start_callback(on_full_gc);
    GC_set_on_collection_event(on_gc_event);
}

/* The start of every operation that may allocate in Boehm's heap (and so collect): makes the heap
 * the one a collection is reported to, and registers a thread Boehm has not met (it would abort a
 * collection on a thread it does not know), unregistering it when the thread ends. */
static inline void bh_enter(bh_heap *h) {
    bh_current = h;
    if (__builtin_expect(!bh_thread_registered, 0)) {
        if (!GC_thread_is_registered()) {
            struct GC_stack_base sb;
            if (GC_get_stack_base(&sb) != GC_SUCCESS) {
                fprintf(stderr,
                        "mmbench: error: %s: cannot find this thread's stack to register "
                        "it with Boehm GC\n",
                        h->base.manager->name);
                abort();
            }
            GC_register_my_thread(&sb);
            pthread_setspecific(bh_thread_key, h);
        }
        bh_thread_registered = true;
    }
}

/* The descriptor of an object with n > 0 slots and a payload: the header, nslots/payload_bytes
 * and the n slots, a prefix of the block, are possible pointers; the payload after them is not.
 * A prefix is a length descriptor, Boehm's cheapest. Made once per slot count. */
static GC_descr descr_for(uint32_t n) {
    if (!bh_descrs[n]) {
        size_t words = (sizeof(bh_header) + sizeof(mmb_obj)) / sizeof(GC_word) + n;
        bh_descrs[n] = GC_make_descriptor(bh_ones, words);
    }
    return bh_descrs[n];
}

/* ---- the root table -------------------------------------------------------------------------- */

static bool roots_grow(bh_heap *h) {
    size_t cap = h->roots_cap ? h->roots_cap * 2 : BH_ROOTS_INITIAL;
    mmb_obj **roots = GC_MALLOC_UNCOLLECTABLE(cap * sizeof *roots);
    if (!roots)
        return false;
    if (h->roots) {
        memcpy(roots, h->roots, h->nroots * sizeof *roots);
        GC_FREE(h->roots);
    }
    h->roots = roots;
    h->roots_cap = cap;
    return true;
}

static void root_add(bh_heap *h, mmb_obj *o) {
    hdr(o)->root_index = (uint32_t)h->nroots;
    h->roots[h->nroots++] = o;
}

static void root_remove(bh_heap *h, mmb_obj *o) {
    uint32_t i = hdr(o)->root_index;
    mmb_obj *last = h->roots[--h->nroots];
    h->roots[i] = last;
    hdr(last)->root_index = i;
    h->roots[h->nroots] = NULL;
}

/* ---- operations ------------------------------------------------------------------------------ */

mmb_obj *mmbx_boehm_alloc(mmb_heap *heap, uint32_t nslots, uint32_t payload_bytes) {
    bh_heap *h = (bh_heap *)heap;
    bh_enter(h);
    /* Room in the root table first: between GC_MALLOC and root_add nothing may collect. */
    if (h->nroots == h->roots_cap && !roots_grow(h))
        return NULL;
    size_t bytes = sizeof(bh_header) + mmb_obj_bytes(nslots, payload_bytes);
    bh_header *r;
    if (nslots == 0)
        r = GC_MALLOC_ATOMIC(bytes); /* nothing in it is a pointer */
    else if (payload_bytes == 0)
        r = GC_MALLOC(bytes); /* all of it may be */
    else
        r = GC_malloc_explicitly_typed(bytes, descr_for(nslots));
    if (!r)
        return NULL;
    if (h->count_frees) {
        r->next = h->first;
        h->first = GC_HIDE_POINTER(r);
    } else {
        r->next = BH_LIST_END;
    }
    r->root_count = 1;
    mmb_obj *o = mmb_obj_init(obj(r), nslots, payload_bytes, &h->stats, bytes);
    root_add(h, o);
    return o;
}

void mmbx_boehm_incref(mmb_heap *heap, mmb_obj *o) {
    bh_heap *h = (bh_heap *)heap;
    bh_header *r = hdr(o);
    h->stats.increments++;
    if (r->root_count == 0) {
        /* o is reachable through a slot of a rooted object, so growing may collect. */
        bh_enter(h);
        if (h->nroots == h->roots_cap && !roots_grow(h))
            mmb_allocator_out_of_memory(&h->cfg.allocator, 2 * h->roots_cap * sizeof *h->roots);
        root_add(h, o);
    } else if (r->root_count == BH_ROOT_COUNT_MAX) {
        fprintf(stderr, "mmbench: error: %s: over %u references to one object\n",
                h->base.manager->name, BH_ROOT_COUNT_MAX);
        abort();
    }
    r->root_count++;
}

/* Never frees: an object the mutator drops stays until a collection finds it unmarked. */
void mmbx_boehm_decref(mmb_heap *heap, mmb_obj *o) {
    bh_heap *h = (bh_heap *)heap;
    h->stats.decrements++;
    if (--hdr(o)->root_count == 0)
        root_remove(h, o);
}

/* No barrier of ours: in incremental mode Boehm finds written pages itself (it write-protects
 * the heap and catches the faults), so a plain store is what Boehm's own clients do. */
void mmbx_boehm_store(mmb_heap *heap, mmb_obj *o, uint32_t slot, mmb_obj *value) {
    (void)heap;
    o->slots[slot] = value;
}

void mmbx_boehm_collect(mmb_heap *heap) {
    bh_enter((bh_heap *)heap);
    GC_gcollect();
}

void mmbx_boehm_stats(mmb_heap *heap, mmb_stats *out) {
    *out = ((bh_heap *)heap)->stats;
}

/* Frees every object still on the list and reports each; the mutator's references die with the
 * root table. Boehm's memory is explicitly freed, so nothing of this heap is left for the next
 * one's collections to find. With count-frees off there is no list: the heap's objects become
 * garbage with the root table, and a collection (reported to nobody) reclaims them, all but what
 * a stale word on a stack still points at. */
void mmbx_boehm_destroy(mmb_heap *heap) {
    bh_heap *h = (bh_heap *)heap;
    while (h->first != BH_LIST_END) {
        bh_header *r = GC_REVEAL_POINTER(h->first);
        h->first = r->next;
        if (h->cfg.on_free)
            h->cfg.on_free(h->cfg.free_ctx, obj(r));
        GC_FREE(r);
    }
    if (h->roots)
        GC_FREE(h->roots);
    if (bh_current == h)
        bh_current = NULL;
    if (!h->count_frees)
        GC_gcollect();
    mmb_list_remove(&h->heaps);
    if (h->incremental)
        bh_incremental_heaps--;
    else
        bh_plain_heaps--;
    h->cfg.allocator.free(h->cfg.allocator.ctx, h, sizeof *h);
}

/* Incremental mode is per process and cannot be turned off: a plain heap is refused once it is
 * on, and it is not turned on under a live plain heap. The time limit is per process too. */
static int check_mode(const mmb_manager *m, bool incremental, unsigned long time_limit_ms,
                      char *err, size_t err_bytes) {
    if (!incremental && GC_is_incremental_mode()) {
        snprintf(err, err_bytes,
                 "this process turned on Boehm's incremental mode (a boehm-incremental heap), "
                 "which cannot be turned off (hint: run %s in a process of its own)",
                 m->name);
        return -1;
    }
    if (incremental && bh_plain_heaps) {
        snprintf(err, err_bytes,
                 "a boehm heap is live in this process, and Boehm's incremental mode cannot be "
                 "turned on under it (hint: destroy it first, or use separate processes)");
        return -1;
    }
    if (incremental && bh_incremental_heaps && time_limit_ms != bh_time_limit_ms) {
        snprintf(err, err_bytes,
                 "time-limit=%lu, but a live boehm-incremental heap set %lu, and the limit is "
                 "per process (hint: give every heap the same time-limit)",
                 time_limit_ms, bh_time_limit_ms);
        return -1;
    }
    return 0;
}

int mmbx_boehm_create(const mmb_manager *m, const mmb_heap_config *cfg, bool count_frees,
                      bool incremental, unsigned long time_limit_ms, mmb_heap **out, char *err,
                      size_t err_bytes) {
    if (!count_frees && cfg->on_free) {
        snprintf(err, err_bytes,
                 "count-frees=off cannot report the objects Boehm reclaims, and this heap's user "
                 "(the oracle, --verify) needs each through on_free (hint: count-frees=on)");
        return -1;
    }
    pthread_once(&bh_once, bh_init);
    if (check_mode(m, incremental, time_limit_ms, err, err_bytes) != 0)
        return -1;
    bh_heap *h = mmb_heap_new(cfg, sizeof *h, m, err, err_bytes);
    if (!h)
        return -1;
    h->cfg = *cfg;
    h->stats.header_bytes = sizeof(bh_header);
    h->incremental = incremental;
    h->count_frees = count_frees;
    h->first = BH_LIST_END;
    bh_enter(h);
    if (incremental) {
        GC_set_time_limit(time_limit_ms);
        GC_enable_incremental();
        bh_time_limit_ms = time_limit_ms;
        bh_incremental_heaps++;
    } else {
        bh_plain_heaps++;
    }
    mmb_list_append(&bh_heaps, &h->heaps);
    *out = &h->base;
    return 0;
}

const char *mmbx_boehm_version(void) {
    static char version[32];
    unsigned v = GC_get_version();
    snprintf(version, sizeof version, "%u.%u.%u", v >> 16, (v >> 8) & 0xff, v & 0xff);
    return version;
}

/* ---- the manager ----------------------------------------------------------------------------- */

static int bh_create(const mmb_heap_config *cfg, mmb_heap **out, char *err, size_t err_bytes);

static const mmb_option_spec bh_options[] = {
    [MMBX_BOEHM_OPT_COUNT_FREES] = MMBX_BOEHM_COUNT_FREES_SPEC,
    {NULL, MMB_OPT_INT, 0, 0, 0, NULL},
};

const mmb_manager mmb_manager_boehm = {
    .name = "boehm",
    .summary = "Boehm GC (libgc), stop-the-world conservative mark-sweep: reclaims cycles, may "
               "retain what a stale word points at; no reference counts",
    .caps = MMB_CAP_CYCLES | MMB_CAP_CONSERVATIVE | MMB_CAP_OWN_MEMORY,
    .options = bh_options,
    .create = bh_create,
    .destroy = mmbx_boehm_destroy,
    .alloc = mmbx_boehm_alloc,
    .incref = mmbx_boehm_incref,
    .decref = mmbx_boehm_decref,
    .store = mmbx_boehm_store,
    .load = NULL,
    .collect = mmbx_boehm_collect,
    .collect_young = NULL,
    .freeze = NULL,
    .stats = mmbx_boehm_stats,
};

static int bh_create(const mmb_heap_config *cfg, mmb_heap **out, char *err, size_t err_bytes) {
    return mmbx_boehm_create(&mmb_manager_boehm, cfg, cfg->options[MMBX_BOEHM_OPT_COUNT_FREES] != 0,
                             false, 0, out, err, err_bytes);
}

const char *mmb_manager_boehm_version(void) {
    return mmbx_boehm_version();
}
