/* small-live: a large live population of tiny objects (0 slots, 8 payload bytes) held by a tree
 * of chunk objects, read back in order and dropped at once: the per-object space overhead of a
 * manager (the harness divides its stats by the population) and the cost of one huge cascade. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload_internal.h"

enum { P_OBJECTS, P_FANOUT };

static const mmb_param_spec params[] = {
    {"objects", true, {2e4, 1e6, 1e7, 3e7}, 1, 1e10, "leaf objects live at once"},
    {"fanout", true, {16, 1024, 1024, 1024}, 2, MMB_MAX_SLOTS, "slots per chunk object"},
    {NULL, false, {0}, 0, 0, NULL},
};

/* Enough levels for 1e10 leaves at fanout 2. */
enum { MAX_LEVELS = 64 };

/* The tree is bulk-loaded left to right. open[l] is the chunk of level l + 1 being filled
 * (level 1 holds leaves), with fill[l] slots used; a full chunk moves into its parent at once.
 * Invariant: the top level's chunk is never full (filling it opens a new top level), so when the
 * leaves run out it becomes the root. Each open chunk is one mutator reference. */
typedef struct builder {
    mmb_heap *h;
    uint32_t fanout;
    uint32_t levels; /* levels opened so far */
    mmb_obj *open[MAX_LEVELS];
    uint32_t fill[MAX_LEVELS];
} builder;

/* Stores `child` (a mutator reference, which this drops) into the open chunk of level l + 1,
 * opening one if needed and moving it up when it fills. Returns -1 when an allocation fails. */
static int add(builder *b, uint32_t l, mmb_obj *child) {
    for (;;) {
        if (!b->open[l]) {
            if (l + 1 >= MAX_LEVELS)
                goto fail;
            mmb_obj *c = mmb_alloc(b->h, b->fanout, 8);
            if (!c)
                goto fail;
            uint64_t level = l + 1;
            memcpy(mmb_payload(c), &level, sizeof level);
            b->open[l] = c;
            b->fill[l] = 0;
            if (l + 1 > b->levels)
                b->levels = l + 1;
        }
        mmb_store(b->h, b->open[l], b->fill[l]++, child);
        mmb_decref(b->h, child);
        if (b->fill[l] < b->fanout)
            return 0;
        child = b->open[l]; /* full: it moves into the next level up */
        b->open[l] = NULL;
        l++;
    }
fail:
    mmb_decref(b->h, child);
    return -1;
}

static void drop_open(builder *b) {
    for (uint32_t l = 0; l < b->levels; l++)
        if (b->open[l])
            mmb_decref(b->h, b->open[l]);
}

/* Reads the leaves back in order, depth-first with an explicit stack of (chunk, next slot), and
 * checks them against the payload stream regenerated from the seed; every chunk must sit at its
 * level and every leaf at level 0. Returns 0, or -1 with a reason in err. */
static int check(mmb_heap *h, mmb_obj *root, uint32_t levels, uint64_t objects, uint64_t seed,
                 uint64_t *checksum, char *err, size_t n) {
    struct frame {
        mmb_obj *chunk;
        uint32_t next;
    } stack[MAX_LEVELS];
    mmb_rng rng = {seed};
    uint64_t seen = 0, sum = 0;
    uint32_t sp = 0;
    if (mmbw_read_u64(root) != levels) {
        snprintf(err, n, "the root chunk reads level %llu, not %u",
                 (unsigned long long)mmbw_read_u64(root), levels);
        return -1;
    }
    stack[sp++] = (struct frame){root, 0};
    while (sp > 0) {
        struct frame *f = &stack[sp - 1];
        if (f->next == f->chunk->nslots) {
            sp--;
            continue;
        }
        mmb_obj *c = mmb_load(h, f->chunk, f->next++);
        if (!c)
            continue;                 /* the unused tail of a last chunk */
        uint64_t level = levels - sp; /* what c must be: 0 for a leaf */
        if (level == 0) {
            uint64_t expected = mmb_rng_next(&rng);
            if (c->nslots != 0 || mmbw_read_u64(c) != expected) {
                snprintf(err, n, "leaf %llu reads %016llx with %u slots, not %016llx with 0",
                         (unsigned long long)seen, (unsigned long long)mmbw_read_u64(c), c->nslots,
                         (unsigned long long)expected);
                return -1;
            }
            seen++;
            sum = (sum ^ expected) * 0x100000001B3ull;
        } else {
            if (c->nslots == 0 || mmbw_read_u64(c) != level) {
                snprintf(err, n, "a chunk at level %llu reads level %llu with %u slots",
                         (unsigned long long)level, (unsigned long long)mmbw_read_u64(c),
                         c->nslots);
                return -1;
            }
            stack[sp++] = (struct frame){c, 0};
        }
    }
    if (seen != objects) {
        snprintf(err, n, "the tree holds %llu leaves, not %llu", (unsigned long long)seen,
                 (unsigned long long)objects);
        return -1;
    }
    *checksum = sum;
    return 0;
}

static int run(const mmb_workload_env *env, mmb_workload_result *out, char *err, size_t n) {
    uint64_t objects = (uint64_t)env->params[P_OBJECTS];
    builder b = {.h = env->heap, .fanout = (uint32_t)env->params[P_FANOUT]};
    mmb_rng rng = {env->seed};
    int status = 0;
    mmb_workload_phase(env, MMB_RUN_BUILD); /* no steady phase: built, read back, dropped */
    for (uint64_t i = 0; i < objects && status == 0; i++) {
        mmb_obj *leaf = mmb_alloc(b.h, 0, 8);
        if (!leaf) {
            snprintf(err, n, "allocation failed at leaf %llu", (unsigned long long)i);
            status = -1;
            break;
        }
        uint64_t v = mmb_rng_next(&rng);
        memcpy(mmb_payload(leaf), &v, sizeof v);
        if (add(&b, 0, leaf) != 0) {
            snprintf(err, n, "allocation failed for a chunk after leaf %llu",
                     (unsigned long long)i);
            status = -1;
        }
    }
    /* Close the partial chunks bottom-up; the top level's chunk is the root. */
    for (uint32_t l = 0; l + 1 < b.levels && status == 0; l++) {
        if (b.open[l]) {
            mmb_obj *c = b.open[l];
            b.open[l] = NULL;
            if (add(&b, l + 1, c) != 0) {
                snprintf(err, n, "allocation failed for a chunk at level %u", l + 2);
                status = -1;
            }
        }
    }
    if (status == 0) {
        /* At the peak: what each object costs in the heap, headers and chunks included. */
        mmb_stats s;
        mmb_stats_get(b.h, &s);
        out->metrics[0].name = "heap_bytes_per_object";
        out->metrics[0].value = (double)s.live_bytes / (double)objects;
        out->metrics[1].name = "header_bytes_per_object";
        out->metrics[1].value = (double)s.header_bytes;
        out->nmetrics = 2;
    }
    uint64_t checksum = 0;
    mmb_workload_phase(env, MMB_RUN_TEARDOWN);
    if (status == 0)
        status = check(b.h, b.open[b.levels - 1], b.levels, objects, env->seed, &checksum, err, n);
    drop_open(&b);
    return mmbw_result(out, objects, "objects", checksum, status);
}

const mmb_workload mmb_workload_small_live = {
    .name = "small-live",
    .family = "many-small",
    .summary = "a large live population of 8-byte leaf objects under a tree of chunk objects, "
               "read back and dropped at once",
    .params = params,
    .run = run,
};
