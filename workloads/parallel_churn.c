/* parallel-churn: churn (churn.c) on every worker at once, each through a window of its own
 * objects that no other thread sees: how allocation and the refcount fast paths scale when
 * nothing is shared. Design: workloads/README.md, "Threaded workloads". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "churn.h"
#include "workload_internal.h"

enum { P_THREADS, P_OBJECTS, P_WINDOW, P_LINK };

static const mmb_param_spec params[] = {
    {MMB_PARAM_THREADS, true, {2, 2, 2, 2}, 1, 256, "worker threads"},
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

typedef struct crew_state {
    uint64_t objects;
    uint32_t window;
    double link;
    unsigned threads;
    uint64_t *checksums; /* one per worker, each written only by its worker */
} crew_state;

static int worker(const mmb_workload_env *env, unsigned index, void *arg, uint64_t *work_units,
                  char *err, size_t n) {
    crew_state *c = arg;
    /* Worker i allocates objects / T, the first objects % T one more. */
    uint64_t objects = c->objects / c->threads + (index < c->objects % c->threads);
    mmb_rng seeder = {env->seed + index * 0x9E3779B97F4A7C15ull};
    mmb_rng rng = {mmb_rng_next(&seeder)}; /* element `index` of the seed's stream */
    uint64_t checksum = 0;
    int status = mmb_churn_window(env->heap, &rng, objects, c->window, c->link,
                                  (uint64_t)(index + 1) << SERIAL_BITS, &checksum, err, n);
    c->checksums[index] = checksum;
    *work_units += objects;
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
    return mmbw_result(out, units, "objects", checksum, status);
}

const mmb_workload mmb_workload_parallel_churn = {
    .name = "parallel-churn",
    .family = "threaded",
    .summary = "churn on every worker at once, each through its own window of private objects",
    .params = params,
    .run = run,
};
