/* `mmbench run` (run.h): expands the matrix into cells, runs each cell in a fresh process
 * (fork), times it through Google Benchmark, records pauses and latencies, and merges the cells'
 * results into one JSON document in Google Benchmark's schema plus an `mmbench` section. */
#include "run.h"

#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <limits.h>
#include <inttypes.h>
#include <limits.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <valgrind/callgrind.h>

#include "build_info.h"
#include "diag.h"
#include "child.h"
#include "counters.h"
#include "flags.h"
#include "gbench.h"
#include "mmbench/manager.h"
#include "metrics.h"
#include "oracle.h"
#include "outfile.h"
#include "pauses.h"
#include "recorder.h"
#include "table.h"
#include "topology.h"
#include "workload.h"

#define MAX_CELLS       4096
#define MAX_DIMS        32
#define MAX_THREADS     256 /* the largest `threads` a workload takes */
#define CELL_NAME_BYTES 512 /* a longer cell name is refused (name_too_long) */

#define usage_error(...) mmb_usage_error("run", NULL, __VA_ARGS__)

/* ---- the matrix ----------------------------------------------------------------------------- */

/* A dimension: KEY with one or more values ("ring-size=2,21"). */
typedef struct dim {
    char key[64];
    char values[16][64];
    int nvalues;
} dim;

typedef struct cell {
    int index; /* position in the whole matrix, shards included */
    const mmb_manager *manager;
    const mmb_workload *workload;
    mmb_scale scale;
    char kv_params[MAX_DIMS][130];
    int nparams;
    char kv_options[MAX_DIMS][130];
    int noptions;
    unsigned threads; /* the workload's `threads` parameter; 1 for a workload without one */
    int placement;    /* mmb_placement, or -1: threads are not bound */
    char name[CELL_NAME_BYTES];
} cell;

typedef struct run_flags {
    const char *managers[64];
    int nmanagers;
    const char *workloads[64];
    int nworkloads;
    mmb_scale scales[MMB_SCALE_COUNT];
    int nscales;
    dim params[MAX_DIMS];
    int nparams;
    dim options[MAX_DIMS];
    int noptions;
    uint64_t seed;
    uint64_t repetitions;
    const char *out;
    const char *hgrm;
    bool verify;
    int format; /* 0 table, 1 json, 2 none */
    char *gb_args[64];
    int ngb;
    int shard_k, shard_n; /* run cells with index % n == k - 1; n == 0: all */
    bool instructions;    /* each cell under callgrind */
    bool fresh_process;   /* each repetition in a process of its own */
    int placements[MMB_PLACE_COUNT];
    int nplacements;             /* 0: threads are not bound */
    const char *topology;        /* --topology: plan for that machine and run nothing */
    mmb_counters_plan *counters; /* --counters, probed in the parent; NULL: none */
    int cell_index;              /* internal: run only this cell, here (under valgrind) */
    const char *cell_out;        /* internal: where that cell's results go */
    const char *resume;          /* --resume FILE: finish that incomplete run */
    char text[16384];            /* the names of --manager, --workload, ... lists */
    size_t text_used;
} run_flags;

static int parse_dim(const char *flag, const char *text, dim *d) {
    const char *eq = strchr(text, '=');
    if (!eq || eq == text || (size_t)(eq - text) >= sizeof d->key)
        return usage_error("%s '%s' is not KEY=VALUE[,VALUE...] (hint: mmbench run --help)", flag,
                           text);
    memcpy(d->key, text, (size_t)(eq - text));
    d->key[eq - text] = '\0';
    d->nvalues = 0;
    for (const char *v = eq + 1;;) {
        const char *comma = strchr(v, ',');
        size_t len = comma ? (size_t)(comma - v) : strlen(v);
        if (len == 0 || len >= sizeof d->values[0] || d->nvalues == 16)
            return usage_error("%s '%s': empty, too long or more than 16 values", flag, text);
        memcpy(d->values[d->nvalues], v, len);
        d->values[d->nvalues++][len] = '\0';
        if (!comma)
            break;
        v = comma + 1;
    }
    return EXIT_OK;
}

static bool workload_has_param(const mmb_workload *w, const char *key) {
    for (const mmb_param_spec *p = w->params; p && p->name; p++)
        if (strcmp(p->name, key) == 0)
            return true;
    return false;
}

static bool manager_has_option(const mmb_manager *m, const char *key) {
    for (const mmb_option_spec *o = mmb_common_options; o->name; o++)
        if (strcmp(o->name, key) == 0)
            return true;
    for (const mmb_option_spec *o = m->options; o && o->name; o++)
        if (strcmp(o->name, key) == 0)
            return true;
    return false;
}

/* Does workload w match a --workload pattern: a name, a family, a glob, or "all"? */
static bool workload_matches(const mmb_workload *w, const char *pattern) {
    return strcmp(pattern, "all") == 0 || strcmp(pattern, w->family) == 0 ||
           fnmatch(pattern, w->name, 0) == 0;
}

/* The `threads` parameter's value, or 1 for a workload without one. */
static unsigned workload_threads(const mmb_workload *w, const mmb_workload_env *env) {
    for (int i = 0; w->params && w->params[i].name; i++)
        if (strcmp(w->params[i].name, "threads") == 0)
            return (unsigned)env->params[i];
    return 1;
}

static bool is_threaded(const mmb_workload *w) {
    return workload_has_param(w, "threads");
}

/* Records a cell left out of the matrix and why. */
static void skip_cell(json_t *skipped, const char *name, const char *why) {
    if (skipped)
        json_array_append_new(skipped, json_pack("{ssss}", "cell", name, "reason", why));
}

/* The path of a cell's histogram file: DIR/CELL.WHAT.hgrm, the cell's name with '/', '=' and
 * ',' made '_'. Never truncated: build_cells refused, before any cell ran, a path that does
 * not fit (check_hgrm_path). Caller frees. */
static char *hgrm_path(const char *dir, const char *cell_name, const char *what) {
    size_t n = strlen(dir) + strlen(cell_name) + strlen(what) + sizeof "/..hgrm";
    char *path = mmb_xrealloc(NULL, n);
    size_t used = (size_t)snprintf(path, n, "%s/", dir);
    for (const char *s = cell_name; *s; s++)
        path[used++] = (*s == '/' || *s == '=' || *s == ',') ? '_' : *s;
    snprintf(path + used, n - used, ".%s.hgrm", what);
    return path;
}

/* The WHATs of hgrm_path: the pause kinds (MMB_EVENT_FULL, _YOUNG, _CASCADE), then the
 * latencies; the last is the longest. */
static const char *const hgrm_kinds[] = {"full", "young", "cascade", "latency",
                                         "latency-uncorrected"};
#define HGRM_LONGEST (sizeof hgrm_kinds / sizeof hgrm_kinds[0] - 1)

/* Before any cell runs: every histogram path of the cell fits (none is truncated, so none can
 * collide with another's), and none already names something that is not a regular file. */
static int check_hgrm_path(const char *dir, const char *cell_name) {
    char *path = hgrm_path(dir, cell_name, hgrm_kinds[HGRM_LONGEST]);
    size_t bytes = strlen(path), name_bytes = strlen(strrchr(path, '/') + 1);
    int status = EXIT_OK;
    bool long_name = name_bytes > NAME_MAX;
    if (bytes >= PATH_MAX || long_name)
        status = usage_error("--hgrm %.100s%s: the histogram files of cell %s would not fit: %s "
                             "of %zu characters, at most %d (hint: a shorter --hgrm directory, "
                             "or shorter --param and --option values)",
                             dir, strlen(dir) > 100 ? "..." : "", cell_name,
                             long_name ? "a file name" : "a path", long_name ? name_bytes : bytes,
                             long_name ? NAME_MAX : PATH_MAX - 1);
    free(path);
    for (size_t k = 0; status == EXIT_OK && k <= HGRM_LONGEST; k++) {
        struct stat st;
        path = hgrm_path(dir, cell_name, hgrm_kinds[k]);
        if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode))
            status = mmb_outfile_check("run", "--hgrm", path);
        free(path);
    }
    return status;
}

/* Appends to a cell's name (the name buffer of a cell, *used bytes of it taken); false when
 * the result would not fit, which the caller refuses (name_too_long): a truncated name could
 * make two cells one. */
static bool append_name(char name[CELL_NAME_BYTES], size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool append_name(char name[CELL_NAME_BYTES], size_t *used, const char *fmt, ...) {
    const size_t size = CELL_NAME_BYTES;
    if (*used >= size)
        return false;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(name + *used, size - *used, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= size - *used) {
        *used = size;
        return false;
    }
    *used += (size_t)n;
    return true;
}

static int name_too_long(const char *start) {
    return usage_error("a cell's name would be longer than %zu characters: '%.100s...' (hint: "
                       "fewer or shorter --param and --option values)",
                       (size_t)CELL_NAME_BYTES - 1, start);
}

/* Turns the last cell into one cell per placement (or drops it, when it cannot run here): a
 * placement the topology lacks for the cell's thread count is skipped, with the reason. */
static int place_cell(const run_flags *f, hwloc_topology_t topo, cell *cells, int *ncells,
                      json_t *skipped) {
    cell *c = &cells[*ncells - 1];
    char why[300];
    if (c->threads > 1 && !(c->manager->caps & MMB_CAP_THREAD_SAFE)) {
        snprintf(why, sizeof why,
                 "%s is not thread-safe: it runs threaded workloads with "
                 "threads=1 only",
                 c->manager->name);
        skip_cell(skipped, c->name, why);
        (*ncells)--;
        return EXIT_OK;
    }
    if (f->nplacements == 0)
        return EXIT_OK;
    static cell base;
    base = *c;
    (*ncells)--;
    for (int p = 0; p < f->nplacements; p++) {
        char name[sizeof base.name];
        size_t used = 0;
        if (!append_name(name, &used, "%s/placement=%s", base.name,
                         mmb_placement_name((mmb_placement)f->placements[p])))
            return name_too_long(name);
        int pus[MAX_THREADS];
        if (mmb_placement_plan(topo, (mmb_placement)f->placements[p], (int)base.threads, pus, why,
                               sizeof why) != 0) {
            skip_cell(skipped, name, why);
            continue;
        }
        if (*ncells == MAX_CELLS)
            return usage_error("more than %d cells", MAX_CELLS);
        cell *d = &cells[*ncells];
        *d = base;
        d->index = (*ncells)++;
        d->placement = f->placements[p];
        snprintf(d->name, sizeof d->name, "%s", name);
    }
    return EXIT_OK;
}

/* Whether NAME is one of the items of LIST ("a, b, c"); not a substring test: "threshold" is
 * not in "cascade-threshold, threshold0". */
static bool in_list(const char *list, const char *name) {
    size_t n = strlen(name);
    for (const char *p = list; (p = strstr(p, name)) != NULL; p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ',' || p[n] == '\0'))
            return true;
    return false;
}

