/* Event counters per thread, attributed to the manager's phases (mutator, refcount cascades,
 * collector): hardware events through PAPI or perf_event_open, software events through
 * perf_event_open, getrusage and the thread CPU clock. The design is at the top of counters.c;
 * what works where in ../shared/PLATFORM.md, "PAPI". */
#ifndef MMB_COUNTERS_H
#define MMB_COUNTERS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mmbench/manager.h"

enum {
    MMB_COUNTERS_MAX = 16, /* events in one plan, fallbacks included */
};

/* Who counts an event. The probe tries them in this order and keeps the first that works. */
typedef enum mmb_counter_backend {
    MMB_BACKEND_UNAVAILABLE = 0,
    MMB_BACKEND_PAPI,   /* a PAPI preset or native event, user mode */
    MMB_BACKEND_PERF,   /* perf_event_open on the calling thread, exclude_kernel=1 */
    MMB_BACKEND_RUSAGE, /* getrusage(RUSAGE_THREAD) */
    MMB_BACKEND_CLOCK,  /* clock_gettime(CLOCK_THREAD_CPUTIME_ID) */
} mmb_counter_backend;

/* Bits of mmb_counters_plan.backends: the backends the probe may use. Parsing sets them all;
 * clearing some shows what a machine without them would count. */
enum {
    MMB_COUNTERS_USE_PAPI = 1u << MMB_BACKEND_PAPI,
    MMB_COUNTERS_USE_PERF = 1u << MMB_BACKEND_PERF,
    MMB_COUNTERS_USE_RUSAGE = 1u << MMB_BACKEND_RUSAGE,
    MMB_COUNTERS_USE_CLOCK = 1u << MMB_BACKEND_CLOCK,
    MMB_COUNTERS_USE_ALL = MMB_COUNTERS_USE_PAPI | MMB_COUNTERS_USE_PERF | MMB_COUNTERS_USE_RUSAGE |
                           MMB_COUNTERS_USE_CLOCK,
};

typedef struct mmb_counter_event {
    char name[64]; /* as typed: "cycles", "PAPI_L2_DCM", "perf::CYCLES", "task-clock" */
    bool hardware; /* counted by the PMU: a hardware name, a PAPI preset or a native event */
    bool fallback; /* not asked for: added because asked-for hardware events are unavailable */
    mmb_counter_backend backend; /* the rest is set by the probe */
    char source[96];             /* what exactly counts it, e.g. "PAPI_L3_TCM" */
    char why[256];               /* when unavailable: why, one line, naming what was tried */
    char cause[256];             /* the same without event names: events group by it */
    /* How the backend counts it (the probe's findings, for mmb_counters_thread_open). */
    int known; /* index into counters.c's table of named events, or -1 for a PAPI name */
    int papi_code;
} mmb_counter_event;

typedef struct mmb_counters_plan {
    int count; /* events, in the order asked for, then the fallbacks */
    mmb_counter_event events[MMB_COUNTERS_MAX];
    unsigned backends; /* MMB_COUNTERS_USE_* */
    bool probed;
    bool available;   /* after the probe: every event asked for is counted */
    char reason[768]; /* after the probe, when not available: why, and what is counted instead */
} mmb_counters_plan;

/* Parses a comma-separated LIST into *plan: "default" (cycles, instructions, l1d-misses,
 * llc-misses, dtlb-misses), those names, the software events task-clock (ns), page-faults,
 * minor-faults, major-faults, cpu-migrations, context-switches, PAPI presets (PAPI_TOT_CYC) and
 * native events in PAPI's PMU::EVENT form. Duplicates count once. Returns 0, or -1 with one line
 * in err naming the bad item, with a hint listing the valid names. Resolving a preset's name
 * initialises PAPI; nothing is probed. */
int mmb_counters_parse(const char *list, mmb_counters_plan *plan, char *err, size_t n);

/* Decides, for each event, the backend that counts it on this machine (trying each once, on the
 * calling thread), appends task-clock, page-faults and context-switches when any hardware event
 * asked for is unavailable, and fills available and reason. Call it once, before threads or
 * forked children open counters: a plan is plain data, and children inherit PAPI's state. */
void mmb_counters_probe(mmb_counters_plan *plan);

/* What the probe asks of a machine, one question a function. mmb_counters_probe asks this one
 * (PAPI, perf_event_open, getrusage, the thread clock); tests answer for other machines (no PMU,
 * a disabled PAPI component, a missing event, perf_event_paranoid) and check what the probe
 * concludes from each. A phrase written into why is one line and does not name the event. */
