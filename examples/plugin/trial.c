/* example-trial: a plug-in manager built outside the tree against the installed SDK only. Plain
 * reference counting plus synchronous trial deletion (Bacon and Rajan, "Concurrent cycle
 * collection in reference counted systems", 2001, section 3). With -DMMB_EXAMPLE_BROKEN it is
 * example-trial-broken, which forgets to scan black a gray object that still has an external
 * reference: its subgraph is collected although it is reachable. See README.md beside it. */
#include <stdio.h>

#include "mmbench/plugin.h"
#include "mmbench/sdk.h"

#ifdef MMB_EXAMPLE_BROKEN
#define TRIAL_NAME         "example-trial-broken"
#define FORGETS_SCAN_BLACK true
#else
#define TRIAL_NAME         "example-trial"
#define FORGETS_SCAN_BLACK false
#endif

/* Colours, as in the paper. BLACK: in use (or not yet looked at); PURPLE: a candidate root, a
 * count decremented to non-zero; GRAY: in the trial, counts hold only references from outside
 * the gray subgraph; WHITE: garbage, proved by the trial. */
enum { BLACK, PURPLE, GRAY, WHITE };

/* `all` first: mmb_list_free_all frees blocks through it. `candidate` is on the heap's candidate
 * list exactly when its next is not NULL (mmb_list_remove clears it). */
typedef struct trial_header {
    mmb_link all;
    mmb_link candidate;
    uint64_t count; /* mutator references + slots pointing here */
    uint32_t color;
} trial_header;

typedef struct trial_heap {
    mmb_heap base;
    mmb_heap_config cfg;
    mmb_stats stats;
    mmb_link objects;    /* every object, for destroy */
    mmb_link candidates; /* purple objects, oldest first (the paper's Roots buffer) */
    uint64_t candidate_count;
    uint64_t candidate_limit; /* option "candidates": collect at alloc once this many wait */
    mmb_stack work;           /* cascades and the trial's traversals: never the C stack */
    mmb_stack garbage;        /* the white objects of the collection in progress */
} trial_heap;

extern const mmb_manager trial_manager;

static inline trial_header *hdr(mmb_obj *o) {
    return (trial_header *)o - 1;
}

static inline bool is_candidate(const trial_header *t) {
    return t->candidate.next != NULL;
}

static void drop_candidate(trial_heap *h, trial_header *t) {
    mmb_list_remove(&t->candidate);
    h->candidate_count--;
}

static void free_block(trial_heap *h, mmb_obj *o, bool by_gc) {
    size_t bytes = mmb_block_bytes(sizeof(trial_header), o);
    mmb_list_remove(&hdr(o)->all);
    mmb_stats_freed(&h->stats, bytes, by_gc);
    h->cfg.allocator.free(h->cfg.allocator.ctx, hdr(o), bytes);
}

/* ---- reference counting ------------------------------------------------------------------------
 * A count that reaches zero frees the object at once (mmb_rc_release, iterative); one that
 * reaches non-zero makes the object a candidate root of a garbage cycle. */

static uint64_t count_dec(mmb_obj *o) {
    return --hdr(o)->count;
}

static void possible_root(mmb_heap *heap, mmb_obj *o) {
    trial_heap *h = (trial_heap *)heap;
    trial_header *t = hdr(o);
    t->color = PURPLE;
    if (!is_candidate(t)) {
        mmb_list_append(&h->candidates, &t->candidate);
        h->candidate_count++;
    }
}

static void free_by_rc(mmb_heap *heap, mmb_obj *o) {
    trial_heap *h = (trial_heap *)heap;
    if (is_candidate(hdr(o)))
        drop_candidate(h, hdr(o));
    free_block(h, o, false);
}

static const mmb_rc_class trial_class = {
    .dec = count_dec, .survived = possible_root, .free_obj = free_by_rc};

static void trial_incref(mmb_heap *heap, mmb_obj *o) {
    ((trial_heap *)heap)->stats.increments++;
    hdr(o)->count++;
    hdr(o)->color = BLACK;
}

static void trial_decref(mmb_heap *heap, mmb_obj *o) {
    trial_heap *h = (trial_heap *)heap;
    h->stats.decrements++;
    if (count_dec(o) == 0)
        mmb_rc_release(heap, &trial_class, &h->work, &h->stats, &h->cfg, o);
    else
        possible_root(heap, o);
}

