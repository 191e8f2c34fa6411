/* Pause statistics: what one run's recorder becomes. Every pause the mutator saw (collections and
 * the cascades at or above the threshold) in one histogram, collections alone in another, the
 * kind of the longest, and minimum mutator utilisation over a fixed set of windows. run emits
 * these for every repetition and replay reports the same, so their percentiles agree. */
#ifndef MMB_PAUSES_H
#define MMB_PAUSES_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "hist.h"
#include "recorder.h"

/* The MMU windows, in ms: every result carries MMU (and bounded MMU) for each. */
#define MMB_MMU_WINDOWS 10
extern const double mmb_mmu_windows_ms[MMB_MMU_WINDOWS];

/* One run phase's window (recorder.h): its start and length relative to the run's start, and
 * MMU at 10 ms over the window alone (the pause log sliced to it, pauses clipped at its edges).
 * Its pauses are the recorder's phase_pauses histogram. */
typedef struct mmb_phase_stats {
    bool entered;
    uint64_t start_ns, duration_ns;
    double mmu_10ms;
} mmb_phase_stats;

typedef struct mmb_pause_stats {
    mmb_hist collections; /* full and young collections and increments */
    mmb_hist all;         /* collections and reported cascades: every pause the mutator saw */
    int longest_kind;     /* the mmb_event_kind of the longest pause; -1 when there was none */
    double mmu[MMB_MMU_WINDOWS];
    double bounded_mmu[MMB_MMU_WINDOWS]; /* the least MMU of any window at least this long */
    double mmu_10ms;                     /* mmu[] at the 10 ms window */
    /* The full collections' total pause over their total survivors (each one's objects_visited
     * - objects_freed, manager.h), in ns per live object: what marking a live object costs.
     * NAN when no full collection had a survivor (absent from results, not 0). */
    double full_ns_per_live_object;
    bool any_phase; /* the workload marked a phase: "phases" is in the JSON */
    mmb_phase_stats phases[MMB_RECORDER_PHASES];
} mmb_pause_stats;

/* "build", "steady", "teardown" (workload.h's mmb_run_phase_name, which a test compares);
 * "unknown" out of range. */
const char *mmb_pause_phase_name(int phase);

/* Fills s from r's histograms and pause log over a run of run_ns (r's log is sorted and merged
 * in place, mmb_pauses_normalize). */
void mmb_pause_stats_compute(mmb_recorder *r, uint64_t run_ns, mmb_pause_stats *s);

/* {"count", "mean_ns", "p50_ns", "p90_ns", "p99_ns", "p99_9_ns", "total_ns", "max_ns", "min_ns"}
 * of h, with "buckets" ([low bound ns, count] for each non-empty bucket) when asked. */
json_t *mmb_hist_json(const mmb_hist *h, bool with_buckets);

/* The "pauses" object of a result: each kind (with buckets), "collections", "all",
 * "longest_kind" (null when none), "full_survivors", when it is known,
 * "full_ns_per_live_object", and when the workload marked phases, "phases": for each phase it
 * entered, mmb_hist_json of its pauses plus "start_ns", "duration_ns" and "mmu_10ms". */
json_t *mmb_pause_stats_json(const mmb_recorder *r, const mmb_pause_stats *s);

/* The "mmu" array: {"window_ms", "utilization", "bounded"} per window. */
json_t *mmb_mmu_json(const mmb_pause_stats *s);

#endif
