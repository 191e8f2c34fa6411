/* One cell of `mmbench run`, in its own (child) process (run_internal.h): Google Benchmark calls
 * cell_iteration once per repetition; each runs the workload on a fresh heap, with pauses,
 * latencies, counters and thread placement recorded, and sets the repetition's metrics. The
 * cell's options and parameters are parsed once, before the first repetition. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <valgrind/callgrind.h>

#include "alloc_count.h"
#include "alloc_registry.h"
#include "build_info.h"
#include "diag.h"
#include "garbage.h"
#include "heap_stats.h"
#include "mmbench/clock.h"
#include "oracle.h"
#include "outfile.h"
#include "pauses.h"
#include "recorder.h"
#include "run_internal.h"

/* What one worker thread did in one repetition. */
typedef struct thread_result {
    uint64_t work_units;
    uint64_t elapsed_ns; /* from the workers' common start to this one's end */
    int cpu;             /* where it ended (sched_getcpu), -1 unknown */
    bool ran;
    char bind_error[160]; /* why binding failed; empty when bound or not asked */
    bool counted;         /* counters holds what this thread counted */
    mmb_counter_totals counters;
} thread_result;

typedef struct cell_state {
    const mmb_run_cell *c;
    const mmb_run_flags *f;
    mmb_heap_config cfg;  /* the cell's options, parsed once; hooks set per repetition */
    mmb_workload_env env; /* the cell's parameters, parsed once */
    mmb_recorder *rec;
    json_t *details; /* one object per repetition */
    int repetition;
    hwloc_topology_t topo;        /* this system's, when the cell has a placement */
    int pus[MMB_RUN_MAX_THREADS]; /* the placement's plan: thread i's PU */
    thread_result threads[MMB_RUN_MAX_THREADS];
    bool garbage_noted;        /* --sample-garbage's note or warning was printed (once per cell) */
    mmb_alloc_counter counter; /* the repetition's allocations (alloc_count.h) */
} cell_state;

/* What one repetition measured, from the end of the workload's run. */
typedef struct repetition {
    mmb_workload_result result;
    mmb_stats at_end; /* when the workload returned */
    mmb_stats after;  /* after the final, untimed collection */
    uint64_t run_ns;
    uint64_t rss;         /* peak resident bytes */
    uint64_t lag;         /* memory lag, objects */
    thread_result caller; /* a threaded workload's calling thread: counted, not bound */
    mmb_pause_stats ps;
    /* --sample-garbage: whether the heap was wrapped in the sampler, its summary, the samples'
     * time in all (run_ns leaves it out), and the "garbage" object (NULL when not asked for). */
    bool sampled;
    mmb_garbage_summary garbage_sum;
    uint64_t sampling_ns;
    json_t *garbage;
    mmb_alloc_counter count;     /* the allocator's calls and bytes asked for */
    mmb_alloc_stats alloc_stats; /* what the allocator holds at the workload's end */
    uint64_t rss_before_destroy; /* resident bytes after the final collection */
    uint64_t rss_after_close;    /* ... after the heap is destroyed and the allocator closed */
} repetition;

/* The cell's allocator (libc for a cell made without one). */
static const mmb_alloc_impl *cell_alloc(const mmb_run_cell *c) {
    return c->alloc ? c->alloc : mmb_alloc_default();
}

/* The calling thread's counters (--counters), for the managers' phase hook. */
static _Thread_local mmb_counters_thread *thread_counters;

static void phase_hook(void *ctx, mmb_phase phase, int begin) {
    (void)ctx;
    if (thread_counters)
        mmb_counters_phase(thread_counters, phase, begin);
}

/* env->on_run_phase: the recorder notes when the workload entered each phase. */
_Static_assert(MMB_RUN_PHASE_COUNT == MMB_RECORDER_PHASES, "recorder.h's phases are workload.h's");
static void run_phase_hook(void *ctx, mmb_run_phase phase) {
    mmb_recorder_phase(ctx, (int)phase, mmb_now_ns());
}

/* Opens the calling thread's counters; a failure is said once per cell and leaves the thread
 * uncounted (the JSON then says how many threads were counted). */
static void open_thread_counters(const cell_state *st) {
    thread_counters = NULL;
    if (!st->f->counters)
        return;
    char why[256];
    thread_counters = mmb_counters_thread_open(st->f->counters, why, sizeof why);
    if (!thread_counters)
        fprintf(stderr, "mmbench: warning: run: %s: counters: %s\n", st->c->name, why);
}

static void close_thread_counters(thread_result *t) {
    if (!thread_counters)
        return;
    mmb_counters_thread_totals(thread_counters, &t->counters);
    t->counted = true;
    mmb_counters_thread_close(thread_counters);
    thread_counters = NULL;
}

