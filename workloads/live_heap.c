/* live-heap: a large steady live heap with a low garbage rate, for full-collection pauses that
 * grow with the heap. A directory of chunk objects holds `live` one-slot leaves; a fraction of
 * the leaves are cyclic (slot 0 -> a partner whose slot 0 points back). Each step replaces a
 * random leaf with a new one, so the old one becomes garbage (cyclic garbage for a cyclic leaf).
 * A leaf's payload holds its index in the structure and its serial; every leaf is checked at the
 * end, and every replaced leaf when it leaves. Phases: build (the structure), steady (the steps),
 * teardown (the final check and the drop). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload_internal.h"

enum { P_LIVE, P_STEPS, P_CYCLIC };

static const mmb_param_spec params[] = {
    {"live", true, {2e4, 1e6, 1e7, 3e7}, 1, 6e7, "leaves in the live structure"},
    {"steps", true, {2e4, 5e5, 2e7, 2e7}, 1, 1e12, "leaves replaced, one at a time"},
    {"cyclic-fraction",
     false,
     {0.1, 0.1, 0.1, 0.1},
     0,
     1,
     "fraction of leaves made cyclic (a leaf and a partner pointing at each other)"},
    {NULL, false, {0}, 0, 0, NULL},
};

/* Leaves hang off chunk objects of this many slots, the chunks off one directory. */
#define CHUNK_SLOTS 1024u

typedef struct leaf_payload {
    uint64_t index;  /* position in the structure */
    uint64_t serial; /* unique per leaf made; a partner has the same serial, index UINT64_MAX */
} leaf_payload;

static leaf_payload read_leaf(mmb_obj *o) {
    leaf_payload p;
    memcpy(&p, mmb_payload(o), sizeof p);
    return p;
}

/* A new leaf for position `index`, with its partner when cyclic. Returns it with one mutator
 * reference, or NULL. */
static mmb_obj *new_leaf(mmb_heap *h, uint64_t index, uint64_t serial, bool cyclic) {
    mmb_obj *leaf = mmb_alloc(h, 1, sizeof(leaf_payload));
    if (!leaf)
        return NULL;
    leaf_payload p = {index, serial};
    memcpy(mmb_payload(leaf), &p, sizeof p);
    if (cyclic) {
        mmb_obj *partner = mmb_alloc(h, 1, sizeof(leaf_payload));
        if (!partner) {
            mmb_decref(h, leaf);
            return NULL;
        }
        p.index = UINT64_MAX;
        memcpy(mmb_payload(partner), &p, sizeof p);
        mmb_store(h, leaf, 0, partner);
        mmb_store(h, partner, 0, leaf);
        mmb_decref(h, partner);
    }
    return leaf;
}

/* The chunk holding position `index`, or NULL with a reason in err. */
static mmb_obj *load_chunk(mmb_heap *h, mmb_obj *dir, uint64_t index, char *err, size_t n) {
    mmb_obj *chunk = mmb_load(h, dir, (uint32_t)(index / CHUNK_SLOTS));
    if (!chunk)
        snprintf(err, n, "the chunk of leaf %llu is missing", (unsigned long long)index);
    return chunk;
}

/* Checks the leaf found at position `index`; returns a checksum term, or 0 with a reason in err
 * (a term is never 0: serials start at 1). */
static uint64_t check_leaf(mmb_heap *h, mmb_obj *leaf, uint64_t index, char *err, size_t n) {
    if (!leaf) {
        snprintf(err, n, "leaf %llu is missing", (unsigned long long)index);
        return 0;
    }
    leaf_payload p = read_leaf(leaf);
    if (p.index != index) {
        snprintf(err, n, "position %llu holds the leaf of position %llu (serial %llu)",
                 (unsigned long long)index, (unsigned long long)p.index,
                 (unsigned long long)p.serial);
        return 0;
    }
    mmb_obj *partner = mmb_load(h, leaf, 0);
    if (partner) {
        leaf_payload q = read_leaf(partner);
        if (q.serial != p.serial || q.index != UINT64_MAX || mmb_load(h, partner, 0) != leaf) {
            snprintf(err, n, "leaf %llu (serial %llu): its partner is not its own",
                     (unsigned long long)index, (unsigned long long)p.serial);
            return 0;
        }
    }
    return p.serial * 2 + (partner ? 1 : 0);
}