typedef struct mmb_counters_machine {
    void *ctx;
    /* PAPI is initialised and the probe's event set exists: 0, or -1 with why. */
    int (*papi_open)(void *ctx, char *why, size_t n);
    /* Adds NAME (a preset or a native event) to the event set, which stays startable: 0 with
     * *code, or -1 with why (PAPI's error: "Event does not exist", "component perf_event is
     * disabled: ..."); *unknown when PAPI does not know the name at all. */
    int (*papi_add)(void *ctx, const char *name, int *code, bool *unknown, char *why, size_t n);
    /* Counts the COUNT added events over a busy loop: 0 with each one's change in delta[], in the
     * order added, or -1 with why. The set may stay started until close. */
    int (*papi_spin)(void *ctx, int count, long long *delta, char *why, size_t n);
    /* Opens a hardware event in the probe's perf_event group (the first one opened leads): 0, or
     * an errno value. */
    int (*perf_hw_open)(void *ctx, uint32_t type, uint64_t config);
    /* Reads the COUNT opened events over a busy loop: 0 with each one's change in delta[], or -1
     * when the PMU could not hold the group. */
    int (*perf_hw_spin)(void *ctx, int count, uint64_t *delta);
    /* Opens a software event alone: 0, or an errno value; with must_move, -1 when it did not
     * move over a busy loop. */
    int (*perf_sw)(void *ctx, uint32_t type, uint64_t config, bool must_move);
    /* /proc/sys/kernel/perf_event_paranoid, or INT32_MIN when it cannot be read. */
    int (*perf_paranoid)(void *ctx);
    /* getrusage(RUSAGE_THREAD): 0, or an errno value. */
    int (*rusage)(void *ctx);
    /* CLOCK_THREAD_CPUTIME_ID: 0 when it reads, else -1. */
    int (*thread_clock)(void *ctx);
    /* Releases what the questions opened (the event set, the group); called once, after the
     * hardware questions. */
    void (*close)(void *ctx);
} mmb_counters_machine;

/* mmb_counters_probe, asking M instead of this machine. */
void mmb_counters_probe_machine(mmb_counters_plan *plan, const mmb_counters_machine *m);

/* After the probe: whether every event asked for is counted, and if not, why (else ""). */
bool mmb_counters_available(const mmb_counters_plan *plan);
const char *mmb_counters_reason(const mmb_counters_plan *plan);
/* "papi", "perf_event", "getrusage", "clock" or "unavailable". */
const char *mmb_counters_backend_name(mmb_counter_backend backend);

/* When the plan is not available, prints "mmbench: note: counters: REASON" to OUT, the first
 * time it is called in this process only. Returns whether it printed. */
bool mmb_counters_note(const mmb_counters_plan *plan, FILE *out);

/* ---- counting on one thread --------------------------------------------------------------- */

typedef struct mmb_counters_thread mmb_counters_thread;

/* What one thread counted since it opened its counters, by phase. Values are in plan order; an
 * unavailable event's are 0 and mean nothing (the JSON leaves it out). */
typedef struct mmb_counter_totals {
    int count;                                         /* the plan's events */
    uint64_t phase[MMB_PHASE_COUNT][MMB_COUNTERS_MAX]; /* indexed by mmb_phase */
    uint64_t whole[MMB_COUNTERS_MAX]; /* last read minus the read at open: the phases' sum */
    uint64_t reads;                   /* reads of the counters, the one at open included */
    uint64_t read_errors;             /* failed reads: their interval went to the next phase read */
    uint64_t bad_calls; /* phase calls ignored: an end without a begin, an unknown phase */
} mmb_counter_totals;

/* Opens the plan's counters for the calling thread and takes the first reading. PLAN must be
 * probed and outlive the returned handle, which only the calling thread may use. Returns NULL with
 * one line in why when a backend that worked in the probe fails here (file descriptors
 * exhausted, say). */
mmb_counters_thread *mmb_counters_thread_open(const mmb_counters_plan *plan, char *why, size_t n);

/* Reads every counter now into values[plan->count], in plan order: one PAPI_read, one read() per
 * perf_event group (hardware, software), one getrusage and one clock_gettime, for those used.
 * Returns 0, or -1 when a backend failed (values then are partly stale). */
int mmb_counters_thread_read(mmb_counters_thread *t, uint64_t *values);

/* The phase hook. Only the outermost begin and end read the counters (a cascade set off inside a
 * collection counts as the collector's): a begin gives the interval since the last read to the
 * mutator, an end gives it to the phase that began. Time outside every phase is the mutator's. */
void mmb_counters_phase(mmb_counters_thread *t, mmb_phase phase, int begin);
/* The same as an mmb_phase_fn: heap config .on_phase = mmb_counters_phase_hook, .phase_ctx = t. */
void mmb_counters_phase_hook(void *thread, mmb_phase phase, int begin);

/* Reads the counters once more, giving the open interval to the current phase (the mutator's
 * outside every phase), and copies the totals to *out. */
void mmb_counters_thread_totals(mmb_counters_thread *t, mmb_counter_totals *out);
/* Closes the calling thread's counters and frees T (NULL is fine). */
void mmb_counters_thread_close(mmb_counters_thread *t);

/* Adds PART to SUM, event by event (threads of one run; SUM zeroed first, same plan). */
void mmb_counters_totals_add(mmb_counter_totals *sum, const mmb_counter_totals *part);

/* ---- results ------------------------------------------------------------------------------- */

/* The results context: {"available", "reason" (when not available), "events": [names],
 * "backend": {name: backend name}, "source": {name: what counts it}, "unavailable": {name: why},
 * "fallback": [names added by the probe]}; NULL when out of memory. */
json_t *mmb_counters_context_json(const mmb_counters_plan *plan);
/* A cell's counts: {"mutator": {name: count}, "cascade": {...}, "collector": {...}}, available
 * events only, never a zero for one that was not counted; "read_errors" when there were any. */
json_t *mmb_counters_values_json(const mmb_counters_plan *plan, const mmb_counter_totals *totals);

#endif
