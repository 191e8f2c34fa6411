/* `mmbench report` (report.h): reads `mmbench run --out` documents, summarises each cell by the
 * medians over its repetitions, groups cells into tables per workload family, marks each
 * column's best value, then hands the summary to one renderer per format. */
#include "report.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "hist.h"
#include "outfile.h"

const mmb_report_column mmb_report_columns[MMB_COL_COUNT] = {
    [MMB_COL_THROUGHPUT] = {"work_units_per_second", "work_units_per_second", NULL, false},
    [MMB_COL_PER_THREAD] = {"per_thread_units_per_second", "per_thread_units_per_second", NULL,
                            true},
    [MMB_COL_SCALING] = {"scaling_efficiency", "scaling_efficiency", NULL, true},
    [MMB_COL_PAUSE_P99] = {"pause_p99_ns", "pause_p99_ns", NULL, false},
    [MMB_COL_PAUSE_MAX] = {"pause_max_ns", "pause_max_ns", NULL, false},
    [MMB_COL_MMU_10MS] = {"mmu_10ms", "mmu_10ms", NULL, false},
    [MMB_COL_PEAK_RSS] = {"peak_rss_bytes", "peak_rss_bytes", NULL, false},
    /* heap_bytes_per_object where the workload measures it, else peak_rss_bytes_per_work_unit */
    [MMB_COL_BYTES_PER_OBJ] = {"bytes_per_object", "heap_bytes_per_object", "bytes/object", false},
    [MMB_COL_MEMORY_LAG] = {"memory_lag_objects", "memory_lag_objects", NULL, false},
    [MMB_COL_LATENCY_P99] = {"latency_p99_ns", "latency_p99_ns", NULL, true},
    [MMB_COL_INCREMENTS] = {"increments", "increments", NULL, false},
    [MMB_COL_DECREMENTS] = {"decrements", "decrements", NULL, false},
    [MMB_COL_TRAVERSED] = {"objects_traversed", "objects_traversed", NULL, false},
    /* collections_full + collections_young */
    [MMB_COL_COLLECTIONS] = {"collections", "collections_full", "collections", false},
};

const char *const mmb_report_kinds[MMB_REPORT_KINDS] = {"full", "young", "cascade"};

const mmb_metric *mmb_report_metric(int c) {
    static const mmb_metric none = {"", MMB_UNIT_COUNT, MMB_LOWER_IS_BETTER, false, -1, "?"};
    const mmb_metric *m = mmb_metric_find(mmb_report_columns[c].metric);
    return m ? m : &none;
}

/* Families in the order the tables show them; others follow in order of appearance. */
static const char *const family_order[] = {"many-small", "cycle-heavy", "pause-sensitive",
                                           "threaded"};
#define N_FAMILY_ORDER (sizeof family_order / sizeof family_order[0])

#define fail mmb_usage_error

static double number(json_t *v) {
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static const char *string_or(json_t *v, const char *fallback) {
    const char *s = json_string_value(v);
    return s ? s : fallback;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The median of the finite values among v[0..n) (reordered); NAN when there are none. */
static double median(double *v, int n) {
    int m = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(v[i]))
            v[m++] = v[i];
    if (m == 0)
        return NAN;
    qsort(v, (size_t)m, sizeof *v, cmp_double);
    return m % 2 ? v[m / 2] : (v[m / 2 - 1] + v[m / 2]) / 2;
}

/* "k=v k=v" from a JSON object of parameters or options, in the document's order. */
static void format_kv(json_t *obj, char *buf, size_t n) {
    size_t len = 0;
    buf[0] = 0;
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        char val[64];
        if (json_is_number(v))
            snprintf(val, sizeof val, "%.10g", json_number_value(v));
        else if (json_is_string(v))
            snprintf(val, sizeof val, "%s", json_string_value(v));
        else
            snprintf(val, sizeof val, "%s", json_is_true(v) ? "true" : "false");
        int w = snprintf(buf + len, n - len, "%s%s=%s", len ? " " : "", key, val);
        if (w < 0 || (size_t)w >= n - len)
            break;
        len += (size_t)w;
    }
}