/* Expands the flags into cells; checks every name, parameter and option first. Cells that cannot
 * run (a single-threaded manager asked for threads, a placement the topology lacks) are left
 * out and listed in `skipped` (may be NULL). */
static int build_cells(const run_flags *f, hwloc_topology_t topo, cell *cells, int *ncells,
                       json_t *skipped) {
    const mmb_manager *ms[64];
    int nm = 0;
    char names[1024];
    for (int i = 0; i < f->nmanagers; i++) {
        if (strcmp(f->managers[i], "all") == 0) {
            for (size_t k = 0; k < mmb_manager_count() && nm < 64; k++)
                ms[nm++] = mmb_manager_at(k);
            continue;
        }
        const mmb_manager *m = mmb_manager_find(f->managers[i]);
        if (!m) {
            mmb_manager_names(names, sizeof names);
            return usage_error("unknown manager '%s' (hint: one of: %s, or all)", f->managers[i],
                               names);
        }
        ms[nm++] = m;
    }
    const mmb_workload *ws[64];
    int nw = 0;
    for (int i = 0; i < f->nworkloads; i++) {
        int before = nw;
        for (size_t k = 0; k < mmb_workload_count() && nw < 64; k++) {
            const mmb_workload *w = mmb_workload_at(k);
            bool dup = false;
            for (int j = 0; j < nw; j++)
                dup |= ws[j] == w;
            if (!dup && workload_matches(w, f->workloads[i]))
                ws[nw++] = w;
        }
        if (nw == before) {
            mmb_workload_names(names, sizeof names);
            return usage_error("no workload matches '%s' (hint: names: %s; families: many-small, "
                               "cycle-heavy, pause-sensitive, threaded; or a glob, or all)",
                               f->workloads[i], names);
        }
    }
    for (int d = 0; d < f->nparams; d++) {
        bool any = false;
        for (int i = 0; i < nw; i++)
            any |= workload_has_param(ws[i], f->params[d].key);
        if (!any) {
            char valid[1024] = "";
            size_t used = 0;
            for (int i = 0; i < nw; i++)
                for (const mmb_param_spec *p = ws[i]->params; p && p->name; p++)
                    if (!in_list(valid, p->name) && used < sizeof valid)
                        used += (size_t)snprintf(valid + used, sizeof valid - used, "%s%s",
                                                 used ? ", " : "", p->name);
            return usage_error("no selected workload has a parameter '%s' (valid: %s)",
                               f->params[d].key, used ? valid : "none");
        }
    }
    for (int d = 0; d < f->noptions; d++) {
        bool any = false;
        for (int i = 0; i < nm; i++)
            any |= manager_has_option(ms[i], f->options[d].key);
        if (!any) {
            char valid[1024] = "cascade-threshold";
            size_t used = strlen(valid);
            for (int i = 0; i < nm; i++)
                for (const mmb_option_spec *o = ms[i]->options; o && o->name; o++)
                    if (!in_list(valid, o->name) && used < sizeof valid)
                        used +=
                            (size_t)snprintf(valid + used, sizeof valid - used, ", %s", o->name);
            return usage_error("no selected manager has an option '%s' (valid: %s)",
                               f->options[d].key, valid);
        }
    }
    *ncells = 0;
    for (int wi = 0; wi < nw; wi++)
        for (int mi = 0; mi < nm; mi++)
            for (int si = 0; si < f->nscales; si++) {
                /* The parameter and option combinations that apply to this pair: an odometer over
                 * the dimensions this workload or manager has. */
                int idx[2 * MAX_DIMS] = {0};
                for (;;) {
                    if (*ncells == MAX_CELLS)
                        return usage_error("more than %d cells", MAX_CELLS);
                    cell *c = &cells[*ncells];
                    memset(c, 0, sizeof *c);
                    c->index = (*ncells)++;
                    c->manager = ms[mi];
                    c->workload = ws[wi];
                    c->scale = f->scales[si];
                    size_t used = 0;
                    bool fits = append_name(c->name, &used, "%s/%s/%s", ws[wi]->name, ms[mi]->name,
                                            mmb_scale_names[f->scales[si]]);
                    for (int d = 0; d < f->nparams; d++)
                        if (workload_has_param(ws[wi], f->params[d].key)) {
                            snprintf(c->kv_params[c->nparams++], sizeof c->kv_params[0], "%s=%s",
                                     f->params[d].key, f->params[d].values[idx[d]]);
                            fits = fits &&
                                   append_name(c->name, &used, "/%s", c->kv_params[c->nparams - 1]);
                        }
                    for (int d = 0; d < f->noptions; d++)
                        if (manager_has_option(ms[mi], f->options[d].key)) {
                            snprintf(c->kv_options[c->noptions++], sizeof c->kv_options[0], "%s=%s",
                                     f->options[d].key, f->options[d].values[idx[MAX_DIMS + d]]);
                            fits = fits && append_name(c->name, &used, "/%s",
                                                       c->kv_options[c->noptions - 1]);
                        }
                    if (!fits)
                        return name_too_long(c->name);
                    /* Check the cell's values now, so bad input stops the run before it starts. */
                    char err[600];
                    mmb_heap_config cfg;
                    mmb_workload_env env;
                    const char *kv[MAX_DIMS];
                    for (int k = 0; k < c->noptions; k++)
                        kv[k] = c->kv_options[k];
                    if (mmb_options_parse(c->manager, kv, (size_t)c->noptions, &cfg, err,
                                          sizeof err))
                        return usage_error("%s (hint: mmbench list)", err);
                    for (int k = 0; k < c->nparams; k++)
                        kv[k] = c->kv_params[k];
                    if (mmb_params_parse(c->workload, c->scale, kv, (size_t)c->nparams, &env, err,
                                         sizeof err))
                        return usage_error("%s (hint: mmbench list)", err);
                    c->threads = workload_threads(c->workload, &env);
                    c->placement = -1;
                    if (c->threads > MAX_THREADS)
                        return usage_error("%s: threads=%u is more than %d", c->name, c->threads,
                                           MAX_THREADS);
                    if (place_cell(f, topo, cells, ncells, skipped) != EXIT_OK)
                        return EXIT_USAGE;
                    /* Next combination: advance the first dimension that applies and has more. */
                    int d = 0;
                    for (; d < 2 * MAX_DIMS; d++) {
                        bool param = d < MAX_DIMS;
                        int k = param ? d : d - MAX_DIMS;
                        if (param
                                ? (k >= f->nparams || !workload_has_param(ws[wi], f->params[k].key))
                                : (k >= f->noptions ||
                                   !manager_has_option(ms[mi], f->options[k].key)))
                            continue;
                        int n = param ? f->params[k].nvalues : f->options[k].nvalues;
                        if (++idx[d] < n)
                            break;
                        idx[d] = 0;
                    }
                    if (d == 2 * MAX_DIMS)
                        break;
                }
            }
    for (int i = 0; f->hgrm && i < *ncells; i++)
        if (check_hgrm_path(f->hgrm, cells[i].name) != EXIT_OK)
            return EXIT_USAGE;
    return EXIT_OK;
}

/* ---- one cell, in its own process ----------------------------------------------------------- */

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
    const cell *c;
    const run_flags *f;
    mmb_recorder *rec;
    json_t *details; /* one object per repetition */
    int repetition;
    hwloc_topology_t topo; /* this system's, when the cell has a placement */
    int pus[MAX_THREADS];  /* the placement's plan: thread i's PU */
    thread_result threads[MAX_THREADS];
} cell_state;

/* The calling thread's counters (--counters), for the managers' phase hook. */
static _Thread_local mmb_counters_thread *thread_counters;

