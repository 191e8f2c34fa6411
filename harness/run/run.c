/* `mmbench run` (run.h): parse the flags (one table), plan the cells (matrix.c), probe the
 * instruments (counters, valgrind), run each cell in a fresh process (parent.c, cell.c), and
 * emit one JSON document in Google Benchmark's schema plus an `mmbench` section (emit.c), with
 * one cleanup path. Design: harness/README.md, "Runs". */
#include "run.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "child.h"
#include "cmdline.h"
#include "diag.h"
#include "flags.h"
#include "mmbench/clock.h"
#include "outfile.h"
#include "run_internal.h"
#include "strlist.h"

static const char run_usage[] =
    "usage: mmbench run [--manager LIST] [--workload LIST] [--allocator LIST] [--scale LIST]\n"
    "                   [--param KEY=V[,V]...]\n"
    "                   [--option KEY=V[,V]...] [--seed S] [--repetitions N] [--out FILE]\n"
    "                   [--resume FILE] [--hgrm DIR] [--verify] [--sample-garbage OPS]\n"
    "                   [--instructions] [--shard K/N]\n"
    "                   [--counters LIST] [--placement LIST] [--topology SPEC] [--format "
    "table|json|none]\n"
    "                   [--benchmark_*...]\n"
    "\n"
    "Runs the matrix managers x workloads x scales x parameter values x option values; each\n"
    "cell in a fresh process on a fresh heap, timed by Google Benchmark (one iteration per\n"
    "repetition), with every collection pause and refcount cascade recorded.\n"
    "\n";

/* After the table's flag lines: the flags passed to Google Benchmark (checked before the table
 * parse, so not rows of it), then the notes. */
static const char run_help_end[] =
    "  --benchmark_*=VALUE   checked, then passed to Google Benchmark: min_time and\n"
    "                        min_warmup_time (seconds), enable_random_interleaving,\n"
    "                        report_aggregates_only, display_aggregates_only, counters_tabular\n"
    "                        (true or false), color, time_unit (ns, us, ms, s), context\n"
    "                        (KEY=V,...), perf_counters; --benchmark_repetitions=N is\n"
    "                        --repetitions N; mmbench sets _out, _format and _filter itself\n"
    "\n"
    "SIGINT or SIGTERM stops the run: the running cell's processes are killed, the cells that\n"
    "finished are written to --out with \"complete\": false and the cells not run in\n"
    "context.mmbench (finish them with --resume), and run exits 130 or 143; a second signal\n"
    "exits at once. Temporary files go to $TMPDIR (default /tmp) and are removed.\n"
    "\n"
    "Exit status: 0 ok, 1 a cell failed (a self-check, the oracle, or a crash), 2 bad usage,\n"
    "130 or 143 stopped by SIGINT or SIGTERM.\n";

/* --sample-garbage's largest interval. */
#define MMB_RUN_MAX_SAMPLE_OPS 1000000000000ull

/* --workload's help names the families (mmb_families), filled in before --help prints. */
static char workload_help[256];

/* The rows' order is --help's; take_flag switches on it. */
enum {
    F_MANAGER,
    F_WORKLOAD,
    F_ALLOCATOR,
    F_SCALE,
    F_PARAM,
    F_OPTION,
    F_SEED,
    F_REPETITIONS,
    F_FRESH_PROCESS,
    F_OUT,
    F_RESUME,
    F_HGRM,
    F_VERIFY,
    F_SAMPLE_GARBAGE,
    F_INSTRUCTIONS,
    F_SHARD,
    F_COUNTERS,
    F_PLACEMENT,
    F_TOPOLOGY,
    F_FORMAT,
    F_CELL_INDEX,
    F_CELL_OUT,
};

static const char *const formats[] = {"table", "json", "none", NULL}; /* MMB_RUN_FORMAT_* */