void mmb_report_format(double v, mmb_unit unit, char *buf, size_t n) {
    if (!isfinite(v)) {
        snprintf(buf, n, "-");
        return;
    }
    switch (unit) {
    case MMB_UNIT_RATE:
        if (v >= 1e9)
            snprintf(buf, n, "%.2fG", v / 1e9);
        else if (v >= 1e6)
            snprintf(buf, n, "%.2fM", v / 1e6);
        else if (v >= 1e3)
            snprintf(buf, n, "%.2fk", v / 1e3);
        else
            snprintf(buf, n, "%.1f", v);
        break;
    case MMB_UNIT_NS:
        if (v < 1e3)
            snprintf(buf, n, "%.0f ns", v);
        else if (v < 1e6)
            snprintf(buf, n, "%.1f µs", v / 1e3);
        else if (v < 1e9)
            snprintf(buf, n, "%.2f ms", v / 1e6);
        else
            snprintf(buf, n, "%.2f s", v / 1e9);
        break;
    case MMB_UNIT_RATIO:
        snprintf(buf, n, "%.3f", v);
        break;
    case MMB_UNIT_BYTES:
        if (v < 1024)
            snprintf(buf, n, "%.3g B", v);
        else if (v < 1024.0 * 1024)
            snprintf(buf, n, "%.1f KiB", v / 1024);
        else if (v < 1024.0 * 1024 * 1024)
            snprintf(buf, n, "%.1f MiB", v / (1024.0 * 1024));
        else
            snprintf(buf, n, "%.2f GiB", v / (1024.0 * 1024 * 1024));
        break;
    case MMB_UNIT_COUNT:
        snprintf(buf, n, v == floor(v) ? "%.0f" : "%.1f", v);
        break;
    }
}

const char *mmb_report_title(const mmb_report_table *t, int c) {
    if (c == MMB_COL_BYTES_PER_OBJ)
        return mmb_metric_find(t->heap_bytes_per_object ? "heap_bytes_per_object"
                                                        : "peak_rss_bytes_per_work_unit")
            ->title;
    return mmb_report_columns[c].title ? mmb_report_columns[c].title : mmb_report_metric(c)->title;
}

void mmb_report_cell(const mmb_report_row *row, int c, char *buf, size_t n) {
    mmb_report_format(row->value[c], mmb_report_metric(c)->unit, buf, n);
    size_t len = strlen(buf);
    if (c == MMB_COL_PAUSE_MAX && row->pause_max_kind && row->value[c] > 0 && len < n)
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

/* ---- reading ----------------------------------------------------------------------------------
 */

/* Loads and checks one document. Returns EXIT_OK or EXIT_USAGE after one error line. */
static int load_file(const char *path, json_t **doc) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(path, NULL, "cannot open: %s", strerror(errno));
    json_error_t err;
    *doc = json_loadf(f, 0, &err);
    fclose(f);
    if (!*doc) {
        char where[4200];
        snprintf(where, sizeof where, "%s:%d:%d", path, err.line, err.column);
        return fail(where, "give a file that mmbench run --out wrote", "not valid JSON: %s",
                    err.text);
    }
    json_t *benchmarks = json_object_get(*doc, "benchmarks");
    if (!json_is_array(benchmarks))
        return fail(path, "give a file that mmbench run --out wrote",
                    "not an mmbench results document: no \"benchmarks\" array");
    size_t i, cells = 0;
    json_t *b;
    json_array_foreach(benchmarks, i, b) {
        const char *type = json_string_value(json_object_get(b, "run_type"));
        if (type && strcmp(type, "iteration") == 0 &&
            json_is_string(json_object_get(json_object_get(b, "mmbench"), "cell")))
            cells++;
    }
    if (cells == 0)
        return fail(path, "did the run select any cells? mmbench run --help",
                    "no benchmarks: the results hold no mmbench iteration entries");
    return EXIT_OK;
}

/* A cell while it is being read: its entries, in the order of the document. */
typedef struct pending {
    int file;
    const char *cell;
    json_t *entries; /* array */
} pending;

typedef struct bucket {
    double low_ns, count;
} bucket;

static int cmp_bucket(const void *a, const void *b) {
    return cmp_double(&((const bucket *)a)->low_ns, &((const bucket *)b)->low_ns);
}

/* Pools every kind's histogram (collections and cascades) of every repetition into one
 * spectrum. */
