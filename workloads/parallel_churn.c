/* parallel-churn: churn (churn.c) on every worker at once, each through a window of its own
 * objects that no other thread sees: how allocation and the refcount fast paths scale when
 * nothing is shared. Design: workloads/README.md, "Threaded workloads". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

enum { P_THREADS, P_OBJECTS, P_WINDOW, P_LINK };

static const mmb_param_spec params[] = {
    {"threads", true, {2, 2, 2, 2}, 1, 256, "worker threads"},
    {"objects",
     true,
     {2e4, 2e6, 2e7, 2e8},
     1,
     1e12,
     "objects allocated in all, split evenly between the workers"},
    {"window", true, {64, 256, 1024, 1024}, 1, 1 << 24, "objects live at once in each worker"},
    {"link-fraction",
     false,
     {0.5, 0.5, 0.5, 0.5},
     0,
     1,
     "fraction of objects with slots that point at an older object of their worker's window"},
    {NULL, false, {0}, 0, 0, NULL},
};

/* An object's serial: its worker in the top 24 bits, its place in that worker's sequence
 * (from 1) in the low 40 (objects <= 10^12 < 2^40). An object read back by the wrong worker or
 * out of sequence fails the check. */
#define SERIAL_BITS 40

typedef struct entry {
    mmb_obj *obj;
    uint64_t serial;
    uint64_t target_serial; /* serial of what slot 0 points at, or 0 */
    uint32_t payload;
} entry;

typedef struct crew_state {
    uint64_t objects;
    uint32_t window;
    double link;
    unsigned threads;
    uint64_t *checksums; /* one per worker, each written only by its worker */
} crew_state;

static uint64_t read_serial(mmb_obj *o, uint32_t payload) {
    uint64_t v = 0;
    if (payload >= sizeof v)
        memcpy(&v, mmb_payload(o), sizeof v);
    return v;
}

/* Checks what leaves the window, folds it into *checksum and drops it. */
static int retire(mmb_heap *h, entry *e, uint64_t *checksum, char *err, size_t n) {
    int status = 0;
    if (e->payload >= 8 && read_serial(e->obj, e->payload) != e->serial) {
        snprintf(err, n, "object %016llx: payload reads %016llx", (unsigned long long)e->serial,
                 (unsigned long long)read_serial(e->obj, e->payload));
        status = -1;
    } else if (e->target_serial) {
        mmb_obj *t = mmb_load(h, e->obj, 0);
        if (!t || read_serial(t, t->payload_bytes) != e->target_serial) {
            snprintf(err, n, "object %016llx: slot 0 no longer points at object %016llx",
                     (unsigned long long)e->serial, (unsigned long long)e->target_serial);
            status = -1;
        }
    }
    *checksum = *checksum * 31 + e->serial + e->target_serial;
    mmb_decref(h, e->obj);
    e->obj = NULL;
    return status;
}

static int worker(const mmb_workload_env *env, unsigned index, void *arg, uint64_t *work_units,
                  char *err, size_t n) {
    crew_state *c = arg;
    mmb_heap *h = env->heap;
    /* Worker i allocates objects / T, the first objects % T one more. */
    uint64_t objects = c->objects / c->threads + (index < c->objects % c->threads);
    uint32_t window = c->window;
    mmb_rng seeder = {env->seed + index * 0x9E3779B97F4A7C15ull};
    mmb_rng rng = {mmb_rng_next(&seeder)}; /* element `index` of the seed's stream */
    entry *win = calloc(window, sizeof *win);
    if (!win) {
        snprintf(err, n, "out of memory for a window of %u", window);
        return -1;
    }
    uint64_t worker_bits = (uint64_t)(index + 1) << SERIAL_BITS;
    uint64_t checksum = 0, allocated = 0;
    int status = 0;
    for (uint64_t i = 1; i <= objects + window && status == 0; i++) {
        entry *e = &win[mmb_rng_below(&rng, window)];
        if (e->obj && retire(h, e, &checksum, err, n) != 0) {
            status = -1;
            break;
        }
        if (i > objects)
            continue; /* draining the window */
        uint32_t nslots = mmb_rng_below(&rng, 5);
        uint32_t payload = 8 * mmb_rng_below(&rng, 9);
        mmb_obj *o = mmb_alloc(h, nslots, payload);
        if (!o) {
            snprintf(err, n, "allocation failed");
            status = -1;
            break;
        }
        allocated++;
        uint64_t serial = worker_bits | i;
        if (payload >= 8)
            memcpy(mmb_payload(o), &serial, sizeof serial);
        *e = (entry){.obj = o, .serial = serial, .payload = payload};
        if (nslots && mmb_rng_unit(&rng) < c->link) {
            entry *t = &win[mmb_rng_below(&rng, window)];
            if (t->obj && t != e && t->payload >= 16) {
                mmb_store(h, o, 0, t->obj);
                e->target_serial = t->serial;
            }
        }
    }
    for (uint32_t k = 0; k < window; k++)
        if (win[k].obj)
            mmb_decref(h, win[k].obj);
    free(win);
    c->checksums[index] = checksum;
    *work_units += allocated;
    return status;
}

static int run(const mmb_workload_env *env, mmb_workload_result *out, char *err, size_t n) {
    crew_state c = {
        .objects = (uint64_t)env->params[P_OBJECTS],
        .window = (uint32_t)env->params[P_WINDOW],
        .link = env->params[P_LINK],
        .threads = (unsigned)env->params[P_THREADS],
    };
    c.checksums = calloc(c.threads, sizeof *c.checksums);
    if (!c.checksums) {
        snprintf(err, n, "out of memory for %u workers", c.threads);
        return -1;
    }
    uint64_t units = 0;
    int status = mmb_run_threads(env, c.threads, worker, &c, &units, err, n);
    /* A sum: the same whichever worker finishes first. */
    uint64_t checksum = 0;
    for (unsigned i = 0; i < c.threads; i++)
        checksum += c.checksums[i];
    free(c.checksums);
    out->work_units = units;
    out->unit = "objects";
    out->checksum = checksum;
    return status;
}

const mmb_workload mmb_workload_parallel_churn = {
    .name = "parallel-churn",
    .family = "threaded",
    .summary = "churn on every worker at once, each through its own window of private objects",
    .params = params,
    .run = run,
};
