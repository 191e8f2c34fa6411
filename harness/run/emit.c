/* The results of `mmbench run` (run_internal.h): every metric a results entry gets passes
 * through the metric registry here; the document's context (machine, build, matrix, topology,
 * counters), scaling against one thread, and the document written and printed. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "alloc_registry.h"
#include "build_info.h"
#include "child.h"
#include "diag.h"
#include "results.h"
#include "metrics.h"
#include "mmbench/clock.h"
#include "outfile.h"
#include "plugins.h"
#include "run_internal.h"
#include "workload.h"
#include "table.h"

/* The registry row comes first: a metric without one is a programming error, caught on the
 * first run that emits it rather than by compare or report finding an unknown key. */
static void check_metric(const char *name) {
    if (mmb_metric_find(name) || mmb_metric_is_bookkeeping(name))
        return;
    fprintf(stderr,
            "mmbench: error: run: metric '%s' has no row in the metric registry (hint: add it "
            "to harness/core/metrics.c)\n",
            name);
    abort();
}

void mmb_run_emit_metric(mmb_gb_sink *sink, const char *name, double value, int kind) {
    check_metric(name);
    mmb_gb_counter(sink, name, value, kind);
}

void mmb_run_emit_entry(json_t *entry, const char *name, json_t *value) {
    check_metric(name);
    json_object_set_new(entry, name, value);
}

/* ---- the results document ------------------------------------------------------------------- */

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

/* Which placements this machine offers for the largest thread count in the matrix (at least 2):
 * {name: true | "why not"}. */
static json_t *placements_json(hwloc_topology_t topo, const mmb_run_cell *cells, int n) {
    int threads = 2;
    for (int i = 0; i < n; i++)
        if ((int)cells[i].threads > threads)
            threads = (int)cells[i].threads;
    json_t *o = json_object();
    for (int k = 0; k < MMB_PLACE_COUNT; k++) {
        int pus[MMB_RUN_MAX_THREADS];
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
        const char *name = mmb_results_cell(b);
        /* the cell's thread count (mmbench.threads.count) */
        json_int_t t = json_integer_value(json_object_get(json_object_get(mm, "threads"), "count"));
        if (!name || t < 2)
            continue;
        char key[32], base[600];
        snprintf(key, sizeof key, "/" MMB_PARAM_THREADS "=%lld", (long long)t);
        const char *at = strstr(name, key);
        if (!at || (at[strlen(key)] != '\0' && at[strlen(key)] != '/'))
            continue;
        snprintf(base, sizeof base, "%.*s/" MMB_PARAM_THREADS "=1%s", (int)(at - name), name,
                 at + strlen(key));
        double r1 = mmb_table_cell_median(benchmarks, base, "work_units_per_second");
        double rt = mmb_table_cell_median(benchmarks, name, "work_units_per_second");
        if (!(r1 > 0) || !(rt > 0))
            continue;
        double speedup = rt / r1;
        json_object_set_new(mm, "scaling",
                            json_pack("{sssfsf}", "baseline_cell", base, "speedup", speedup,
                                      "efficiency", speedup / (double)t));
        mmb_run_emit_entry(b, "scaling_efficiency", json_real(speedup / (double)t));
    }
}

/* The plug-ins this run loaded, in context.mmbench.plugins ({path, fnv1a64, name, version}), and
 * on each entry of a plug-in's manager, mmbench.plugin: its path. Nothing when none was loaded. */
static void add_plugins(json_t *mm, json_t *benchmarks) {
    if (mmb_plugin_count() == 0)
        return;
    json_t *list = json_array();
    for (size_t i = 0; i < mmb_plugin_count(); i++) {
        const mmb_plugin_loaded *p = mmb_plugin_at(i);
        json_array_append_new(list,
                              json_pack("{ssssssss?}", "path", p->path, "fnv1a64", p->fnv1a64,
                                        "name", p->plugin->name, "version", p->plugin->version));
    }
    json_object_set_new(mm, "plugins", list);
    size_t i;
    json_t *b;
    json_array_foreach(benchmarks, i, b) {
        json_t *cell = json_object_get(b, "mmbench");
        const char *name = json_string_value(json_object_get(cell, "manager"));
        const mmb_plugin_loaded *p = name ? mmb_plugin_of(mmb_manager_find(name)) : NULL;
        if (p)
            json_object_set_new(cell, "plugin", json_string(p->path));
    }
}