/* env->on_thread_start: binds worker i to its planned PU and opens its counters. */
static void thread_started(void *ctx, unsigned i) {
    cell_state *st = ctx;
    if (i >= MMB_RUN_MAX_THREADS)
        return;
    thread_result *t = &st->threads[i];
    memset(t, 0, sizeof *t);
    if (st->topo)
        mmb_bind_thread(st->topo, st->pus[i], t->bind_error, sizeof t->bind_error);
    open_thread_counters(st);
}

/* env->on_thread_end: what worker i did. Each worker writes only its own entry; the cell reads
 * them after the workers are joined. */
static void thread_ended(void *ctx, unsigned i, uint64_t units, uint64_t elapsed_ns) {
    cell_state *st = ctx;
    if (i >= MMB_RUN_MAX_THREADS)
        return;
    thread_result *t = &st->threads[i];
    t->work_units = units;
    t->elapsed_ns = elapsed_ns;
    t->cpu = sched_getcpu();
    t->ran = true;
    close_thread_counters(t);
}

/* The cell's threads as JSON, and the mean of the workers' own rates (units per second). */
static json_t *threads_json(const cell_state *st, double *per_thread_rate) {
    const mmb_run_cell *c = st->c;
    json_t *pus = json_array(), *each = json_array();
    double sum = 0;
    int n = 0;
    for (unsigned i = 0; i < c->threads && i < MMB_RUN_MAX_THREADS; i++) {
        const thread_result *t = &st->threads[i];
        if (st->topo)
            json_array_append_new(pus, json_integer(st->pus[i]));
        if (!t->ran)
            continue;
        double rate = t->elapsed_ns ? (double)t->work_units / ((double)t->elapsed_ns * 1e-9) : 0;
        sum += rate;
        n++;
        json_t *o = json_pack("{sIsIsfsi}", "work_units", (json_int_t)t->work_units, "elapsed_ns",
                              (json_int_t)t->elapsed_ns, "units_per_second", rate, "cpu", t->cpu);
        if (t->bind_error[0])
            json_object_set_new(o, "bind_error", json_string(t->bind_error));
        json_array_append_new(each, o);
    }
    *per_thread_rate = n ? sum / n : 0;
    json_t *placement = c->placement >= 0
                            ? json_string(mmb_placement_name((mmb_placement)c->placement))
                            : json_null();
    return json_pack("{sIsososbso}", "count", (json_int_t)c->threads, "placement", placement, "pus",
                     pus, "bound", st->topo != NULL, "per_thread", each);
}

/* Peak resident set since the last reset, in bytes (VmHWM), or 0 when unknown. */
static uint64_t peak_rss_bytes(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return 0;
    char line[256];
    uint64_t kib = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %" SCNu64, &kib) == 1)
            break;
    fclose(f);
    return kib * 1024;
}

/* The resident set now, in bytes, or 0 when unknown. */
static uint64_t current_rss_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long size = 0, resident = 0;
    int got = f ? fscanf(f, "%llu %llu", &size, &resident) : 0;
    if (f)
        fclose(f);
    return got == 2 ? (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE) : 0;
}

static void reset_peak_rss(void) {
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (f) {
        fputs("5", f);
        fclose(f);
    }
}

static int write_hist(FILE *out, void *h) {
    return mmb_hist_write_hgrm(h, out, 1e3);
}

static int write_hgrm(const char *dir, const char *cell_name, int what, const mmb_hist *h) {
    char *path = mmb_run_hgrm_path(dir, cell_name, mmb_run_hgrm_kind(what));
    int status = mmb_outfile_write("run", "--hgrm", path, write_hist, (void *)h);
    free(path);
    return status;
}

/* --hgrm: the repetition's histograms, each kind that had a pause and the latencies. */
static int write_hgrms(const cell_state *st, char *err, size_t n) {
    const mmb_recorder *r = st->rec;
    const char *dir = st->f->hgrm, *name = st->c->name;
    bool bad = false;
    for (int k = 0; k < MMB_EVENT_KIND_COUNT; k++)
        if (r->pauses[k].count)
            bad |= write_hgrm(dir, name, k, &r->pauses[k]) != EXIT_OK;
    if (r->latency_corrected.count) {
        bad |= write_hgrm(dir, name, MMB_RUN_HGRM_LATENCY, &r->latency_corrected) != EXIT_OK;
        bad |= write_hgrm(dir, name, MMB_RUN_HGRM_UNCORRECTED, &r->latency_uncorrected) != EXIT_OK;
    }
    if (bad) {
        snprintf(err, n, "--hgrm %s: a histogram could not be written (see above)", dir);
        return -1;
    }
    return 0;
}

