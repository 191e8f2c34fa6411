/* fragment: fill memory with small objects, free a random 90% of them, then allocate objects of
 * other sizes into the holes (as the sh6bench/larson family does): how much resident memory each
 * allocator keeps after the frees and how much more it needs for the refill. workloads/README.md
 * describes the phases and metrics. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "payload.h"
#include "size_dist.h"
#include "workload_internal.h"

enum {
    P_OBJECTS,
    P_FREE_FRACTION,
    P_FILL_MIN,
    P_FILL_MAX,
    P_REFILL_MIN,
    P_REFILL_MAX,
    P_REFILL_BYTES,
};

#define SIZE_BOUND(name, d, help)                                                                  \
    { name, true, {d, d, d, d}, 8, MMB_MAX_PAYLOAD_BYTES, help }

static const mmb_param_spec params[] = {
    {"objects", true, {2e4, 5e5, 4e6, 2e7}, 1, 4e9, "small objects of the fill"},
    {"free-fraction",
     false,
     {0.9, 0.9, 0.9, 0.9},
     0,
     1,
     "fraction of the fill freed, in a random order"},
    SIZE_BOUND("fill-min", 16, "smallest payload of the fill, bytes"),
    SIZE_BOUND("fill-max", 64, "largest payload of the fill, bytes"),
    SIZE_BOUND("refill-min", 80, "smallest payload of the refill, bytes"),
    SIZE_BOUND("refill-max", 512, "largest payload of the refill, bytes"),
    {"refill-bytes",
     false,
     {1, 1, 1, 1},
     0,
     1e3,
     "payload bytes of the refill, as a multiple of the bytes freed (at most one per freed slot)"},
    {NULL, false, {0}, 0, 0, NULL},
};

/* The objects sit in the slots of chunk objects that the mutator holds (so every placement and
 * every free is a store); slot i of the table is slot i % CHUNK_SLOTS of chunk i / CHUNK_SLOTS. */
#define CHUNK_SLOTS 256u

/* What the run remembers of table slot i: the serial of the object in it (0: empty) and its
 * payload size. */
typedef struct entry {
    uint64_t serial;
    uint32_t payload;
} entry;

typedef struct frag {
    mmb_heap *h;
    mmb_rng rng;
    mmb_obj **chunks;
    uint32_t nchunks;
    entry *table;
    uint64_t serial; /* the last one given */
    uint64_t sum;
    char *err;
    size_t n;
} frag;

/* Resident bytes of this process (/proc/self/statm), or 0 where it cannot be read. */
static uint64_t rss_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long size = 0, resident = 0;
    if (!f)
        return 0;
    int got = fscanf(f, "%llu %llu", &size, &resident);
    fclose(f);
    long page = sysconf(_SC_PAGESIZE);
    return got == 2 && page > 0 ? (uint64_t)resident * (uint64_t)page : 0;
}

/* Allocates an object with a payload drawn from `band` into the empty table slot i. */
static int place(frag *f, uint32_t i, const mmbw_band *band) {
    uint32_t payload = mmbw_band_draw(band, &f->rng);
    mmb_obj *o = mmb_alloc(f->h, 0, payload);
    if (!o) {
        snprintf(f->err, f->n, "allocation failed (%u payload bytes) for slot %u", payload, i);
        return -1;
    }
    f->table[i] = (entry){.serial = ++f->serial, .payload = payload};
    mmbw_fill_payload(o, payload, f->serial);
    mmb_store(f->h, f->chunks[i / CHUNK_SLOTS], i % CHUNK_SLOTS, o);
    mmb_decref(f->h, o); /* the chunk's slot holds it now */
    return 0;
}

/* Checks the object in table slot i (its size and whole payload) and folds it into the checksum;
 * with `clear`, empties the slot (the object becomes garbage). Returns -1 with a reason. */
static int check(frag *f, uint32_t i, bool clear) {
    const entry *e = &f->table[i];
    mmb_obj *chunk = f->chunks[i / CHUNK_SLOTS];
    mmb_obj *o = mmb_load(f->h, chunk, i % CHUNK_SLOTS);
    if (!o || o->nslots != 0 || o->payload_bytes < e->payload ||
        !mmbw_payload_intact(o, e->payload, e->serial)) {
        snprintf(f->err, f->n, "slot %u no longer holds object %llu (0 slots, %u payload bytes)", i,
                 (unsigned long long)e->serial, e->payload);
        return -1;
    }
    f->sum = (f->sum * 31 + e->serial) ^ ((uint64_t)e->payload << 40);
    if (clear) {
        mmb_store(f->h, chunk, i % CHUNK_SLOTS, NULL);
        f->table[i].serial = 0;
    }
    return 0;
}

