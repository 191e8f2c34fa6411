/* `mmbench report --format md` (report.h): one Markdown table per workload, grouped by family,
 * the best value of each column in bold, the machine and build context underneath. */
#include "report_model.h"

#include <math.h>
#include <string.h>

#include "report_alloc.h"
#include "report_tradeoff.h"

/* Markdown table cells cannot hold '|' or a line break. */
static void put_md(FILE *out, const char *s) {
    for (; *s; s++) {
        if (*s == '|')
            fputs("\\|", out);
        else if (*s == '\n' || *s == '\r')
            fputc(' ', out);
        else
            fputc(*s, out);
    }
}

static void md_section(void *ctx, const char *heading) {
    FILE *out = ctx;
    if (heading) {
        fputs("\n### ", out);
        put_md(out, heading);
        fputs("\n", out);
    }
    fputs("\n", out);
}

static void md_field(void *ctx, const char *label, const char *value) {
    FILE *out = ctx;
    fputs("- ", out);
    put_md(out, label);
    fputs(": ", out);
    put_md(out, value);
    fputs("\n", out);
}

/* The table's pauses by kind, for the kinds some row had. */
static void md_kinds(const mmb_report *r, const mmb_report_table *tb, FILE *out) {
    int shown = 0;
    for (int k = 0; k < MMB_REPORT_KINDS; k++)
        shown += tb->has_kind[k];
    if (!shown)
        return;
    fputs("\nPauses by kind (medians over repetitions; n: pauses in a repetition):\n\n| manager |",
          out);
    for (int k = 0; k < MMB_REPORT_KINDS; k++)
        if (tb->has_kind[k])
            fprintf(out, " %s n | %s p99 | %s max |", mmb_report_kinds[k], mmb_report_kinds[k],
                    mmb_report_kinds[k]);
    fputs("\n| --- |", out);
    for (int k = 0; k < shown; k++)
        fputs(" ---: | ---: | ---: |", out);
    fputs("\n", out);
    for (int i = tb->first_row; i < tb->first_row + tb->nrows; i++) {
        fputs("| ", out);
        put_md(out, r->rows[i].label);
        fputs(" |", out);
        for (int k = 0; k < MMB_REPORT_KINDS; k++) {
            char n[64], p99[64], mx[64];
            if (!tb->has_kind[k])
                continue;
            mmb_report_kind_cells(&r->rows[i], k, n, p99, mx, sizeof n);
            fprintf(out, " %s | %s | %s |", n, p99, mx);
        }
        fputs("\n", out);
    }
}

/* "yes" or "no" on the front of an axis, "-" where the point has no value on it. */
static const char *front_cell(double x, bool front) {
    return !isfinite(x) ? "-" : front ? "yes" : "no";
}

/* The pause-versus-memory table (report_tradeoff.h), sorted by max pause, for pause-sensitive
 * and cycle-heavy workloads where two or more managers have the numbers. */
static void md_tradeoff(const mmb_report *r, const mmb_report_table *tb, FILE *out) {
    mmb_tradeoff_view v;
    mmb_tradeoff_view_of(r, tb, &v);
    if (!mmb_tradeoff_has_scatter(&v))
        return;
    bool garbage = v.ngarbage >= 2;
    fprintf(out,
            "\nPause versus memory, sorted by max pause: %s. Front: yes when on the Pareto "
            "front, where no other manager pauses no longer and holds no more memory (peak "
            "RSS%s) while better on one of the two.\n\n"
            "| manager | max pause | p99 pause | peak RSS |%s front (RSS) |%s\n"
            "| --- | ---: | ---: | ---: |%s ---: |%s\n",
            mmb_tradeoff_y_caption(&v), garbage ? ", or peak garbage" : "",
            garbage ? " peak garbage |" : "", garbage ? " front (garbage) |" : "",
            garbage ? " ---: |" : "", garbage ? " ---: |" : "");
    for (int i = 0; i < v.npoints; i++) {
        const mmb_tradeoff_point *p = &v.point[i];
        char mx[64], p99[64], rss[64], g[64];
        mmb_report_format(p->pause_ns, MMB_UNIT_NS, mx, sizeof mx);
        mmb_report_format(p->p99_ns, MMB_UNIT_NS, p99, sizeof p99);
        mmb_report_format(p->rss_bytes, MMB_UNIT_BYTES, rss, sizeof rss);
        mmb_report_format(p->garbage_bytes, MMB_UNIT_BYTES, g, sizeof g);
        fputs("| ", out);
        put_md(out, r->rows[p->row].label);
        fprintf(out, " | %s | %s | %s |", mx, p99, rss);
        if (garbage)
            fprintf(out, " %s |", g);
        fprintf(out, " %s |", front_cell(p->rss_bytes, p->front_rss));
        if (garbage)
            fprintf(out, " %s |", front_cell(p->garbage_bytes, p->front_garbage));
        fputs("\n", out);
    }
}

int mmb_report_write_md(const mmb_report *r, FILE *out) {
    fputs("# mmbench results\n\n"
          "Medians over each cell's repetitions (n). **Bold**: the best value in its column "
          "(highest work units/s and MMU, lowest otherwise). Pauses are every pause the mutator "
          "saw: full and young collections and refcount cascades at or above the cascade "
          "threshold, with the kind of the longest beside the max pause; pauses by kind follow "
          "each table. MMU is the bounded minimum mutator utilisation over 10 ms windows.\n",
          out);
    const char *family = NULL;
    for (int t = 0; t < r->ntables; t++) {
        const mmb_report_table *tb = &r->tables[t];
        if (!family || strcmp(family, tb->family) != 0) {
            family = tb->family;
            fputs("\n## ", out);
            put_md(out, family);
            fputs("\n", out);
        }
        fputs("\n### ", out);
        put_md(out, tb->title);
        fputs("\n\n| manager | n |", out);
        for (int c = 0; c < mmb_report_column_count(); c++)
            if (tb->has_column[c])
                fprintf(out, " %s |", mmb_report_title(tb, c));
        fputs("\n| --- | ---: |", out);
        for (int c = 0; c < mmb_report_column_count(); c++)
            if (tb->has_column[c])
                fputs(" ---: |", out);
        fputs("\n", out);
        for (int i = tb->first_row; i < tb->first_row + tb->nrows; i++) {
            const mmb_report_row *row = &r->rows[i];
            fputs("| ", out);
            put_md(out, row->label);
            fprintf(out, " | %d |", row->repetitions);
            for (int c = 0; c < mmb_report_column_count(); c++) {
                if (!tb->has_column[c])
                    continue;
                char v[96];
                mmb_report_cell(row, c, v, sizeof v);
                fprintf(out, row->best[c] ? " **%s** |" : " %s |", v);
            }
            fputs("\n", out);
        }
        md_kinds(r, tb, out);
        md_tradeoff(r, tb, out);
        mmb_report_alloc_md(r, tb, out, put_md);
        for (int i = tb->first_row; i < tb->first_row + tb->nrows; i++)
            if (*r->rows[i].error) {
                fputs("\nFailed: ", out);
                put_md(out, r->rows[i].label);
                fputs(": ", out);
                put_md(out, r->rows[i].error);
                fputs("\n", out);
            }
    }
    fputs("\n## Context\n", out);
    mmb_report_contexts(r, md_section, md_field, out);
    return ferror(out) ? -1 : 0;
}
