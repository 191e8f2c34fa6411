/* What the files of `mmbench run` share: the matrix's cells, the parsed flags, the run's state,
 * and each file's entry points. run.c is the command (flags, plan, run, emit); matrix.c expands
 * the flags into cells; cell.c runs one cell in its child process; parent.c starts and collects
 * those processes; emit.c builds the results document and puts every metric through the
 * registry. Design: harness/README.md, "Runs". */
#ifndef MMB_RUN_INTERNAL_H
#define MMB_RUN_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "alloc.h"
#include "counters.h"
#include "gbench.h"
#include "mmbench/manager.h"
#include "topology.h"
#include "workload.h"

#define MMB_RUN_MAX_CELLS   4096
#define MMB_RUN_MAX_DIMS    32
#define MMB_RUN_MAX_THREADS 256 /* the largest `threads` a workload takes */
#define MMB_RUN_NAME_BYTES  512 /* a longer cell name is refused */

#define mmb_run_usage_error(...) mmb_usage_error("run", NULL, __VA_ARGS__)

/* A dimension: KEY with one or more values ("ring-size=2,21"). */
typedef struct mmb_run_dim {
    char key[64];
    char values[16][64];
    int nvalues;
} mmb_run_dim;

typedef struct mmb_run_cell {
    int index; /* position in the whole matrix, shards included */
    const mmb_manager *manager;
    const mmb_workload *workload;
    mmb_scale scale;
    char kv_params[MMB_RUN_MAX_DIMS][130];
    int nparams;
    char kv_options[MMB_RUN_MAX_DIMS][130];
    int noptions;
    unsigned threads; /* the workload's `threads` parameter; 1 for a workload without one */
    int placement;    /* mmb_placement, or -1: threads are not bound */
    const mmb_alloc_impl *alloc; /* where the managers' blocks come from (--allocator) */
    char name[MMB_RUN_NAME_BYTES];
} mmb_run_cell;

enum { MMB_RUN_FORMAT_TABLE, MMB_RUN_FORMAT_JSON, MMB_RUN_FORMAT_NONE };

typedef struct mmb_run_flags {
    const char *managers[64];
    int nmanagers;
    const char *workloads[64];
    int nworkloads;
    const char *allocators[16]; /* --allocator, as given ("all" expanded in matrix.c) */
    int nallocators;
    mmb_scale scales[MMB_SCALE_COUNT];
    int nscales;
    mmb_run_dim params[MMB_RUN_MAX_DIMS];
    int nparams;
    mmb_run_dim options[MMB_RUN_MAX_DIMS];
    int noptions;
    uint64_t seed;
    uint64_t repetitions;
    const char *out;
    const char *hgrm;
    bool verify;
    uint64_t sample_garbage; /* --sample-garbage OPS: count garbage every OPS operations; 0: off */
    int format;              /* MMB_RUN_FORMAT_* */
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
} mmb_run_flags;

/* Everything a run holds from planning to its end, released in one place (run.c's cleanup). */
typedef struct mmb_run_state {
    hwloc_topology_t here, plan_on;
    mmb_run_cell *cells; /* the matrix (a static array: its untouched pages stay out of every
                          * cell's peak RSS, which a forked child inherits) */
    int ncells;
    json_t *skipped;                 /* cells left out of the matrix, and why */
    json_t *instr_info;              /* --instructions: valgrind found or not */
    char dir[512];                   /* the temporary directory, "" when none */
    json_t *done[MMB_RUN_MAX_CELLS]; /* per cell: its entries (an array); NULL: not run */
    json_t *gb_context;              /* Google Benchmark's context, from the first cell that ran */
    json_t *resumed;                 /* --resume: the document being finished */
    uint64_t start_ns;
    int failed; /* a cell failed, or the results could not be written */
} mmb_run_state;

/* ---- matrix.c: the flags expanded into cells ---------------------------------------------- */

/* Parses KEY=VALUE[,VALUE...] for FLAG into *d: EXIT_OK, or EXIT_USAGE after one line. */
int mmb_run_dim_parse(const char *flag, const char *text, mmb_run_dim *d);