/* --sample-garbage: says once per cell why a repetition has no garbage samples, and records it. */
static void garbage_unavailable(cell_state *st, repetition *rep, const char *why) {
    if (!st->garbage_noted)
        fprintf(stderr, "mmbench: note: run: %s: --sample-garbage: not sampled: %s\n", st->c->name,
                why);
    st->garbage_noted = true;
    rep->garbage = mmb_garbage_unavailable_json(why);
}

/* --sample-garbage: wraps the cell's heap (outermost, over the oracle too) in the sampler, or
 * records why it cannot be. */
static void garbage_wrap(cell_state *st, mmb_workload_env *env, repetition *rep) {
    if (!st->f->sample_garbage)
        return;
    char why[256] = "";
    mmb_heap *wrapped = NULL;
    if (st->c->threads > 1)
        snprintf(why, sizeof why,
                 "a threaded workload (threads=%u): the sampler needs the heap still between "
                 "operations, which one thread at a time gives (hint: --param threads=1)",
                 st->c->threads);
    else if (st->c->manager->load)
        snprintf(why, sizeof why,
                 "manager %s has a read barrier (load): its slots may not hold the objects the "
                 "mutator sees",
                 st->c->manager->name);
    else if (mmb_garbage_wrap(env->heap, st->f->sample_garbage, &wrapped, why, sizeof why) == 0)
        env->heap = wrapped;
    rep->sampled = wrapped != NULL;
    if (!rep->sampled)
        garbage_unavailable(st, rep, why);
}

/* The run is over: the samples' summary and JSON, and the sampler's heap unwrapped. */
static void garbage_unwrap(cell_state *st, mmb_workload_env *env, repetition *rep) {
    if (!rep->sampled)
        return;
    mmb_garbage_summary *g = &rep->garbage_sum;
    mmb_garbage_summary_get(env->heap, g);
    rep->sampling_ns = g->sampling_ns;
    if (g->samples) {
        rep->garbage = mmb_garbage_json(env->heap);
    } else {
        char why[256];
        snprintf(why, sizeof why,
                 "the run made %" PRIu64 " operations, fewer than --sample-garbage %" PRIu64
                 ": no sample (hint: a smaller OPS)",
                 g->ops, g->interval_ops);
        garbage_unavailable(st, rep, why);
    }
    if (g->inconsistent_samples && !st->garbage_noted)
        fprintf(stderr,
                "mmbench: warning: run: %s: --sample-garbage: in %" PRIu64 " of %" PRIu64
                " samples the manager's stats counted fewer live objects or bytes than are "
                "reachable (garbage taken as 0 there; \"inconsistent_samples\" in the results)\n",
                st->c->name, g->inconsistent_samples, g->samples);
    st->garbage_noted |= g->inconsistent_samples > 0;
    env->heap = mmb_garbage_unwrap(env->heap);
}

/* Runs the workload once on a fresh heap (under the oracle with --verify) and fills rep: 0, or
 * -1 with the reason in err. */