static void pool_pauses(mmb_report_row *row, json_t *entries) {
    size_t cap = 0, n = 0, i;
    json_t *e;
    json_array_foreach(entries, i, e) {
        json_t *pauses = json_object_get(json_object_get(e, "mmbench"), "pauses");
        for (int k = 0; k < MMB_REPORT_KINDS; k++)
            cap += json_array_size(
                json_object_get(json_object_get(pauses, mmb_report_kinds[k]), "buckets"));
    }
    bucket *all = mmb_xcalloc(cap, sizeof *all);
    int reps = 0;
    double points[5][64];
    static const char *const point_keys[5] = {"p50_ns", "p90_ns", "p99_ns", "p99_9_ns", "max_ns"};
    json_array_foreach(entries, i, e) {
        json_t *pauses = json_object_get(json_object_get(e, "mmbench"), "pauses");
        for (int k = 0; k < MMB_REPORT_KINDS; k++) {
            json_t *h = json_object_get(pauses, mmb_report_kinds[k]);
            double mx = number(json_object_get(h, "max_ns"));
            if (isfinite(mx) && mx > row->pause_max_ns)
                row->pause_max_ns = mx;
            size_t j;
            json_t *bk;
            json_array_foreach(json_object_get(h, "buckets"), j, bk) {
                double low = number(json_array_get(bk, 0)), count = number(json_array_get(bk, 1));
                if (isfinite(low) && isfinite(count) && count > 0 && n < cap)
                    all[n++] = (bucket){low, count};
            }
        }
        json_t *coll = json_object_get(pauses, "all"); /* else written before cascades counted */
        if (!coll)
            coll = json_object_get(pauses, "collections");
        if (reps < 64 && number(json_object_get(coll, "count")) > 0) {
            for (int p = 0; p < 5; p++)
                points[p][reps] = number(json_object_get(coll, point_keys[p]));
            reps++;
        }
    }
    for (int p = 0; p < 5; p++)
        row->pause_points[p] = median(points[p], reps);
    qsort(all, n, sizeof *all, cmp_bucket);
    row->pause_low_ns = mmb_xcalloc(n, sizeof(double));
    row->pause_count = mmb_xcalloc(n, sizeof(double));
    for (size_t j = 0; j < n; j++) {
        if (row->npause && row->pause_low_ns[row->npause - 1] == all[j].low_ns) {
            row->pause_count[row->npause - 1] += all[j].count;
        } else {
            row->pause_low_ns[row->npause] = all[j].low_ns;
            row->pause_count[row->npause++] = all[j].count;
        }
        row->pause_total += all[j].count;
    }
    free(all);
}

/* One repetition's headline pauses: every pause the mutator saw, and the kind of the longest.
 * From mmbench.pauses.all when the run wrote it; results written before then have collection
 * pauses only in pause_p99_ns and pause_max_ns, so the summary is rebuilt from the per-kind
 * histograms exactly as run computes it (hist.h); without a cascade histogram, unknown (NAN).
 * Without any per-kind histograms (plain Google Benchmark output), the counters. */
static void entry_pauses(json_t *e, double *p99_ns, double *max_ns, const char **kind) {
    json_t *pauses = json_object_get(json_object_get(e, "mmbench"), "pauses");
    json_t *all = json_object_get(pauses, "all");
    *kind = NULL;
    if (all || !pauses) {
        *p99_ns = all ? number(json_object_get(all, "p99_ns"))
                      : number(json_object_get(e, "pause_p99_ns"));
        *max_ns = all ? number(json_object_get(all, "max_ns"))
                      : number(json_object_get(e, "pause_max_ns"));
        *kind = json_string_value(json_object_get(pauses, "longest_kind"));
        return;
    }
    if (!json_object_get(pauses, "cascade")) {
        *p99_ns = *max_ns = NAN; /* no cascade histogram: every pause is not known */
        return;
    }
    mmb_hist *h = mmb_xcalloc(1, sizeof *h);
    mmb_hist_init(h);
    double longest = 0;
    for (int k = 0; k < MMB_REPORT_KINDS; k++) {
        json_t *kh = json_object_get(pauses, mmb_report_kinds[k]);
        double count = number(json_object_get(kh, "count"));
        if (!(count > 0))
            continue;
        double lo = number(json_object_get(kh, "min_ns")),
               hi = number(json_object_get(kh, "max_ns"));
        if (isfinite(lo) && lo < (double)h->min)
            h->min = (uint64_t)lo;
        if (isfinite(hi) && hi > (double)h->max)
            h->max = (uint64_t)hi;
        if (isfinite(hi) && (!*kind || hi > longest)) {
            longest = hi;
            *kind = mmb_report_kinds[k];
        }
        size_t j;
        json_t *bk;
        json_array_foreach(json_object_get(kh, "buckets"), j, bk) {
            double low = number(json_array_get(bk, 0)), n = number(json_array_get(bk, 1));
            if (isfinite(low) && low >= 0 && isfinite(n) && n > 0) {
                h->counts[mmb_hist_index((uint64_t)low)] += (uint64_t)n;
                h->count += (uint64_t)n;
            }
        }
    }
    *p99_ns = mmb_hist_percentile(h, 99);
    *max_ns = h->count ? (double)h->max : 0;
    free(h);
}