static const mmb_flag run_flag_table[] = {
    [F_MANAGER] = {"manager", MMB_FLAG_TEXT, "LIST", 0, 0, NULL,
                   "names or plug-ins (PATH.so, PATH.so:NAME), comma separated; all: the\n"
                   "bundled managers (the default), external: the external ones built\n"
                   "(all,external: both)",
                   0},
    [F_WORKLOAD] = {"workload", MMB_FLAG_TEXT, "LIST", 0, 0, NULL, workload_help, 0},
    [F_ALLOCATOR] = {"allocator", MMB_FLAG_TEXT, "LIST", 0, 0, NULL,
                     "where the managers' blocks come from, comma separated: libc (the\n"
                     "default), pool, mimalloc, jemalloc, tcmalloc (mmbench list says which\n"
                     "are here), or all: every one available",
                     0},
    [F_SCALE] = {"scale", MMB_FLAG_TEXT, "LIST", 0, 0, NULL,
                 "tiny, small, default or large (default: default)", 0},
    [F_PARAM] = {"param", MMB_FLAG_TEXT, "KEY=V[,V]", 0, 0, NULL,
                 "a workload parameter; several values make a matrix dimension (each\n"
                 "KEY once: a repeated KEY is refused)",
                 0},
    [F_OPTION] = {"option", MMB_FLAG_TEXT, "KEY=V[,V]", 0, 0, NULL,
                  "a manager option; several values make a matrix dimension (each\n"
                  "KEY once)",
                  0},
    [F_SEED] = {"seed", MMB_FLAG_U64, "S", 0, UINT64_MAX, NULL,
                "the workloads' seed, 0..18446744073709551615 (default 1); recorded\n"
                "as a JSON integer, or as a decimal string from 2^63 up",
                0},
    [F_REPETITIONS] = {"repetitions", MMB_FLAG_U64, "N", 1, 64, NULL,
                       "repetitions of each cell, 1..64 (default 1)", 0},
    [F_FRESH_PROCESS] = {"fresh-process", MMB_FLAG_SWITCH, NULL, 0, 0, NULL,
                         "each repetition in a process of its own (default: a cell's\n"
                         "repetitions share one); comparisons across builds need this",
                         0},
    [F_OUT] = {"out", MMB_FLAG_TEXT, "FILE", 0, 0, NULL,
               "write all results as JSON (Google Benchmark's schema + mmbench)", 0},
    [F_RESUME] = {"resume", MMB_FLAG_TEXT, "FILE", 0, 0, NULL,
                  "finish a run that was stopped: with the same flags and build, run\n"
                  "only the cells FILE lacks and write the whole result to --out, or\n"
                  "back to FILE",
                  0},
    [F_HGRM] = {"hgrm", MMB_FLAG_TEXT, "DIR", 0, 0, NULL,
                "write each pause and latency histogram as HdrHistogram .hgrm text", 0},
    [F_VERIFY] = {"verify", MMB_FLAG_SWITCH, NULL, 0, 0, NULL,
                  "run every cell under the oracle (slow; for checking managers)", 0},
    [F_SAMPLE_GARBAGE] = {"sample-garbage", MMB_FLAG_U64, "OPS", 0, MMB_RUN_MAX_SAMPLE_OPS, NULL,
                          "every OPS operations (alloc, incref, decref, store, collect),\n"
                          "count the garbage exactly: live objects and bytes (the manager's\n"
                          "stats) minus those reachable from the mutator's references;\n"
                          "the samples' time is left out of the timed run (\"garbage\" in\n"
                          "the results). 0..10^12; 0: off (the default)",
                          0},
    [F_INSTRUCTIONS] = {"instructions", MMB_FLAG_SWITCH, NULL, 0, 0, NULL,
                        "count each cell's instructions exactly, under valgrind's callgrind\n"
                        "with instrumentation on only while the workload runs (about 40x\n"
                        "slower; use --repetitions 1: with more, the count is their sum)",
                        0},
    [F_SHARD] = {"shard", MMB_FLAG_TEXT, "K/N", 0, 0, NULL,
                 "run only cells K, K+N, K+2N... (1-based, 1 <= K <= N <= 2^31-1)\n"
                 "of the matrix; combine the N results with mmbench merge",
                 0},
    [F_COUNTERS] = {"counters", MMB_FLAG_TEXT, "LIST", 0, 0, NULL,
                    "count events per phase (mutator, cascade, collector): default\n"
                    "(cycles, instructions, l1d-misses, llc-misses, dtlb-misses),\n"
                    "task-clock, page-faults, context-switches, cpu-migrations, PAPI_*\n"
                    "presets; without hardware counters, software events instead",
                    0},
    [F_PLACEMENT] = {"placement", MMB_FLAG_TEXT, "LIST", 0, 0, NULL,
                     "bind each cell's threads: compact, spread, smt-pair, same-l3,\n"
                     "cross-l3, cross-numa, cross-package (a matrix dimension; one the\n"
                     "topology lacks for the cell's thread count is skipped with a note)",
                     0},
    [F_TOPOLOGY] = {"topology", MMB_FLAG_TEXT, "SPEC", 0, 0, NULL,
                    "dry run: plan the cells' placements on another machine\n"
                    "(synthetic:DESC or a hwloc FILE.xml) and print them; runs nothing",
                    0},
    [F_FORMAT] = {"format", MMB_FLAG_CHOICE, "F", 0, 0, formats,
                  "standard output: table (default), json, or none", 0},
    /* Internal: the parent runs one cell under valgrind as `run ... --cell-index I --cell-out
     * FILE`. */
    [F_CELL_INDEX] = {"cell-index", MMB_FLAG_U64, "I", 0, MMB_RUN_MAX_CELLS - 1, NULL, NULL, 0},
    [F_CELL_OUT] = {"cell-out", MMB_FLAG_TEXT, "FILE", 0, 0, NULL, NULL, 0},
    {NULL, 0, NULL, 0, 0, NULL, NULL, 0},
};

