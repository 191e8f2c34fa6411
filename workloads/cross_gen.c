/* cross-gen: cycles that span generations. A long-lived population of old objects is made first;
 * then each round makes young objects in small rings, each young object pointing at an old one
 * and one old object per ring pointing back (slot 0), so old and young share cycles. The round
 * ends by reading every back-edge and overwriting it, which leaves each young ring a garbage
 * cycle (pointing into the old population) that only a cycle collector can reclaim. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload_internal.h"

enum { P_OLD, P_ROUNDS, P_YOUNG, P_GROUP };

static const mmb_param_spec params[] = {
    {"old", true, {1e3, 1e5, 1e6, 3e6}, 1, 6e7, "long-lived objects made first"},
    {"rounds", true, {10, 20, 50, 50}, 1, 1e9, "rounds of young objects"},
    {"young",
     true,
     {200, 2e4, 1e5, 3e5},
     1,
     1e9,
     "young objects made per round (rounded up to whole rings)"},
    {"group", true, {4, 4, 4, 4}, 1, 1024, "young objects per ring (one back-edge per ring)"},
    {NULL, false, {0}, 0, 0, NULL},
};

/* The old objects hang off chunk objects of this many slots, the chunks off one directory. */
#define CHUNK_SLOTS 1024u

static mmb_obj *new_obj(mmb_heap *h, uint32_t nslots, uint64_t serial) {
    mmb_obj *o = mmb_alloc(h, nslots, sizeof serial);
    if (o)
        memcpy(mmb_payload(o), &serial, sizeof serial);
    return o;
}

/* Makes the old population: dir -> chunks -> old objects (one slot each, for the back-edge,
 * serials 1..old). old_objs[i] names object i, kept alive by dir, which the mutator holds. */
static mmb_obj *build_old(mmb_heap *h, uint64_t old, mmb_obj **old_objs) {
    uint32_t nchunks = (uint32_t)((old + CHUNK_SLOTS - 1) / CHUNK_SLOTS);
    mmb_obj *dir = mmb_alloc(h, nchunks, 0);
    if (!dir)
        return NULL;
    for (uint32_t c = 0; c < nchunks; c++) {
        uint64_t base = (uint64_t)c * CHUNK_SLOTS;
        uint32_t len = (uint32_t)(old - base < CHUNK_SLOTS ? old - base : CHUNK_SLOTS);
        mmb_obj *chunk = mmb_alloc(h, len, 0);
        if (!chunk)
            goto fail;
        mmb_store(h, dir, c, chunk);
        mmb_decref(h, chunk);
        for (uint32_t i = 0; i < len; i++) {
            mmb_obj *o = new_obj(h, 1, base + i + 1);
            if (!o)
                goto fail;
            mmb_store(h, chunk, i, o);
            mmb_decref(h, o);
            old_objs[base + i] = o;
        }
    }
    return dir;
fail:
    mmb_decref(h, dir);
    return NULL;
}

/* Checks the young ring a back-edge of old object `oi` leads to: `group` young objects with
 * consecutive serials from `first`, linked by slot 1 back to the start, the first pointing (slot 0)
 * at old object oi. Returns the sum of the young objects' and their old targets' serials, or
 * UINT64_MAX with a reason in err. */
static uint64_t check_ring(mmb_heap *h, mmb_obj *old_obj, uint64_t oi, uint64_t first,
                           uint32_t group, uint64_t old, char *err, size_t n) {
    mmb_obj *head = mmb_load(h, old_obj, 0);
    mmb_obj *y = head;
    uint64_t sum = 0;
    for (uint32_t j = 0; j < group; j++) {
        uint64_t got = y ? mmbw_read_u64(y) : 0;
        if (got != first + j) {
            snprintf(err, n,
                     "old object %llu: young ring member %u reads serial %llu, expected %llu",
                     (unsigned long long)(oi + 1), j, (unsigned long long)got,
                     (unsigned long long)(first + j));
            return UINT64_MAX;
        }
        mmb_obj *target = mmb_load(h, y, 0);
        uint64_t ts = target ? mmbw_read_u64(target) : 0;
        if (ts < 1 || ts > old || (j == 0 && target != old_obj)) {
            snprintf(err, n, "young object %llu: slot 0 does not point at its old object",
                     (unsigned long long)got);
            return UINT64_MAX;
        }
        sum += got * 3 + ts;
        y = mmb_load(h, y, 1);
    }
    if (y != head) {
        snprintf(err, n, "young ring of object %llu does not close after %u members",
                 (unsigned long long)first, group);
        return UINT64_MAX;
    }
    return sum;
}