/* One repetition's value of column c; NAN when the entry does not have it. */
static double entry_value(json_t *e, int c, bool *heap_bytes) {
    json_t *det = json_object_get(json_object_get(e, "mmbench"), "deterministic");
    switch (c) {
    case MMB_COL_PAUSE_P99:
    case MMB_COL_PAUSE_MAX: {
        double p99, mx;
        const char *kind;
        entry_pauses(e, &p99, &mx, &kind);
        return c == MMB_COL_PAUSE_P99 ? p99 : mx;
    }
    case MMB_COL_PER_THREAD: /* every cell has it; only threaded workloads' tables show it */
        if (!json_object_get(json_object_get(json_object_get(e, "mmbench"), "params"), "threads"))
            return NAN;
        return number(json_object_get(e, mmb_report_columns[c].key));
    case MMB_COL_BYTES_PER_OBJ: {
        double v = number(json_object_get(e, "heap_bytes_per_object"));
        if (isfinite(v)) {
            *heap_bytes = true;
            return v;
        }
        return number(json_object_get(e, "peak_rss_bytes_per_work_unit"));
    }
    case MMB_COL_COLLECTIONS: {
        double full = number(json_object_get(e, "collections_full"));
        double young = number(json_object_get(e, "collections_young"));
        if (!isfinite(full))
            full = number(json_object_get(det, "collections_full"));
        if (!isfinite(young))
            young = number(json_object_get(det, "collections_young"));
        return full + young;
    }
    case MMB_COL_INCREMENTS:
    case MMB_COL_DECREMENTS:
    case MMB_COL_TRAVERSED: {
        double v = number(json_object_get(e, mmb_report_columns[c].key));
        return isfinite(v) ? v : number(json_object_get(det, mmb_report_columns[c].key));
    }
    default:
        return number(json_object_get(e, mmb_report_columns[c].key));
    }
}