static void print_help(void) {
    char families[200];
    mmb_join(families, sizeof families, mmb_families, ", ", NULL);
    snprintf(workload_help, sizeof workload_help,
             "names, families (%s),\nglobs, or all (default: all)", families);
    fputs(run_usage, stdout);
    mmb_flags_print_help(stdout, run_flag_table, 0);
    fputs(run_help_end, stdout);
}

/* ---- the flags' values ------------------------------------------------------------------------
 */

/* Splits a comma-separated LIST into out[*n...], the names copied into f's own text, so nothing
 * needs freeing. */
static int split_list(mmb_run_flags *f, const char *flag, const char *text, const char **out,
                      int *n, int max) {
    size_t len = strlen(text);
    if (len >= sizeof f->text - f->text_used)
        return mmb_run_usage_error("%s: the lists are too long (more than %zu bytes in all)", flag,
                                   sizeof f->text);
    char *copy = memcpy(f->text + f->text_used, text, len + 1);
    f->text_used += len + 1;
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        if (*n == max)
            return mmb_run_usage_error("%s: more than %d names", flag, max);
        out[(*n)++] = tok;
    }
    return EXIT_OK;
}

static int take_scales(mmb_run_flags *f, const char *arg) {
    const char *names[8];
    int n = 0;
    if (split_list(f, "--scale", arg, names, &n, 8) != EXIT_OK)
        return EXIT_USAGE;
    for (int i = 0; i < n; i++) {
        int s = 0;
        while (s < MMB_SCALE_COUNT && strcmp(names[i], mmb_scale_names[s]))
            s++;
        if (s == MMB_SCALE_COUNT) {
            const char *all[MMB_SCALE_COUNT + 1] = {NULL};
            memcpy(all, mmb_scale_names, sizeof mmb_scale_names);
            char hint[128];
            return mmb_run_usage_error("--scale: unknown scale '%s' (hint: %s)", names[i],
                                       mmb_join(hint, sizeof hint, all, ", ", " or "));
        }
        if (f->nscales < MMB_SCALE_COUNT)
            f->scales[f->nscales++] = (mmb_scale)s;
    }
    return EXIT_OK;
}

static int take_placements(mmb_run_flags *f, const char *arg) {
    const char *names[MMB_PLACE_COUNT + 1];
    int n = 0;
    if (split_list(f, "--placement", arg, names, &n, MMB_PLACE_COUNT + 1) != EXIT_OK)
        return EXIT_USAGE;
    for (int i = 0; i < n; i++) {
        int k = mmb_placement_parse(names[i]);
        if (k < 0) {
            char hint[256];
            return mmb_run_usage_error(
                "--placement: unknown placement '%s' (hint: %s)", names[i],
                mmb_join(hint, sizeof hint, mmb_placement_names, ", ", " or "));
        }
        bool dup = false;
        for (int j = 0; j < f->nplacements; j++)
            dup |= f->placements[j] == k;
        if (!dup)
            f->placements[f->nplacements++] = k;
    }
    return EXIT_OK;
}