static void phase_hook(void *ctx, mmb_phase phase, int begin) {
    (void)ctx;
    if (thread_counters)
        mmb_counters_phase(thread_counters, phase, begin);
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
    if (i >= MAX_THREADS)
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
    if (i >= MAX_THREADS)
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
    const cell *c = st->c;
    json_t *pus = json_array(), *each = json_array();
    double sum = 0;
    int n = 0;
    for (unsigned i = 0; i < c->threads && i < MAX_THREADS; i++) {
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

static int write_hgrm(const char *dir, const char *cell_name, const char *what, const mmb_hist *h) {
    char *path = hgrm_path(dir, cell_name, what);
    int status = mmb_outfile_write("run", "--hgrm", path, write_hist, (void *)h);
    free(path);
    return status;
}

static int cell_iteration(void *arg, mmb_gb_sink *sink, double *seconds, char *err, size_t n) {
    cell_state *st = arg;
    const cell *c = st->c;
    mmb_heap_config cfg;
    mmb_workload_env env;
    const char *kv[MAX_DIMS];
    for (int k = 0; k < c->noptions; k++)
        kv[k] = c->kv_options[k];
    mmb_options_parse(c->manager, kv, (size_t)c->noptions, &cfg, err, n);
    for (int k = 0; k < c->nparams; k++)
        kv[k] = c->kv_params[k];
    memset(&env, 0, sizeof env);
    mmb_params_parse(c->workload, c->scale, kv, (size_t)c->nparams, &env, err, n);
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
    memset(st->threads, 0, sizeof st->threads);
    /* A single-threaded workload runs on this thread: bind it as thread 0. The thread that runs
     * a threaded workload only starts and joins its workers: counted, not bound. */
    bool threaded = is_threaded(c->workload);
    thread_result caller = {0};
    if (!threaded)
        thread_started(st, 0);
    else
        open_thread_counters(st);

    mmb_oracle_options oopt = {.fill_payload = false};
    int created = st->f->verify ? mmb_oracle_create(c->manager, &cfg, &oopt, &env.heap, err, n)
                                : mmb_heap_create(c->manager, &cfg, &env.heap, err, n);
    if (created != 0)
        return -1;
    reset_peak_rss();
    mmb_workload_result result = {0};
    uint64_t t0 = mmb_now_ns();
    mmb_recorder_start(st->rec, t0);
    /* Under callgrind (--instructions) only the workload's run is counted; elsewhere these are
     * a few no-op instructions. */
    CALLGRIND_START_INSTRUMENTATION;
    int status = c->workload->run(&env, &result, err, n);
    CALLGRIND_STOP_INSTRUMENTATION;
    uint64_t t1 = mmb_now_ns();
    st->rec->recording = false;
    if (!threaded)
        thread_ended(st, 0, result.work_units, t1 - t0);
    else
        close_thread_counters(&caller);
    mmb_stats at_end, after;
    mmb_stats_get(env.heap, &at_end);
    mmb_collect(env.heap); /* not timed: reclaims what the run left, for the counts below */
    mmb_stats_get(env.heap, &after);
    uint64_t rss = peak_rss_bytes();
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
    if (status != 0)
        return -1;

    uint64_t run_ns = t1 - t0;
    *seconds = (double)run_ns * 1e-9;
    mmb_recorder *r = st->rec;
    /* The headline: every pause the mutator saw, collections and cascades at or above the
     * threshold alike, and the kind of the longest. Per kind stays in "pauses". */
    mmb_pause_stats ps;
    mmb_pause_stats_compute(r, run_ns, &ps);
    /* The workload drops everything it held before returning, so what is live at its end is
     * garbage not yet reclaimed: with the largest set one collection freed, a lower bound on the
     * peak uncollected garbage (memory lag). */
    uint64_t lag = at_end.live_objects > r->max_freed_by_collection ? at_end.live_objects
                                                                    : r->max_freed_by_collection;
    mmb_gb_counter(sink, "work_units_per_second", (double)result.work_units, MMB_GB_COUNTER_RATE);
    mmb_gb_counter(sink, "work_units", (double)result.work_units, MMB_GB_COUNTER_PLAIN);
    mmb_gb_counter(sink, "objects_allocated", (double)at_end.objects_allocated, 0);
    mmb_gb_counter(sink, "freed_by_rc", (double)at_end.objects_freed_by_rc, 0);
    mmb_gb_counter(sink, "freed_by_gc", (double)at_end.objects_freed_by_gc, 0);
    mmb_gb_counter(sink, "collections_full", (double)at_end.collections_full, 0);
    mmb_gb_counter(sink, "collections_young", (double)at_end.collections_young, 0);
    mmb_gb_counter(sink, "increments", (double)at_end.increments, 0);
    mmb_gb_counter(sink, "decrements", (double)at_end.decrements, 0);
    mmb_gb_counter(sink, "objects_traversed", (double)at_end.objects_traversed, 0);
    mmb_gb_counter(sink, "pause_p99_ns", mmb_hist_percentile(&ps.all, 99), 0);
    mmb_gb_counter(sink, "pause_max_ns", (double)(ps.all.count ? ps.all.max : 0), 0);
    mmb_gb_counter(sink, "mmu_10ms", ps.mmu_10ms, 0);
    mmb_gb_counter(sink, "peak_rss_bytes", (double)rss, 0);
    mmb_gb_counter(sink, "memory_lag_objects", (double)lag, 0);
    mmb_gb_counter(sink, "header_bytes", (double)at_end.header_bytes, 0);
    for (int k = 0; k < result.nmetrics && k < 4; k++)
        mmb_gb_counter(sink, result.metrics[k].name, result.metrics[k].value, 0);
    if (result.work_units)
        mmb_gb_counter(sink, "peak_rss_bytes_per_work_unit",
                       (double)rss / (double)result.work_units, 0);
    double per_thread_rate = 0;
    json_t *threads = threads_json(st, &per_thread_rate);
    mmb_gb_counter(sink, "threads", (double)c->threads, 0);
    mmb_gb_counter(sink, "per_thread_units_per_second", per_thread_rate, 0);
    if (r->latency_corrected.count) {
        mmb_gb_counter(sink, "latency_p99_ns", mmb_hist_percentile(&r->latency_corrected, 99), 0);
        mmb_gb_counter(sink, "latency_p99_uncorrected_ns",
                       mmb_hist_percentile(&r->latency_uncorrected, 99), 0);
    }

    json_t *d = json_object();
    json_object_set_new(d, "repetition", json_integer(st->repetition++));
    json_object_set_new(d, "run_ns", json_integer((json_int_t)run_ns));
    json_object_set_new(d, "work_units", json_integer((json_int_t)result.work_units));
    json_object_set_new(d, "unit", json_string(result.unit ? result.unit : "units"));
    json_object_set_new(d, "checksum", json_sprintf("%016" PRIx64, result.checksum));
    json_t *stats = json_pack(
        "{sIsIsIsIsIsIsIsIsIsIsIsI}", "objects_allocated", (json_int_t)at_end.objects_allocated,
        "objects_freed", (json_int_t)at_end.objects_freed, "objects_freed_by_rc",
        (json_int_t)at_end.objects_freed_by_rc, "objects_freed_by_gc",
        (json_int_t)at_end.objects_freed_by_gc, "live_objects_at_end",
        (json_int_t)at_end.live_objects, "live_objects_after_final_collection",
        (json_int_t)after.live_objects, "collections_full", (json_int_t)at_end.collections_full,
        "collections_young", (json_int_t)at_end.collections_young, "increments",
        (json_int_t)at_end.increments, "decrements", (json_int_t)at_end.decrements,
        "objects_traversed", (json_int_t)at_end.objects_traversed, "header_bytes",
        (json_int_t)at_end.header_bytes);
    json_object_set_new(d, "deterministic", stats);
    json_object_set_new(d, "peak_rss_bytes", json_integer((json_int_t)rss));
    json_object_set_new(d, "memory_lag_objects", json_integer((json_int_t)lag));
    json_object_set_new(d, "pauses", mmb_pause_stats_json(r, &ps));
    json_object_set_new(d, "mmu", mmb_mmu_json(&ps));
    json_object_set_new(d, "threads", threads);
    if (st->f->counters) {
        /* Every thread's counts summed: the workers', and for a threaded workload the caller's. */
        mmb_counter_totals sum;
        memset(&sum, 0, sizeof sum);
        int counted = 0;
        for (unsigned i = 0; i < c->threads && i < MAX_THREADS; i++)
            if (st->threads[i].counted) {
                mmb_counters_totals_add(&sum, &st->threads[i].counters);
                counted++;
            }
        if (caller.counted) {
            mmb_counters_totals_add(&sum, &caller.counters);
            counted++;
        }
        json_t *cj = mmb_counters_values_json(st->f->counters, &sum);
        json_object_set_new(cj, "threads_counted", json_integer(counted));
        json_object_set_new(d, "counters", cj);
    }
    if (r->latency_corrected.count) {
        json_object_set_new(d, "latency_corrected", mmb_hist_json(&r->latency_corrected, true));
        json_object_set_new(d, "latency_uncorrected", mmb_hist_json(&r->latency_uncorrected, true));
    }
    if (r->events_dropped)
        json_object_set_new(d, "events_dropped", json_integer((json_int_t)r->events_dropped));
    json_array_append_new(st->details, d);

    if (st->f->hgrm) {
        bool bad = false;
        for (int k = 0; k < 3; k++)
            if (r->pauses[k].count)
                bad |= write_hgrm(st->f->hgrm, c->name, hgrm_kinds[k], &r->pauses[k]) != EXIT_OK;
        if (r->latency_corrected.count) {
            bad |=
                write_hgrm(st->f->hgrm, c->name, hgrm_kinds[3], &r->latency_corrected) != EXIT_OK;
            bad |=
                write_hgrm(st->f->hgrm, c->name, hgrm_kinds[4], &r->latency_uncorrected) != EXIT_OK;
        }
        if (bad) {
            snprintf(err, n, "--hgrm %s: a histogram could not be written (see above)",
                     st->f->hgrm);
            return -1;
        }
    }
    return 0;
}

/* A seed as JSON: an integer, or a decimal string from 2^63 up (JSON readers take integers as
 * signed 64-bit), so that `--seed` takes back exactly what a result records. */
static json_t *seed_json(uint64_t seed) {
    return seed <= INT64_MAX ? json_integer((json_int_t)seed) : json_sprintf("%" PRIu64, seed);
}

static json_t *cell_json(const cell *c, const run_flags *f) {
    json_t *params = json_object(), *options = json_object();
    mmb_workload_env env;
    mmb_heap_config cfg;
    char err[600];
    const char *kv[MAX_DIMS];
    for (int k = 0; k < c->nparams; k++)
        kv[k] = c->kv_params[k];
    mmb_params_parse(c->workload, c->scale, kv, (size_t)c->nparams, &env, err, sizeof err);
    for (int i = 0; c->workload->params && c->workload->params[i].name; i++)
        json_object_set_new(params, c->workload->params[i].name, json_real(env.params[i]));
    for (int k = 0; k < c->noptions; k++)
        kv[k] = c->kv_options[k];
    mmb_options_parse(c->manager, kv, (size_t)c->noptions, &cfg, err, sizeof err);
    for (int i = 0; c->manager->options && c->manager->options[i].name; i++)
        json_object_set_new(options, c->manager->options[i].name, json_integer(cfg.options[i]));
    json_object_set_new(options, "cascade-threshold",
                        json_integer((json_int_t)cfg.cascade_threshold));
    json_t *placement = c->placement >= 0
                            ? json_string(mmb_placement_name((mmb_placement)c->placement))
                            : json_null();
    return json_pack("{sssisssssssssosososbsssiso}", "cell", c->name, "cell_index", c->index,
                     "manager", c->manager->name, "workload", c->workload->name, "family",
                     c->workload->family, "scale", mmb_scale_names[c->scale], "params", params,
                     "options", options, "seed", seed_json(f->seed), "verify", f->verify,
                     "git_revision", mmb_build_info_get()->git_revision, "thread_count",
                     (int)c->threads, "placement", placement);
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
    for (int ch; (ch = fgetc(in)) != EOF;) {
        if (in_string) {
            in_string = escaped || ch != '"';
            escaped = !escaped && ch == '\\';
            fputc(ch, mem);
            continue;
        }
        if (ch == '"')
            in_string = true;
        static const char *const bad[] = {"NaN", "-nan", "nan", "-inf", "inf"};
        bool replaced = false;
        for (size_t k = 0; k < 5 && !replaced; k++)
            if (ch == bad[k][0]) {
                size_t m = 1;
                int next = 0;
                while (bad[k][m] && (next = fgetc(in)) == bad[k][m])
                    m++;
                if (!bad[k][m]) {
                    fputs("null", mem);
                    replaced = true;
                } else {
                    /* Not that word: put back what was read and keep the text as it was. */
                    fwrite(bad[k], 1, m, mem);
                    if (next != EOF)
                        ungetc(next, in);
                    replaced = true;
                }
            }
        if (!replaced)
            fputc(ch, mem);
    }
    fclose(in);
    fclose(mem);
    json_t *root = json_loads(text, 0, jerr);
    free(text);
    return root;
}

/* Runs one cell in this (child) process; writes {context, benchmarks} to `path`. */
static int run_cell(const cell *c, const run_flags *f, const char *path) {
    char where[sizeof c->name + 8];
    snprintf(where, sizeof where, "run: %s", c->name);
    mmb_set_oom_where(where);
    mmb_set_out_of_memory_handler(mmb_out_of_memory); /* the managers' too */
    char gb_out[600];
    snprintf(gb_out, sizeof gb_out, "%s.gb", path);
    static cell_state st;
    st = (cell_state){.c = c, .f = f, .rec = mmb_recorder_new(), .details = json_array()};
    if (!st.rec)
        return EXIT_FAILED;
    if (c->placement >= 0) {
        char why[300];
        if (mmb_topology_load(NULL, &st.topo, why, sizeof why) != 0 ||
            mmb_placement_plan(st.topo, (mmb_placement)c->placement, (int)c->threads, st.pus, why,
                               sizeof why) != 0) {
            return mmb_error(EXIT_FAILED, "run", NULL, "%s: %s", c->name, why);
        }
    }
    char *argv[80];
    int argc = 0;
    char out_flag[700], reps_flag[64];
    snprintf(out_flag, sizeof out_flag, "--benchmark_out=%s", gb_out);
    snprintf(reps_flag, sizeof reps_flag, "--benchmark_repetitions=%" PRIu64, f->repetitions);
    argv[argc++] = "mmbench";
    argv[argc++] = out_flag;
    argv[argc++] = "--benchmark_out_format=json";
    argv[argc++] = "--benchmark_format=json"; /* the console reporter writes to stderr */
    argv[argc++] = reps_flag;
    for (int i = 0; i < f->ngb; i++)
        argv[argc++] = f->gb_args[i];
    argv[argc] = NULL;
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
    if (!root) {
        return mmb_error(EXIT_FAILED, "run", NULL, "%s: cannot read Google Benchmark's output: %s",
                         c->name, jerr.text);
    }
    /* Each iteration entry gets its repetition's details; every entry the cell's description. */
    json_t *benchmarks = json_object_get(root, "benchmarks");
    size_t i;
    json_t *b;
    int failed = 0;
    json_array_foreach(benchmarks, i, b) {
        json_t *mm = cell_json(c, f);
        const char *type = json_string_value(json_object_get(b, "run_type"));
        json_t *rep = json_object_get(b, "repetition_index");
        if (type && strcmp(type, "iteration") == 0) {
            size_t r = rep ? (size_t)json_integer_value(rep) : 0;
            json_t *d = json_array_get(st.details, r);
            if (d)
                json_object_update(mm, d);
        }
        if (json_is_true(json_object_get(b, "error_occurred")))
            failed = 1;
        json_object_set_new(b, "mmbench", mm);
    }
    int bad = json_dump_file(root, path, JSON_COMPACT);
    json_decref(root);
    json_decref(st.details);
    mmb_recorder_free(st.rec);
    if (st.topo)
        hwloc_topology_destroy(st.topo);
    return bad ? EXIT_FAILED : failed ? EXIT_FAILED : EXIT_OK;
}

/* ---- the parent: cells in children, results merged ------------------------------------------ */

static json_t *machine_context(int argc, char **argv) {
    struct utsname u;
    uname(&u);
    char model[256] = "unknown";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f))
            if (strncmp(line, "model name", 10) == 0) {
                char *colon = strchr(line, ':');
                if (colon) {
                    snprintf(model, sizeof model, "%s", colon + 2);
                    model[strcspn(model, "\n")] = '\0';
                }
                break;
            }
        fclose(f);
    }
    json_t *cmd = json_array();
    for (int i = 0; i < argc; i++)
        json_array_append_new(cmd, json_string(argv[i]));
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    return json_pack("{sssssssssssssssIsIso}", "version", mmb_build_info_get()->version,
                     "git_revision", mmb_build_info_get()->git_revision, "build_type",
                     mmb_build_info_get()->build_type, "sanitizers",
                     mmb_build_info_get()->sanitizers, "kernel", u.release, "machine", u.machine,
                     "cpu_model", model, "online_cpus", (json_int_t)sysconf(_SC_NPROCESSORS_ONLN),
                     "memory_bytes", (json_int_t)pages * page, "command", cmd);
}

