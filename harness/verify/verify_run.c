/* Running a trace on managers and printing the results (verify_run.h). */
#include "verify_run.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "build_info.h"
#include "diag.h"
#include "forked.h"
#include "heap_stats.h"
#include "mmbench/clock.h"
#include "oracle.h"

/* Where the oracle's failure happened: the trace's line, its final collection, or the heap's
 * destruction (op is the oracle's 1-based operation number). */
static void failure_at(const mmb_trace *t, const char *where, uint64_t op, char *at, size_t n) {
    if (op >= 1 && op <= t->count && t->lines[op - 1])
        snprintf(at, n, "%s:%" PRIu32, where, t->lines[op - 1]);
    else if (op >= 1 && op <= t->count)
        snprintf(at, n, "%s", where);
    else if (op == t->count + 1)
        snprintf(at, n, "%s, the final collection", where);
    else
        snprintf(at, n, "%s, destroying the heap", where);
}

/* Destroys the heap (closing the oracle when verifying); r->failure gets what failed. */
static int finish(const mmb_manager *m, mmb_heap *h, const mmb_trace *t, size_t done, bool verify,
                  const char *where, mmb_trace_result *r) {
    if (!verify) {
        m->destroy(h);
        if (done < t->count) {
            snprintf(r->failure, sizeof r->failure, "manager %s: allocation failed at op %zu",
                     m->name, done + 1);
            r->failed = true;
        }
        return r->failed ? EXIT_FAILED : EXIT_OK;
    }
    uint64_t op = mmb_oracle_failure_op(h);
    char msg[512];
    if (mmb_oracle_close(h, msg, sizeof msg) != 0) {
        char at[128];
        failure_at(t, where, op, at, sizeof at);
        snprintf(r->failure, sizeof r->failure, "%s (at %s)", msg, at);
        r->failed = true;
        return EXIT_FAILED;
    }
    return EXIT_OK;
}

int mmb_verify_run_trace(const mmb_manager *m, mmb_heap_config cfg, const mmb_trace *t, bool verify,
                         const char *where, mmb_recorder *rec, mmb_trace_result *r) {
    memset(r, 0, sizeof *r);
    cfg.on_event = mmb_recorder_on_event;
    cfg.event_ctx = rec;
    rec->recording = false;
    mmb_heap *h;
    char err[512];
    mmb_oracle_options oopt = {.fill_payload = true};
    int created = verify ? mmb_oracle_create(m, &cfg, &oopt, &h, err, sizeof err)
                         : mmb_heap_create(m, &cfg, &h, err, sizeof err);
    if (created != 0) {
        snprintf(r->failure, sizeof r->failure, "manager %s: %s", m->name, err);
        r->failed = true;
        mmb_recorder_start(rec, mmb_now_ns());
        mmb_pause_stats_compute(rec, 0, &r->pauses);
        return EXIT_FAILED;
    }
    mmb_obj **objs = mmb_xcalloc(t->objects ? t->objects : 1, sizeof *objs);
    mmb_recorder_start(rec, mmb_now_ns()); /* clears its histograms: before the clock starts */
    uint64_t start_ns = mmb_now_ns();
    rec->t0_ns = start_ns;
    size_t done = mmb_trace_run(t, h, objs, verify);
    if (done == t->count && !(verify && mmb_oracle_failed(h))) {
        if (verify)
            mmb_oracle_set_op(h, t->count + 1);
        mmb_collect(h);
    }
    uint64_t run_ns = mmb_now_ns() - start_ns;
    r->run_seconds = (double)run_ns * 1e-9;
    mmb_stats_get(h, &r->stats);
    if (verify)
        mmb_oracle_summary_get(h, &r->oracle);
    free(objs);
    int status = finish(m, h, t, done, verify, where, r);
    rec->recording = false;
    mmb_pause_stats_compute(rec, run_ns, &r->pauses);
    return status;
}

/* The build's identity, as every result records it. */
static json_t *build_json(void) {
    const mmb_build_info *b = mmb_build_info_get();
    return json_pack("{ssssssss}", "version", b->version, "git_revision", b->git_revision,
                     "build_type", b->build_type, "sanitizers", b->sanitizers);
}

/* What the oracle could check (verify_scope); with own memory, the frees the manager reported
 * up to the final collection; for a conservative manager, the unreachable objects it kept. */
static void oracle_json_set(json_t *o, const mmb_oracle_summary *s) {
    json_object_set_new(o, "verify_scope", json_string(s->scope));
    if (s->own_memory)
        json_object_set_new(o, "frees_reported", json_integer((json_int_t)s->frees_reported));
    if (s->conservative)
        json_object_set_new(o, "retained",
                            json_pack("{sIsI}", "after_last_full", (json_int_t)s->retained_last,
                                      "max", (json_int_t)s->retained_max));
}

json_t *mmb_verify_result_json(const mmb_manager *m, const mmb_trace *t, const mmb_recorder *rec,
                               const mmb_trace_result *r, bool verify) {
    json_t *o = json_object();
    json_object_set_new(o, "manager", json_string(m->name));
    json_object_set_new(o, "operations", json_integer((json_int_t)t->count));
    /* One snapshot, taken after the final collection. */
    mmb_stats_json_set(o, MMB_STATS_KEYS_REPLAY, &r->stats, &r->stats);
    json_object_set_new(o, "verify", json_boolean(verify));
    json_object_set_new(o, "verify_errors", json_integer(r->failed && verify ? 1 : 0));
    if (verify && r->oracle.scope) /* no scope: the heap was never created */
        oracle_json_set(o, &r->oracle);
    if (r->failed)
        json_object_set_new(o, "failure", json_string(r->failure));
    json_object_set_new(o, "seconds", json_real(r->run_seconds));
    json_object_set_new(o, "ops_per_second",
                        json_real(r->run_seconds > 0 ? (double)t->count / r->run_seconds : 0));
    /* Timed, so after the counts: what is compared run to run ends before "seconds". */
    json_object_set_new(o, "pauses", mmb_pause_stats_json(rec, &r->pauses));
    json_object_set_new(o, "mmu", mmb_mmu_json(&r->pauses));
    json_object_set_new(o, "build", build_json());
    return o;
}

