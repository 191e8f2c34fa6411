/* Running a trace on managers, as replay and stress do: a fresh heap per manager (under the
 * oracle when verifying), the trace, a final full collection, then one JSON line or table row
 * each. Pauses are recorded by the recorder and reported as run reports them (measure/pauses.h). */
#ifndef MMB_VERIFY_RUN_H
#define MMB_VERIFY_RUN_H

#include <jansson.h>
#include <stdbool.h>

#include "mmbench/manager.h"
#include "oracle.h"
#include "pauses.h"
#include "recorder.h"
#include "trace.h"

typedef struct mmb_trace_result {
    mmb_stats stats; /* after the final collection */
    mmb_pause_stats pauses;
    double run_seconds; /* the trace and the final collection */
    bool failed;
    char failure[1024];        /* the oracle's violation, or what failed, when failed */
    mmb_oracle_summary oracle; /* when verifying: taken after the final collection */
} mmb_trace_result;

/* Replays t on a fresh heap of m, recording its events in rec, then runs a final full
 * collection. Returns EXIT_OK, or EXIT_FAILED with r->failure set. `where` names the trace in
 * messages. */
int mmb_verify_run_trace(const mmb_manager *m, mmb_heap_config cfg, const mmb_trace *t, bool verify,
                         const char *where, mmb_recorder *rec, mmb_trace_result *r);

/* One result line: the manager, the counters, the oracle's verdict, the time, the pauses (as
 * run's "pauses" and "mmu"), the build. */
json_t *mmb_verify_result_json(const mmb_manager *m, const mmb_trace *t, const mmb_recorder *rec,
                               const mmb_trace_result *r, bool verify);

/* Runs t on each of the count managers; prints a JSON line (with "trace": where) or a table
 * row for each, in order. One manager runs in this process; each of several runs in a forked
 * child of its own (the external managers hold process-wide state: Boehm's incremental mode
 * cannot be turned off, CPython and PHP have one interpreter a process), its output passed
 * through as it comes. Returns the worst status: EXIT_OK, EXIT_FAILED when any failed (a child
 * that died of a signal is named in one line, "mmbench: error: CMD: manager NAME: its process
 * died of signal N (WHAT)"), EXIT_USAGE when a child returned it. */
int mmb_verify_run_all(const char *cmd, const mmb_manager **list, size_t count,
                       mmb_heap_config *configs, const mmb_trace *t, bool verify, bool table,
                       const char *where);

#endif
