/* The allocator table (report_alloc.h): what each cell's allocator cost, read from the metrics
 * run records per repetition (harness/README.md, "Allocators"), as one table per workload whose
 * rows ran under several allocators, in Markdown and in HTML. */
#include "report_alloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "report_svg.h"
#include "results.h"
#include "stats.h"

const char *const mmb_report_alloc_metrics[MMB_REPORT_ALLOC_METRICS] = {
    "alloc_ns_per_call", "free_ns_per_call",       "alloc_time_fraction",
    "fragmentation",     "allocator_mapped_bytes", "memory_returned_bytes",
};

static const char *const titles[MMB_REPORT_ALLOC_METRICS] = {
    "alloc ns/call",        "free ns/call",     "time in alloc+free",
    "peak RSS / peak live", "allocator mapped", "returned at the end",
};

mmb_report_alloc *mmb_report_alloc_read(json_t *entries) {
    mmb_report_alloc *a = mmb_xcalloc(1, sizeof *a);
    size_t n = json_array_size(entries), i;
    double *v = mmb_xcalloc(n ? n : 1, sizeof *v);
    for (int m = 0; m < MMB_REPORT_ALLOC_METRICS; m++) {
        json_t *e;
        json_array_foreach(entries, i, e) {
            double x = mmb_results_number(json_object_get(e, mmb_report_alloc_metrics[m]));
            bool ok = !json_is_true(json_object_get(e, "error_occurred")) && isfinite(x) && x >= 0;
            v[i] = ok ? x : NAN;
        }
        a->value[m] = mmb_median(v, n);
    }
    free(v);
    return a;
}

bool mmb_report_alloc_varies(const mmb_report *r, const mmb_report_table *tb) {
    const char *first = NULL;
    for (int i = tb->first_row; i < tb->first_row + tb->nrows; i++) {
        const char *a = r->rows[i].allocator;
        if (strcmp(a, "own") == 0) /* a manager with its own memory: no allocator to compare */
            continue;
        if (!first)
            first = a;
        else if (strcmp(first, a) != 0)
            return true;
    }
    return false;
}

/* Row's value of the report column named, formatted ("-" when not a column or absent). */
static void column_cell(const mmb_report_row *row, const char *metric, char *buf, size_t n) {
    int c = mmb_report_column_of(metric);
    if (c < 0) {
        snprintf(buf, n, "-");
        return;
    }
    mmb_report_format(row->value[c], mmb_report_column(c)->unit, buf, n);
}

/* The table's columns after manager and allocator, and one row's values under them, formatted:
 * what the Markdown and the HTML tables both show. */
#define NCOLUMNS (2 + MMB_REPORT_ALLOC_METRICS)

static const char *column_title(int c) {
    return c == 0 ? "work units/s" : c == 1 ? "peak RSS" : titles[c - 2];
}

static void row_cells(const mmb_report_row *row, char cells[NCOLUMNS][64]) {
    column_cell(row, "work_units_per_second", cells[0], sizeof cells[0]);
    column_cell(row, "peak_rss_bytes", cells[1], sizeof cells[1]);
    for (int m = 0; m < MMB_REPORT_ALLOC_METRICS; m++) {
        const mmb_metric *mt = mmb_metric_find(mmb_report_alloc_metrics[m]);
        mmb_report_format(row->alloc ? row->alloc->value[m] : NAN, mt ? mt->unit : MMB_UNIT_COUNT,
                          cells[2 + m], sizeof cells[2 + m]);
    }
}

static const char caption[] =
    "By allocator (run --allocator): allocation and free times estimated from one call in 64 "
    "timed; peak RSS over peak live bytes asked for; the allocator's own mapped bytes at the "
    "end; RSS given back by destroying the heap and closing the allocator.";

void mmb_report_alloc_md(const mmb_report *r, const mmb_report_table *tb, FILE *out,
                         void (*put_md)(FILE *out, const char *s)) {
    if (!mmb_report_alloc_varies(r, tb))
        return;
    fprintf(out, "\n%s\n\n| manager | allocator |", caption);
    for (int c = 0; c < NCOLUMNS; c++)
        fprintf(out, " %s |", column_title(c));
    fputs("\n| --- | --- |", out);
    for (int c = 0; c < NCOLUMNS; c++)
        fputs(" ---: |", out);
    fputs("\n", out);
    for (int i = tb->first_row; i < tb->first_row + tb->nrows; i++) {
        const mmb_report_row *row = &r->rows[i];
        char cells[NCOLUMNS][64];
        row_cells(row, cells);
        fputs("| ", out);
        put_md(out, row->manager);
        fputs(" | ", out);
        put_md(out, row->allocator);
        fputs(" |", out);
        for (int c = 0; c < NCOLUMNS; c++)
            fprintf(out, " %s |", cells[c]);
        fputs("\n", out);
    }
}

void mmb_report_alloc_html(const mmb_report *r, const mmb_report_table *tb, FILE *out) {
    if (!mmb_report_alloc_varies(r, tb))
        return;
    fprintf(out,
            "<p class=\"note\">%s</p>\n<table class=\"r a\"><thead><tr><th>manager</th>"
            "<th>allocator</th>",
            caption);
    for (int c = 0; c < NCOLUMNS; c++)
        fprintf(out, "<th>%s</th>", column_title(c));
    fputs("</tr></thead>\n<tbody>\n", out);
    for (int i = tb->first_row; i < tb->first_row + tb->nrows; i++) {
        const mmb_report_row *row = &r->rows[i];
        char cells[NCOLUMNS][64];
        row_cells(row, cells);
        fputs("<tr><td class=\"m\">", out);
        mmb_html_escape(out, row->manager);
        fputs("</td><td class=\"m\">", out);
        mmb_html_escape(out, row->allocator);
        fputs("</td>", out);
        for (int c = 0; c < NCOLUMNS; c++) {
            fputs("<td>", out);
            mmb_html_escape(out, cells[c]);
            fputs("</td>", out);
        }
        fputs("</tr>\n", out);
    }
    fputs("</tbody></table>\n", out);
}