static void summarise(mmb_report_row *row, const pending *p, const char *first_error) {
    json_t *first = json_array_get(p->entries, 0);
    json_t *mm = json_object_get(first, "mmbench");
    row->file = p->file;
    row->manager = string_or(json_object_get(mm, "manager"), "?");
    row->workload = string_or(json_object_get(mm, "workload"), p->cell);
    row->family = string_or(json_object_get(mm, "family"), "other");
    row->scale = string_or(json_object_get(mm, "scale"), "?");
    format_kv(json_object_get(mm, "params"), row->params, sizeof row->params);
    format_kv(json_object_get(mm, "options"), row->options, sizeof row->options);
    const char *placement = json_string_value(json_object_get(mm, "placement"));
    if (placement) {
        size_t len = strlen(row->options);
        snprintf(row->options + len, sizeof row->options - len, "%splacement=%s", len ? " " : "",
                 placement);
    }
    snprintf(row->error, sizeof row->error, "%s", first_error ? first_error : "");
    size_t n = json_array_size(p->entries);
    double *v = mmb_xcalloc(n, sizeof *v);
    row->repetitions = (int)n;
    for (int c = 0; c < MMB_COL_COUNT; c++) {
        for (size_t i = 0; i < n; i++)
            v[i] = entry_value(json_array_get(p->entries, i), c, &row->heap_bytes_per_object);
        row->value[c] = median(v, (int)n);
    }
    const char **kinds = mmb_xcalloc(n, sizeof *kinds);
    for (size_t i = 0; i < n; i++) {
        double p99;
        entry_pauses(json_array_get(p->entries, i), &p99, &v[i], &kinds[i]);
        if (!isfinite(v[i]))
            v[i] = 0;
    }
    row->pause_max_kind = mmb_pause_kind_at_median(v, kinds, (int)n);
    free(kinds);
    static const char *const kind_keys[3] = {"count", "p99_ns", "max_ns"};
    for (int k = 0; k < MMB_REPORT_KINDS; k++)
        for (int f = 0; f < 3; f++) {
            for (size_t i = 0; i < n; i++) {
                json_t *pauses = json_object_get(
                    json_object_get(json_array_get(p->entries, i), "mmbench"), "pauses");
                v[i] = number(
                    json_object_get(json_object_get(pauses, mmb_report_kinds[k]), kind_keys[f]));
            }
            double m = median(v, (int)n);
            *(f == 0   ? &row->kind_count[k]
              : f == 1 ? &row->kind_p99_ns[k]
                       : &row->kind_max_ns[k]) = m;
        }
    json_t *mmu = json_object_get(mm, "mmu");
    row->nmmu = (int)json_array_size(mmu);
    if (row->nmmu > MMB_REPORT_MMU_MAX)
        row->nmmu = MMB_REPORT_MMU_MAX;
    for (int w = 0; w < row->nmmu; w++) {
        row->mmu_window_ms[w] = number(json_object_get(json_array_get(mmu, w), "window_ms"));
        for (size_t i = 0; i < n; i++) {
            json_t *m =
                json_object_get(json_object_get(json_array_get(p->entries, i), "mmbench"), "mmu");
            v[i] = number(json_object_get(json_array_get(m, w), "bounded"));
        }
        row->mmu_bounded[w] = median(v, (int)n);
    }
    free(v);
    pool_pauses(row, p->entries);
}

/* Reads every entry of every file into one row per (file, cell). */
static void collect_rows(mmb_report *r) {
    size_t total = 0;
    for (int f = 0; f < r->nfiles; f++)
        total += json_array_size(json_object_get(r->files[f].doc, "benchmarks"));
    pending *cells = mmb_xcalloc(total, sizeof *cells);
    const char **errors = mmb_xcalloc(total, sizeof *errors);
    int ncells = 0;
    for (int f = 0; f < r->nfiles; f++) {
        size_t i;
        json_t *b;
        json_array_foreach(json_object_get(r->files[f].doc, "benchmarks"), i, b) {
            const char *type = json_string_value(json_object_get(b, "run_type"));
            const char *name =
                json_string_value(json_object_get(json_object_get(b, "mmbench"), "cell"));
            if (!type || strcmp(type, "iteration") != 0 || !name)
                continue;
            /* A cell's entries are contiguous in run's output, so search from the end. */
            int k = ncells - 1;
            while (k >= 0 && !(cells[k].file == f && strcmp(cells[k].cell, name) == 0))
                k--;
            if (k < 0) {
                k = ncells++;
                cells[k] = (pending){f, name, json_array()};
            }
            if (json_is_true(json_object_get(b, "error_occurred"))) {
                if (!errors[k])
                    errors[k] = string_or(json_object_get(b, "error_message"), "failed");
                if (json_array_size(cells[k].entries) == 0)
                    json_array_append(cells[k].entries, b); /* names the cell; no values */
                continue;
            }
            json_t *prev = json_array_get(cells[k].entries, 0);
            if (prev && json_is_true(json_object_get(prev, "error_occurred")))
                json_array_clear(cells[k].entries);
            json_array_append(cells[k].entries, b);
        }
    }
    r->rows = mmb_xcalloc((size_t)ncells, sizeof *r->rows);
    r->nrows = ncells;
    for (int k = 0; k < ncells; k++) {
        summarise(&r->rows[k], &cells[k], errors[k]);
        json_t *e0 = json_array_get(cells[k].entries, 0);
        if (json_is_true(json_object_get(e0, "error_occurred"))) {
            r->rows[k].repetitions = 0;
            for (int c = 0; c < MMB_COL_COUNT; c++)
                r->rows[k].value[c] = NAN;
        }
        json_decref(cells[k].entries);
    }
    free(cells);
    free(errors);
}

