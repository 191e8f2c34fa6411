/* The recorder: what a cell measures while a workload runs. Every event the manager reports
 * (collections, cascades) goes into a histogram by kind and into a pause log for MMU; every
 * request a pause-sensitive workload reports goes into two latency histograms, from its scheduled
 * start (coordinated omission corrected, as wrk2) and from its actual start. */
#ifndef MMB_RECORDER_H
#define MMB_RECORDER_H

#include <stdbool.h>

#include "hist.h"
#include "mmbench/manager.h"
#include "mmu.h"

typedef struct mmb_recorder {
    bool recording;
    uint64_t t0_ns;                        /* the run's start; pause log times are relative to it */
    mmb_hist pauses[MMB_EVENT_KIND_COUNT]; /* by mmb_event_kind */
    mmb_hist latency_corrected, latency_uncorrected;
    mmb_pause *log;
    size_t nlog, cap;
    uint64_t max_freed_by_collection; /* objects: the largest garbage set one collection freed */
    uint64_t full_survivors; /* objects: the survivors of every full collection (visited - freed) */
    uint64_t events_dropped; /* events while the log could not grow (never silent) */
} mmb_recorder;

/* Allocates a recorder (the histograms are large). NULL when out of memory. */
mmb_recorder *mmb_recorder_new(void);
void mmb_recorder_free(mmb_recorder *r);
/* Clears everything and starts recording with t0 = now. */
void mmb_recorder_start(mmb_recorder *r, uint64_t now_ns);

/* mmb_event_fn: record one event (ctx is the recorder). */
void mmb_recorder_on_event(void *ctx, const mmb_event *ev);
/* The workload's request callback (ctx is the recorder). */
void mmb_recorder_on_request(void *ctx, uint64_t scheduled_ns, uint64_t start_ns, uint64_t end_ns);

#endif
