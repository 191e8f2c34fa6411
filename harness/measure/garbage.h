/* The exact garbage sampler (`run --sample-garbage OPS`): a wrapper around any heap (a manager's,
 * or the oracle's) that forwards every operation to it, keeps the mutator's references per object,
 * and every OPS operations counts the objects reachable from those references over slots. Garbage
 * is what the manager's stats count live minus what is reachable, in objects and in bytes (with
 * the manager's header_bytes per object): exact, where memory lag is a lower bound. The samples'
 * own time is measured, so the run can leave it out. Design notes: garbage.c. */
#ifndef MMB_GARBAGE_H
#define MMB_GARBAGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmbench/manager.h"

/* The most points a series keeps: more samples are decimated evenly (every 2nd, 4th, ...). */
#define MMB_GARBAGE_SERIES_MAX 1000

/* One sample. */
typedef struct mmb_garbage_sample {
    uint64_t t_ns; /* when it began, since mmb_garbage_start, earlier samples' time excluded */
    uint64_t ops;  /* the operations counted before it */
    uint64_t duration_ns;                        /* how long it took */
    uint64_t live_objects, live_bytes;           /* the manager's stats */
    uint64_t reachable_objects, reachable_bytes; /* from the mutator's references */
    uint64_t garbage_objects, garbage_bytes;     /* live - reachable; 0 where reachable > live */
    bool inconsistent; /* the manager counted fewer live objects or bytes than are reachable */
} mmb_garbage_sample;

/* Everything sampled so far. */
typedef struct mmb_garbage_summary {
    uint64_t interval_ops; /* as given to mmb_garbage_wrap; 0: only mmb_garbage_sample_now */
    uint64_t ops;          /* operations counted */
    uint64_t samples;
    uint64_t peak_objects, peak_bytes; /* each the largest of any sample (not one sample's pair) */
    double mean_objects, mean_bytes;   /* over the samples; 0 when there is none */
    uint64_t sampling_ns;              /* the samples' time, in all */
    uint64_t inconsistent_samples;     /* samples where the manager counted less than reachable */
} mmb_garbage_summary;

/* Wraps `inner`, a heap used by one thread at a time (handed over with a thread start or join):
 * the result is an ordinary heap (use it through manager.h) whose operations are inner's; alloc,
 * incref, decref, store, collect, collect_young and freeze count as operations, and after every
 * interval_ops-th a sample is taken (0: never by itself). Loads are not counted (a manager without
 * a read barrier never sees them), so samples fall at the same points of a workload on every
 * manager. Slots are read directly, as the contract allows where the manager has no read barrier.
 * Returns 0, or -1 with a reason in err (out of memory). destroy destroys inner too. */
int mmb_garbage_wrap(mmb_heap *inner, uint64_t interval_ops, mmb_heap **out, char *err,
                     size_t err_bytes);

/* The run starts now (now_ns, CLOCK_MONOTONIC): sample times count from here. Until it is
 * called they count from the wrap. */
void mmb_garbage_start(mmb_heap *h, uint64_t now_ns);

/* Takes a sample now, recorded like the others; fills *out when out is not NULL. */
void mmb_garbage_sample_now(mmb_heap *h, mmb_garbage_sample *out);

void mmb_garbage_summary_get(mmb_heap *h, mmb_garbage_summary *out);

/* The latest sample, when there has been one. */
bool mmb_garbage_last_sample(mmb_heap *h, mmb_garbage_sample *out);

/* The samples kept for the series (at most MMB_GARBAGE_SERIES_MAX, evenly spaced, in order);
 * valid until the next sample or the unwrap. */
const mmb_garbage_sample *mmb_garbage_series(mmb_heap *h, size_t *count);

/* The "garbage" object of a result: {"available": true, "interval_ops", "samples",
 * "peak_objects", "peak_bytes", "mean_objects", "mean_bytes", "sampling_ns", "operations",
 * "series": [[t_ms, live_objects, live_bytes, garbage_objects, garbage_bytes], ...]}, with
 * "inconsistent_samples" when there were some. */
json_t *mmb_garbage_json(mmb_heap *h);
/* {"available": false, "reason": reason}. */
json_t *mmb_garbage_unavailable_json(const char *reason);

/* Frees the wrapper, not the heap it wraps, and returns that heap. */
mmb_heap *mmb_garbage_unwrap(mmb_heap *h);

#endif
