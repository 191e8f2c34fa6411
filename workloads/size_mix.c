/* size-mix: objects whose payload sizes follow a realistic small-object distribution (most
 * 16-64 bytes, a tail to 512, a few of 1-16 KiB), with mixed lifetimes: long-lived objects kept
 * throughout, a table of live objects where each step replaces a random entry, and short-lived
 * temporaries. Every payload is written whole and read back (workloads/README.md). */
#include <stdio.h>
#include <stdlib.h>

#include "payload.h"
#include "size_dist.h"
#include "workload_internal.h"

enum {
    P_TABLE,
    P_LONG_LIVED,
    P_STEPS,
    P_TEMPORARIES,
    P_SMALL_MIN,
    P_SMALL_MAX,
    P_MEDIUM_FRACTION,
    P_MEDIUM_MIN,
    P_MEDIUM_MAX,
    P_LARGE_FRACTION,
    P_LARGE_MIN,
    P_LARGE_MAX,
    P_LINK,
};

#define SIZE_BOUND(name, d, help)                                                                  \
    { name, true, {d, d, d, d}, 8, MMB_MAX_PAYLOAD_BYTES, help }

static const mmb_param_spec params[] = {
    {"table", true, {256, 4096, 65536, 1 << 20}, 1, 1 << 26, "objects live in the table"},
    {"long-lived", true, {64, 1024, 16384, 262144}, 0, 1 << 26, "objects kept all run"},
    {"steps", true, {1e4, 4e5, 6e6, 6e7}, 0, 1e12, "table entries replaced, one per step"},
    {"temporaries", true, {1, 1, 1, 1}, 0, 64, "objects allocated and dropped in each step"},
    SIZE_BOUND("small-min", 16, "smallest payload of the main band, bytes"),
    SIZE_BOUND("small-max", 64, "largest payload of the main band, bytes"),
    {"medium-fraction", false, {0.12, 0.12, 0.12, 0.12}, 0, 1, "objects in the medium band"},
    SIZE_BOUND("medium-min", 65, "smallest payload of the medium band, bytes"),
    SIZE_BOUND("medium-max", 512, "largest payload of the medium band, bytes"),
    {"large-fraction", false, {0.005, 0.005, 0.005, 0.005}, 0, 1, "objects in the large band"},
    SIZE_BOUND("large-min", 1024, "smallest payload of the large band, bytes"),
    SIZE_BOUND("large-max", 16384, "largest payload of the large band, bytes"),
    {"link-fraction",
     false,
     {0.5, 0.5, 0.5, 0.5},
     0,
     1,
     "fraction of slots that point at another live object"},
    {NULL, false, {0}, 0, 0, NULL},
};

/* What the run remembers of a live object, to check it against the heap. */
typedef struct entry {
    mmb_obj *obj;
    uint64_t serial;
    uint64_t target[2]; /* serial of what slot s points at, or 0 */
    uint32_t payload;
    uint32_t nslots;
} entry;

/* A range of entries that a new object's slot may point at. */
typedef struct pool {
    const entry *at;
    uint32_t count;
} pool;

typedef struct mix {
    mmb_heap *h;
    mmb_rng rng;
    mmbw_band small, medium, large;
    double medium_fraction, large_fraction, link;
    uint64_t serial; /* the last one given */
    uint64_t sum;
    char *err;
    size_t n;
} mix;

/* The large band first, then the medium one, the small band the rest (none of it when the two
 * fractions sum to 1 or more). */
static uint32_t draw_payload(mix *m) {
    double u = mmb_rng_unit(&m->rng);
    const mmbw_band *b = u < m->large_fraction                        ? &m->large
                         : u < m->large_fraction + m->medium_fraction ? &m->medium
                                                                      : &m->small;
    return mmbw_band_draw(b, &m->rng);
}

/* Allocates an object of 0-2 slots and a drawn payload into *e; slot s points, with the link
 * fraction, at a random live entry of pools[s]. Returns -1 when the allocation fails. */
static int make(mix *m, entry *e, pool p0, pool p1) {
    uint32_t nslots = mmb_rng_below(&m->rng, 3);
    uint32_t payload = draw_payload(m);
    mmb_obj *o = mmb_alloc(m->h, nslots, payload);
    if (!o) {
        snprintf(m->err, m->n, "allocation failed (%u slots, %u payload bytes)", nslots, payload);
        return -1;
    }
    *e = (entry){.obj = o, .serial = ++m->serial, .payload = payload, .nslots = nslots};
    mmbw_fill_payload(o, payload, e->serial);
    const pool pools[2] = {p0, p1};
    for (uint32_t s = 0; s < nslots; s++) {
        if (pools[s].count == 0 || mmb_rng_unit(&m->rng) >= m->link)
            continue;
        const entry *t = &pools[s].at[mmb_rng_below(&m->rng, pools[s].count)];
        if (t->obj && t != e) {
            mmb_store(m->h, o, s, t->obj);
            e->target[s] = t->serial;
        }
    }
    return 0;
}

/* Checks e against the heap (sizes, the whole payload, slot targets), folds it into the
 * checksum and drops it. Returns -1 with a reason when it differs. */