static const char run_help[] =
    "usage: mmbench run [--manager LIST] [--workload LIST] [--scale LIST] [--param KEY=V[,V]...]\n"
    "                   [--option KEY=V[,V]...] [--seed S] [--repetitions N] [--out FILE]\n"
    "                   [--resume FILE] [--hgrm DIR] [--verify] [--instructions] [--shard K/N]\n"
    "                   [--counters LIST] [--placement LIST] [--topology SPEC] [--format "
    "table|json|none]\n"
    "                   [--benchmark_*...]\n"
    "\n"
    "Runs the matrix managers x workloads x scales x parameter values x option values; each\n"
    "cell in a fresh process on a fresh heap, timed by Google Benchmark (one iteration per\n"
    "repetition), with every collection pause and refcount cascade recorded.\n"
    "\n"
    "  --manager LIST        names, comma separated, or all (default: all)\n"
    "  --workload LIST       names, families (many-small, cycle-heavy, pause-sensitive,\n"
    "                        threaded), globs, or all (default: all)\n"
    "  --scale LIST          tiny, small, default or large (default: default)\n"
    "  --param KEY=V[,V]     a workload parameter; several values make a matrix dimension (each\n"
    "                        KEY once: a repeated KEY is refused)\n"
    "  --option KEY=V[,V]    a manager option; several values make a matrix dimension (each\n"
    "                        KEY once)\n"
    "  --seed S              the workloads' seed, 0..18446744073709551615 (default 1); recorded\n"
    "                        as a JSON integer, or as a decimal string from 2^63 up\n"
    "  --repetitions N       repetitions of each cell, 1..64 (default 1)\n"
    "  --fresh-process       each repetition in a process of its own (default: a cell's\n"
    "                        repetitions share one); comparisons across builds need this\n"
    "  --out FILE            write all results as JSON (Google Benchmark's schema + mmbench)\n"
    "  --resume FILE         finish a run that was stopped: with the same flags and build, run\n"
    "                        only the cells FILE lacks and write the whole result to --out, or\n"
    "                        back to FILE\n"
    "  --hgrm DIR            write each pause and latency histogram as HdrHistogram .hgrm text\n"
    "  --verify              run every cell under the oracle (slow; for checking managers)\n"
    "  --instructions        count each cell's instructions exactly, under valgrind's callgrind\n"
    "                        with instrumentation on only while the workload runs (about 40x\n"
    "                        slower; use --repetitions 1: with more, the count is their sum)\n"
    "  --shard K/N           run only cells K, K+N, K+2N... (1-based, 1 <= K <= N <= 2^31-1)\n"
    "                        of the matrix; combine the N results with mmbench merge\n"
    "  --counters LIST       count events per phase (mutator, cascade, collector): default\n"
    "                        (cycles, instructions, l1d-misses, llc-misses, dtlb-misses),\n"
    "                        task-clock, page-faults, context-switches, cpu-migrations, PAPI_*\n"
    "                        presets; without hardware counters, software events instead\n"
    "  --placement LIST      bind each cell's threads: compact, spread, smt-pair, same-l3,\n"
    "                        cross-l3, cross-numa, cross-package (a matrix dimension; one the\n"
    "                        topology lacks for the cell's thread count is skipped with a note)\n"
    "  --topology SPEC       dry run: plan the cells' placements on another machine\n"
    "                        (synthetic:DESC or a hwloc FILE.xml) and print them; runs nothing\n"
    "  --format F            standard output: table (default), json, or none\n"
    "  --benchmark_*=VALUE   checked, then passed to Google Benchmark: min_time and\n"
    "                        min_warmup_time (seconds), enable_random_interleaving,\n"
    "                        report_aggregates_only, display_aggregates_only, counters_tabular\n"
    "                        (true or false), color, time_unit (ns, us, ms, s), context\n"
    "                        (KEY=V,...), perf_counters; --benchmark_repetitions=N is\n"
    "                        --repetitions N; mmbench sets _out, _format and _filter itself\n"
    "\n";

