/* `mmbench report --format csv` (report.h): one row per cell, every column, raw medians in base
 * units (ns, bytes, counts), the kind of the longest pause, and per kind the count, p99 and max
 * pause; `best` lists the columns whose value is the best in the cell's table. Quoting as
 * RFC 4180. */
#include "report_model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void put_csv(FILE *out, const char *s) {
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

/* The shortest of %.15g and %.17g that reads back exactly; empty when absent. */
static void put_number(FILE *out, double v) {
    if (!isfinite(v))
        return;
    char buf[64];
    snprintf(buf, sizeof buf, "%.15g", v);
    if (strtod(buf, NULL) != v)
        snprintf(buf, sizeof buf, "%.17g", v);
    fputs(buf, out);
}

int mmb_report_write_csv(const mmb_report *r, FILE *out) {
    int bytes_col = mmb_report_column_of("heap_bytes_per_object");
    int max_col = mmb_report_column_of("pause_max_ns");
    fputs("file,workload,family,scale,params,manager,options,repetitions,status", out);
    for (int c = 0; c < mmb_report_column_count(); c++) {
        fprintf(out, ",%s", mmb_report_column_key(c));
        if (c == bytes_col)
            fputs(",bytes_per_object_source", out);
        if (c == max_col)
            fputs(",pause_max_kind", out);
    }
    for (int k = 0; k < MMB_REPORT_KINDS; k++)
        fprintf(out, ",pauses_%s_count,pauses_%s_p99_ns,pauses_%s_max_ns", mmb_report_kinds[k],
                mmb_report_kinds[k], mmb_report_kinds[k]);
    fputs(",best\n", out);
    for (int i = 0; i < r->nrows; i++) {
        const mmb_report_row *row = &r->rows[i];
        const char *text[] = {r->files[row->file].path,
                              row->workload,
                              row->family,
                              row->scale,
                              row->params,
                              row->manager,
                              row->options};
        for (size_t k = 0; k < sizeof text / sizeof text[0]; k++) {
            put_csv(out, text[k]);
            fputc(',', out);
        }
        fprintf(out, "%d,", row->repetitions);
        if (*row->error) {
            char status[300];
            snprintf(status, sizeof status, "error: %s", row->error);
            put_csv(out, status);
        } else {
            fputs("ok", out);
        }
        for (int c = 0; c < mmb_report_column_count(); c++) {
            fputc(',', out);
            put_number(out, row->value[c]);
            if (c == bytes_col)
                fputs(!isfinite(row->value[c])     ? ","
                      : row->heap_bytes_per_object ? ",heap_bytes_per_object"
                                                   : ",peak_rss_bytes_per_work_unit",
                      out);
            if (c == max_col) {
                fputc(',', out);
                if (row->pause_max_kind && row->value[c] > 0)
                    fputs(row->pause_max_kind, out);
            }
        }
        for (int k = 0; k < MMB_REPORT_KINDS; k++) {
            bool any = row->kind_count[k] > 0;
            fputc(',', out);
            put_number(out, row->kind_count[k]);
            fputc(',', out);
            put_number(out, any ? row->kind_p99_ns[k] : NAN);
            fputc(',', out);
            put_number(out, any ? row->kind_max_ns[k] : NAN);
        }
        fputc(',', out);
        const char *sep = "";
        for (int c = 0; c < mmb_report_column_count(); c++)
            if (row->best[c]) {
                fprintf(out, "%s%s", sep, mmb_report_column_key(c));
                sep = " ";
            }
        fputc('\n', out);
    }
    return ferror(out) ? -1 : 0;
}