static int run_workload(cell_state *st, repetition *rep, char *err, size_t n) {
    const mmb_run_cell *c = st->c;
    mmb_heap_config cfg = st->cfg;
    mmb_workload_env env = st->env;
    /* Under callgrind, pauses are not measured (everything runs ~40x slower) and the managers
     * must not read clocks: a vDSO clock read's instruction count varies from call to call. */
    cfg.on_event = st->f->instructions ? NULL : mmb_recorder_on_event;
    cfg.event_ctx = st->rec;
    cfg.on_phase = st->f->counters ? phase_hook : NULL;
    env.seed = st->f->seed;
    env.on_request = mmb_recorder_on_request;
    env.request_ctx = st->rec;
    env.on_thread_start = thread_started;
    env.on_thread_end = thread_ended;
    env.thread_ctx = st;
    env.on_run_phase = st->f->instructions ? NULL : run_phase_hook; /* no clock under callgrind */
    env.run_phase_ctx = st->rec;
    memset(st->threads, 0, sizeof st->threads);
    /* A single-threaded workload runs on this thread: bind it as thread 0. The thread that runs
     * a threaded workload only starts and joins its workers: counted, not bound. */
    bool threaded = mmb_run_is_threaded(c->workload);
    if (!threaded)
        thread_started(st, 0);
    else
        open_thread_counters(st);
    const mmb_alloc_impl *ai = cell_alloc(c);
    mmb_allocator inner;
    if (ai->open(&inner, err, n) != 0)
        return -1;
    cfg.allocator = mmb_alloc_counter_wrap(&st->counter, inner, threaded);
    mmb_oracle_options oopt = {.fill_payload = false};
    int created = st->f->verify ? mmb_oracle_create(c->manager, &cfg, &oopt, &env.heap, err, n)
                                : mmb_heap_create(c->manager, &cfg, &env.heap, err, n);
    if (created != 0) {
        ai->close(&inner);
        return -1;
    }
    garbage_wrap(st, &env, rep);
    reset_peak_rss();
    uint64_t t0 = mmb_now_ns();
    mmb_recorder_start(st->rec, t0);
    if (rep->sampled)
        mmb_garbage_start(env.heap, t0);
    /* Under callgrind (--instructions) only the workload's run is counted; elsewhere these are
     * a few no-op instructions. */
    CALLGRIND_START_INSTRUMENTATION;
    int status = c->workload->run(&env, &rep->result, err, n);
    CALLGRIND_STOP_INSTRUMENTATION;
    uint64_t t1 = mmb_now_ns();
    st->rec->recording = false;
    garbage_unwrap(st, &env, rep);
    if (!threaded)
        thread_ended(st, 0, rep->result.work_units, t1 - t0 - rep->sampling_ns);
    else
        close_thread_counters(&rep->caller);
    rep->run_ns = t1 - t0 - rep->sampling_ns;
    ai->stats(&inner, &rep->alloc_stats);
    mmb_stats_get(env.heap, &rep->at_end);
    mmb_collect(env.heap); /* not timed: reclaims what the run left, for the counts below */
    mmb_stats_get(env.heap, &rep->after);
    rep->rss = peak_rss_bytes();
    rep->rss_before_destroy = current_rss_bytes();
    /* The oracle's finding is the root cause when both it and the self-check failed. */
    if (st->f->verify && mmb_oracle_failed(env.heap)) {
        snprintf(err, n, "verify failed: %s", mmb_oracle_failure(env.heap));
        status = -1;
    }
    if (st->f->verify) {
        char msg[600];
        if (mmb_oracle_close(env.heap, msg, sizeof msg) != 0 && status == 0) {
            snprintf(err, n, "verify failed: %s", msg);
            status = -1;
        }
    } else {
        c->manager->destroy(env.heap);
    }
    rep->count = st->counter;
    ai->close(&inner);
    rep->rss_after_close = current_rss_bytes();
    return status;
}

/* --sample-garbage's metrics, where the repetition has samples. */
static void emit_garbage_metrics(mmb_gb_sink *sink, const mmb_garbage_summary *g) {
    mmb_run_emit_metric(sink, "garbage_peak_objects", (double)g->peak_objects, 0);
    mmb_run_emit_metric(sink, "garbage_peak_bytes", (double)g->peak_bytes, 0);
    mmb_run_emit_metric(sink, "garbage_mean_objects", g->mean_objects, 0);
    mmb_run_emit_metric(sink, "garbage_mean_bytes", g->mean_bytes, 0);
}

/* The allocation metrics (not for a manager that keeps its objects in its own memory: it does
 * not use the cell's allocator). Time is estimated from the timed calls (alloc_count.h); the
 * allocator's own statistics are absent where it cannot tell. */
static void emit_alloc_metrics(mmb_gb_sink *sink, const cell_state *st, const repetition *rep) {
    if (st->c->manager->caps & MMB_CAP_OWN_MEMORY)
        return;
    const mmb_alloc_counter *k = &rep->count;
    double a_ns = mmb_alloc_counter_alloc_ns(k), f_ns = mmb_alloc_counter_free_ns(k);
    mmb_run_emit_metric(sink, "alloc_calls", (double)k->allocs, 0);
    mmb_run_emit_metric(sink, "free_calls", (double)k->frees, 0);
    if (isfinite(a_ns))
        mmb_run_emit_metric(sink, "alloc_ns_per_call", a_ns, 0);
    if (isfinite(f_ns))
        mmb_run_emit_metric(sink, "free_ns_per_call", f_ns, 0);
    double spent = (isfinite(a_ns) ? a_ns * (double)k->allocs : 0) +
                   (isfinite(f_ns) ? f_ns * (double)k->frees : 0);
    if (rep->run_ns)
        mmb_run_emit_metric(sink, "alloc_time_fraction", spent / (double)rep->run_ns, 0);
    mmb_run_emit_metric(sink, "requested_peak_live_bytes", (double)k->peak_live_bytes, 0);
    if (rep->alloc_stats.mapped_bytes != UINT64_MAX)
        mmb_run_emit_metric(sink, "allocator_mapped_bytes", (double)rep->alloc_stats.mapped_bytes,
                            0);
    if (rep->alloc_stats.active_bytes != UINT64_MAX)
        mmb_run_emit_metric(sink, "allocator_active_bytes", (double)rep->alloc_stats.active_bytes,
                            0);
    if (k->peak_live_bytes && rep->rss)
        mmb_run_emit_metric(sink, "fragmentation", (double)rep->rss / (double)k->peak_live_bytes,
                            0);
    mmb_run_emit_metric(sink, "rss_before_destroy_bytes", (double)rep->rss_before_destroy, 0);
    mmb_run_emit_metric(sink, "rss_after_close_bytes", (double)rep->rss_after_close, 0);
    mmb_run_emit_metric(sink, "memory_returned_bytes",
                        (double)rep->rss_before_destroy - (double)rep->rss_after_close, 0);
}