/* The rest of run's --help (one string would pass the length C compilers must support). */
static const char run_help_end[] =
    "SIGINT or SIGTERM stops the run: the running cell's processes are killed, the cells that\n"
    "finished are written to --out with \"complete\": false and the cells not run in\n"
    "context.mmbench (finish them with --resume), and run exits 130 or 143; a second signal\n"
    "exits at once. Temporary files go to $TMPDIR (default /tmp) and are removed.\n"
    "\n"
    "Exit status: 0 ok, 1 a cell failed (a self-check, the oracle, or a crash), 2 bad usage,\n"
    "130 or 143 stopped by SIGINT or SIGTERM.\n";

/* In a forked child: becomes `valgrind --tool=callgrind mmbench run ARGS --cell-index i`, with
 * instrumentation off until the cell's CALLGRIND_START_INSTRUMENTATION. */
static void exec_under_callgrind(int argc, char **argv, int i, const char *out,
                                 const char *cg_path) {
    char exe[4096], cg_flag[700], index[32];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0)
        _exit(EXIT_FAILED);
    exe[len] = '\0';
    snprintf(cg_flag, sizeof cg_flag, "--callgrind-out-file=%s", cg_path);
    snprintf(index, sizeof index, "%d", i);
    char **args = calloc((size_t)argc + 16, sizeof *args);
    int n = 0;
    args[n++] = "valgrind";
    args[n++] = "--tool=callgrind";
    args[n++] = "--instr-atstart=no";
    args[n++] = "--quiet";
    /* No gdbserver: its FIFOs in $TMPDIR would outlive a cell killed by a stop signal. */
    args[n++] = "--vgdb=no";
    args[n++] = cg_flag;
    args[n++] = exe;
    args[n++] = "run";
    for (int k = 1; k < argc; k++)
        args[n++] = argv[k];
    args[n++] = "--cell-index";
    args[n++] = index;
    args[n++] = "--cell-out";
    args[n++] = (char *)out;
    args[n] = NULL;
    /* hwloc's x86 backend reads CPUID, which valgrind emulates: it says so on every start and
     * disables itself. Leave it out; the OS backend gives the same topology. */
    setenv("HWLOC_COMPONENTS", "-x86", 1);
    /* Anything else valgrind puts in $TMPDIR goes into the run's own directory, removed at its
     * end whatever happens to the cell. */
    char tmpdir[700];
    snprintf(tmpdir, sizeof tmpdir, "%s", out);
    char *slash = strrchr(tmpdir, '/');
    if (slash) {
        *slash = '\0';
        setenv("TMPDIR", tmpdir, 1);
    }
    execvp("valgrind", args);
    fprintf(stderr, "mmbench: error: run: cannot run valgrind: %s\n", strerror(errno));
    _exit(EXIT_FAILED);
}

/* Adds callgrind's instruction total to every iteration entry of a cell's results. */
static void add_instruction_counts(json_t *root, const char *cg_path, const char *cell_name) {
    FILE *in = fopen(cg_path, "r");
    long long total = -1;
    char line[512];
    /* "totals:" is the whole run's count; "summary:" may cover only the last part dumped. */
    while (in && fgets(line, sizeof line, in))
        if (sscanf(line, "totals: %lld", &total) == 1)
            break;
    if (in)
        fclose(in);
    unlink(cg_path);
    if (total < 0) {
        mmb_error(EXIT_FAILED, "run", NULL, "%s: no instruction count in callgrind's output",
                  cell_name);
        return;
    }
    size_t k;
    json_t *b;
    json_array_foreach(json_object_get(root, "benchmarks"), k, b) {
        const char *type = json_string_value(json_object_get(b, "run_type"));
        if (type && strcmp(type, "iteration") == 0) {
            json_object_set_new(b, "instructions", json_integer(total));
            json_object_set_new(json_object_get(b, "mmbench"), "instructions", json_integer(total));
        }
    }
}

/* Runs one cell in a forked child (under callgrind with --instructions) and waits: EXIT_USAGE
 * when the child rejected a flag, EXIT_FAILED when no child could start, else EXIT_OK; the
 * child's status is in *ws. A stop signal kills the child (child.h). */
static int cell_in_child(const cell *c, const run_flags *f, int argc, char **argv, const char *path,
                         const char *cg_path, int *ws) {
    fflush(stdout);
    fflush(stderr);
    *ws = 0;
    pid_t pid = mmb_child_fork();
    if (pid < 0) {
        return mmb_error(EXIT_FAILED, "run", NULL, "%s: cannot start the cell's process: %s",
                         c->name, strerror(errno));
    }
    if (pid == 0 && f->instructions)
        exec_under_callgrind(argc, argv, c->index, path, cg_path);
    if (pid == 0)
        _exit(run_cell(c, f, path));
    if (mmb_child_wait(pid, ws) != 0)
        return EXIT_FAILED;
    return WIFEXITED(*ws) && WEXITSTATUS(*ws) == EXIT_USAGE ? EXIT_USAGE : EXIT_OK;
}

/* Adds the iteration entries of one single-repetition run as repetition r of n. */
static void append_repetition(json_t **root, json_t *part, json_int_t r, json_int_t n) {
    json_t *keep = json_array();
    size_t k;
    json_t *b;
    json_array_foreach(json_object_get(part, "benchmarks"), k, b) {
        const char *type = json_string_value(json_object_get(b, "run_type"));
        if (type && strcmp(type, "iteration") != 0)
            continue;
        json_object_set_new(b, "repetition_index", json_integer(r));
        json_object_set_new(b, "repetitions", json_integer(n));
        json_object_set_new(json_object_get(b, "mmbench"), "repetition", json_integer(r));
        json_object_set_new(json_object_get(b, "mmbench"), "fresh_process", json_true());
        json_array_append(keep, b);
    }
    if (!*root) {
        json_object_set_new(part, "benchmarks", keep);
        *root = part;
        return;
    }
    json_array_extend(json_object_get(*root, "benchmarks"), keep);
    json_decref(keep);
    json_decref(part);
}

static bool in_shard(const run_flags *f, int i) {
    return f->shard_n == 0 || i % f->shard_n == f->shard_k - 1;
}

/* Identifies the whole matrix (every cell's name, the seed, repetitions, the oracle, the build),
 * so that merge can refuse shards of different runs. FNV-1a, as text. */
static const char *matrix_fingerprint(const run_flags *f, const cell *cells, int n) {
    static char out[17];
    uint64_t h = 0xcbf29ce484222325ull;
    char buf[700];
    for (int i = -1; i < n; i++) {
        if (i < 0)
            snprintf(buf, sizeof buf, "%" PRIu64 "|%" PRIu64 "|%d|%s|%s|%s", f->seed,
                     f->repetitions, f->verify, mmb_build_info_get()->git_revision,
                     mmb_build_info_get()->build_type, mmb_build_info_get()->version);
        else
            snprintf(buf, sizeof buf, "%s", cells[i].name);
        for (const char *p = buf; *p; p++)
            h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
        h = (h ^ '\n') * 0x100000001b3ull;
    }
    snprintf(out, sizeof out, "%016" PRIx64, h);
    return out;
}

/* Splits a comma-separated LIST into out[*n...], the names copied into f's own text, so nothing
 * needs freeing. */
static int split_list(run_flags *f, const char *flag, const char *text, const char **out, int *n,
                      int max) {
    size_t len = strlen(text);
    if (len >= sizeof f->text - f->text_used)
        return usage_error("%s: the lists are too long (more than %zu bytes in all)", flag,
                           sizeof f->text);
    char *copy = memcpy(f->text + f->text_used, text, len + 1);
    f->text_used += len + 1;
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        if (*n == max)
            return usage_error("%s: more than %d names", flag, max);
        out[(*n)++] = tok;
    }
    return EXIT_OK;
}

/* --topology: prints each cell's plan for that machine and runs nothing. */
static int dry_run(const run_flags *f, hwloc_topology_t topo, const cell *cells, int n,
                   json_t *skipped) {
    (void)f;
    printf("topology: ");
    mmb_topology_describe(topo, stdout);
    for (int i = 0; i < n; i++) {
        printf("%-64s threads %u", cells[i].name, cells[i].threads);
        if (cells[i].placement >= 0) {
            int pus[MAX_THREADS];
            char why[300];
            mmb_placement_plan(topo, (mmb_placement)cells[i].placement, (int)cells[i].threads, pus,
                               why, sizeof why);
            printf(" on PUs");
            for (unsigned t = 0; t < cells[i].threads; t++)
                printf("%s%d", t ? "," : " ", pus[t]);
        } else {
            printf(" unbound");
        }
        putchar('\n');
    }
    size_t k;
    json_t *s;
    json_array_foreach(skipped, k, s)
        printf("%-64s skipped: %s\n", json_string_value(json_object_get(s, "cell")),
               json_string_value(json_object_get(s, "reason")));
    printf("dry run (--topology): nothing was run\n");
    return EXIT_OK;
}

/* Which placements this machine offers for the largest thread count in the matrix (at least 2):
 * {name: true | "why not"}. */
static json_t *placements_json(hwloc_topology_t topo, const cell *cells, int n) {
    int threads = 2;
    for (int i = 0; i < n; i++)
        if ((int)cells[i].threads > threads)
            threads = (int)cells[i].threads;
    json_t *o = json_object();
    for (int k = 0; k < MMB_PLACE_COUNT; k++) {
        int pus[MAX_THREADS];
        char why[300];
        bool ok = mmb_placement_plan(topo, (mmb_placement)k, threads, pus, why, sizeof why) == 0;
        json_object_set_new(o, mmb_placement_name((mmb_placement)k),
                            ok ? json_true() : json_string(why));
    }
    json_object_set_new(o, "threads", json_integer(threads));
    return o;
}

/* Scaling against one thread: for each cell with threads=T > 1 whose matrix also has the same
 * cell with threads=1, speedup = rate(T) / rate(1) and efficiency = speedup / T (medians of
 * work_units_per_second), added to every entry of the cell. */