static int run(const mmb_workload_env *env, mmb_workload_result *out, char *err, size_t n) {
    mmb_heap *h = env->heap;
    uint64_t old = (uint64_t)env->params[P_OLD];
    uint64_t rounds = (uint64_t)env->params[P_ROUNDS];
    uint64_t young = (uint64_t)env->params[P_YOUNG];
    uint32_t group = (uint32_t)env->params[P_GROUP];
    mmb_rng rng = {env->seed};
    uint64_t ngroups = (young + group - 1) / group;
    mmb_obj **old_objs = malloc(old * sizeof *old_objs);
    uint64_t *expect = calloc(old, sizeof *expect); /* first serial of oi's ring, or 0 */
    uint64_t *touched = malloc(ngroups * sizeof *touched);
    mmb_obj **ring = malloc(group * sizeof *ring);
    if (!old_objs || !expect || !touched || !ring) {
        free(old_objs);
        free(expect);
        free(touched);
        free(ring);
        snprintf(err, n, "out of memory for side arrays of %llu old objects",
                 (unsigned long long)old);
        return -1;
    }
    int status = 0;
    uint64_t checksum = 0, allocated = 0;
    mmb_workload_phase(env, MMB_RUN_BUILD); /* the old population */
    mmb_obj *dir = build_old(h, old, old_objs);
    if (!dir) {
        snprintf(err, n, "allocation failed");
        status = -1;
    } else {
        allocated += old;
    }
    uint64_t serial = old + 1;
    mmb_workload_phase(env, MMB_RUN_STEADY); /* the rounds */
    for (uint64_t r = 0; r < rounds && status == 0; r++) {
        uint64_t ntouched = 0;
        for (uint64_t g = 0; g < ngroups && status == 0; g++) {
            uint64_t first = serial;
            uint64_t back = 0; /* the old object ring[0] points at and that points back */
            uint32_t got = 0;
            for (; got < group; got++) {
                ring[got] = new_obj(h, 2, serial++);
                if (!ring[got])
                    break;
                uint64_t target = mmb_rng_below(&rng, (uint32_t)old);
                if (got == 0)
                    back = target;
                mmb_store(h, ring[got], 0, old_objs[target]);
                if (got > 0)
                    mmb_store(h, ring[got - 1], 1, ring[got]);
            }
            if (got == group) {
                mmb_store(h, ring[group - 1], 1, ring[0]);
                /* The back-edge: the old object's previous young ring, if any, loses it. */
                mmb_store(h, old_objs[back], 0, ring[0]);
                if (expect[back] == 0)
                    touched[ntouched++] = back;
                expect[back] = first;
                allocated += group;
            } else {
                snprintf(err, n, "allocation failed");
                status = -1;
            }
            for (uint32_t j = 0; j < got; j++)
                mmb_decref(h, ring[j]);
        }
        /* Read every back-edge that stands, then cut it: its ring becomes a garbage cycle. */
        for (uint64_t t = 0; t < ntouched && status == 0; t++) {
            uint64_t oi = touched[t];
            uint64_t sum = check_ring(h, old_objs[oi], oi, expect[oi], group, old, err, n);
            if (sum == UINT64_MAX) {
                status = -1;
                break;
            }
            checksum = checksum * 31 + sum + oi;
            mmb_store(h, old_objs[oi], 0, NULL);
        }
        for (uint64_t t = 0; t < ntouched; t++)
            expect[touched[t]] = 0;
    }
    mmb_workload_phase(env, MMB_RUN_TEARDOWN);
    if (dir)
        mmb_decref(h, dir);
    free(old_objs);
    free(expect);
    free(touched);
    free(ring);
    return mmbw_result(out, allocated, "objects", checksum, status);
}

const mmb_workload mmb_workload_cross_gen = {
    .name = "cross-gen",
    .family = "cycle-heavy",
    .summary = "young rings in cycles with a long-lived old population, cut to garbage each round",
    .params = params,
    .run = run,
};
