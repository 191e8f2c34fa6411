/* The model of `mmbench report` (report.h): the summary that report.c builds from results
 * documents and that every renderer (report_md.c, report_csv.c, report_html.c) reads, with the
 * helpers that format it (report_model.c). Renderers include this and report_svg.h, never
 * report.c's internals. Design: harness/README.md, "Reports". */
#ifndef MMB_REPORT_MODEL_H
#define MMB_REPORT_MODEL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "metrics.h"

/* ---- the summary every format renders ------------------------------------------------------- */

/* The table's columns, left to right: a view of the metric registry (metrics.h), its rows with a
 * column position. Each value is a median over a cell's repetitions. Columns report derives:
 * pause p99 and max (every pause, with the kind of the longest beside the max), bytes/object
 * (heap_bytes_per_object, else peak_rss_bytes_per_work_unit), collections (full + young), and
 * units/s per thread (threaded workloads only). */
#define MMB_REPORT_COLUMNS_MAX 32

/* How many columns (at most MMB_REPORT_COLUMNS_MAX: a test checks it). */
int mmb_report_column_count(void);

/* Column c's registry row (0 <= c < mmb_report_column_count()). */
const mmb_metric *mmb_report_column(int c);

/* Column c's CSV header: the row's column key, else its name. */
const char *mmb_report_column_key(int c);

/* The column of the metric named; -1 when it is not a column. */
int mmb_report_column_of(const char *metric);

/* The pause kinds, as the JSON names them under mmbench.pauses (analyze/ cannot see the contract;
 * unit.contract_report_knows_every_event_kind holds the two to the same list). */
#define MMB_REPORT_KINDS 4
extern const char *const mmb_report_kinds[MMB_REPORT_KINDS];

#define MMB_REPORT_MMU_MAX 16

/* One cell (manager x workload x scale x params x options) of one results file. */
typedef struct mmb_report_row {
    char label[256]; /* the row's name in its table: the manager, plus options or file if needed */
    const char *manager, *workload, *family, *scale;
    const char *allocator;                /* mmbench.allocator ("libc" when not recorded) */
    char params[256], options[256];       /* "k=v k=v" */
    int file;                             /* index into mmb_report.files */
    int repetitions;                      /* iterations that ran without error */
    char error[256];                      /* the first error_message, "" when none */
    double value[MMB_REPORT_COLUMNS_MAX]; /* medians; NAN when absent */
    bool best[MMB_REPORT_COLUMNS_MAX];
    const char *pause_max_kind; /* the kind of the longest pause (beside max pause), or NULL */
    /* Per kind (mmb_report_kinds): medians over repetitions of the count, p99 and max. */
    double kind_count[MMB_REPORT_KINDS], kind_p99_ns[MMB_REPORT_KINDS],
        kind_max_ns[MMB_REPORT_KINDS];
    bool heap_bytes_per_object; /* bytes/object came from heap_bytes_per_object */
    /* The pause spectrum: every pause (all kinds) of all repetitions pooled. */
    double *pause_low_ns, *pause_count; /* npause buckets sorted by low_ns, owned */
    int npause;
    double pause_total, pause_max_ns;
    double pause_points[5]; /* medians of p50, p90, p99, p99.9, max: used without buckets */
    /* MMU: the bounded utilisation's median per window. */
    double mmu_window_ms[MMB_REPORT_MMU_MAX], mmu_bounded[MMB_REPORT_MMU_MAX];
    int nmmu;
    struct mmb_report_tradeoff *tradeoff; /* owned: steady pauses, garbage (report_tradeoff.h) */
    struct mmb_report_alloc *alloc;       /* owned: allocation numbers (report_alloc.h) */
} mmb_report_row;

/* The rows of one workload at one scale and one set of parameters. */
typedef struct mmb_report_table {
    char title[512];
    const char *family;
    int first_row, nrows; /* rows[first_row .. first_row + nrows) */
    bool has_column[MMB_REPORT_COLUMNS_MAX];
    bool heap_bytes_per_object;      /* its bytes/object are heap bytes per live object */
    bool has_kind[MMB_REPORT_KINDS]; /* some row paused with this kind */
} mmb_report_table;

typedef struct mmb_report_file {
    const char *path;
    json_t *doc;       /* owned */
    int context_group; /* files with the same context share the lowest index */
} mmb_report_file;

typedef struct mmb_report {
    mmb_report_file *files;
    int nfiles;
    mmb_report_row *rows; /* grouped by table, tables by family */
    int nrows;
    mmb_report_table *tables;
    int ntables;
    const char **managers; /* every manager in order of first appearance (chart colours) */
    int nmanagers;
} mmb_report;

/* The manager's index in report->managers. */
int mmb_report_manager_index(const mmb_report *r, const char *manager);

/* The machine and build context under the tables. Files whose machine and build agree form one
 * section; section(ctx, heading) opens each (heading NULL when there is only one), then
 * field(ctx, label, value) for CPU, CPUs, memory, kernel, mmbench version, git revision, build
 * type, date and command (date and command once per file, labelled with the file if several). */
void mmb_report_contexts(const mmb_report *r, void (*section)(void *ctx, const char *heading),
                         void (*field)(void *ctx, const char *label, const char *value), void *ctx);

/* Column c's header in table t ("heap bytes/object" or "RSS bytes/unit" for bytes/object). */
const char *mmb_report_title(const mmb_report_table *t, int c);

/* Human formatting of a value of `unit` ("-" when NAN). */
void mmb_report_format(double v, mmb_unit unit, char *buf, size_t n);

/* Row i's value of column c as the tables show it: formatted, with the pause kind beside the max
 * pause ("5.00 s (cascade)"). */
void mmb_report_cell(const mmb_report_row *row, int c, char *buf, size_t n);

/* Row's pauses of kind k as the by-kind tables show them: the count, p99 and max ("-" when the
 * row had none of that kind). Each buffer holds n bytes. */
void mmb_report_kind_cells(const mmb_report_row *row, int k, char *count, char *p99, char *max,
                           size_t n);

/* The renderers, one file each: each returns 0, or -1 when writing to out failed. */
int mmb_report_write_md(const mmb_report *r, FILE *out);
int mmb_report_write_csv(const mmb_report *r, FILE *out);
int mmb_report_write_html(const mmb_report *r, FILE *out);

/* A format of --format: its name and its renderer. */
typedef struct mmb_report_writer {
    const char *name;
    int (*write)(const mmb_report *r, FILE *out);
} mmb_report_writer;

/* Whether files a and b of r were made on the same machine and build (one context section). */
bool mmb_report_same_machine(const mmb_report *r, int a, int b);

#endif