static int family_rank(const mmb_report *r, const char *family) {
    for (size_t i = 0; i < N_FAMILY_ORDER; i++)
        if (strcmp(family, family_order[i]) == 0)
            return (int)i;
    for (int i = 0; i < r->nrows; i++) /* others in order of first appearance */
        if (strcmp(r->rows[i].family, family) == 0)
            return (int)N_FAMILY_ORDER + i;
    return INT32_MAX;
}

static bool same_table(const mmb_report_row *a, const mmb_report_row *b) {
    return strcmp(a->workload, b->workload) == 0 && strcmp(a->scale, b->scale) == 0 &&
           strcmp(a->params, b->params) == 0;
}

/* Orders rows by family, then table (in order of appearance), and fills r->tables. */
static void group_tables(mmb_report *r) {
    int n = r->nrows;
    int *table_of = mmb_xcalloc((size_t)n, sizeof *table_of); /* the first row of its table */
    for (int i = 0; i < n; i++) {
        table_of[i] = i;
        for (int j = 0; j < i; j++)
            if (same_table(&r->rows[i], &r->rows[j])) {
                table_of[i] = table_of[j];
                break;
            }
    }
    mmb_report_row *sorted = mmb_xcalloc((size_t)n, sizeof *sorted);
    r->tables = mmb_xcalloc((size_t)n, sizeof *r->tables);
    bool *placed = mmb_xcalloc((size_t)n, sizeof *placed);
    int out = 0;
    for (;;) {
        /* The next table: the lowest family rank, then the earliest first row. */
        int pick = -1, pick_rank = INT32_MAX;
        for (int i = 0; i < n; i++) {
            if (placed[i] || table_of[i] != i)
                continue;
            int rank = family_rank(r, r->rows[i].family);
            if (rank < pick_rank)
                pick = i, pick_rank = rank;
        }
        if (pick < 0)
            break;
        mmb_report_table *t = &r->tables[r->ntables++];
        t->family = r->rows[pick].family;
        t->first_row = out;
        for (int i = pick; i < n; i++)
            if (table_of[i] == pick) {
                placed[i] = true;
                sorted[out++] = r->rows[i];
            }
        t->nrows = out - t->first_row;
    }
    free(r->rows);
    r->rows = sorted;
    free(placed);
    free(table_of);
}