/* Expands the flags into cells; checks every name, parameter and option first. Cells that
 * cannot run (a single-threaded manager asked for threads, a placement the topology lacks) are
 * left out and listed in `skipped` (may be NULL). */
int mmb_run_build_cells(const mmb_run_flags *f, hwloc_topology_t topo, mmb_run_cell *cells,
                        int *ncells, json_t *skipped);

/* A cell's manager options and workload parameters parsed into cfg and env (env zeroed first):
 * 0, or -1 with one line in err. build_cells checks every cell with it, so later calls for the
 * same cell succeed. */
int mmb_run_cell_parse(const mmb_run_cell *c, mmb_heap_config *cfg, mmb_workload_env *env,
                       char *err, size_t n);

/* Whether w is threaded: it has the MMB_PARAM_THREADS parameter. */
bool mmb_run_is_threaded(const mmb_workload *w);

/* Whether cell i belongs to the shard being run (every cell without --shard). */
bool mmb_run_in_shard(const mmb_run_flags *f, int i);

/* The whole matrix's identity (cell names, seed, repetitions, oracle, build) as 16 hex digits,
 * in a static buffer: merge refuses shards of different runs, --resume another matrix. */
const char *mmb_run_fingerprint(const mmb_run_flags *f, const mmb_run_cell *cells, int n);

/* --topology: prints each cell's plan for that machine and runs nothing. */
int mmb_run_dry_run(hwloc_topology_t topo, const mmb_run_cell *cells, int n, json_t *skipped);

/* The path of a cell's histogram file DIR/CELL.WHAT.hgrm (caller frees); the WHATs are
 * mmb_run_hgrm_kind: the pause kinds in mmb_event_kind order, then the two latencies. */
char *mmb_run_hgrm_path(const char *dir, const char *cell_name, const char *what);
enum { MMB_RUN_HGRM_LATENCY = MMB_EVENT_KIND_COUNT, MMB_RUN_HGRM_UNCORRECTED, MMB_RUN_HGRM_KINDS };
const char *mmb_run_hgrm_kind(int what);

/* ---- cell.c: one cell, in its own process --------------------------------------------------- */

/* Runs cell c in this (child) process; writes {context, benchmarks} to `path`. */
int mmb_run_one_cell(const mmb_run_cell *c, const mmb_run_flags *f, const char *path);

/* The `mmbench` object of the cell's every entry: its name, manager, workload, values... */
json_t *mmb_run_cell_json(const mmb_run_cell *c, const mmb_run_flags *f);

/* A seed as JSON: an integer, or a decimal string from 2^63 up (JSON readers take integers as
 * signed 64-bit), so that `--seed` takes back exactly what a result records. */
json_t *mmb_run_seed_json(uint64_t seed);

/* ---- parent.c: cells in child processes ------------------------------------------------------ */

/* --resume FILE: checks that FILE is a run of this matrix by this build and takes its cells as
 * done. EXIT_OK, or EXIT_USAGE after one line. */
int mmb_run_load_resume(const mmb_run_flags *f, mmb_run_state *st);

/* Runs every cell of the shard that is not done yet, each in a child, until a stop signal. */
int mmb_run_cells(const mmb_run_flags *f, mmb_run_state *st, int argc, char **argv);

/* ---- emit.c: metrics through the registry, and the results document ------------------------- */

/* Every numeric counter run puts in a result entry passes here: NAME must have a row in the
 * metric registry (metrics.h) or be Google Benchmark bookkeeping; otherwise this prints one line
 * naming it and aborts (a programming error: the registry row comes first). The first sets a
 * Google Benchmark counter (kind MMB_GB_COUNTER_*), the second a key of a results entry. */
void mmb_run_emit_metric(mmb_gb_sink *sink, const char *name, double value, int kind);
void mmb_run_emit_entry(json_t *entry, const char *name, json_t *value);

/* Writes the results (--out, or back to the --resume file) and prints them (--format). */
int mmb_run_emit_results(const mmb_run_flags *f, mmb_run_state *st, int argc, char **argv);

#endif