static int drop(mix *m, entry *e) {
    mmb_obj *o = e->obj;
    int status = 0;
    if (o->nslots != e->nslots || o->payload_bytes < e->payload) {
        snprintf(m->err, m->n, "object %llu has %u slots and %u payload bytes, not %u and %u+",
                 (unsigned long long)e->serial, o->nslots, o->payload_bytes, e->nslots, e->payload);
        status = -1;
    } else if (!mmbw_payload_intact(o, e->payload, e->serial)) {
        snprintf(m->err, m->n, "object %llu (%u payload bytes): payload overwritten",
                 (unsigned long long)e->serial, e->payload);
        status = -1;
    }
    for (uint32_t s = 0; s < e->nslots && status == 0; s++) {
        mmb_obj *t = mmb_load(m->h, o, s);
        if (e->target[s] ? !t || mmbw_read_u64(t) != e->target[s] : t != NULL) {
            snprintf(m->err, m->n, "object %llu: slot %u no longer points at object %llu",
                     (unsigned long long)e->serial, s, (unsigned long long)e->target[s]);
            status = -1;
        }
    }
    m->sum = (m->sum * 31 + e->serial + e->payload) ^ (e->target[0] << 1) ^ (e->target[1] << 2);
    mmb_decref(m->h, o);
    e->obj = NULL;
    return status;
}

/* The steady state: each step replaces a random table entry (checking and dropping the old
 * one), then makes and drops `temps` temporaries that point at it. */
static int steps(mix *m, entry *table, uint32_t ntable, const entry *old, uint32_t nold,
                 uint64_t nsteps, uint32_t temps) {
    for (uint64_t i = 0; i < nsteps; i++) {
        entry *e = &table[mmb_rng_below(&m->rng, ntable)];
        if (drop(m, e) != 0 || make(m, e, (pool){table, ntable}, (pool){old, nold}) != 0)
            return -1;
        for (uint32_t t = 0; t < temps; t++) {
            entry tmp;
            if (make(m, &tmp, (pool){e, 1}, (pool){old, nold}) != 0 || drop(m, &tmp) != 0)
                return -1;
        }
    }
    return 0;
}

static int run(const mmb_workload_env *env, mmb_workload_result *out, char *err, size_t n) {
    const double *p = env->params;
    mix m = {
        .h = env->heap,
        .rng = {env->seed},
        .small = mmbw_band_make(p[P_SMALL_MIN], p[P_SMALL_MAX]),
        .medium = mmbw_band_make(p[P_MEDIUM_MIN], p[P_MEDIUM_MAX]),
        .large = mmbw_band_make(p[P_LARGE_MIN], p[P_LARGE_MAX]),
        .medium_fraction = p[P_MEDIUM_FRACTION],
        .large_fraction = p[P_LARGE_FRACTION],
        .link = p[P_LINK],
        .err = err,
        .n = n,
    };
    uint32_t ntable = (uint32_t)p[P_TABLE], nold = (uint32_t)p[P_LONG_LIVED];
    uint64_t nsteps = (uint64_t)p[P_STEPS];
    uint32_t temps = (uint32_t)p[P_TEMPORARIES];
    entry *table = calloc(ntable, sizeof *table), *old = calloc(nold ? nold : 1, sizeof *old);
    int status = 0;
    if (!table || !old) {
        snprintf(err, n, "out of memory for a table of %u and %u long-lived objects", ntable, nold);
        status = -1;
    }
    mmb_workload_phase(env, MMB_RUN_BUILD);
    /* Long-lived objects point at older ones (a tree); table entries at earlier entries and at
     * long-lived objects. Every slot points at an older object: the graph is acyclic. */
    for (uint32_t i = 0; i < nold && status == 0; i++)
        status = make(&m, &old[i], (pool){old, i}, (pool){NULL, 0});
    for (uint32_t i = 0; i < ntable && status == 0; i++)
        status = make(&m, &table[i], (pool){table, i}, (pool){old, nold});
    mmb_workload_phase(env, MMB_RUN_STEADY);
    if (status == 0)
        status = steps(&m, table, ntable, old, nold, nsteps, temps);
    mmb_workload_phase(env, MMB_RUN_TEARDOWN);
    for (uint32_t i = 0; table && i < ntable; i++)
        if (table[i].obj && drop(&m, &table[i]) != 0 && status == 0)
            status = -1;
    for (uint32_t i = nold; old && i-- > 0;)
        if (old[i].obj && drop(&m, &old[i]) != 0 && status == 0)
            status = -1;
    free(table);
    free(old);
    uint64_t allocated = nold + (uint64_t)ntable + nsteps * (1 + (uint64_t)temps);
    return mmbw_result(out, allocated, "objects", m.sum, status);
}

const mmb_workload mmb_workload_size_mix = {
    .name = "size-mix",
    .family = "many-small",
    .summary = "payload sizes from a small-object distribution (most 16-64 bytes, a tail to 512, "
               "a few of 1-16 KiB), lifetimes mixed: long-lived, a replaced table, temporaries",
    .params = params,
    .run = run,
};