static void add_scaling(json_t *benchmarks) {
    size_t i;
    json_t *b;
    json_array_foreach(benchmarks, i, b) {
        json_t *mm = json_object_get(b, "mmbench");
        const char *name = json_string_value(json_object_get(mm, "cell"));
        json_t *th = json_object_get(json_object_get(b, "mmbench"), "threads");
        json_int_t t = json_integer_value(json_object_get(th, "count"));
        if (!name || t < 2)
            continue;
        char key[32], base[600];
        snprintf(key, sizeof key, "/threads=%lld", (long long)t);
        const char *at = strstr(name, key);
        if (!at || (at[strlen(key)] != '\0' && at[strlen(key)] != '/'))
            continue;
        snprintf(base, sizeof base, "%.*s/threads=1%s", (int)(at - name), name, at + strlen(key));
        double r1 = mmb_table_cell_median(benchmarks, base, "work_units_per_second");
        double rt = mmb_table_cell_median(benchmarks, name, "work_units_per_second");
        if (!(r1 > 0) || !(rt > 0))
            continue;
        double speedup = rt / r1;
        json_object_set_new(mm, "scaling",
                            json_pack("{sssfsf}", "baseline_cell", base, "speedup", speedup,
                                      "efficiency", speedup / (double)t));
        json_object_set_new(b, "scaling_efficiency", json_real(speedup / (double)t));
    }
}

/* ---- the command: parse, plan, run, emit, one cleanup ------------------------------------------
 */

enum { RUN_HELP = -1 }; /* parse_flags: --help was printed */

/* Everything a run holds from planning to its end, released in one place (run_cleanup). */
typedef struct run_state {
    hwloc_topology_t here, plan_on;
    cell *cells; /* the matrix (a static array: its untouched pages stay out of every cell's
                  * peak RSS, which a forked child inherits) */
    int ncells;
    json_t *skipped;         /* cells left out of the matrix, and why */
    json_t *instr_info;      /* --instructions: valgrind found or not */
    char dir[512];           /* the temporary directory, "" when none */
    json_t *done[MAX_CELLS]; /* per cell: its entries (an array); NULL: not run */
    json_t *gb_context;      /* Google Benchmark's context, from the first cell that ran */
    json_t *resumed;         /* --resume: the document being finished */
    uint64_t start_ns;
    int failed; /* a cell failed, or the results could not be written */
} run_state;

static int parse_dim_flag(run_flags *f, bool param, const char *text) {
    const char *flag = param ? "--param" : "--option";
    dim *dims = param ? f->params : f->options;
    int *n = param ? &f->nparams : &f->noptions;
    if (*n == MAX_DIMS)
        return usage_error("too many %s flags (at most %d)", flag, MAX_DIMS);
    if (parse_dim(flag, text, &dims[*n]))
        return EXIT_USAGE;
    for (int k = 0; k < *n; k++)
        if (strcmp(dims[k].key, dims[*n].key) == 0)
            return mmb_usage_error("run", "give every value in one flag: KEY=V1,V2",
                                   "%s: key '%s' given twice", flag, dims[*n].key);
    (*n)++;
    return EXIT_OK;
}

/* --shard K/N: 1 <= K <= N <= INT_MAX. */
static int parse_shard(run_flags *f, const char *text) {
    const char *slash = strchr(text, '/');
    char k_text[32];
    uint64_t k = 0, n = 0;
    if (!slash || (size_t)(slash - text) >= sizeof k_text)
        k_text[0] = '\0';
    else
        snprintf(k_text, sizeof k_text, "%.*s", (int)(slash - text), text);
    if (!slash || !mmb_parse_u64(k_text, 1, INT_MAX, &k) ||
        !mmb_parse_u64(slash + 1, 1, INT_MAX, &n) || k > n)
        return usage_error("--shard: bad value '%s' (expected K/N with 1 <= K <= N <= %d)", text,
                           INT_MAX);
    f->shard_k = (int)k;
    f->shard_n = (int)n;
    return EXIT_OK;
}

/* Google Benchmark's flags: checked here, before anything runs, then passed through (gbench.cc);
 * --benchmark_repetitions=N is --repetitions N. */
static int take_gb_flag(run_flags *f, char *arg) {
    static const char reps[] = "--benchmark_repetitions";
    if (strncmp(arg, reps, sizeof reps - 1) == 0 &&
        (arg[sizeof reps - 1] == '=' || arg[sizeof reps - 1] == '\0'))
        return mmb_flag_u64("run", reps, arg[sizeof reps - 1] ? arg + sizeof reps : "", 1, 64,
                            &f->repetitions);
    if (mmb_gb_flag_check(arg) != EXIT_OK)
        return EXIT_USAGE;
    if (f->ngb == (int)(sizeof f->gb_args / sizeof f->gb_args[0]))
        return usage_error("too many --benchmark_ flags");
    f->gb_args[f->ngb++] = arg;
    return EXIT_OK;
}

static int parse_option(run_flags *f, int c, const char *arg) {
    uint64_t v;
    switch (c) {
    case 'm':
        return split_list(f, "--manager", arg, f->managers, &f->nmanagers, 64);
    case 'w':
        return split_list(f, "--workload", arg, f->workloads, &f->nworkloads, 64);
    case 's': {
        const char *names[8];
        int n = 0;
        if (split_list(f, "--scale", arg, names, &n, 8) != EXIT_OK)
            return EXIT_USAGE;
        for (int i = 0; i < n; i++) {
            int s = 0;
            while (s < MMB_SCALE_COUNT && strcmp(names[i], mmb_scale_names[s]))
                s++;
            if (s == MMB_SCALE_COUNT)
                return usage_error("--scale: unknown scale '%s' (hint: tiny, small, default "
                                   "or large)",
                                   names[i]);
            if (f->nscales < MMB_SCALE_COUNT)
                f->scales[f->nscales++] = (mmb_scale)s;
        }
        return EXIT_OK;
    }
    case 'p':
    case 'o':
        return parse_dim_flag(f, c == 'p', arg);
    case 'S':
        return mmb_flag_u64("run", "--seed", arg, 0, UINT64_MAX, &f->seed);
    case 'r':
        return mmb_flag_u64("run", "--repetitions", arg, 1, 64, &f->repetitions);
    case 'O':
        f->out = arg;
        return EXIT_OK;
    case 'H':
        f->hgrm = arg;
        return EXIT_OK;
    case 'R':
        f->resume = arg;
        return EXIT_OK;
    case 'v':
        f->verify = true;
        return EXIT_OK;
    case 'I':
        f->instructions = true;
        return EXIT_OK;
    case 'F':
        f->fresh_process = true;
        return EXIT_OK;
    case 'X':
        if (mmb_flag_u64("run", "--cell-index", arg, 0, MAX_CELLS - 1, &v) != EXIT_OK)
            return EXIT_USAGE;
        f->cell_index = (int)v;
        return EXIT_OK;
    case 'Y':
        f->cell_out = arg;
        return EXIT_OK;
    case 'K':
        return parse_shard(f, arg);
    case 'P': {
        const char *names[MMB_PLACE_COUNT + 1];
        int n = 0;
        if (split_list(f, "--placement", arg, names, &n, MMB_PLACE_COUNT + 1) != EXIT_OK)
            return EXIT_USAGE;
        for (int i = 0; i < n; i++) {
            int k = mmb_placement_parse(names[i]);
            if (k < 0)
                return usage_error("--placement: unknown placement '%s' (hint: compact, "
                                   "spread, smt-pair, same-l3, cross-l3, cross-numa or "
                                   "cross-package)",
                                   names[i]);
            bool dup = false;
            for (int j = 0; j < f->nplacements; j++)
                dup |= f->placements[j] == k;
            if (!dup)
                f->placements[f->nplacements++] = k;
        }
        return EXIT_OK;
    }
    case 'T':
        f->topology = arg;
        return EXIT_OK;
    case 'C': {
        static mmb_counters_plan plan;
        char err[600];
        if (mmb_counters_parse(arg, &plan, err, sizeof err) != 0)
            return usage_error("--counters: %s", err);
        f->counters = &plan;
        return EXIT_OK;
    }
    case 'f':
        f->format = strcmp(arg, "table") == 0  ? 0
                    : strcmp(arg, "json") == 0 ? 1
                    : strcmp(arg, "none") == 0 ? 2
                                               : -1;
        if (f->format < 0)
            return usage_error("--format: bad value '%s' (expected table, json or none)", arg);
        return EXIT_OK;
    }
    return usage_error("unknown flag (hint: mmbench run --help)");
}

/* Reads the flags into f (defaults for what is not given). EXIT_OK, EXIT_USAGE, or RUN_HELP
 * when --help was printed. Allocates nothing. */
static int parse_flags(int argc, char **argv, run_flags *f) {
    memset(f, 0, sizeof *f);
    f->seed = 1;
    f->repetitions = 1;
    f->cell_index = -1;
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},
        {"manager", required_argument, NULL, 'm'},
        {"workload", required_argument, NULL, 'w'},
        {"scale", required_argument, NULL, 's'},
        {"param", required_argument, NULL, 'p'},
        {"option", required_argument, NULL, 'o'},
        {"seed", required_argument, NULL, 'S'},
        {"repetitions", required_argument, NULL, 'r'},
        {"out", required_argument, NULL, 'O'},
        {"hgrm", required_argument, NULL, 'H'},
        {"resume", required_argument, NULL, 'R'},
        {"verify", no_argument, NULL, 'v'},
        {"shard", required_argument, NULL, 'K'},
        {"instructions", no_argument, NULL, 'I'},
        {"fresh-process", no_argument, NULL, 'F'},
        {"cell-index", required_argument, NULL, 'X'},
        {"cell-out", required_argument, NULL, 'Y'},
        {"format", required_argument, NULL, 'f'},
        {"placement", required_argument, NULL, 'P'},
        {"counters", required_argument, NULL, 'C'},
        {"topology", required_argument, NULL, 'T'},
        {NULL, 0, NULL, 0},
    };
    /* Google Benchmark's flags are checked now and passed through; getopt sees the rest. */
    static char *ours[256];
    int nours = 0;
    for (int i = 0; i < argc; i++) {
        if (i > 0 && strncmp(argv[i], "--benchmark_", 12) == 0) {
            if (take_gb_flag(f, argv[i]) != EXIT_OK)
                return EXIT_USAGE;
        } else if (nours == 255) {
            return usage_error("too many arguments");
        } else {
            ours[nours++] = argv[i];
        }
    }
    ours[nours] = NULL;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(nours, ours, ":h", opts, NULL)) != -1) {
        if (c == 'h') {
            fputs(run_help, stdout);
            fputs(run_help_end, stdout);
            return RUN_HELP;
        }
        if (c == ':')
            return usage_error("flag '%s' needs a value (hint: mmbench run --help)",
                               ours[optind - 1]);
        if (c == '?')
            return usage_error("unknown flag '%s' (hint: mmbench run --help)", ours[optind - 1]);
        if (parse_option(f, c, optarg) != EXIT_OK)
            return EXIT_USAGE;
    }
    if (optind < nours)
        return usage_error("unexpected argument '%s' (hint: mmbench run --help)", ours[optind]);
    if (f->resume && f->topology)
        return usage_error("--resume does not go with --topology (hint: mmbench run --help)");
    if (!f->nmanagers)
        f->managers[f->nmanagers++] = "all";
    if (!f->nworkloads)
        f->workloads[f->nworkloads++] = "all";
    if (!f->nscales)
        f->scales[f->nscales++] = MMB_SCALE_DEFAULT;
    return EXIT_OK;
}