/* Titles, row labels, the columns each table shows, and the best value in each column. */
static void finish_tables(mmb_report *r) {
    for (int t = 0; t < r->ntables; t++) {
        mmb_report_table *tb = &r->tables[t];
        mmb_report_row *rows = &r->rows[tb->first_row];
        const mmb_report_row *first = &rows[0];
        int same_workload = 0;
        for (int u = 0; u < r->ntables; u++)
            same_workload += strcmp(r->rows[r->tables[u].first_row].workload, first->workload) == 0;
        if (same_workload > 1)
            snprintf(tb->title, sizeof tb->title, "%s (scale %s%s%s)", first->workload,
                     first->scale, *first->params ? "; " : "", first->params);
        else
            snprintf(tb->title, sizeof tb->title, "%s", first->workload);

        for (int i = 0; i < tb->nrows; i++) {
            bool dup_manager = false, dup_options = false;
            for (int j = 0; j < tb->nrows; j++) {
                if (j == i || strcmp(rows[i].manager, rows[j].manager) != 0)
                    continue;
                dup_manager = true;
                dup_options |= strcmp(rows[i].options, rows[j].options) == 0;
            }
            snprintf(rows[i].label, sizeof rows[i].label, "%s", rows[i].manager);
            size_t len = strlen(rows[i].label);
            if (dup_manager && *rows[i].options)
                len += (size_t)snprintf(rows[i].label + len, sizeof rows[i].label - len, " (%s)",
                                        rows[i].options);
            if (dup_options && len < sizeof rows[i].label)
                snprintf(rows[i].label + len, sizeof rows[i].label - len, " [%s]",
                         r->files[rows[i].file].path);
        }

        for (int c = 0; c < MMB_COL_COUNT; c++) {
            int better = (int)mmb_report_metric(c)->better, finite = 0;
            double best = NAN, worst = NAN;
            for (int i = 0; i < tb->nrows; i++) {
                double v = rows[i].value[c];
                if (!isfinite(v))
                    continue;
                finite++;
                if (!isfinite(best) || (better > 0 ? v > best : v < best))
                    best = v;
                if (!isfinite(worst) || (better > 0 ? v < worst : v > worst))
                    worst = v;
            }
            /* A column where every row ties has no best. */
            if (best == worst)
                finite = 0;
            tb->has_column[c] = isfinite(best) || !mmb_report_columns[c].optional;
            if (c == MMB_COL_BYTES_PER_OBJ)
                for (int i = 0; i < tb->nrows; i++)
                    tb->heap_bytes_per_object |= rows[i].heap_bytes_per_object;
            for (int i = 0; i < tb->nrows && finite > 1; i++)
                rows[i].best[c] = rows[i].value[c] == best;
        }
        for (int i = 0; i < tb->nrows; i++)
            for (int k = 0; k < MMB_REPORT_KINDS; k++)
                tb->has_kind[k] |= rows[i].kind_count[k] > 0;
    }
    for (int i = 0; i < r->nrows; i++)
        if (mmb_report_manager_index(r, r->rows[i].manager) < 0)
            r->managers[r->nmanagers++] = r->rows[i].manager;
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
        snprintf(buf, n, "%s", string_or(json_object_get(mm, "cpu_model"), "unknown"));
        break;
    case CTX_CPUS: {
        double cpus = number(json_object_get(mm, "online_cpus"));
        if (!isfinite(cpus))
            cpus = number(json_object_get(ctx, "num_cpus"));
        if (isfinite(cpus))
            snprintf(buf, n, "%.0f online", cpus);
        else
            snprintf(buf, n, "unknown");
        break;
    }
    case CTX_MEMORY:
        mmb_report_format(number(json_object_get(mm, "memory_bytes")), MMB_UNIT_BYTES, buf, n);
        break;
    case CTX_KERNEL:
        snprintf(buf, n, "%s", string_or(json_object_get(mm, "kernel"), "unknown"));
        break;
    case CTX_VERSION:
        snprintf(buf, n, "%s", string_or(json_object_get(mm, "version"), "unknown"));
        break;
    case CTX_REVISION:
        snprintf(buf, n, "%s", string_or(json_object_get(mm, "git_revision"), "unknown"));
        break;
    case CTX_BUILD: {
        const char *san = string_or(json_object_get(mm, "sanitizers"), "");
        snprintf(buf, n, "%s%s%s", string_or(json_object_get(mm, "build_type"), "unknown"),
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
        len += (size_t)snprintf(buf + len, n - len, " %s", string_or(arg, "?"));
    }
    if (!json_is_array(cmd))
        snprintf(buf, n, "unknown");
}

static bool same_machine(const mmb_report *r, int a, int b) {
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
            field(ctx, label, string_or(json_object_get(c, "date"), "unknown"));
            snprintf(label, sizeof label, members > 1 ? "command (%s)" : "command",
                     r->files[f].path);
            command_line(json_object_get(c, "mmbench"), value, sizeof value);
            field(ctx, label, value);
        }
    }
}

/* ---- the command ------------------------------------------------------------------------------
 */

static const char report_help[] =
    "usage: mmbench report RESULTS.json... [--format md|csv|html] [--out FILE]\n"
    "\n"
    "Tables of one or more `mmbench run --out` results: per workload family, one table per\n"
    "workload (and scale and parameters when several), managers as rows; each value the median\n"
    "over the cell's repetitions. Columns: throughput (work units/s), p99 and max pause, MMU\n"
    "at 10 ms, peak RSS, bytes per object (heap bytes per live object where the workload\n"
    "measures it, else peak RSS per work unit), memory lag, p99 request latency\n"
    "(pause-sensitive workloads), and the deterministic counters: increments, decrements,\n"
    "objects traversed, collections (full + young). Pauses are every pause the mutator saw:\n"
    "full and young collections and refcount cascades at or above the cascade threshold, with\n"
    "the kind of the longest beside the max pause; a table of pauses by kind follows each\n"
    "table. Units, directions and titles come from the metric registry (harness/metrics.c):\n"
    "the best value of each column is marked, highest throughput and MMU, lowest of the rest.\n"
    "Several files are merged: their cells\n"
    "appended, their contexts (machine and build) listed when they differ.\n"
    "\n"
    "  --format F   md (default): Markdown, the best value in bold\n"
    "               csv: one row per cell with every column, a header row, raw medians in base\n"
    "                    units (ns, bytes); the column `best` lists the columns in which the\n"
    "                    cell's value is its table's best, separated by spaces\n"
    "               html: one self-contained page (no network): the tables, the best value in\n"
    "                    bold, and SVG charts: pause percentile spectrum, MMU curves, throughput\n"
    "  --out FILE   write to FILE (through a temporary file renamed into place), not stdout;\n"
    "               checked first: a FILE that is not a regular file, or a directory where\n"
    "               none can be created, is bad usage\n"
    "\n"
    "Exit status: 0 ok, 1 the output could not be written, 2 bad usage (a bad --out included) or "
    "a\n"
    "bad results file.\n";

