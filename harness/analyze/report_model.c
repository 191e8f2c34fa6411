/* The model's helpers (report_model.h): report's columns as a view of the metric registry, the
 * formatting of values and cells, and the machine-and-build context under the tables. */
#include "report_model.h"

#include <math.h>
#include <string.h>

#include "format.h"
#include "results.h"

const char *const mmb_report_kinds[MMB_REPORT_KINDS] = {"full", "young", "cascade", "increment"};

int mmb_report_column_count(void) {
    return (int)mmb_metric_column_count();
}

const mmb_metric *mmb_report_column(int c) {
    return mmb_metric_column_at((size_t)c);
}

const char *mmb_report_column_key(int c) {
    const mmb_metric *m = mmb_report_column(c);
    return m->column.key ? m->column.key : m->name;
}

int mmb_report_column_of(const char *metric) {
    const mmb_metric *m = mmb_metric_find(metric);
    return m && m->column.position > 0 ? m->column.position - 1 : -1;
}

void mmb_report_format(double v, mmb_unit unit, char *buf, size_t n) {
    static const mmb_format_style rate_style = {
        {{1, false}, {2, false}, {2, false}, {2, false}}, "", false};
    static const mmb_format_style ns_style = {
        {{0, false}, {1, false}, {2, false}, {2, false}}, " ", true};
    static const mmb_format_style bytes_style = {
        {{3, true}, {1, false}, {1, false}, {2, false}}, " ", false};
    if (!isfinite(v)) {
        snprintf(buf, n, "-");
        return;
    }
    switch (unit) {
    case MMB_UNIT_RATE:
        mmb_format_si(v, &rate_style, buf, n);
        break;
    case MMB_UNIT_NS:
        /* A pause below 128 ns is whole (hist.h); a cost per object there is not, and its
         * tenths matter (full GC ns/live object). */
        if (v < 100 && v != floor(v))
            snprintf(buf, n, "%.1f ns", v);
        else
            mmb_format_ns(v, &ns_style, buf, n);
        break;
    case MMB_UNIT_RATIO:
        snprintf(buf, n, "%.3f", v);
        break;
    case MMB_UNIT_BYTES:
        mmb_format_bytes(v, &bytes_style, buf, n);
        break;
    case MMB_UNIT_COUNT:
        snprintf(buf, n, v == floor(v) ? "%.0f" : "%.1f", v);
        break;
    }
}

const char *mmb_report_title(const mmb_report_table *t, int c) {
    if (c == mmb_report_column_of("heap_bytes_per_object"))
        return mmb_metric_find(t->heap_bytes_per_object ? "heap_bytes_per_object"
                                                        : "peak_rss_bytes_per_work_unit")
            ->title;
    const mmb_metric *m = mmb_report_column(c);
    return m->column.title ? m->column.title : m->title;
}

void mmb_report_cell(const mmb_report_row *row, int c, char *buf, size_t n) {
    mmb_report_format(row->value[c], mmb_report_column(c)->unit, buf, n);
    size_t len = strlen(buf);
    if (c == mmb_report_column_of("pause_max_ns") && row->pause_max_kind && row->value[c] > 0 &&
        len < n)
        snprintf(buf + len, n - len, " (%s)", row->pause_max_kind);
}

void mmb_report_kind_cells(const mmb_report_row *row, int k, char *count, char *p99, char *max,
                           size_t n) {
    bool any = row->kind_count[k] > 0;
    mmb_report_format(row->kind_count[k], MMB_UNIT_COUNT, count, n);
    mmb_report_format(any ? row->kind_p99_ns[k] : NAN, MMB_UNIT_NS, p99, n);
    mmb_report_format(any ? row->kind_max_ns[k] : NAN, MMB_UNIT_NS, max, n);
}

int mmb_report_manager_index(const mmb_report *r, const char *manager) {
    for (int i = 0; i < r->nmanagers; i++)
        if (strcmp(r->managers[i], manager) == 0)
            return i;
    return -1;
}

/* ---- context ----------------------------------------------------------------------------------
 */

enum {
    CTX_CPU,
    CTX_CPUS,
    CTX_MEMORY,
    CTX_KERNEL,
    CTX_VERSION,
    CTX_REVISION,
    CTX_BUILD,
    CTX_MACHINE
};
static const char *const ctx_labels[CTX_MACHINE] = {
    "CPU", "CPUs", "memory", "kernel", "mmbench version", "git revision", "build type"};

