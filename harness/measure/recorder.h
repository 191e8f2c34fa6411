/* The recorder: what a cell measures while a workload runs. Every event the manager reports
 * (collections, increments, cascades) goes into a histogram by kind, into a histogram of the run
 * phase its start falls in (when the workload marks phases) and into a pause log for MMU; every
 * request a pause-sensitive workload reports goes into two latency histograms, from its scheduled
 * start (coordinated omission corrected, as wrk2) and from its actual start. */
#ifndef MMB_RECORDER_H
#define MMB_RECORDER_H

#include <stdbool.h>

#include "hist.h"
#include "mmbench/manager.h"
#include "mmu.h"

/* The run phases a workload marks: workload.h's mmb_run_phase values (0 build, 1 steady,
 * 2 teardown). measure does not see workload.h; cell.c asserts that the two counts agree. */
#define MMB_RECORDER_PHASES 3

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
    /* Phases: each is one window, from its mark to the next phase's mark (or the run's end).
     * Phases are entered in order; a mark of a phase at or before the current one is ignored. */
    int phase;                                    /* the phase entered last; -1: none yet */
    bool phase_entered[MMB_RECORDER_PHASES];      /* marked in this run */
    uint64_t phase_start_ns[MMB_RECORDER_PHASES]; /* relative to t0, where entered */
    mmb_hist phase_pauses[MMB_RECORDER_PHASES];   /* every event, by the phase of its start */
} mmb_recorder;

/* Allocates a recorder (the histograms are large). NULL when out of memory. */
mmb_recorder *mmb_recorder_new(void);
void mmb_recorder_free(mmb_recorder *r);
/* Clears everything and starts recording with t0 = now. */
void mmb_recorder_start(mmb_recorder *r, uint64_t now_ns);

/* The workload entered `phase` (an mmb_run_phase) at now_ns; out of range or out of order:
 * ignored. */
void mmb_recorder_phase(mmb_recorder *r, int phase, uint64_t now_ns);
/* The phase an event starting at start_ns (relative to t0) falls in; -1 when none (before the
 * first mark, or no phase marked). */
int mmb_recorder_phase_at(const mmb_recorder *r, uint64_t start_ns);

/* mmb_event_fn: record one event (ctx is the recorder). */
void mmb_recorder_on_event(void *ctx, const mmb_event *ev);
/* The workload's request callback (ctx is the recorder). */
void mmb_recorder_on_request(void *ctx, uint64_t scheduled_ns, uint64_t start_ns, uint64_t end_ns);

#endif