/* The build a results document says made it, as "KEY VALUE" for the first field that differs
 * from this build; NULL when it is this build. */
static const char *other_build(json_t *mm, char *buf, size_t n) {
    const char *keys[] = {"version", "git_revision", "build_type", "sanitizers"};
    const char *ours[] = {mmb_build_info_get()->version, mmb_build_info_get()->git_revision,
                          mmb_build_info_get()->build_type, mmb_build_info_get()->sanitizers};
    for (size_t i = 0; i < 4; i++) {
        const char *theirs = json_string_value(json_object_get(mm, keys[i]));
        if (!theirs || strcmp(theirs, ours[i]) != 0) {
            snprintf(buf, n, "%s %s, this build's %s", keys[i], theirs ? theirs : "(none)",
                     ours[i]);
            return buf;
        }
    }
    return NULL;
}

/* --resume FILE: checks that FILE is a run of this matrix by this build, and takes its cells
 * as done. */
static int load_resume(const run_flags *f, run_state *st) {
    const char *file = f->resume;
    json_error_t jerr;
    st->resumed = json_load_file(file, 0, &jerr);
    if (!st->resumed)
        return usage_error("--resume %s: cannot read: %s", file, jerr.text);
    json_t *context = json_object_get(st->resumed, "context");
    json_t *mm = json_object_get(context, "mmbench");
    json_t *benchmarks = json_object_get(st->resumed, "benchmarks");
    const char *fp =
        json_string_value(json_object_get(json_object_get(mm, "matrix"), "fingerprint"));
    if (!fp || !json_is_array(benchmarks))
        return usage_error("--resume %s: not a results file of mmbench run (no "
                           "context.mmbench.matrix)",
                           file);
    char why[300];
    if (other_build(mm, why, sizeof why))
        return mmb_usage_error("run", "resume with the build that started the run",
                               "--resume %s: made by another build (%s)", file, why);
    const char *ours = matrix_fingerprint(f, st->cells, st->ncells);
    if (strcmp(fp, ours) != 0)
        return mmb_usage_error(
            "run", "give the flags of the interrupted run, in context.mmbench.command",
            "--resume %s: another matrix (fingerprint %s, these flags make %s)", file, fp, ours);
    json_t *shard = json_object_get(mm, "shard");
    int k = (int)json_integer_value(json_object_get(shard, "index"));
    int n = (int)json_integer_value(json_object_get(shard, "count"));
    if (k != f->shard_k || n != f->shard_n) {
        char theirs[32] = "none", these[32] = "none";
        if (n)
            snprintf(theirs, sizeof theirs, "%d/%d", k, n);
        if (f->shard_n)
            snprintf(these, sizeof these, "%d/%d", f->shard_k, f->shard_n);
        return mmb_usage_error("run", "give the --shard of the interrupted run",
                               "--resume %s: another shard (%s, these flags %s)", file, theirs,
                               these);
    }
    size_t i;
    json_t *b;
    json_array_foreach(benchmarks, i, b) {
        json_t *cm = json_object_get(b, "mmbench");
        const char *name = json_string_value(json_object_get(cm, "cell"));
        json_int_t ci = json_integer_value(json_object_get(cm, "cell_index"));
        if (!name || ci < 0 || ci >= st->ncells || strcmp(st->cells[ci].name, name) != 0 ||
            !in_shard(f, (int)ci))
            return usage_error("--resume %s: entry %zu (cell %s) is not a cell of this matrix",
                               file, i, name ? name : "(none)");
        if (!st->done[ci])
            st->done[ci] = json_array();
        json_array_append(st->done[ci], b);
        if (json_is_true(json_object_get(b, "error_occurred")))
            st->failed = 1; /* the whole run's status counts the cells run before */
    }
    st->gb_context = json_deep_copy(context);
    json_object_del(st->gb_context, "mmbench");
    return EXIT_OK;
}

/* Loads the topologies and expands the matrix; handles the dry run (--topology) and the one-cell
 * mode (--cell-index) here. *finished: nothing is left to run. */
static int plan_run(run_flags *f, run_state *st, bool *finished) {
    char topo_err[300];
    *finished = false;
    st->skipped = json_array();
    /* This machine's topology goes into every result; placements are planned on it, or on the
     * --topology machine for a dry run. */
    if (mmb_topology_load(NULL, &st->here, topo_err, sizeof topo_err) != 0)
        return usage_error("%s", topo_err);
    if (f->topology && mmb_topology_load(f->topology, &st->plan_on, topo_err, sizeof topo_err) != 0)
        return usage_error("--topology: %s", topo_err);
    int status =
        build_cells(f, st->plan_on ? st->plan_on : st->here, st->cells, &st->ncells, st->skipped);
    if (status != EXIT_OK)
        return status;
    if (f->topology) {
        *finished = true;
        return dry_run(f, st->plan_on, st->cells, st->ncells, st->skipped);
    }
    if (f->cell_index >= 0) { /* one cell, in this process: the parent runs us under valgrind */
        f->counters = NULL;   /* under callgrind nothing is counted for real */
        *finished = true;
        return f->cell_index < st->ncells && f->cell_out
                   ? run_cell(&st->cells[f->cell_index], f, f->cell_out)
                   : usage_error("bad internal --cell-index");
    }
    size_t k;
    json_t *s;
    json_array_foreach(st->skipped, k, s) fprintf(stderr, "mmbench: note: run: skipping %s: %s\n",
                                                  json_string_value(json_object_get(s, "cell")),
                                                  json_string_value(json_object_get(s, "reason")));
    if (st->ncells == 0)
        return usage_error("every cell of the matrix was skipped (see the notes above)");
    if (f->resume && load_resume(f, st) != EXIT_OK)
        return EXIT_USAGE;
    /* Counters are probed once, here, before any cell forks; without hardware counters say so
     * once and record why. Under callgrind nothing real is counted, so not then. */
    if (f->counters && f->instructions) {
        fprintf(stderr, "mmbench: warning: run: --counters is ignored with --instructions (under "
                        "valgrind nothing is counted for real)\n");
        f->counters = NULL;
    }
    if (f->counters) {
        mmb_counters_probe(f->counters);
        mmb_counters_note(f->counters, stderr);
    }
    /* --instructions needs valgrind; without it, say so once and record why. */
    if (f->instructions) {
        char version[128] = "";
        FILE *v = popen("valgrind --version 2>/dev/null", "r");
        bool ok = v && fgets(version, sizeof version, v) && strncmp(version, "valgrind", 8) == 0;
        if (v)
            pclose(v);
        version[strcspn(version, "\n")] = '\0';
        if (ok) {
            st->instr_info =
                json_pack("{sbssss}", "available", 1, "tool", "callgrind", "version", version);
        } else {
            fprintf(stderr, "mmbench: warning: run: --instructions: valgrind not found on PATH; "
                            "running without instruction counts (hint: apt-get install "
                            "valgrind)\n");
            st->instr_info =
                json_pack("{sbss}", "available", 0, "reason", "valgrind not found on PATH");
            f->instructions = false;
        }
    }
    return EXIT_OK;
}

/* The entry that stands for a cell whose process died (a crash in the manager, say). */
static json_t *died_entry(const cell *c, const run_flags *f, int ws, bool tty) {
    char why[128];
    if (WIFSIGNALED(ws))
        snprintf(why, sizeof why, "the cell's process was killed by signal %d (%s)", WTERMSIG(ws),
                 strsignal(WTERMSIG(ws)));
    else
        snprintf(why, sizeof why, "the cell's process exited with status %d", WEXITSTATUS(ws));
    if (tty)
        fprintf(stderr, "\r\033[K");
    mmb_error(EXIT_FAILED, "run", NULL, "%s: %s", c->name, why);
    json_t *entry =
        json_pack("{sssssbssso}", "name", c->name, "run_type", "iteration", "error_occurred", 1,
                  "error_message", why, "mmbench", cell_json(c, f));
    json_t *list = json_array();
    json_array_append_new(list, entry);
    return list;
}

/* Runs cell i in child processes (one, or one per repetition with --fresh-process): its results
 * document in *root, NULL when the cell's process died or a stop signal came before the cell
 * finished (a cell that finished first is kept). EXIT_USAGE when a child refused a flag. */