/* The machine-and-build field `k` of file f. */
static void context_field(const mmb_report *r, int f, int k, char *buf, size_t n) {
    json_t *ctx = json_object_get(r->files[f].doc, "context");
    json_t *mm = json_object_get(ctx, "mmbench");
    switch (k) {
    case CTX_CPU:
        snprintf(buf, n, "%s", mmb_results_string(json_object_get(mm, "cpu_model"), "unknown"));
        break;
    case CTX_CPUS: {
        double cpus = mmb_results_number(json_object_get(mm, "online_cpus"));
        if (!isfinite(cpus))
            cpus = mmb_results_number(json_object_get(ctx, "num_cpus"));
        if (isfinite(cpus))
            snprintf(buf, n, "%.0f online", cpus);
        else
            snprintf(buf, n, "unknown");
        break;
    }
    case CTX_MEMORY:
        mmb_report_format(mmb_results_number(json_object_get(mm, "memory_bytes")), MMB_UNIT_BYTES,
                          buf, n);
        break;
    case CTX_KERNEL:
        snprintf(buf, n, "%s", mmb_results_string(json_object_get(mm, "kernel"), "unknown"));
        break;
    case CTX_VERSION:
        snprintf(buf, n, "%s", mmb_results_string(json_object_get(mm, "version"), "unknown"));
        break;
    case CTX_REVISION:
        snprintf(buf, n, "%s", mmb_results_string(json_object_get(mm, "git_revision"), "unknown"));
        break;
    case CTX_BUILD: {
        const char *san = mmb_results_string(json_object_get(mm, "sanitizers"), "");
        snprintf(buf, n, "%s%s%s", mmb_results_string(json_object_get(mm, "build_type"), "unknown"),
                 *san ? ", sanitizers " : "", san);
        break;
    }
    }
}

static void command_line(json_t *mm, char *buf, size_t n) {
    json_t *cmd = json_object_get(mm, "command");
    size_t len = (size_t)snprintf(buf, n, "mmbench");
    size_t i;
    json_t *arg;
    json_array_foreach(cmd, i, arg) {
        if (len >= n)
            break;
        len += (size_t)snprintf(buf + len, n - len, " %s", mmb_results_string(arg, "?"));
    }
    if (!json_is_array(cmd))
        snprintf(buf, n, "unknown");
}

bool mmb_report_same_machine(const mmb_report *r, int a, int b) {
    for (int k = 0; k < CTX_MACHINE; k++) {
        char x[512], y[512];
        context_field(r, a, k, x, sizeof x);
        context_field(r, b, k, y, sizeof y);
        if (strcmp(x, y) != 0)
            return false;
    }
    return true;
}

void mmb_report_contexts(const mmb_report *r, void (*section)(void *ctx, const char *heading),
                         void (*field)(void *ctx, const char *label, const char *value),
                         void *ctx) {
    int groups = 0;
    for (int f = 0; f < r->nfiles; f++)
        groups += r->files[f].context_group == f;
    for (int g = 0; g < r->nfiles; g++) {
        if (r->files[g].context_group != g)
            continue;
        int members = 0;
        char heading[2048];
        size_t len = (size_t)snprintf(heading, sizeof heading, "Context of");
        for (int f = g; f < r->nfiles; f++)
            if (r->files[f].context_group == g) {
                if (len < sizeof heading)
                    len += (size_t)snprintf(heading + len, sizeof heading - len, "%s %s",
                                            members ? "," : "", r->files[f].path);
                members++;
            }
        section(ctx, groups > 1 ? heading : NULL);
        char value[4096], label[4200];
        for (int k = 0; k < CTX_MACHINE; k++) {
            context_field(r, g, k, value, sizeof value);
            field(ctx, ctx_labels[k], value);
        }
        for (int f = g; f < r->nfiles; f++) {
            if (r->files[f].context_group != g)
                continue;
            json_t *c = json_object_get(r->files[f].doc, "context");
            snprintf(label, sizeof label, members > 1 ? "date (%s)" : "date", r->files[f].path);
            field(ctx, label, mmb_results_string(json_object_get(c, "date"), "unknown"));
            snprintf(label, sizeof label, members > 1 ? "command (%s)" : "command",
                     r->files[f].path);
            command_line(json_object_get(c, "mmbench"), value, sizeof value);
            field(ctx, label, value);
        }
    }
}
