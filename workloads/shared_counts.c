/* shared-counts: every worker takes and releases references to the same few objects, so their
 * counts are contended: increments and decrements from all threads, slot loads, and stores that
 * count a shared object from a worker's private holder. Design: workloads/README.md, "Threaded
 * workloads". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload_internal.h"

enum { P_THREADS, P_OBJECTS, P_ROUNDS, P_LOAD, P_STORE };

static const mmb_param_spec params[] = {
    {MMB_PARAM_THREADS, true, {2, 2, 2, 2}, 1, 256, "worker threads"},
    {"objects", true, {64, 256, 256, 1024}, 1, 1 << 24, "objects in the shared set"},
    {"rounds",
     true,
     {1e4, 2e6, 4e7, 4e8},
     1,
     1e12,
     "rounds in all (each: take, check and release a shared object), split between the workers"},
    {"load-fraction",
     false,
     {0.5, 0.5, 0.5, 0.5},
     0,
     1,
     "fraction of rounds that also load a slot of the object and take and release its target"},
    {"store-fraction",
     false,
     {0.25, 0.25, 0.25, 0.25},
     0,
     1,
     "fraction of rounds that also store the object into a slot of the worker's private holder"},
    {NULL, false, {0}, 0, 0, NULL},
};

/* Rounds go out in batches: batch b (rounds b*BATCH_ROUNDS ...) draws from element b of the
 * seed's stream and runs on worker b % threads. So every round does the same thing whichever
 * worker runs it, and work units and checksum are the same for every thread count. */
enum { BATCH_ROUNDS = 256 };

/* Each shared object has SHARED_SLOTS slots, each null or pointing at a lower-numbered object (a
 * DAG: refcounting alone frees the set), and a payload of three words: its tag, its index and
 * the tag's complement, a canary a stray write to either end of the payload breaks. */
enum { SHARED_SLOTS = 2, SHARED_WORDS = 3 };
/* A batch's holder: private to the batch, its slots count shared objects from that worker. */
enum { HOLDER_SLOTS = 8 };
#define NO_TARGET UINT32_MAX

typedef struct shared_set {
    uint32_t count;
    mmb_obj **objs;    /* the main thread's references, one per object */
    uint64_t *tags;    /* tags[j]: object j's first payload word */
    uint32_t *targets; /* targets[j * SHARED_SLOTS + s]: index slot s points at, or NO_TARGET */
    uint64_t rounds, batches;
    double load, store;
    unsigned threads;
    uint64_t seed;
    uint64_t *checksums; /* one per worker, each written only by its worker */
} shared_set;

