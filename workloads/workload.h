/* The workload contract: a seeded, scalable program written against manager.h only. Adding a
 * workload is one file under workloads/ and one MMB_WORKLOAD line in workloads/list.h. */
#ifndef MMB_WORKLOAD_H
#define MMB_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmbench/clock.h"
#include "mmbench/manager.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mmb_scale {
    MMB_SCALE_TINY,    /* tests: well under a second, even under the oracle and sanitizers */
    MMB_SCALE_SMALL,   /* the quick matrix: about 0.1-1 s */
    MMB_SCALE_DEFAULT, /* a real measurement */
    MMB_SCALE_LARGE,   /* millions of objects */
    MMB_SCALE_COUNT
} mmb_scale;

extern const char *const mmb_scale_names[MMB_SCALE_COUNT];

/* A named parameter with one default per scale. Integer parameters hold whole numbers. */
typedef struct mmb_param_spec {
    const char *name;
    bool integer;
    double defaults[MMB_SCALE_COUNT];
    double min, max;
    const char *help; /* one line: meaning and unit */
} mmb_param_spec;

#define MMB_MAX_PARAMS 16

/* The phases of a run, which a workload marks as it enters them (mmb_workload_phase), so pause
 * statistics can be given per phase beside the whole run's: building its heap, the steady state
 * it measures, and tearing the heap down (the cascade that drops it). A workload that marks none
 * has whole-run statistics only. */
typedef enum mmb_run_phase {
    MMB_RUN_BUILD = 0,
    MMB_RUN_STEADY = 1,
    MMB_RUN_TEARDOWN = 2,
} mmb_run_phase;
#define MMB_RUN_PHASE_COUNT 3
/* "build", "steady", "teardown", as results name them; "unknown" out of range. */
const char *mmb_run_phase_name(mmb_run_phase phase);

/* What the harness hands a workload. */
typedef struct mmb_workload_env {
    mmb_heap *heap;
    uint64_t seed;
    mmb_scale scale;
    double params[MMB_MAX_PARAMS]; /* in table order; the scale's defaults unless overridden */
    /* Pause-sensitive workloads report each request: when it was scheduled to start, when it
     * did start and when it ended (CLOCK_MONOTONIC ns). NULL: not recorded. */
    void (*on_request)(void *ctx, uint64_t scheduled_ns, uint64_t start_ns, uint64_t end_ns);
    void *request_ctx;
    /* Threaded workloads run their workers through mmb_run_threads, which calls these on every
     * worker: on_thread_start first (the harness binds the worker to its planned CPUs there and
     * opens its counters), on_thread_end last, with the worker's work units and the nanoseconds
     * from the common start to its own end. Either may be NULL. */
    void (*on_thread_start)(void *ctx, unsigned index);
    void (*on_thread_end)(void *ctx, unsigned index, uint64_t work_units, uint64_t elapsed_ns);
    void *thread_ctx;
    /* Called when the workload enters a phase (mmb_workload_phase); NULL: not recorded. */
    void (*on_run_phase)(void *ctx, mmb_run_phase phase);
    void *run_phase_ctx;
} mmb_workload_env;

/* A workload marks each phase as it enters it, from the thread that runs it (not a worker):
 * build first, steady when the measured state begins, teardown before it drops its heap. */
static inline void mmb_workload_phase(const mmb_workload_env *env, mmb_run_phase phase) {
    if (env->on_run_phase)
        env->on_run_phase(env->run_phase_ctx, phase);
}

typedef struct mmb_workload_result {
    uint64_t work_units; /* what throughput counts: objects allocated, requests served, ... */
    const char *unit;    /* "objects", "requests", ... */
    uint64_t checksum;   /* what the self-check computed; identical for a seed on every manager */
    /* Measurements only this workload can take (e.g. bytes per object at its peak), reported by
     * the harness as counters under these names (snake_case, with a unit suffix). */
    struct {
        const char *name;
        double value;
    } metrics[4];
    int nmetrics;
} mmb_workload_result;

/* The families, in the order tables show them (NULL-terminated). A new family is a name here. */
extern const char *const mmb_families[];
/* The name of a threaded workload's worker-count parameter. */
#define MMB_PARAM_THREADS "threads"

typedef struct mmb_workload {
    const char *name;
    /* One of mmb_families: "many-small", "cycle-heavy", "pause-sensitive" or "threaded". A
     * threaded workload has an integer parameter MMB_PARAM_THREADS (its worker count) and runs on
     * a manager without MMB_CAP_THREAD_SAFE only with threads=1. */
    const char *family;
    const char *summary;
    const mmb_param_spec *params; /* ended by an entry with name NULL; may be NULL */
    /* Runs the workload once on env->heap. Before returning it drops every reference it took
     * (garbage may remain for the harness's final collection). Returns 0, or -1 with a one-line
     * reason in err when its self-check fails: the graph it reads back differs from what it
     * built, i.e. the manager corrupted it. */
    int (*run)(const mmb_workload_env *env, mmb_workload_result *out, char *err, size_t err_bytes);
} mmb_workload;

/* The registry, in workloads/list.h order. */
size_t mmb_workload_count(void);
const mmb_workload *mmb_workload_at(size_t index);
const mmb_workload *mmb_workload_find(const char *name);
void mmb_workload_names(char *buf, size_t bytes);

/* Fills env->params with the scale's defaults, then applies `key=value` overrides. Returns 0, or
 * -1 with a one-line reason naming the key and what is valid. */
int mmb_params_parse(const mmb_workload *w, mmb_scale scale, const char *const *kv, size_t count,
                     mmb_workload_env *env, char *err, size_t err_bytes);

/* A parameter's value by name (for workloads: their own table order is faster). */
double mmb_param(const mmb_workload *w, const mmb_workload_env *env, const char *name);

/* ---- threads ---- */

/* A worker's body, run on its own thread, attached to env->heap. Adds what it did to *work_units.
 * Returns 0, or -1 with a one-line reason in err (its self-check failed). Before returning it
 * drops every reference it holds. */
typedef int (*mmb_worker_fn)(const mmb_workload_env *env, unsigned index, void *arg,
                             uint64_t *work_units, char *err, size_t err_bytes);

/* Runs `n` workers (index 0 .. n-1, all given `arg`) at once on their own threads: each calls
 * env->on_thread_start, waits until all have started, attaches to the heap, runs `fn`, detaches
 * and calls env->on_thread_end. The calling thread is detached while they run (it must be
 * attached on entry, as the thread that runs a workload is) and attached again on return.
 * Returns 0 and the sum of the workers' units in *work_units, or -1 with the first failing
 * worker's reason (or why a thread could not start). */
int mmb_run_threads(const mmb_workload_env *env, unsigned n, mmb_worker_fn fn, void *arg,
                    uint64_t *work_units, char *err, size_t err_bytes);

/* A small, fast, portable PRNG for workloads (splitmix64): the same stream on every machine. */
typedef struct mmb_rng {
    uint64_t state;
} mmb_rng;

static inline uint64_t mmb_rng_next(mmb_rng *r) {
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
/* Uniform in [0, n), n > 0. */
static inline uint32_t mmb_rng_below(mmb_rng *r, uint32_t n) {
    return (uint32_t)(((mmb_rng_next(r) >> 32) * n) >> 32);
}
/* Uniform in [0, 1). */
static inline double mmb_rng_unit(mmb_rng *r) {
    return (double)(mmb_rng_next(r) >> 11) * 0x1.0p-53;
}

#ifdef __cplusplus
}
#endif

#endif