enum { FORMAT_MD, FORMAT_CSV, FORMAT_HTML };

static int render(const mmb_report *r, int format, FILE *out) {
    switch (format) {
    case FORMAT_CSV:
        return mmb_report_write_csv(r, out);
    case FORMAT_HTML:
        return mmb_report_write_html(r, out);
    default:
        return mmb_report_write_md(r, out);
    }
}

typedef struct render_job {
    const mmb_report *r;
    int format;
} render_job;

static int render_to(FILE *out, void *job) {
    const render_job *j = job;
    return render(j->r, j->format, out);
}

/* Writes to path atomically (outfile.h), so a reader never sees half; else to stdout. */
static int write_out(const mmb_report *r, int format, const char *path) {
    if (!path) {
        if (render(r, format, stdout) != 0 || fflush(stdout) != 0) {
            fprintf(stderr, "mmbench: error: report: standard output: cannot write: %s\n",
                    strerror(errno));
            return EXIT_FAILED;
        }
        return EXIT_OK;
    }
    render_job job = {r, format};
    return mmb_outfile_write("report", "--out", path, render_to, &job);
}

static void free_report(mmb_report *r) {
    for (int f = 0; f < r->nfiles; f++)
        json_decref(r->files[f].doc);
    for (int i = 0; i < r->nrows; i++) {
        free(r->rows[i].pause_low_ns);
        free(r->rows[i].pause_count);
    }
    free(r->files);
    free(r->rows);
    free(r->tables);
    free(r->managers);
}

int mmb_report_main(int argc, char **argv) {
    static const struct option longopts[] = {{"format", required_argument, NULL, 'f'},
                                             {"out", required_argument, NULL, 'o'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *hint = "mmbench report --help";
    int format = FORMAT_MD;
    const char *out = NULL;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            fputs(report_help, stdout);
            return EXIT_OK;
        case 'f':
            if (strcmp(optarg, "md") == 0)
                format = FORMAT_MD;
            else if (strcmp(optarg, "csv") == 0)
                format = FORMAT_CSV;
            else if (strcmp(optarg, "html") == 0)
                format = FORMAT_HTML;
            else
                return fail("report", hint, "--format: bad value '%s' (expected md, csv or html)",
                            optarg);
            break;
        case 'o':
            out = optarg;
            break;
        case ':':
            return fail("report", hint, "flag '%s' needs a value", argv[optind - 1]);
        default:
            return fail("report", hint, "unknown flag '%s'", argv[optind - 1]);
        }
    }
    if (optind == argc)
        return fail("report", hint, "no RESULTS.json given");
    if (out && mmb_outfile_check("report", "--out", out) != EXIT_OK)
        return EXIT_USAGE;
    int npaths = argc - optind;
    char **paths = argv + optind;

    mmb_report r = {0};
    r.files = mmb_xcalloc((size_t)npaths, sizeof *r.files);
    int status = EXIT_OK;
    for (int i = 0; i < npaths && status == EXIT_OK; i++) {
        r.files[r.nfiles].path = paths[i];
        status = load_file(paths[i], &r.files[r.nfiles].doc);
        r.nfiles++;
    }
    if (status == EXIT_OK) {
        for (int f = 0; f < r.nfiles; f++) {
            r.files[f].context_group = f;
            for (int g = 0; g < f; g++)
                if (r.files[g].context_group == g && same_machine(&r, f, g)) {
                    r.files[f].context_group = g;
                    break;
                }
        }
        collect_rows(&r);
        r.managers = mmb_xcalloc((size_t)r.nrows, sizeof *r.managers);
        group_tables(&r);
        finish_tables(&r);
        status = write_out(&r, format, out);
    }
    free_report(&r);
    return status;
}