/* context.mmbench.external: the external managers in the matrix, each once, with the library's
 * version ([{name, version}], empty when the matrix has none). */
static json_t *externals_json(const mmb_run_cell *cells, int n) {
    json_t *list = json_array();
    for (int i = 0; i < n; i++) {
        const mmb_manager *m = cells[i].manager;
        bool seen = false;
        for (int k = 0; k < i && !seen; k++)
            seen = cells[k].manager == m;
        if (seen || !mmb_manager_is_external(m))
            continue;
        const char *v = mmb_manager_version(m);
        json_array_append_new(list,
                              json_pack("{ssss}", "name", m->name, "version", v ? v : "unknown"));
    }
    return list;
}

/* context.mmbench.allocators: the matrix's allocators, each once, with how each was attached and
 * its version: this process's, or for a preloaded one (loaded only in its cells' processes) what
 * its first cell that ran recorded ([{name, attach, version[, library]}]). */
static json_t *allocators_json(const mmb_run_cell *cells, int n, json_t *merged) {
    static const char *const attach[] = {"builtin", "api", "preload"};
    json_t *list = json_array();
    for (int i = 0; i < n; i++) {
        const mmb_alloc_impl *a = cells[i].alloc ? cells[i].alloc : mmb_alloc_default();
        bool seen = false;
        for (int k = 0; k < i && !seen; k++)
            seen = (cells[k].alloc ? cells[k].alloc : mmb_alloc_default()) == a;
        if (seen)
            continue;
        const char *library = mmb_alloc_preload_path(a);
        const char *v = library ? NULL : a->version();
        size_t k;
        json_t *b;
        json_array_foreach(merged, k, b) {
            json_t *mm = json_object_get(b, "mmbench");
            const char *name = json_string_value(json_object_get(mm, "allocator"));
            const char *theirs = json_string_value(json_object_get(mm, "allocator_version"));
            if (!v && name && theirs && strcmp(name, a->name) == 0 && strcmp(theirs, "unknown"))
                v = theirs;
        }
        json_t *o = json_pack("{ssssss}", "name", a->name, "attach", attach[a->attach], "version",
                              v ? v : "unknown");
        if (library)
            json_object_set_new(o, "library", json_string(library));
        json_array_append_new(list, o);
    }
    return list;
}

/* The results document: every cell that ran, in matrix order, and the context; `complete` says
 * whether every cell of the shard ran, and `not_run` lists those that did not. */
static json_t *results_doc(const mmb_run_flags *f, mmb_run_state *st, int argc, char **argv,
                           int *not_run) {
    json_t *merged = json_array(), *missing = json_array();
    for (int i = 0; i < st->ncells; i++) {
        if (!mmb_run_in_shard(f, i))
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
    /* The workload families in the registry's order: report orders its sections by it. */
    json_t *families = json_array();
    for (const char *const *fam = mmb_families; *fam; fam++)
        json_array_append_new(families, json_string(*fam));
    json_object_set_new(mm, "families", families);
    json_object_set_new(mm, "matrix",
                        json_pack("{sisssoso}", "cells", st->ncells, "fingerprint",
                                  mmb_run_fingerprint(f, st->cells, st->ncells), "seed",
                                  mmb_run_seed_json(f->seed), "repetitions",
                                  json_integer((json_int_t)f->repetitions)));
    json_object_set_new(mm, "external", externals_json(st->cells, st->ncells));
    json_object_set_new(mm, "allocators", allocators_json(st->cells, st->ncells, merged));
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
    add_plugins(mm, merged);
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

int mmb_run_emit_results(const mmb_run_flags *f, mmb_run_state *st, int argc, char **argv) {
    int not_run = 0;
    json_t *doc = results_doc(f, st, argc, argv, &not_run);
    const char *out = f->out ? f->out : f->resume;
    if (out && mmb_outfile_write_json(doc, "run", "--out", out) != 0)
        st->failed = 1;
    json_t *benchmarks = json_object_get(doc, "benchmarks");
    if (f->format == MMB_RUN_FORMAT_TABLE) {
        mmb_table_print(benchmarks);
        mmb_table_print_threads(benchmarks);
    } else if (f->format == MMB_RUN_FORMAT_JSON) {
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