static int run(const mmb_workload_env *env, mmb_workload_result *out, char *err, size_t n) {
    mmb_heap *h = env->heap;
    uint64_t live = (uint64_t)env->params[P_LIVE];
    uint64_t steps = (uint64_t)env->params[P_STEPS];
    double cyclic_fraction = env->params[P_CYCLIC];
    mmb_rng rng = {env->seed};
    uint32_t nchunks = (uint32_t)((live + CHUNK_SLOTS - 1) / CHUNK_SLOTS);
    uint64_t checksum = 0, serial = 1;
    int status = 0;
    mmb_workload_phase(env, MMB_RUN_BUILD);
    mmb_obj *dir = mmb_alloc(h, nchunks, 0);
    if (!dir) {
        snprintf(err, n, "allocation failed");
        return -1;
    }
    /* Build: the mutator holds dir only; chunks and leaves are reachable from it. */
    for (uint32_t c = 0; c < nchunks && status == 0; c++) {
        uint64_t base = (uint64_t)c * CHUNK_SLOTS;
        uint32_t len = (uint32_t)(live - base < CHUNK_SLOTS ? live - base : CHUNK_SLOTS);
        mmb_obj *chunk = mmb_alloc(h, len, 0);
        if (!chunk) {
            status = -1;
            break;
        }
        mmb_store(h, dir, c, chunk);
        mmb_decref(h, chunk);
        for (uint32_t i = 0; i < len; i++) {
            mmb_obj *leaf = new_leaf(h, base + i, serial++, mmb_rng_unit(&rng) < cyclic_fraction);
            if (!leaf) {
                status = -1;
                break;
            }
            mmb_store(h, chunk, i, leaf);
            mmb_decref(h, leaf);
        }
    }
    if (status != 0)
        snprintf(err, n, "allocation failed");
    /* Steps: replace a random leaf; the one replaced is checked as it leaves. */
    mmb_workload_phase(env, MMB_RUN_STEADY);
    for (uint64_t s = 0; s < steps && status == 0; s++) {
        uint64_t index = mmb_rng_below(&rng, (uint32_t)live);
        mmb_obj *chunk = load_chunk(h, dir, index, err, n);
        if (!chunk) {
            status = -1;
            break;
        }
        uint32_t slot = (uint32_t)(index % CHUNK_SLOTS);
        uint64_t term = check_leaf(h, mmb_load(h, chunk, slot), index, err, n);
        if (term == 0) {
            status = -1;
            break;
        }
        checksum = checksum * 31 + term;
        mmb_obj *leaf = new_leaf(h, index, serial++, mmb_rng_unit(&rng) < cyclic_fraction);
        if (!leaf) {
            snprintf(err, n, "allocation failed");
            status = -1;
            break;
        }
        mmb_store(h, chunk, slot, leaf);
        mmb_decref(h, leaf);
    }
    /* Teardown: verify every leaf, then drop the structure. */
    mmb_workload_phase(env, MMB_RUN_TEARDOWN);
    for (uint64_t index = 0; index < live && status == 0; index++) {
        mmb_obj *chunk = load_chunk(h, dir, index, err, n);
        if (!chunk) {
            status = -1;
            break;
        }
        uint64_t term =
            check_leaf(h, mmb_load(h, chunk, (uint32_t)(index % CHUNK_SLOTS)), index, err, n);
        if (term == 0)
            status = -1;
        checksum = checksum * 31 + term;
    }
    mmb_decref(h, dir);
    return mmbw_result(out, steps, "steps", checksum, status);
}

const mmb_workload mmb_workload_live_heap = {
    .name = "live-heap",
    .family = "pause-sensitive",
    .summary = "a large steady live heap of chunks and leaves, one random leaf replaced per step",
    .params = params,
    .run = run,
};
