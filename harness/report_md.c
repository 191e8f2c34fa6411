/* `mmbench report --format md` (report.h): one Markdown table per workload, grouped by family,
 * the best value of each column in bold, the machine and build context underneath. */
#include "report.h"

#include <string.h>

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

int mmb_report_write_md(const mmb_report *r, FILE *out) {
    fputs("# mmbench results\n\n"
          "Medians over each cell's repetitions (n). **Bold**: the best value in its column "
          "(highest work units/s and MMU, lowest otherwise). Pauses are collection pauses "
          "(full and young); MMU is the bounded minimum mutator utilisation over 10 ms windows.\n",
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
        for (int c = 0; c < MMB_COL_COUNT; c++)
            if (tb->has_column[c])
                fprintf(out, " %s |", mmb_report_title(tb, c));
        fputs("\n| --- | ---: |", out);
        for (int c = 0; c < MMB_COL_COUNT; c++)
            if (tb->has_column[c])
                fputs(" ---: |", out);
        fputs("\n", out);
        for (int i = tb->first_row; i < tb->first_row + tb->nrows; i++) {
            const mmb_report_row *row = &r->rows[i];
            fputs("| ", out);
            put_md(out, row->label);
            fprintf(out, " | %d |", row->repetitions);
            for (int c = 0; c < MMB_COL_COUNT; c++) {
                if (!tb->has_column[c])
                    continue;
                char v[64];
                mmb_report_format(row->value[c], mmb_report_columns[c].unit, v, sizeof v);
                fprintf(out, row->best[c] ? " **%s** |" : " %s |", v);
            }
            fputs("\n", out);
        }
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