static void trial_store(mmb_heap *heap, mmb_obj *o, uint32_t slot, mmb_obj *value) {
    mmb_rc_store(heap, o, slot, value, trial_incref, trial_decref);
}

/* ---- trial deletion ----------------------------------------------------------------------------
 * Three passes over the candidates. After mark_gray, every object reachable from a purple
 * candidate is gray and its count holds only references from outside the gray subgraph. After
 * scan, a gray object with a count left is black again with its subgraph's counts restored
 * (scan_black), and the rest is white. collect_white gathers the white objects, then they are
 * freed. */

static void mark_gray(trial_heap *h, mmb_obj *root) {
    if (hdr(root)->color == GRAY)
        return;
    hdr(root)->color = GRAY;
    mmb_stack_push(&h->work, root);
    while (!mmb_stack_empty(&h->work)) {
        mmb_obj *o = mmb_stack_pop(&h->work);
        h->stats.objects_traversed++;
        for (uint32_t i = 0; i < o->nslots; i++) {
            mmb_obj *child = o->slots[i];
            if (!child)
                continue;
            hdr(child)->count--;
            if (hdr(child)->color != GRAY) {
                hdr(child)->color = GRAY;
                mmb_stack_push(&h->work, child);
            }
        }
    }
}

/* Gives back the references the trial took from o's subgraph: every object reachable from o is
 * black. Uses its own stack, since scan's is in use. */
static void scan_black(trial_heap *h, mmb_obj *root) {
    mmb_stack stack;
    mmb_stack_init(&stack, &h->cfg.allocator);
    hdr(root)->color = BLACK;
    mmb_stack_push(&stack, root);
    while (!mmb_stack_empty(&stack)) {
        mmb_obj *o = mmb_stack_pop(&stack);
        for (uint32_t i = 0; i < o->nslots; i++) {
            mmb_obj *child = o->slots[i];
            if (!child)
                continue;
            hdr(child)->count++;
            if (hdr(child)->color != BLACK) {
                hdr(child)->color = BLACK;
                mmb_stack_push(&stack, child);
            }
        }
    }
    mmb_stack_release(&stack);
}

static void scan(trial_heap *h, mmb_obj *root) {
    mmb_stack_push(&h->work, root);
    while (!mmb_stack_empty(&h->work)) {
        mmb_obj *o = mmb_stack_pop(&h->work);
        if (hdr(o)->color != GRAY)
            continue;
        if (hdr(o)->count > 0) {
            if (!FORGETS_SCAN_BLACK) {
                scan_black(h, o);
                continue;
            }
            /* The bug: o is still referenced from outside, but only o is made black; its
             * subgraph keeps the trial's decrements and is scanned on as if o were garbage. */
            hdr(o)->color = BLACK;
        } else {
            hdr(o)->color = WHITE;
        }
        for (uint32_t i = 0; i < o->nslots; i++)
            if (o->slots[i])
                mmb_stack_push(&h->work, o->slots[i]);
    }
}

/* Moves the white objects reachable from root onto h->garbage, each once (made black as it is
 * gathered). Nothing is freed until every candidate is done: a later candidate's traversal may
 * still read an earlier one's white objects. */
static void collect_white(trial_heap *h, mmb_obj *root) {
    if (hdr(root)->color != WHITE)
        return;
    hdr(root)->color = BLACK;
    mmb_stack_push(&h->work, root);
    while (!mmb_stack_empty(&h->work)) {
        mmb_obj *o = mmb_stack_pop(&h->work);
        for (uint32_t i = 0; i < o->nslots; i++) {
            mmb_obj *child = o->slots[i];
            if (child && hdr(child)->color == WHITE) {
                hdr(child)->color = BLACK;
                mmb_stack_push(&h->work, child);
            }
        }
        mmb_stack_push(&h->garbage, o);
    }
}

static mmb_obj *candidate_obj(mmb_link *l) {
    return (mmb_obj *)((trial_header *)((char *)l - offsetof(trial_header, candidate)) + 1);
}