static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Element k of the seed's stream: the start of batch k's (or, in build, the set's) own stream. */
static mmb_rng stream(uint64_t seed, uint64_t k) {
    mmb_rng r = {seed + k * 0x9E3779B97F4A7C15ull};
    return (mmb_rng){mmb_rng_next(&r)};
}

static int check_shared(const shared_set *s, mmb_obj *o, uint32_t j, char *err, size_t n) {
    uint64_t w[SHARED_WORDS];
    memcpy(w, mmb_payload(o), sizeof w);
    if (w[0] != s->tags[j] || w[1] != j || w[2] != ~s->tags[j]) {
        snprintf(err, n,
                 "shared object %u: payload %016llx %016llx %016llx, not %016llx %016llx %016llx",
                 j, (unsigned long long)w[0], (unsigned long long)w[1], (unsigned long long)w[2],
                 (unsigned long long)s->tags[j], (unsigned long long)j,
                 (unsigned long long)~s->tags[j]);
        return -1;
    }
    return 0;
}

/* Slot `slot` of shared object j must point where the main thread stored it. */
static int check_target(const shared_set *s, mmb_obj *got, uint32_t j, uint32_t slot, char *err,
                        size_t n) {
    uint32_t t = s->targets[j * SHARED_SLOTS + slot];
    if (got != (t == NO_TARGET ? NULL : s->objs[t])) {
        if (t == NO_TARGET)
            snprintf(err, n, "shared object %u: slot %u is not null", j, slot);
        else
            snprintf(err, n, "shared object %u: slot %u no longer points at shared object %u", j,
                     slot, t);
        return -1;
    }
    return 0;
}

/* Builds the set on the calling thread. Returns 0, or -1 having dropped what it built. */
static int build(mmb_heap *h, shared_set *s, char *err, size_t n) {
    mmb_rng rng = stream(s->seed, UINT64_MAX);
    for (uint32_t j = 0; j < s->count; j++) {
        mmb_obj *o = mmb_alloc(h, SHARED_SLOTS, SHARED_WORDS * sizeof(uint64_t));
        if (!o) {
            for (uint32_t k = 0; k < j; k++)
                mmb_decref(h, s->objs[k]);
            snprintf(err, n, "allocation failed building shared object %u", j);
            return -1;
        }
        s->objs[j] = o;
        s->tags[j] = mmb_rng_next(&rng);
        uint64_t w[SHARED_WORDS] = {s->tags[j], j, ~s->tags[j]};
        memcpy(mmb_payload(o), w, sizeof w);
        for (uint32_t k = 0; k < SHARED_SLOTS; k++) {
            uint32_t t = j > 0 ? mmb_rng_below(&rng, j) : NO_TARGET;
            s->targets[j * SHARED_SLOTS + k] = t;
            if (t != NO_TARGET)
                mmb_store(h, o, k, s->objs[t]);
        }
    }
    return 0;
}

/* Checks the whole set (after the workers: nothing they did may have changed it) and folds it
 * into *checksum. */
static int verify_set(mmb_heap *h, const shared_set *s, uint64_t *checksum, char *err, size_t n) {
    for (uint32_t j = 0; j < s->count; j++) {
        if (check_shared(s, s->objs[j], j, err, n) != 0)
            return -1;
        for (uint32_t k = 0; k < SHARED_SLOTS; k++)
            if (check_target(s, mmb_load(h, s->objs[j], k), j, k, err, n) != 0)
                return -1;
        *checksum += mix64(s->tags[j] + s->targets[j * SHARED_SLOTS] +
                           ((uint64_t)s->targets[j * SHARED_SLOTS + 1] << 32));
    }
    return 0;
}

/* Checks the holder's slots against what the batch stored (mirror[k]: shared index or
 * NO_TARGET). */
static int check_holder(mmb_heap *h, const shared_set *s, mmb_obj *holder, const uint32_t *mirror,
                        uint32_t k, uint64_t batch, char *err, size_t n) {
    mmb_obj *got = mmb_load(h, holder, k);
    if (got != (mirror[k] == NO_TARGET ? NULL : s->objs[mirror[k]])) {
        snprintf(err, n, "batch %llu: holder slot %u does not hold what was stored there",
                 (unsigned long long)batch, k);
        return -1;
    }
    return 0;
}

/* One batch of rounds. Counts reference operations (incref, decref, store) in *ops. */
static int one_batch(mmb_heap *h, const shared_set *s, uint64_t b, uint64_t *ops,
                     uint64_t *checksum, char *err, size_t n) {
    mmb_rng rng = stream(s->seed, b);
    uint64_t first = b * BATCH_ROUNDS;
    uint64_t last = first + BATCH_ROUNDS < s->rounds ? first + BATCH_ROUNDS : s->rounds;
    mmb_obj *holder = mmb_alloc(h, HOLDER_SLOTS, sizeof b);
    if (!holder) {
        snprintf(err, n, "allocation failed for batch %llu's holder", (unsigned long long)b);
        return -1;
    }
    memcpy(mmb_payload(holder), &b, sizeof b);
    uint32_t mirror[HOLDER_SLOTS];
    for (uint32_t k = 0; k < HOLDER_SLOTS; k++)
        mirror[k] = NO_TARGET;
    int status = 0;
    for (uint64_t r = first; r < last && status == 0; r++) {
        uint32_t j = mmb_rng_below(&rng, s->count);
        mmb_obj *a = s->objs[j];
        mmb_incref(h, a);
        (*ops)++;
        uint64_t seen = 0;
        status = check_shared(s, a, j, err, n);
        if (status == 0)
            memcpy(&seen, mmb_payload(a), sizeof seen);
        if (status == 0 && mmb_rng_unit(&rng) < s->load) {
            uint32_t slot = mmb_rng_below(&rng, SHARED_SLOTS);
            mmb_obj *c = mmb_load(h, a, slot);
            status = check_target(s, c, j, slot, err, n);
            if (status == 0 && c) {
                /* a's slot keeps c alive until the incref: no thread writes shared slots. */
                uint32_t t = s->targets[j * SHARED_SLOTS + slot];
                mmb_incref(h, c);
                status = check_shared(s, c, t, err, n);
                uint64_t w;
                memcpy(&w, mmb_payload(c), sizeof w);
                seen += 3 * w;
                mmb_decref(h, c);
                *ops += 2;
            }
        }
        if (status == 0 && mmb_rng_unit(&rng) < s->store) {
            uint32_t k = mmb_rng_below(&rng, HOLDER_SLOTS);
            status = check_holder(h, s, holder, mirror, k, b, err, n);
            mmb_store(h, holder, k, a);
            mirror[k] = j;
            (*ops)++;
            seen += 5 * (k + 1);
        }
        mmb_decref(h, a);
        (*ops)++;
        *checksum += mix64(r * 0x9E3779B97F4A7C15ull + seen);
    }
    uint64_t tag;
    memcpy(&tag, mmb_payload(holder), sizeof tag);
    if (status == 0 && tag != b) {
        snprintf(err, n, "batch %llu: holder payload reads %llu", (unsigned long long)b,
                 (unsigned long long)tag);
        status = -1;
    }
    for (uint32_t k = 0; k < HOLDER_SLOTS && status == 0; k++) {
        status = check_holder(h, s, holder, mirror, k, b, err, n);
        *checksum += mix64(b + ((uint64_t)mirror[k] << 8) + k);
    }
    mmb_decref(h, holder); /* releases the holder's counts on shared objects, maybe from afar */
    (*ops)++;
    return status;
}

static int worker(const mmb_workload_env *env, unsigned index, void *arg, uint64_t *work_units,
                  char *err, size_t n) {
    shared_set *s = arg;
    uint64_t ops = 0, checksum = 0;
    int status = 0;
    for (uint64_t b = index; b < s->batches && status == 0; b += s->threads)
        status = one_batch(env->heap, s, b, &ops, &checksum, err, n);
    s->checksums[index] = checksum;
    *work_units += ops;
    return status;
}

static int run(const mmb_workload_env *env, mmb_workload_result *out, char *err, size_t n) {
    mmb_heap *h = env->heap;
    shared_set s = {
        .count = (uint32_t)env->params[P_OBJECTS],
        .rounds = (uint64_t)env->params[P_ROUNDS],
        .load = env->params[P_LOAD],
        .store = env->params[P_STORE],
        .threads = (unsigned)env->params[P_THREADS],
        .seed = env->seed,
    };
    s.batches = (s.rounds + BATCH_ROUNDS - 1) / BATCH_ROUNDS;
    s.objs = calloc(s.count, sizeof *s.objs);
    s.tags = calloc(s.count, sizeof *s.tags);
    s.targets = calloc((size_t)s.count * SHARED_SLOTS, sizeof *s.targets);
    s.checksums = calloc(s.threads, sizeof *s.checksums);
    int status = 0;
    uint64_t units = 0, checksum = 0;
    if (!s.objs || !s.tags || !s.targets || !s.checksums) {
        snprintf(err, n, "out of memory for a shared set of %u", s.count);
        status = -1;
    } else if (build(h, &s, err, n) == 0) {
        status = mmb_run_threads(env, s.threads, worker, &s, &units, err, n);
        for (unsigned i = 0; i < s.threads; i++)
            checksum += s.checksums[i]; /* a sum: the same whichever worker ran which batch */
        if (status == 0)
            status = verify_set(h, &s, &checksum, err, n);
        for (uint32_t j = 0; j < s.count; j++)
            mmb_decref(h, s.objs[j]);
    } else {
        status = -1;
    }
    free(s.objs);
    free(s.tags);
    free(s.targets);
    free(s.checksums);
    return mmbw_result(out, units, "references", checksum, status);
}

const mmb_workload mmb_workload_shared_counts = {
    .name = "shared-counts",
    .family = "threaded",
    .summary = "every worker takes and releases references to one small shared set of objects: "
               "contended counts",
    .params = params,
    .run = run,
};