static int take_dim(mmb_run_flags *f, bool param, const char *text) {
    const char *flag = param ? "--param" : "--option";
    mmb_run_dim *dims = param ? f->params : f->options;
    int *n = param ? &f->nparams : &f->noptions;
    if (*n == MMB_RUN_MAX_DIMS)
        return mmb_run_usage_error("too many %s flags (at most %d)", flag, MMB_RUN_MAX_DIMS);
    if (mmb_run_dim_parse(flag, text, &dims[*n]))
        return EXIT_USAGE;
    for (int k = 0; k < *n; k++)
        if (strcmp(dims[k].key, dims[*n].key) == 0)
            return mmb_usage_error("run", "give every value in one flag: KEY=V1,V2",
                                   "%s: key '%s' given twice", flag, dims[*n].key);
    (*n)++;
    return EXIT_OK;
}

/* --shard K/N: 1 <= K <= N <= INT_MAX. */
static int take_shard(mmb_run_flags *f, const char *text) {
    const char *slash = strchr(text, '/');
    char k_text[32];
    uint64_t k = 0, n = 0;
    if (!slash || (size_t)(slash - text) >= sizeof k_text)
        k_text[0] = '\0';
    else
        snprintf(k_text, sizeof k_text, "%.*s", (int)(slash - text), text);
    if (!slash || !mmb_parse_u64(k_text, 1, INT_MAX, &k) ||
        !mmb_parse_u64(slash + 1, 1, INT_MAX, &n) || k > n)
        return mmb_run_usage_error("--shard: bad value '%s' (expected K/N with 1 <= K <= N <= %d)",
                                   text, INT_MAX);
    f->shard_k = (int)k;
    f->shard_n = (int)n;
    return EXIT_OK;
}

static int take_counters(mmb_run_flags *f, const char *arg) {
    static mmb_counters_plan plan;
    char err[600];
    if (mmb_counters_parse(arg, &plan, err, sizeof err) != 0)
        return mmb_run_usage_error("--counters: %s", err);
    f->counters = &plan;
    return EXIT_OK;
}

/* mmb_flags_parse's callback: one flag, its value checked by type already. */
static int take_flag(void *ctx, const mmb_flag_arg *a) {
    mmb_run_flags *f = ctx;
    switch (a->index) {
    case F_MANAGER:
        return split_list(f, "--manager", a->text, f->managers, &f->nmanagers, 64);
    case F_WORKLOAD:
        return split_list(f, "--workload", a->text, f->workloads, &f->nworkloads, 64);
    case F_ALLOCATOR:
        return split_list(f, "--allocator", a->text, f->allocators, &f->nallocators, 16);
    case F_SCALE:
        return take_scales(f, a->text);
    case F_PARAM:
    case F_OPTION:
        return take_dim(f, a->index == F_PARAM, a->text);
    case F_SEED:
        f->seed = a->u64;
        return EXIT_OK;
    case F_REPETITIONS:
        f->repetitions = a->u64;
        return EXIT_OK;
    case F_FRESH_PROCESS:
        f->fresh_process = true;
        return EXIT_OK;
    case F_OUT:
        f->out = a->text;
        return EXIT_OK;
    case F_RESUME:
        f->resume = a->text;
        return EXIT_OK;
    case F_HGRM:
        f->hgrm = a->text;
        return EXIT_OK;
    case F_VERIFY:
        f->verify = true;
        return EXIT_OK;
    case F_SAMPLE_GARBAGE:
        f->sample_garbage = a->u64;
        return EXIT_OK;
    case F_INSTRUCTIONS:
        f->instructions = true;
        return EXIT_OK;
    case F_SHARD:
        return take_shard(f, a->text);
    case F_COUNTERS:
        return take_counters(f, a->text);
    case F_PLACEMENT:
        return take_placements(f, a->text);
    case F_TOPOLOGY:
        f->topology = a->text;
        return EXIT_OK;
    case F_FORMAT:
        f->format = (int)a->choice;
        return EXIT_OK;
    case F_CELL_INDEX:
        f->cell_index = (int)a->u64;
        return EXIT_OK;
    case F_CELL_OUT:
        f->cell_out = a->text;
        return EXIT_OK;
    }
    return mmb_run_usage_error("unknown flag (hint: mmbench run --help)");
}

/* Google Benchmark's flags: checked here, before anything runs, then passed through (gbench.cc);
 * --benchmark_repetitions=N is --repetitions N. */
