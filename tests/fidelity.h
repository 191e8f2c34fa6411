/* Recording a manager's run and comparing two recordings, for the fidelity tests (a bundled model
 * against the real runtime it models: fidelity_cpython.c, fidelity_php.c); and counting the
 * objects an own-memory manager reports through on_free (those and boehm.c). */
#ifndef MMB_TEST_FIDELITY_H
#define MMB_TEST_FIDELITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmbench/manager.h"
#include "trace.h"
#include "workload.h"

/* The external manager NAME, or a skip (exit 77) saying it is not built and needs PACKAGES. */
const mmb_manager *fid_need(const char *name, const char *packages);

/* ---- frees ---------------------------------------------------------------------------------- */

/* config->on_free = fid_count_free, config->free_ctx = a fid_frees: counts the reports, and
 * checks each one as the fields ask (0 / NULL / false: not checked). */
typedef struct fid_frees {
    uint64_t count;
    mmb_obj *forbidden; /* an object that must never be reported (it is live) ... */
    int forbidden_hit;  /* ... set when it was */
    bool mark;          /* overwrite the payload size with a mark: a second report fails */
    uint32_t max_slots; /* a reported object's slot count is at most this (it is readable) */
} fid_frees;

void fid_count_free(void *ctx, mmb_obj *o);

/* ---- one run, recorded ---------------------------------------------------------------------- */

/* What is recorded of a run and compared between two (one per fidelity file). */
typedef struct fid_counter {
    const char *name;
    size_t offset; /* of a uint64_t in mmb_stats */
} fid_counter;
#define FID_COUNTER(field)                                                                         \
    { #field, offsetof(mmb_stats, field) }

typedef struct fid_spec {
    unsigned kinds;   /* the events recorded: bit 1u << kind for each mmb_event_kind */
    bool close;       /* a collection after the program, not recorded: live_after */
    bool generations; /* compare each event's generation, and the collections per generation */
    bool visited;     /* compare each event's objects visited */
    const fid_counter *counters; /* the counters compared, after the program */
    size_t ncounters;
} fid_spec;

typedef struct fid_event {
    mmb_event_kind kind;
    int generation;
    uint64_t freed, visited;
} fid_event;

typedef struct fid_run {
    const fid_spec *spec;
    fid_event *events; /* the events of spec->kinds, in order */
    size_t count, cap;
    uint64_t by_generation[3]; /* collections (not cascades) of generations 0, 1, 2 */
    mmb_stats stats;           /* after the program (before spec->close's collection) */
    uint64_t live_after;       /* live objects after spec->close's collection */
    fid_frees frees;           /* the objects reported through on_free, destroy's included */
    bool closing;              /* in spec->close's collection: events not recorded */
} fid_run;

typedef void (*fid_program)(mmb_heap *h, const void *arg);

/* A heap of m with options kv[0..nkv), its events recorded into *r by spec and its frees
 * counted in r->frees; *r is reset first. A bad option or a failed create fails the test. */
mmb_heap *fid_open(const mmb_manager *m, const fid_spec *spec, const char *const *kv, size_t nkv,
                   fid_run *r);

/* fid_open, then program(h, arg), the counters, spec->close's collection, and destroy. */
void fid_record(const mmb_manager *m, const fid_spec *spec, const char *const *kv, size_t nkv,
                fid_program program, const void *arg, fid_run *r);

void fid_run_free(fid_run *r);

/* Whether two runs of one spec differ: 0 when they agree exactly, else 1, and why lists the first
 * few differences (collections per generation, then events, the event count, the counters,
 * live_after) and how many more there are, cut to fit why_bytes (at least 1). */
int fid_compare(const fid_run *a, const fid_run *b, char *why, size_t why_bytes);

/* ---- mutators that both sides of a comparison run ------------------------------------------ */

/* n two-object cycles (one slot and payload_bytes each), each made and dropped. */
void fid_cycles(mmb_heap *h, uint64_t n, uint32_t payload_bytes);

/* The trace's operations on h, every one of them (harness/verify/trace.h). */
void fid_replay(mmb_heap *h, const mmb_trace *t);

/* A registered workload at a scale and seed, its default parameters but one worker where it has
 * workers (MMB_PARAM_THREADS): fid_run_workload(h, &(fid_workload){...}) is a fid_program. */
typedef struct fid_workload {
    const mmb_workload *w;
    mmb_scale scale;
    uint64_t seed;
} fid_workload;
void fid_run_workload(mmb_heap *h, const void *workload);

#endif