static void trial_collect(mmb_heap *heap) {
    trial_heap *h = (trial_heap *)heap;
    uint64_t start_ns = mmb_collect_begin(&h->cfg);
    uint64_t traversed = h->stats.objects_traversed, freed = 0;
    /* Candidates made black again by an increment since they were buffered are dropped. */
    for (mmb_link *l = h->candidates.next, *next; l != &h->candidates; l = next) {
        next = l->next;
        mmb_obj *o = candidate_obj(l);
        if (hdr(o)->color == PURPLE)
            mark_gray(h, o);
        else
            drop_candidate(h, hdr(o));
    }
    for (mmb_link *l = h->candidates.next; l != &h->candidates; l = l->next)
        scan(h, candidate_obj(l));
    while (!mmb_list_empty(&h->candidates)) {
        mmb_obj *o = candidate_obj(h->candidates.next);
        drop_candidate(h, hdr(o));
        collect_white(h, o);
    }
    for (; !mmb_stack_empty(&h->garbage); freed++)
        free_block(h, mmb_stack_pop(&h->garbage), true);
    h->stats.collections_full++;
    mmb_collect_end(&h->cfg, MMB_EVENT_FULL, -1, start_ns, h->stats.objects_traversed - traversed,
                    freed);
}

/* ---- the heap ----------------------------------------------------------------------------------
 */

static mmb_obj *trial_alloc(mmb_heap *heap, uint32_t nslots, uint32_t payload_bytes) {
    trial_heap *h = (trial_heap *)heap;
    if (h->candidate_count >= h->candidate_limit)
        trial_collect(heap);
    size_t bytes;
    trial_header *t = mmb_block_alloc(&h->cfg.allocator, sizeof *t, nslots, payload_bytes, &bytes);
    if (!t)
        return NULL;
    t->count = 1;
    t->color = BLACK;
    t->candidate.prev = t->candidate.next = NULL;
    mmb_list_append(&h->objects, &t->all);
    return mmb_obj_init(t + 1, nslots, payload_bytes, &h->stats, bytes);
}

static void trial_stats(mmb_heap *heap, mmb_stats *out) {
    *out = ((trial_heap *)heap)->stats;
}

static void trial_destroy(mmb_heap *heap) {
    trial_heap *h = (trial_heap *)heap;
    mmb_list_free_all(&h->objects, &h->cfg.allocator, sizeof(trial_header));
    mmb_stack_release(&h->work);
    mmb_stack_release(&h->garbage);
    h->cfg.allocator.free(h->cfg.allocator.ctx, h, sizeof *h);
}

static int trial_create(const mmb_heap_config *cfg, mmb_heap **out, char *err, size_t err_bytes) {
    trial_heap *h = mmb_heap_new(cfg, sizeof *h, &trial_manager, err, err_bytes);
    if (!h)
        return -1;
    h->cfg = *cfg;
    h->candidate_limit = (uint64_t)cfg->options[0];
    h->stats.header_bytes = sizeof(trial_header);
    mmb_list_init(&h->objects);
    mmb_list_init(&h->candidates);
    mmb_stack_init(&h->work, &h->cfg.allocator);
    mmb_stack_init(&h->garbage, &h->cfg.allocator);
    *out = &h->base;
    return 0;
}

static const mmb_option_spec trial_options[] = {
    {"candidates", MMB_OPT_INT, 10000, 1, 100000000,
     "collect cycles at the next allocation once this many candidate roots wait (objects)"},
    {NULL, MMB_OPT_INT, 0, 0, 0, NULL},
};

const mmb_manager trial_manager = {
    .name = TRIAL_NAME,
#ifdef MMB_EXAMPLE_BROKEN
    .summary = "the example plug-in with a bug: frees what a still-referenced gray object reaches",
#else
    .summary = "the example plug-in: reference counting plus synchronous trial deletion",
#endif
    .caps = MMB_CAP_REFCOUNT | MMB_CAP_CYCLES,
    .options = trial_options,
    .create = trial_create,
    .destroy = trial_destroy,
    .alloc = trial_alloc,
    .incref = trial_incref,
    .decref = trial_decref,
    .store = trial_store,
    .load = NULL,
    .collect = trial_collect,
    .collect_young = NULL,
    .freeze = NULL,
    .stats = trial_stats,
    .thread_attach = NULL,
    .thread_detach = NULL,
};

/* ---- the plug-in entry point (mmbench/plugin.h) ------------------------------------------------
 */

static const mmb_manager *const trial_managers[] = {&trial_manager};

static const mmb_plugin trial_plugin = {
    .abi_version = MMB_ABI_VERSION,
    .name = TRIAL_NAME,
    .version = "0.1.0",
    .managers = trial_managers,
    .count = sizeof trial_managers / sizeof trial_managers[0],
};

__attribute__((visibility("default"))) const mmb_plugin *mmbench_plugin(int abi_version) {
    return abi_version == MMB_ABI_VERSION ? &trial_plugin : NULL;
}