static int take_gb_flag(mmb_run_flags *f, char *arg) {
    static const char reps[] = "--benchmark_repetitions";
    if (strncmp(arg, reps, sizeof reps - 1) == 0 &&
        (arg[sizeof reps - 1] == '=' || arg[sizeof reps - 1] == '\0'))
        return mmb_flag_u64("run", reps, arg[sizeof reps - 1] ? arg + sizeof reps : "", 1, 64,
                            &f->repetitions);
    if (mmb_gb_flag_check(arg) != EXIT_OK)
        return EXIT_USAGE;
    if (f->ngb == (int)(sizeof f->gb_args / sizeof f->gb_args[0]))
        return mmb_run_usage_error("too many --benchmark_ flags");
    f->gb_args[f->ngb++] = arg;
    return EXIT_OK;
}

/* Reads the flags into f (defaults for what is not given). EXIT_OK, EXIT_USAGE, or
 * MMB_FLAGS_HELP when --help was printed. Allocates nothing. */
static int parse_flags(int argc, char **argv, mmb_run_flags *f) {
    memset(f, 0, sizeof *f);
    f->seed = 1;
    f->repetitions = 1;
    f->cell_index = -1;
    /* Google Benchmark's flags are checked now and passed through; the table sees the rest. */
    static char *ours[256];
    int nours = 0;
    for (int i = 0; i < argc; i++) {
        if (i > 0 && strncmp(argv[i], "--benchmark_", 12) == 0) {
            if (take_gb_flag(f, argv[i]) != EXIT_OK)
                return EXIT_USAGE;
        } else if (nours == 255) {
            return mmb_run_usage_error("too many arguments");
        } else {
            ours[nours++] = argv[i];
        }
    }
    ours[nours] = NULL;
    int operands = nours;
    int status = mmb_flags_parse("run", run_flag_table, 0, nours, ours, take_flag, f, &operands);
    if (status == MMB_FLAGS_HELP)
        print_help();
    if (status != EXIT_OK)
        return status;
    if (operands < nours)
        return mmb_run_usage_error("unexpected argument '%s' (hint: mmbench run --help)",
                                   ours[operands]);
    if (f->sample_garbage && f->instructions)
        return mmb_run_usage_error("--sample-garbage does not go with --instructions: callgrind "
                                   "would count the samples (hint: run them apart)");
    if (f->resume && f->topology)
        return mmb_run_usage_error(
            "--resume does not go with --topology (hint: mmbench run --help)");
    if (!f->nmanagers)
        f->managers[f->nmanagers++] = "all";
    if (!f->nworkloads)
        f->workloads[f->nworkloads++] = "all";
    if (!f->nallocators)
        f->allocators[f->nallocators++] = "libc";
    if (!f->nscales)
        f->scales[f->nscales++] = MMB_SCALE_DEFAULT;
    return EXIT_OK;
}

/* The destinations, before the first cell runs (outfile.h): --hgrm's directory is made. A
 * --cell-index child (run by the parent, under valgrind) was checked there. */
static int check_outputs(const mmb_run_flags *f) {
    if (f->hgrm) {
        struct stat sb;
        if (mkdir(f->hgrm, 0777) != 0 &&
            !(errno == EEXIST && stat(f->hgrm, &sb) == 0 && S_ISDIR(sb.st_mode)))
            return mmb_run_usage_error("--hgrm %s: cannot create the directory: %s", f->hgrm,
                                       strerror(errno));
    }
    if (f->cell_index < 0 &&
        ((f->hgrm && mmb_outfile_check_dir("run", "--hgrm", f->hgrm) != EXIT_OK) ||
         (f->out && mmb_outfile_check("run", "--out", f->out) != EXIT_OK) ||
         (!f->out && f->resume && mmb_outfile_check("run", "--resume", f->resume) != EXIT_OK)))
        return EXIT_USAGE;
    return EXIT_OK;
}

/* ---- plan, probe ------------------------------------------------------------------------------
 */

/* Loads the topologies and expands the matrix; handles the dry run (--topology) and the one-cell
 * mode (--cell-index) here. *finished: nothing is left to run. */
