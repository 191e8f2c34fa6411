/* The pause-versus-memory trade-off of `mmbench report` (report_tradeoff.c): per cell the numbers
 * read from its repetitions, per table the points of a scatter and their Pareto front, and the
 * table the Markdown renderer adds (report_md.c) and the figures of the HTML one (report_html.c)
 * draw. Design: harness/README.md, "Reports". */
#ifndef MMB_REPORT_TRADEOFF_H
#define MMB_REPORT_TRADEOFF_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "report_model.h"

/* A value above this (an exabyte, or 31 years in ns) is not a measurement: read as absent. */
#define MMB_TRADEOFF_VALUE_MAX 1e18

/* At most this many points of a memory-over-time series are kept (run decimates to 1000). */
#define MMB_TRADEOFF_SERIES_MAX 1000

/* One cell's trade-off numbers, medians over its repetitions; NAN where no repetition has a
 * valid value (a number, >= 0, <= MMB_TRADEOFF_VALUE_MAX). */
typedef struct mmb_report_tradeoff {
    double steady_max_ns, steady_p99_ns; /* steady_pause_*_ns, else mmbench.pauses.phases.steady */
    double garbage_peak_bytes;           /* garbage_peak_bytes, else mmbench.garbage.peak_bytes */
    /* Memory over time: mmbench.garbage.series of the repetition whose garbage peak is the (lower)
     * median among those with a series; its valid points (t_ms not decreasing), in order. */
    int npoints;
    double *t_ms, *live_bytes, *garbage_bytes; /* owned */
} mmb_report_tradeoff;

/* Reads a cell's repetitions (its mmbench iteration entries). Never NULL; free with
 * mmb_report_tradeoff_free. Malformed fields are read as absent, never as numbers. */
mmb_report_tradeoff *mmb_report_tradeoff_read(json_t *entries);
void mmb_report_tradeoff_free(mmb_report_tradeoff *t);

/* The Pareto front of n points (x[i], y[i]), lower better on both axes: front[i] is true when
 * point i is valid (finite, >= 0) and no other valid point is at least as good on both axes and
 * better on one. Equal points are all on the front; an invalid point is on no front and beats
 * nothing. Returns how many points are on the front. */
int mmb_pareto_front(const double *x, const double *y, int n, bool *front);

/* A table's trade-off: the rows that ran with a valid max pause, and their fronts against peak
 * RSS and against peak garbage. */
#define MMB_TRADEOFF_ROWS 64
typedef struct mmb_tradeoff_point {
    int row; /* index into mmb_report.rows */
    double pause_ns, p99_ns, rss_bytes, garbage_bytes;
    bool front_rss, front_garbage;
} mmb_tradeoff_point;

typedef struct mmb_tradeoff_view {
    bool steady;   /* every row that ran has a steady phase's max pause: the y axis is it */
    bool eligible; /* the table's family is pause-sensitive or cycle-heavy */
    int nrss;      /* points with a peak RSS: the RSS scatter is drawn when >= 2 */
    int ngarbage;  /* points with a peak garbage: the garbage scatter is drawn when >= 2 */
    int nseries;   /* rows with a memory-over-time series of >= 2 points: lines when >= 2 */
    int npoints;   /* sorted by max pause, then peak RSS, then the table's order */
    mmb_tradeoff_point point[MMB_TRADEOFF_ROWS];
} mmb_tradeoff_view;

/* Table tb's trade-off. */
void mmb_tradeoff_view_of(const mmb_report *r, const mmb_report_table *tb, mmb_tradeoff_view *v);

/* Whether a scatter (and the Markdown table) has something to show: >= 2 points on one axis. */
bool mmb_tradeoff_has_scatter(const mmb_tradeoff_view *v);

/* What the y axis is, for captions: "the steady phase's max pause (steady_pause_max_ns)" or
 * "the whole run's max pause (pause_max_ns)...". */
const char *mmb_tradeoff_y_caption(const mmb_tradeoff_view *v);

#endif