static void print_json(json_t *o) {
    json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
    fflush(stdout);
}

static void print_table_header(void) {
    printf("%-12s %10s %10s %10s %10s %8s %7s %9s %10s %10s\n", "manager", "ops", "allocated",
           "freed", "live", "collect", "verify", "seconds", "Mops/s", "p99_us");
}

static void print_table_row(const mmb_manager *m, const mmb_trace *t, const mmb_trace_result *r,
                            bool verify) {
    printf("%-12s %10zu %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %8" PRIu64
           " %7s %9.3f %10.2f %10.1f\n",
           m->name, t->count, r->stats.objects_allocated, r->stats.objects_freed,
           r->stats.live_objects, r->stats.collections_full + r->stats.collections_young,
           !verify     ? "off"
           : r->failed ? "FAILED"
                       : "ok",
           r->run_seconds, r->run_seconds > 0 ? (double)t->count / r->run_seconds / 1e6 : 0.0,
           mmb_hist_percentile(&r->pauses.all, 99) / 1e3);
    fflush(stdout);
}

/* Runs one manager and prints its line: the failure on stderr, the result on stdout. `progress`
 * clears the progress line first. */
static int run_one(const mmb_manager *m, mmb_heap_config cfg, const mmb_trace *t, bool verify,
                   bool table, const char *where, bool progress, mmb_recorder *rec,
                   mmb_trace_result *r) {
    int status = mmb_verify_run_trace(m, cfg, t, verify, where, rec, r);
    if (progress)
        fprintf(stderr, "\r%40s\r", "");
    if (r->failed) {
        char shown[sizeof r->failure * 4]; /* r->failure names the trace file */
        fprintf(stderr, "mmbench: %s: %s\n", verify ? "verify failed" : "error",
                mmb_escape(shown, sizeof shown, r->failure));
    }
    if (table) {
        print_table_row(m, t, r, verify);
    } else {
        json_t *o = mmb_verify_result_json(m, t, rec, r, verify);
        json_object_set_new(o, "trace", json_string(where));
        print_json(o);
        json_decref(o);
    }
    return status;
}

/* One manager of a list, in a child of its own. */
typedef struct one_run {
    const mmb_manager *m;
    mmb_heap_config cfg;
    const mmb_trace *t;
    bool verify, table, progress;
    const char *where;
    mmb_recorder *rec;
    mmb_trace_result *r;
} one_run;

static int one_run_child(void *arg) {
    one_run *o = arg;
    int status =
        run_one(o->m, o->cfg, o->t, o->verify, o->table, o->where, o->progress, o->rec, o->r);
    fflush(NULL);
    exit(status); /* as a process that ran only this manager ends: its runtime's atexit too */
}

/* The exit status a child's wait status stands for; a child that did not end with 0, 1 or 2 is
 * named in one line (a signal: which) and counts as a failure. */
static int child_status(const char *cmd, const mmb_manager *m, int ws) {
    if (WIFEXITED(ws) && WEXITSTATUS(ws) <= EXIT_USAGE)
        return WEXITSTATUS(ws);
    if (WIFSIGNALED(ws))
        return mmb_error(EXIT_FAILED, cmd, NULL, "manager %s: its process died of signal %d (%s)",
                         m->name, WTERMSIG(ws), strsignal(WTERMSIG(ws)));
    return mmb_error(EXIT_FAILED, cmd, NULL, "manager %s: its process exited with status %d",
                     m->name, WIFEXITED(ws) ? WEXITSTATUS(ws) : -1);
}

/* The worse of two exit statuses: 2 (bad usage) over 1 (failed) over 0. */
static int worse(int a, int b) {
    return a > b ? a : b;
}

int mmb_verify_run_all(const char *cmd, const mmb_manager **list, size_t count,
                       mmb_heap_config *configs, const mmb_trace *t, bool verify, bool table,
                       const char *where) {
    mmb_recorder *rec = mmb_recorder_new();
    if (!rec)
        mmb_out_of_memory(sizeof *rec);
    mmb_trace_result *r = mmb_xcalloc(1, sizeof *r); /* its histograms are large */
    int status = EXIT_OK;
    if (table)
        print_table_header();
    bool progress = count > 1 && isatty(STDERR_FILENO);
    for (size_t i = 0; i < count; i++) {
        if (progress)
            fprintf(stderr, "\rmmbench: %zu/%zu %-12s", i + 1, count, list[i]->name);
        if (count == 1) {
            status = run_one(list[i], configs[i], t, verify, table, where, progress, rec, r);
            break;
        }
        one_run o = {list[i], configs[i], t, verify, table, progress, where, rec, r};
        int ws;
        if (mmb_forked_call(one_run_child, &o, 0, &ws) != 0)
            status = worse(status, mmb_error(EXIT_FAILED, cmd, NULL, "manager %s: cannot fork: %s",
                                             list[i]->name, strerror(errno)));
        else
            status = worse(status, child_status(cmd, list[i], ws));
    }
    free(r);
    mmb_recorder_free(rec);
    return status;
}
