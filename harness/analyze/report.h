/* `mmbench report`: results tables (Markdown, CSV) and a self-contained HTML page from one or
 * more `mmbench run --out` documents. Design: harness/README.md, "Reports". report.c reads and
 * summarises; one file per output format (report_md.c, report_csv.c, report_html.c) renders. */
#ifndef MMB_REPORT_H
#define MMB_REPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "metrics.h"

/* Returns the exit status: 0 ok, 1 the output could not be written, 2 bad usage or bad input.
 * argv[0] is "report". */
int mmb_report_main(int argc, char **argv);

/* ---- the summary every format renders ------------------------------------------------------- */

/* The table's columns, in order. Each is a median over a cell's repetitions. */
enum {
    MMB_COL_THROUGHPUT,    /* work_units_per_second; higher is better */
    MMB_COL_PER_THREAD,    /* per_thread_units_per_second (threaded workloads only) */
    MMB_COL_SCALING,       /* scaling_efficiency against one thread (threaded workloads only) */
    MMB_COL_PAUSE_P99,     /* pause_p99_ns: every pause (collections and cascades) */
    MMB_COL_PAUSE_MAX,     /* pause_max_ns, with the kind of the longest beside it */
    MMB_COL_MMU_10MS,      /* mmu_10ms; higher is better */
    MMB_COL_PEAK_RSS,      /* peak_rss_bytes */
    MMB_COL_BYTES_PER_OBJ, /* heap_bytes_per_object, else peak_rss_bytes_per_work_unit */
    MMB_COL_MEMORY_LAG,    /* memory_lag_objects */
    MMB_COL_LATENCY_P99,   /* latency_p99_ns (pause-sensitive workloads only) */
    MMB_COL_INCREMENTS,    /* the deterministic counters: */
    MMB_COL_DECREMENTS,
    MMB_COL_TRAVERSED,
    MMB_COL_COLLECTIONS, /* collections_full + collections_young */
    MMB_COL_COUNT
};

/* A column's unit, direction and title come from the metric registry (metrics.h). */
typedef struct mmb_report_column {
    const char *key;    /* the CSV header; the JSON counter unless derived (report.c) */
    const char *metric; /* its registry row: for a derived column, the one it is made of */
    const char *title;  /* NULL: the registry row's title */
    bool optional;      /* shown in a table only when some row has it */
} mmb_report_column;

extern const mmb_report_column mmb_report_columns[MMB_COL_COUNT];

/* Column c's registry row (never NULL: a test checks every column has one). */
const mmb_metric *mmb_report_metric(int c);

/* The pause kinds, as the JSON names them under mmbench.pauses. */
#define MMB_REPORT_KINDS 3
extern const char *const mmb_report_kinds[MMB_REPORT_KINDS];

#define MMB_REPORT_MMU_MAX 16

/* One cell (manager x workload x scale x params x options) of one results file. */
typedef struct mmb_report_row {
    char label[256]; /* the row's name in its table: the manager, plus options or file if needed */
    const char *manager, *workload, *family, *scale;
    char params[256], options[256]; /* "k=v k=v" */
    int file;                       /* index into mmb_report.files */
    int repetitions;                /* iterations that ran without error */
    char error[256];                /* the first error_message, "" when none */
    double value[MMB_COL_COUNT];    /* medians; NAN when absent */
    bool best[MMB_COL_COUNT];
    const char *pause_max_kind; /* the kind of the longest pause (beside max pause), or NULL */
    /* Per kind (mmb_report_kinds): medians over repetitions of the count, p99 and max. */
    double kind_count[MMB_REPORT_KINDS], kind_p99_ns[MMB_REPORT_KINDS],
        kind_max_ns[MMB_REPORT_KINDS];
    bool heap_bytes_per_object; /* MMB_COL_BYTES_PER_OBJ came from heap_bytes_per_object */
    /* The pause spectrum: every pause (all kinds) of all repetitions pooled. */
    double *pause_low_ns, *pause_count; /* npause buckets sorted by low_ns, owned */
    int npause;
    double pause_total, pause_max_ns;
    double pause_points[5]; /* medians of p50, p90, p99, p99.9, max: used without buckets */
    /* MMU: the bounded utilisation's median per window. */
    double mmu_window_ms[MMB_REPORT_MMU_MAX], mmu_bounded[MMB_REPORT_MMU_MAX];
    int nmmu;
} mmb_report_row;

/* The rows of one workload at one scale and one set of parameters. */
typedef struct mmb_report_table {
    char title[512];
    const char *family;
    int first_row, nrows; /* rows[first_row .. first_row + nrows) */
    bool has_column[MMB_COL_COUNT];
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

/* The renderers: each returns 0, or -1 when writing to out failed. */
int mmb_report_write_md(const mmb_report *r, FILE *out);
int mmb_report_write_csv(const mmb_report *r, FILE *out);
int mmb_report_write_html(const mmb_report *r, FILE *out);

/* ---- SVG charts for the HTML page (report_svg.c) ----------------------------------------------
 */

/* A chart: data ranges (logarithmic axes take and give data values; the mapping takes log10)
 * mapped onto a plot area inside a width x height picture. */
typedef struct mmb_svg {
    FILE *out;
    double x_min, x_max, y_min, y_max;
    bool x_log, y_log;
    double left, right, top, bottom; /* the plot area, in pixels */
    int width, height;
    int legend_px; /* room below the axis label for the legend: mmb_svg_legend_height */
} mmb_svg;

/* Writes text with &, <, >, " and ' escaped: safe in HTML and SVG text and attributes. */
void mmb_html_escape(FILE *out, const char *s);

/* A colour for series i, distinguishable from its neighbours. */
const char *mmb_svg_color(int i);

/* Opens <svg> (inline, no external references) with a title over the plot area. The caller sets
 * the ranges, scales, size and optionally the left margin first; begin lays out the rest. */
void mmb_svg_begin(mmb_svg *s, FILE *out, const char *title, const char *x_label,
                   const char *y_label);
double mmb_svg_px_x(const mmb_svg *s, double x);
double mmb_svg_px_y(const mmb_svg *s, double y);
/* A grid line and its label at data value v. */
void mmb_svg_x_tick(const mmb_svg *s, double v, const char *label);
void mmb_svg_y_tick(const mmb_svg *s, double v, const char *label);
/* A line through the finite points (x[i], y[i]). */
void mmb_svg_line(const mmb_svg *s, const double *x, const double *y, int n, const char *color);
/* A legend below the x axis: n names with their colours, three to a line. */
void mmb_svg_legend(const mmb_svg *s, const char *const *names, const char *const *colors, int n);
/* The legend's height for n names, to add to the picture's height. */
int mmb_svg_legend_height(int n);
void mmb_svg_end(const mmb_svg *s);

#endif