static int plan_cells(mmb_run_flags *f, mmb_run_state *st, bool *finished) {
    char topo_err[300];
    *finished = false;
    st->skipped = json_array();
    /* This machine's topology goes into every result; placements are planned on it, or on the
     * --topology machine for a dry run. */
    if (mmb_topology_load(NULL, &st->here, topo_err, sizeof topo_err) != 0)
        return mmb_run_usage_error("%s", topo_err);
    if (f->topology && mmb_topology_load(f->topology, &st->plan_on, topo_err, sizeof topo_err) != 0)
        return mmb_run_usage_error("--topology: %s", topo_err);
    int status = mmb_run_build_cells(f, st->plan_on ? st->plan_on : st->here, st->cells,
                                     &st->ncells, st->skipped);
    if (status != EXIT_OK)
        return status;
    if (f->topology) {
        *finished = true;
        return mmb_run_dry_run(st->plan_on, st->cells, st->ncells, st->skipped);
    }
    if (f->cell_index >= 0) { /* one cell, here: the parent runs us under valgrind, or with a
                               * preloaded allocator */
        if (f->instructions)
            f->counters = NULL; /* under callgrind nothing is counted for real */
        else if (f->counters)
            mmb_counters_probe(f->counters);
        *finished = true;
        return f->cell_index < st->ncells && f->cell_out
                   ? mmb_run_one_cell(&st->cells[f->cell_index], f, f->cell_out)
                   : mmb_run_usage_error("bad internal --cell-index");
    }
    size_t k;
    json_t *s;
    json_array_foreach(st->skipped, k, s) fprintf(stderr, "mmbench: note: run: skipping %s: %s\n",
                                                  json_string_value(json_object_get(s, "cell")),
                                                  json_string_value(json_object_get(s, "reason")));
    if (st->ncells == 0)
        return mmb_run_usage_error("every cell of the matrix was skipped (see the notes above)");
    if (f->resume && mmb_run_load_resume(f, st) != EXIT_OK)
        return EXIT_USAGE;
    return EXIT_OK;
}

/* Counters are probed once, here, before any cell forks; --instructions needs valgrind. What is
 * missing is said once and recorded, and the run goes on without it. */
static void probe_instruments(mmb_run_flags *f, mmb_run_state *st) {
    if (f->counters && f->instructions) { /* under callgrind nothing real is counted */
        fprintf(stderr, "mmbench: warning: run: --counters is ignored with --instructions (under "
                        "valgrind nothing is counted for real)\n");
        f->counters = NULL;
    }
    if (f->counters) {
        mmb_counters_probe(f->counters);
        mmb_counters_note(f->counters, stderr);
    }
    if (!f->instructions)
        return;
    char version[128] = "";
    FILE *v = popen("valgrind --version 2>/dev/null", "r");
    bool ok = v && fgets(version, sizeof version, v) && strncmp(version, "valgrind", 8) == 0;
    if (v)
        pclose(v);
    version[strcspn(version, "\n")] = '\0';
    if (ok) {
        st->instr_info =
            json_pack("{sbssss}", "available", 1, "tool", "callgrind", "version", version);
        return;
    }
    fprintf(stderr, "mmbench: warning: run: --instructions: valgrind not found on PATH; "
                    "running without instruction counts (hint: apt-get install valgrind)\n");
    st->instr_info = json_pack("{sbss}", "available", 0, "reason", "valgrind not found on PATH");
    f->instructions = false;
}

/* ---- the command ------------------------------------------------------------------------------
 */

static void run_cleanup(mmb_run_state *st) {
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
    static mmb_run_flags f;
    int status = parse_flags(argc, argv, &f);
    if (status != EXIT_OK)
        return status == MMB_FLAGS_HELP ? EXIT_OK : status;
    if (check_outputs(&f) != EXIT_OK)
        return EXIT_USAGE;
    /* From here on every path goes through run_cleanup. */
    static mmb_run_cell cells[MMB_RUN_MAX_CELLS];
    static mmb_run_state st;
    memset(&st, 0, sizeof st);
    st.cells = cells;
    st.start_ns = mmb_now_ns();
    bool finished = false;
    status = plan_cells(&f, &st, &finished);
    if (status == EXIT_OK && !finished) {
        probe_instruments(&f, &st);
        mmb_stop_signals_install();
        status = mmb_run_cells(&f, &st, argc, argv);
        if (status == EXIT_OK)
            status = mmb_run_emit_results(&f, &st, argc, argv);
        int sig = mmb_stop_signal();
        if (sig)
            status = 128 + sig;
        else if (status == EXIT_OK && st.failed)
            status = EXIT_FAILED;
    }
    run_cleanup(&st);
    return status;
}