static int run_cell_processes(const run_flags *f, run_state *st, int i, int argc, char **argv,
                              json_t **root, int *ws) {
    char path[600], cg_path[600];
    snprintf(path, sizeof path, "%s/cell-%d.json", st->dir, i);
    snprintf(cg_path, sizeof cg_path, "%s/callgrind-%d.out", st->dir, i);
    const cell *c = &st->cells[i];
    json_error_t jerr;
    *root = NULL;
    if (!f->fresh_process || f->instructions) {
        int status = cell_in_child(c, f, argc, argv, path, cg_path, ws);
        if (status == EXIT_OK && !mmb_stop_signal())
            *root = json_load_file(path, 0, &jerr);
        unlink(path);
        if (*root && f->instructions)
            add_instruction_counts(*root, cg_path, c->name);
        return status;
    }
    /* Each repetition in a process of its own: the spread then includes what differs between
     * processes (memory layout, allocator state), which is what a comparison across builds must
     * be tested against. */
    run_flags one = *f;
    one.repetitions = 1;
    for (uint64_t r = 0; r < f->repetitions && !mmb_stop_signal(); r++) {
        int status = cell_in_child(c, &one, argc, argv, path, cg_path, ws);
        json_t *part = status == EXIT_OK ? json_load_file(path, 0, &jerr) : NULL;
        unlink(path);
        if (!part) {
            json_decref(*root);
            *root = NULL;
            return status;
        }
        append_repetition(root, part, (json_int_t)r, (json_int_t)f->repetitions);
    }
    if (mmb_stop_signal() && json_array_size(json_object_get(*root, "benchmarks")) <
                                 (size_t)f->repetitions) { /* stopped between repetitions */
        json_decref(*root);
        *root = NULL;
    }
    return EXIT_OK;
}

/* Runs every cell of the shard that is not done yet, each in a child, until a stop signal. */
static int run_cells(const run_flags *f, run_state *st, int argc, char **argv) {
    char why[300];
    if (mmb_tempdir_create("mmbench-run", st->dir, sizeof st->dir, why, sizeof why) != 0)
        return usage_error("%s", why);
    bool tty = isatty(STDERR_FILENO);
    int todo = 0, started = 0;
    for (int i = 0; i < st->ncells; i++)
        todo += in_shard(f, i) && !st->done[i];
    for (int i = 0; i < st->ncells && !mmb_stop_signal(); i++) {
        if (!in_shard(f, i) || st->done[i])
            continue;
        started++;
        if (tty) {
            double elapsed = (double)(mmb_now_ns() - st->start_ns) * 1e-9;
            double left = started > 1 ? elapsed / (started - 1) * (todo - started + 1) : 0;
            fprintf(stderr, "\r\033[Kmmbench: cell %d of %d: %s (%.0f s left)", started, todo,
                    st->cells[i].name, left);
        }
        int ws = 0;
        json_t *root = NULL;
        int status = run_cell_processes(f, st, i, argc, argv, &root, &ws);
        if (mmb_stop_signal() && !root)
            break;                /* the cell was stopped: it is not done */
        if (status == EXIT_USAGE) /* a flag the child refused: the child said which */
            return EXIT_USAGE;
        if (!root) {
            st->done[i] = died_entry(&st->cells[i], f, ws, tty);
            st->failed = 1;
            continue;
        }
        if (!st->gb_context)
            st->gb_context = json_incref(json_object_get(root, "context"));
        st->done[i] = json_array();
        size_t k;
        json_t *b;
        json_array_foreach(json_object_get(root, "benchmarks"), k, b) {
            if (json_is_true(json_object_get(b, "error_occurred"))) {
                if (tty)
                    fprintf(stderr, "\r\033[K");
                mmb_error(EXIT_FAILED, "run", NULL, "%s: %s", st->cells[i].name,
                          json_string_value(json_object_get(b, "error_message")));
                st->failed = 1;
            }
            json_array_append(st->done[i], b);
        }
        json_decref(root);
    }
    if (tty)
        fprintf(stderr, "\r\033[K");
    return EXIT_OK;
}

/* The results document: every cell that ran, in matrix order, and the context; `complete` says
 * whether every cell of the shard ran, and `not_run` lists those that did not. */
static json_t *results_doc(const run_flags *f, run_state *st, int argc, char **argv, int *not_run) {
    json_t *merged = json_array(), *missing = json_array();
    for (int i = 0; i < st->ncells; i++) {
        if (!in_shard(f, i))
            continue;
        if (st->done[i])
            json_array_extend(merged, st->done[i]);
        else
            json_array_append_new(missing, json_string(st->cells[i].name));
    }
    *not_run = (int)json_array_size(missing);
    json_t *context = st->gb_context ? json_deep_copy(st->gb_context) : json_object();
    json_t *mm = machine_context(argc, argv);
    json_object_set_new(context, "mmbench", mm);
    json_object_set_new(mm, "complete", json_boolean(*not_run == 0));
    json_object_set_new(mm, "not_run", missing);
    json_object_set_new(mm, "matrix",
                        json_pack("{sisssoso}", "cells", st->ncells, "fingerprint",
                                  matrix_fingerprint(f, st->cells, st->ncells), "seed",
                                  seed_json(f->seed), "repetitions",
                                  json_integer((json_int_t)f->repetitions)));
    if (st->instr_info)
        json_object_set(mm, "instructions", st->instr_info);
    if (f->counters)
        json_object_set_new(mm, "counters", mmb_counters_context_json(f->counters));
    if (f->shard_n)
        json_object_set_new(mm, "shard",
                            json_pack("{sisi}", "index", f->shard_k, "count", f->shard_n));
    json_t *topo = mmb_topology_json(st->here);
    json_object_set_new(topo, "placements", placements_json(st->here, st->cells, st->ncells));
    json_object_set_new(mm, "topology", topo);
    json_object_set(mm, "skipped", st->skipped);
    add_scaling(merged);
    double wall = (double)(mmb_now_ns() - st->start_ns) * 1e-9;
    if (st->resumed) {
        json_t *before = json_object_get(json_object_get(st->resumed, "context"), "mmbench");
        wall += json_number_value(json_object_get(before, "wall_seconds"));
        json_object_set_new(mm, "resumed",
                            json_pack("{sssO}", "file", f->resume, "command",
                                      json_object_get(before, "command")
                                          ? json_object_get(before, "command")
                                          : json_null()));
    }
    json_object_set_new(mm, "wall_seconds", json_real(wall));
    return json_pack("{soso}", "context", context, "benchmarks", merged);
}

/* Writes the results (--out, or back to the --resume file) and prints them (--format). */
static int emit_results(const run_flags *f, run_state *st, int argc, char **argv) {
    int not_run = 0;
    json_t *doc = results_doc(f, st, argc, argv, &not_run);
    const char *out = f->out ? f->out : f->resume;
    if (out && mmb_outfile_write_json(doc, "run", "--out", out) != 0)
        st->failed = 1;
    json_t *benchmarks = json_object_get(doc, "benchmarks");
    if (f->format == 0) {
        mmb_table_print(benchmarks);
        mmb_table_print_threads(benchmarks);
    } else if (f->format == 1) {
        json_dumpf(doc, stdout, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
    }
    json_decref(doc);
    int sig = mmb_stop_signal();
    if (sig)
        fprintf(stderr,
                "mmbench: error: run: stopped by %s: %d %s not run%s%s (hint: mmbench run "
                "... --resume %s runs only those)\n",
                sig == SIGINT ? "SIGINT" : "SIGTERM", not_run, not_run == 1 ? "cell" : "cells",
                out ? ", the others are in " : "", out ? out : "", out ? out : "FILE");
    return EXIT_OK;
}

static void run_cleanup(run_state *st) {
    mmb_tempdir_remove(st->dir);
    st->dir[0] = '\0';
    mmb_stop_signals_restore();
    if (st->here)
        hwloc_topology_destroy(st->here);
    if (st->plan_on)
        hwloc_topology_destroy(st->plan_on);
    for (int i = 0; i < st->ncells; i++)
        json_decref(st->done[i]);
    json_decref(st->skipped);
    json_decref(st->instr_info);
    json_decref(st->gb_context);
    json_decref(st->resumed);
    memset(st, 0, sizeof *st);
}

int mmb_run_main(int argc, char **argv) {
    static run_flags f;
    int status = parse_flags(argc, argv, &f);
    if (status != EXIT_OK)
        return status == RUN_HELP ? EXIT_OK : status;
    if (f.hgrm) {
        struct stat sb;
        if (mkdir(f.hgrm, 0777) != 0 &&
            !(errno == EEXIST && stat(f.hgrm, &sb) == 0 && S_ISDIR(sb.st_mode)))
            return usage_error("--hgrm %s: cannot create the directory: %s", f.hgrm,
                               strerror(errno));
    }
    /* The destinations are checked before the first cell runs (outfile.h); a --cell-index child
     * (run by the parent, under valgrind) was checked there. */
    if (f.cell_index < 0 &&
        ((f.hgrm && mmb_outfile_check_dir("run", "--hgrm", f.hgrm) != EXIT_OK) ||
         (f.out && mmb_outfile_check("run", "--out", f.out) != EXIT_OK) ||
         (!f.out && f.resume && mmb_outfile_check("run", "--resume", f.resume) != EXIT_OK)))
        return EXIT_USAGE;

    /* From here on every path goes through run_cleanup. */
    static cell cells[MAX_CELLS];
    static run_state st;
    memset(&st, 0, sizeof st);
    st.cells = cells;
    st.start_ns = mmb_now_ns();
    bool finished = false;
    status = plan_run(&f, &st, &finished);
    if (status == EXIT_OK && !finished) {
        mmb_stop_signals_install();
        status = run_cells(&f, &st, argc, argv);
        if (status == EXIT_OK)
            status = emit_results(&f, &st, argc, argv);
        int sig = mmb_stop_signal();
        if (sig)
            status = 128 + sig;
        else if (status == EXIT_OK && st.failed)
            status = EXIT_FAILED;
    }
    run_cleanup(&st);
    return status;
}

/* parse_dim for the fuzz targets and their regression test (tests/fuzz): the status, and in
 * *nvalues the number of values parsed (0 on error). */
int mmb_run_parse_dim(const char *flag, const char *text, int *nvalues) {
    dim d;
    int status = parse_dim(flag, text, &d);
    *nvalues = status == EXIT_OK ? d.nvalues : 0;
    return status;
}