/* The repetition's allocation details: the counts and how the time was sampled. */
static json_t *allocation_json(const repetition *rep) {
    const mmb_alloc_counter *k = &rep->count;
    json_t *o =
        json_pack("{sIsIsIsisIsIsfsIsI}", "alloc_calls", (json_int_t)k->allocs, "free_calls",
                  (json_int_t)k->frees, "requested_peak_live_bytes", (json_int_t)k->peak_live_bytes,
                  "timed_every", MMB_ALLOC_SAMPLE, "timed_allocs", (json_int_t)k->timed_allocs,
                  "timed_frees", (json_int_t)k->timed_frees, "clock_ns", k->clock_ns,
                  "rss_before_destroy_bytes", (json_int_t)rep->rss_before_destroy,
                  "rss_after_close_bytes", (json_int_t)rep->rss_after_close);
    const mmb_alloc_stats *a = &rep->alloc_stats;
    json_object_set_new(o, "mapped_bytes",
                        a->mapped_bytes == UINT64_MAX ? json_null()
                                                      : json_integer((json_int_t)a->mapped_bytes));
    json_object_set_new(o, "active_bytes",
                        a->active_bytes == UINT64_MAX ? json_null()
                                                      : json_integer((json_int_t)a->active_bytes));
    return o;
}

/* The repetition's metrics, each through the registry (emit.c). */
static void emit_metrics(mmb_gb_sink *sink, const cell_state *st, const repetition *rep,
                         double per_thread_rate) {
    const mmb_recorder *r = st->rec;
    double units = (double)rep->result.work_units;
    mmb_run_emit_metric(sink, "work_units_per_second", units, MMB_GB_COUNTER_RATE);
    mmb_run_emit_metric(sink, "work_units", units, MMB_GB_COUNTER_PLAIN);
    for (size_t i = 0; i < mmb_stats_row_count; i++) { /* the manager's counters */
        const mmb_stats_row *row = &mmb_stats_rows[i];
        if (row->key[MMB_STATS_KEYS_COUNTER])
            mmb_run_emit_metric(sink, row->key[MMB_STATS_KEYS_COUNTER],
                                (double)mmb_stats_row_value(row, &rep->at_end, &rep->after), 0);
    }
    mmb_run_emit_metric(sink, "pause_p99_ns", mmb_hist_percentile(&rep->ps.all, 99), 0);
    mmb_run_emit_metric(sink, "pause_p99_9_ns", mmb_hist_percentile(&rep->ps.all, 99.9), 0);
    mmb_run_emit_metric(sink, "pause_max_ns", (double)(rep->ps.all.count ? rep->ps.all.max : 0), 0);
    mmb_run_emit_metric(sink, "mmu_10ms", rep->ps.mmu_10ms, 0);
    if (rep->ps.phases[MMB_RUN_STEADY].entered) { /* per phase only where the workload marked */
        const mmb_hist *steady = &r->phase_pauses[MMB_RUN_STEADY];
        mmb_run_emit_metric(sink, "steady_pause_p99_ns", mmb_hist_percentile(steady, 99), 0);
        mmb_run_emit_metric(sink, "steady_pause_max_ns", (double)(steady->count ? steady->max : 0),
                            0);
        mmb_run_emit_metric(sink, "steady_mmu_10ms", rep->ps.phases[MMB_RUN_STEADY].mmu_10ms, 0);
        const mmb_hist *teardown = &r->phase_pauses[MMB_RUN_TEARDOWN];
        if (rep->ps.phases[MMB_RUN_TEARDOWN].entered)
            mmb_run_emit_metric(sink, "teardown_pause_max_ns",
                                (double)(teardown->count ? teardown->max : 0), 0);
    }
    if (isfinite(rep->ps.full_ns_per_live_object)) /* absent, not 0, without a full survivor */
        mmb_run_emit_metric(sink, "full_ns_per_live_object", rep->ps.full_ns_per_live_object, 0);
    mmb_run_emit_metric(sink, "peak_rss_bytes", (double)rep->rss, 0);
    mmb_run_emit_metric(sink, "memory_lag_objects", (double)rep->lag, 0);
    if (rep->garbage_sum.samples)
        emit_garbage_metrics(sink, &rep->garbage_sum);
    const int room = (int)(sizeof rep->result.metrics / sizeof rep->result.metrics[0]);
    for (int k = 0; k < rep->result.nmetrics && k < room; k++)
        mmb_run_emit_metric(sink, rep->result.metrics[k].name, rep->result.metrics[k].value, 0);
    if (rep->result.work_units)
        mmb_run_emit_metric(sink, "peak_rss_bytes_per_work_unit", (double)rep->rss / units, 0);
    emit_alloc_metrics(sink, st, rep);
    mmb_run_emit_metric(sink, "threads", (double)st->c->threads, 0);
    mmb_run_emit_metric(sink, "per_thread_units_per_second", per_thread_rate, 0);
    if (r->latency_corrected.count) {
        mmb_run_emit_metric(sink, "latency_p99_ns", mmb_hist_percentile(&r->latency_corrected, 99),
                            0);
        mmb_run_emit_metric(sink, "latency_p99_uncorrected_ns",
                            mmb_hist_percentile(&r->latency_uncorrected, 99), 0);
    }
}