/* A random permutation of 0..count-1 (Fisher-Yates from the seed's stream), or NULL. */
static uint32_t *shuffled(mmb_rng *rng, uint32_t count) {
    uint32_t *order = malloc((size_t)(count ? count : 1) * sizeof *order);
    if (!order)
        return NULL;
    for (uint32_t i = 0; i < count; i++)
        order[i] = i;
    for (uint32_t i = count; i > 1; i--) {
        uint32_t j = mmb_rng_below(rng, i);
        uint32_t t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
    return order;
}

/* The resident sizes the metrics compare: before the fill, after it, after the frees (and a
 * collection), after the refill. */
typedef struct rss_marks {
    uint64_t base, filled, freed, refilled;
} rss_marks;

/* The fill: `objects` small objects into the table, in order. */
static int fill(frag *f, uint32_t objects, const mmbw_band *band) {
    for (uint32_t i = 0; i < objects; i++)
        if (place(f, i, band) != 0)
            return -1;
    return 0;
}

/* Frees order[0 .. nfree) and then refills those slots, in the same order, with objects of the
 * refill band until their payload bytes reach `target` (a factor of the bytes freed). Counts the
 * refill's objects into *placed. */
static int free_and_refill(frag *f, const uint32_t *order, uint32_t nfree, double target,
                           const mmbw_band *band, const mmb_workload_env *env, rss_marks *rss,
                           uint64_t *placed) {
    uint64_t freed_bytes = 0;
    for (uint32_t k = 0; k < nfree; k++) {
        freed_bytes += f->table[order[k]].payload;
        if (check(f, order[k], true) != 0)
            return -1;
    }
    mmb_collect(f->h); /* so a tracing manager's garbage is gone too: the allocator's share */
    rss->freed = rss_bytes();
    mmb_workload_phase(env, MMB_RUN_STEADY);
    double want = target * (double)freed_bytes, got = 0;
    for (uint32_t k = 0; k < nfree && got < want; k++) {
        if (place(f, order[k], band) != 0)
            return -1;
        got += f->table[order[k]].payload;
        (*placed)++;
    }
    rss->refilled = rss_bytes();
    return 0;
}

/* The metrics, where the resident sizes could be read and the fill grew them. */
static void report(mmb_workload_result *out, const rss_marks *rss) {
    if (!rss->base || !rss->filled || !rss->freed || !rss->refilled || rss->filled <= rss->base)
        return;
    double grown = (double)(rss->filled - rss->base);
    out->metrics[0].name = "fragment_retained_fraction";
    out->metrics[0].value = ((double)rss->freed - (double)rss->base) / grown;
    out->metrics[1].name = "fragment_refill_growth_fraction";
    out->metrics[1].value = ((double)rss->refilled - (double)rss->freed) / grown;
    out->metrics[2].name = "fragment_rss_after_free_bytes";
    out->metrics[2].value = (double)rss->freed;
    out->nmetrics = 3;
}

static int run(const mmb_workload_env *env, mmb_workload_result *out, char *err, size_t n) {
    const double *p = env->params;
    uint32_t objects = (uint32_t)p[P_OBJECTS];
    uint32_t nfree = (uint32_t)(p[P_FREE_FRACTION] * (double)objects);
    mmbw_band fill_band = mmbw_band_make(p[P_FILL_MIN], p[P_FILL_MAX]);
    mmbw_band refill_band = mmbw_band_make(p[P_REFILL_MIN], p[P_REFILL_MAX]);
    frag f = {.h = env->heap, .rng = {env->seed}, .err = err, .n = n};
    f.nchunks = (uint32_t)((objects + (uint64_t)CHUNK_SLOTS - 1) / CHUNK_SLOTS);
    f.chunks = calloc(f.nchunks, sizeof *f.chunks);
    f.table = malloc((size_t)objects * sizeof *f.table);
    uint32_t *order = shuffled(&f.rng, objects); /* the order of the frees */
    int status = f.chunks && f.table && order ? 0 : -1;
    if (status != 0)
        snprintf(err, n, "out of memory for a table of %u objects", objects);
    /* The run's own memory is touched before the first mark, so the marks measure the heap. */
    for (uint32_t i = 0; f.table && i < objects; i++)
        f.table[i] = (entry){.serial = 0};
    rss_marks rss = {.base = rss_bytes()};
    uint64_t placed = 0;
    mmb_workload_phase(env, MMB_RUN_BUILD);
    for (uint32_t c = 0; c < f.nchunks && status == 0; c++) {
        f.chunks[c] = mmb_alloc(f.h, CHUNK_SLOTS, 8);
        if (!f.chunks[c]) {
            snprintf(err, n, "allocation failed for chunk %u", c);
            status = -1;
        } else {
            mmbw_fill_payload(f.chunks[c], 8, c);
        }
    }
    if (status == 0)
        status = fill(&f, objects, &fill_band);
    rss.filled = rss_bytes();
    if (status == 0)
        status =
            free_and_refill(&f, order, nfree, p[P_REFILL_BYTES], &refill_band, env, &rss, &placed);
    mmb_workload_phase(env, MMB_RUN_TEARDOWN);
    for (uint32_t i = 0; f.table && i < objects && status == 0; i++)
        if (f.table[i].serial)
            status = check(&f, i, false);
    for (uint32_t c = 0; f.chunks && c < f.nchunks && f.chunks[c]; c++) {
        if (status == 0 && !mmbw_payload_intact(f.chunks[c], 8, c)) {
            snprintf(err, n, "chunk %u: payload overwritten", c);
            status = -1;
        }
        mmb_decref(f.h, f.chunks[c]);
    }
    free(order);
    free(f.table);
    free(f.chunks);
    if (status == 0)
        report(out, &rss);
    return mmbw_result(out, objects + placed, "objects", f.sum, status);
}

const mmb_workload mmb_workload_fragment = {
    .name = "fragment",
    .family = "many-small",
    .summary = "fill with small objects (16-64 B), free a random 90%, refill with 80-512 B ones: "
               "the resident memory an allocator keeps and needs",
    .params = params,
    .run = run,
};
