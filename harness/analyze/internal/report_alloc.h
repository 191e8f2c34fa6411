/* The allocator table of `mmbench report` (report_alloc.c): per cell the allocation numbers read
 * from its repetitions, and the tables, in Markdown and in HTML, that report_md.c and
 * report_html.c add under a workload's table when its rows ran under more than one allocator
 * (run --allocator). Design: harness/README.md, "Reports". */
#ifndef MMB_REPORT_ALLOC_H
#define MMB_REPORT_ALLOC_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "report_model.h"

/* The metrics of the table, in its column order after work units/s and peak RSS. */
#define MMB_REPORT_ALLOC_METRICS 6
extern const char *const mmb_report_alloc_metrics[MMB_REPORT_ALLOC_METRICS];

/* One cell's allocation numbers: medians over its error-free repetitions of each metric of
 * mmb_report_alloc_metrics; NAN where none has a valid value (a number, >= 0). */
typedef struct mmb_report_alloc {
    double value[MMB_REPORT_ALLOC_METRICS];
} mmb_report_alloc;

/* Reads a cell's repetitions (its mmbench iteration entries). Never NULL; free() it. */
mmb_report_alloc *mmb_report_alloc_read(json_t *entries);

/* Whether table tb's rows ran under more than one allocator, not counting "own" (managers that
 * keep objects in their own memory: the harness allocator is not used, nothing to compare). */
bool mmb_report_alloc_varies(const mmb_report *r, const mmb_report_table *tb);

/* The Markdown table of tb's rows by allocator, when mmb_report_alloc_varies. put_md writes a
 * label escaped for Markdown. */
void mmb_report_alloc_md(const mmb_report *r, const mmb_report_table *tb, FILE *out,
                         void (*put_md)(FILE *out, const char *s));

/* The same table in HTML (report --format html), when mmb_report_alloc_varies. */
void mmb_report_alloc_html(const mmb_report *r, const mmb_report_table *tb, FILE *out);

#endif