/* Every thread's counts summed: the workers', and for a threaded workload the caller's. */
static json_t *counters_json(const cell_state *st, const repetition *rep) {
    mmb_counter_totals sum;
    memset(&sum, 0, sizeof sum);
    int counted = 0;
    for (unsigned i = 0; i < st->c->threads && i < MMB_RUN_MAX_THREADS; i++)
        if (st->threads[i].counted) {
            mmb_counters_totals_add(&sum, &st->threads[i].counters);
            counted++;
        }
    if (rep->caller.counted) {
        mmb_counters_totals_add(&sum, &rep->caller.counters);
        counted++;
    }
    json_t *cj = mmb_counters_values_json(st->f->counters, &sum);
    json_object_set_new(cj, "threads_counted", json_integer(counted));
    return cj;
}

/* The repetition's details, which run_cell adds to its iteration entry. */
static json_t *repetition_json(cell_state *st, const repetition *rep, json_t *threads) {
    const mmb_recorder *r = st->rec;
    json_t *d = json_object();
    json_object_set_new(d, "repetition", json_integer(st->repetition++));
    json_object_set_new(d, "run_ns", json_integer((json_int_t)rep->run_ns));
    json_object_set_new(d, "work_units", json_integer((json_int_t)rep->result.work_units));
    json_object_set_new(d, "unit", json_string(rep->result.unit ? rep->result.unit : "units"));
    json_object_set_new(d, "checksum", json_sprintf("%016" PRIx64, rep->result.checksum));
    json_t *stats = json_object();
    mmb_stats_json_set(stats, MMB_STATS_KEYS_RUN, &rep->at_end, &rep->after);
    json_object_set_new(d, "deterministic", stats);
    json_object_set_new(d, "peak_rss_bytes", json_integer((json_int_t)rep->rss));
    json_object_set_new(d, "memory_lag_objects", json_integer((json_int_t)rep->lag));
    if (rep->garbage)
        json_object_set_new(d, "garbage", rep->garbage);
    json_object_set_new(d, "pauses", mmb_pause_stats_json(r, &rep->ps));
    json_object_set_new(d, "mmu", mmb_mmu_json(&rep->ps));
    json_object_set_new(d, "threads", threads);
    if (!(st->c->manager->caps & MMB_CAP_OWN_MEMORY))
        json_object_set_new(d, "allocation", allocation_json(rep));
    if (st->f->counters)
        json_object_set_new(d, "counters", counters_json(st, rep));
    if (r->latency_corrected.count) {
        json_object_set_new(d, "latency_corrected", mmb_hist_json(&r->latency_corrected, true));
        json_object_set_new(d, "latency_uncorrected", mmb_hist_json(&r->latency_uncorrected, true));
    }
    if (r->events_dropped)
        json_object_set_new(d, "events_dropped", json_integer((json_int_t)r->events_dropped));
    return d;
}

static int cell_iteration(void *arg, mmb_gb_sink *sink, double *seconds, char *err, size_t n) {
    cell_state *st = arg;
    static repetition rep;
    memset(&rep, 0, sizeof rep);
    if (run_workload(st, &rep, err, n) != 0) {
        json_decref(rep.garbage);
        return -1;
    }
    *seconds = (double)rep.run_ns * 1e-9;
    mmb_recorder *r = st->rec;
    /* The headline: every pause the mutator saw, collections and cascades at or above the
     * threshold alike, and the kind of the longest. Per kind stays in "pauses". */
    /* Pauses are on the wall clock: MMU's windows hold --sample-garbage's samples (as mutator
     * time), which the timed run leaves out. */
    mmb_pause_stats_compute(r, rep.run_ns + rep.sampling_ns, &rep.ps);
    /* The workload drops everything it held before returning, so what is live at its end is
     * garbage not yet reclaimed: with the largest set one collection freed, a lower bound on the
     * peak uncollected garbage (memory lag). */
    rep.lag = rep.at_end.live_objects > r->max_freed_by_collection ? rep.at_end.live_objects
                                                                   : r->max_freed_by_collection;
    double per_thread_rate = 0;
    json_t *threads = threads_json(st, &per_thread_rate);
    emit_metrics(sink, st, &rep, per_thread_rate);
    json_array_append_new(st->details, repetition_json(st, &rep, threads));
    return st->f->hgrm ? write_hgrms(st, err, n) : 0;
}

json_t *mmb_run_seed_json(uint64_t seed) {
    return seed <= INT64_MAX ? json_integer((json_int_t)seed) : json_sprintf("%" PRIu64, seed);
}

json_t *mmb_run_cell_json(const mmb_run_cell *c, const mmb_run_flags *f) {
    json_t *params = json_object(), *options = json_object();
    mmb_workload_env env;
    mmb_heap_config cfg;
    char err[600];
    mmb_run_cell_parse(c, &cfg, &env, err, sizeof err); /* checked in build_cells */
    for (int i = 0; c->workload->params && c->workload->params[i].name; i++)
        json_object_set_new(params, c->workload->params[i].name, json_real(env.params[i]));
    for (int i = 0; c->manager->options && c->manager->options[i].name; i++)
        json_object_set_new(options, c->manager->options[i].name, json_integer(cfg.options[i]));
    json_object_set_new(options, "cascade-threshold",
                        json_integer((json_int_t)cfg.cascade_threshold));
    json_t *placement = c->placement >= 0
                            ? json_string(mmb_placement_name((mmb_placement)c->placement))
                            : json_null();
    json_t *cell = json_pack(
        "{sssisssbsssssssosososbsssiso}", "cell", c->name, "cell_index", c->index, "manager",
        c->manager->name, "external", mmb_manager_is_external(c->manager), "workload",
        c->workload->name, "family", c->workload->family, "scale", mmb_scale_names[c->scale],
        "params", params, "options", options, "seed", mmb_run_seed_json(f->seed), "verify",
        f->verify, "git_revision", mmb_build_info_get()->git_revision, "thread_count",
        (int)c->threads, "placement", placement);
    /* An external manager's library version, as this process has it (bundled ones have none). */
    const char *version = mmb_manager_version(c->manager);
    if (mmb_manager_is_external(c->manager))
        json_object_set_new(cell, "manager_version", json_string(version ? version : "unknown"));
    /* Where the objects' memory came from: the harness's allocator (its name), or, for a manager
     * that keeps objects in its runtime's own memory (an embedded interpreter's pymalloc or
     * emalloc, a tracing collector's heap), "own": the harness allocator is not used then. */
    const mmb_alloc_impl *a = cell_alloc(c);
    bool own = c->manager->caps & MMB_CAP_OWN_MEMORY;
    json_object_set_new(cell, "allocator", json_string(own ? "own" : a->name));
    /* The version as this process has it: a preloaded library's only in its cell's process. */
    const char *aversion = a->version ? a->version() : NULL;
    static const char *const attach[] = {"builtin", "api", "preload"};
    if (!own) {
        json_object_set_new(cell, "allocator_version",
                            json_string(aversion ? aversion : "unknown"));
        json_object_set_new(cell, "allocator_attach", json_string(attach[a->attach]));
    }
    return cell;
}

/* Whether the text at `in` continues with WORD's rest (its first character read already): then
 * it is consumed. Otherwise what was read is written to mem and the text stays as it was. */
static bool take_word(FILE *in, FILE *mem, const char *word) {
    size_t m = 1;
    int next = 0;
    while (word[m] && (next = fgetc(in)) == word[m])
        m++;
    if (!word[m])
        return true;
    fwrite(word, 1, m, mem);
    if (next != EOF)
        ungetc(next, in);
    return false;
}

/* Reads Google Benchmark's JSON, which writes non-finite numbers as bare NaN and inf (a
 * coefficient of variation over identical runs, say): those become null. */
static json_t *load_gb_json(const char *path, json_error_t *jerr) {
    FILE *in = fopen(path, "r");
    if (!in) {
        snprintf(jerr->text, sizeof jerr->text, "%s", strerror(errno));
        return NULL;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    bool in_string = false, escaped = false;
    static const char *const bad[] = {"NaN", "-nan", "nan", "-inf", "inf"};
    for (int ch; (ch = fgetc(in)) != EOF;) {
        if (in_string) {
            in_string = escaped || ch != '"';
            escaped = !escaped && ch == '\\';
            fputc(ch, mem);
            continue;
        }
        if (ch == '"')
            in_string = true;
        size_t k = 0;
        while (k < sizeof bad / sizeof bad[0] && ch != bad[k][0])
            k++;
        if (k == sizeof bad / sizeof bad[0])
            fputc(ch, mem);
        else if (take_word(in, mem, bad[k]))
            fputs("null", mem);
    }
    fclose(in);
    fclose(mem);
    json_t *root = json_loads(text, 0, jerr);
    free(text);
    return root;
}

/* Each iteration entry gets its repetition's details; every entry the cell's description. Returns
 * whether an entry says it failed. */
static bool describe_entries(json_t *root, const cell_state *st) {
    json_t *benchmarks = json_object_get(root, "benchmarks");
    size_t i;
    json_t *b;
    bool failed = false;
    json_array_foreach(benchmarks, i, b) {
        json_t *mm = mmb_run_cell_json(st->c, st->f);
        const char *type = json_string_value(json_object_get(b, "run_type"));
        json_t *rep = json_object_get(b, "repetition_index");
        if (type && strcmp(type, "iteration") == 0) {
            size_t r = rep ? (size_t)json_integer_value(rep) : 0;
            json_t *d = json_array_get(st->details, r);
            if (d)
                json_object_update(mm, d);
        }
        if (json_is_true(json_object_get(b, "error_occurred")))
            failed = true;
        json_object_set_new(b, "mmbench", mm);
    }
    return failed;
}

/* Google Benchmark's flags for the cell: ours, then those passed through. */
static int gb_argv(const mmb_run_flags *f, const char *gb_out, char *out_flag, size_t out_bytes,
                   char *reps_flag, size_t reps_bytes, char **argv) {
    int argc = 0;
    snprintf(out_flag, out_bytes, "--benchmark_out=%s", gb_out);
    snprintf(reps_flag, reps_bytes, "--benchmark_repetitions=%" PRIu64, f->repetitions);
    argv[argc++] = "mmbench";
    argv[argc++] = out_flag;
    argv[argc++] = "--benchmark_out_format=json";
    argv[argc++] = "--benchmark_format=json"; /* the console reporter writes to stderr */
    argv[argc++] = reps_flag;
    for (int i = 0; i < f->ngb; i++)
        argv[argc++] = f->gb_args[i];
    argv[argc] = NULL;
    return argc;
}

int mmb_run_one_cell(const mmb_run_cell *c, const mmb_run_flags *f, const char *path) {
    char where[sizeof c->name + 8];
    snprintf(where, sizeof where, "run: %s", c->name);
    mmb_set_oom_where(where);
    mmb_set_out_of_memory_handler(mmb_out_of_memory); /* the managers' too */
    char gb_out[600], why[600];
    snprintf(gb_out, sizeof gb_out, "%s.gb", path);
    static cell_state st;
    st = (cell_state){.c = c, .f = f, .rec = mmb_recorder_new(), .details = json_array()};
    if (!st.rec)
        return EXIT_FAILED;
    if (mmb_run_cell_parse(c, &st.cfg, &st.env, why, sizeof why) != 0)
        return mmb_error(EXIT_FAILED, "run", NULL, "%s: %s", c->name, why);
    /* The allocator opens here (a preloaded one checks it really is this process's malloc), so a
     * cell that would measure the wrong one fails before it runs. */
    mmb_allocator probe;
    if (cell_alloc(c)->open(&probe, why, sizeof why) != 0)
        return mmb_error(EXIT_FAILED, "run", NULL, "%s: %s", c->name, why);
    cell_alloc(c)->close(&probe);
    if (c->placement >= 0 && (mmb_topology_load(NULL, &st.topo, why, sizeof why) != 0 ||
                              mmb_placement_plan(st.topo, (mmb_placement)c->placement,
                                                 (int)c->threads, st.pus, why, sizeof why) != 0))
        return mmb_error(EXIT_FAILED, "run", NULL, "%s: %s", c->name, why);
    char *argv[80];
    char out_flag[700], reps_flag[64];
    int argc = gb_argv(f, gb_out, out_flag, sizeof out_flag, reps_flag, sizeof reps_flag, argv);
    mmb_gb_register(c->name, cell_iteration, &st);
    /* Google Benchmark's console report is not ours to print: mmbench prints its own table. */
    if (!freopen("/dev/null", "w", stdout))
        return EXIT_FAILED;
    int status = mmb_gb_run(argc, argv);
    if (status != 0)
        return status;
    json_error_t jerr;
    json_t *root = load_gb_json(gb_out, &jerr);
    unlink(gb_out);
    if (!root)
        return mmb_error(EXIT_FAILED, "run", NULL, "%s: cannot read Google Benchmark's output: %s",
                         c->name, jerr.text);
    bool failed = describe_entries(root, &st);
    int bad = json_dump_file(root, path, JSON_COMPACT);
    json_decref(root);
    json_decref(st.details);
    mmb_recorder_free(st.rec);
    if (st.topo)
        hwloc_topology_destroy(st.topo);
    return bad || failed ? EXIT_FAILED : EXIT_OK;
}
