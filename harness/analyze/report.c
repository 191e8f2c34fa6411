/* `mmbench report` (report.h): reads `mmbench run --out` documents, summarises each cell by the
 * medians over its repetitions, groups cells into tables per workload family, marks each
 * column's best value, then hands the summary to one renderer per format. */
#include "report.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmdline.h"
#include "diag.h"
#include "hist.h"
#include "outfile.h"
#include "report_model.h"
#include "report_alloc.h"
#include "report_tradeoff.h"
#include "results.h"
#include "stats.h"

#define fail mmb_usage_error

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

/* ---- reading ----------------------------------------------------------------------------------
 */

/* Loads and checks one document. Returns EXIT_OK or EXIT_USAGE after one error line. */
static int load_file(const char *path, json_t **doc) {
    const char *hint = "give a file that mmbench run --out wrote";
    if (mmb_results_load(NULL, path, hint, doc) != EXIT_OK)
        return EXIT_USAGE;
    json_t *benchmarks = mmb_results_benchmarks(*doc);
    if (!benchmarks)
        return fail(path, hint, "not an mmbench results document: no \"benchmarks\" array");
    size_t i, cells = 0;
    json_t *b;
    json_array_foreach(benchmarks, i, b) cells +=
        mmb_results_is_iteration(b, false) && mmb_results_cell(b);
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
    double x = ((const bucket *)a)->low_ns, y = ((const bucket *)b)->low_ns;
    return x < y ? -1 : x > y;
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
            double mx = mmb_results_number(json_object_get(h, "max_ns"));
            if (isfinite(mx) && mx > row->pause_max_ns)
                row->pause_max_ns = mx;
            size_t j;
            json_t *bk;
            json_array_foreach(json_object_get(h, "buckets"), j, bk) {
                double low = mmb_results_number(json_array_get(bk, 0)),
                       count = mmb_results_number(json_array_get(bk, 1));
                if (isfinite(low) && isfinite(count) && count > 0 && n < cap)
                    all[n++] = (bucket){low, count};
            }
        }
        json_t *coll = json_object_get(pauses, "all"); /* else written before cascades counted */
        if (!coll)
            coll = json_object_get(pauses, "collections");
        if (reps < 64 && mmb_results_number(json_object_get(coll, "count")) > 0) {
            for (int p = 0; p < 5; p++)
                points[p][reps] = mmb_results_number(json_object_get(coll, point_keys[p]));
            reps++;
        }
    }
    for (int p = 0; p < 5; p++)
        row->pause_points[p] = mmb_median(points[p], (size_t)reps);
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
        *p99_ns = all ? mmb_results_number(json_object_get(all, "p99_ns"))
                      : mmb_results_number(json_object_get(e, "pause_p99_ns"));
        *max_ns = all ? mmb_results_number(json_object_get(all, "max_ns"))
                      : mmb_results_number(json_object_get(e, "pause_max_ns"));
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
        double count = mmb_results_number(json_object_get(kh, "count"));
        if (!(count > 0))
            continue;
        double lo = mmb_results_number(json_object_get(kh, "min_ns")),
               hi = mmb_results_number(json_object_get(kh, "max_ns"));
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
            double low = mmb_results_number(json_array_get(bk, 0)),
                   n = mmb_results_number(json_array_get(bk, 1));
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

/* One repetition's value of column c; NAN when the entry does not have it. Exact counters may be
 * under mmbench.deterministic instead (results written before they were top-level counters). */
static double exact_value(json_t *e, json_t *det, const char *name) {
    double v = mmb_results_number(json_object_get(e, name));
    return isfinite(v) ? v : mmb_results_number(json_object_get(det, name));
}

static double entry_value(json_t *e, int c, bool *heap_bytes) {
    const mmb_metric *m = mmb_report_column(c);
    json_t *det = json_object_get(json_object_get(e, "mmbench"), "deterministic");
    if (strcmp(m->name, "pause_p99_ns") == 0 || strcmp(m->name, "pause_max_ns") == 0) {
        double p99, mx;
        const char *kind;
        entry_pauses(e, &p99, &mx, &kind);
        return strcmp(m->name, "pause_p99_ns") == 0 ? p99 : mx;
    }
    /* every cell has it; only threaded workloads' tables show it */
    if (strcmp(m->name, "per_thread_units_per_second") == 0 &&
        !json_object_get(json_object_get(json_object_get(e, "mmbench"), "params"),
                         "threads")) /* workload.h's MMB_PARAM_THREADS, not visible here */
        return NAN;
    if (strcmp(m->name, "heap_bytes_per_object") == 0) {
        double v = mmb_results_number(json_object_get(e, "heap_bytes_per_object"));
        if (isfinite(v)) {
            *heap_bytes = true;
            return v;
        }
        return mmb_results_number(json_object_get(e, "peak_rss_bytes_per_work_unit"));
    }
    if (strcmp(m->name, "collections_full") == 0)
        return exact_value(e, det, "collections_full") + exact_value(e, det, "collections_young");
    return m->exact ? exact_value(e, det, m->name)
                    : mmb_results_number(json_object_get(e, m->name));
}

static void summarise(mmb_report_row *row, const pending *p, const char *first_error) {
    json_t *first = json_array_get(p->entries, 0);
    json_t *mm = json_object_get(first, "mmbench");
    row->file = p->file;
    row->manager = mmb_results_string(json_object_get(mm, "manager"), "?");
    row->workload = mmb_results_string(json_object_get(mm, "workload"), p->cell);
    row->family = mmb_results_string(json_object_get(mm, "family"), "other");
    row->scale = mmb_results_string(json_object_get(mm, "scale"), "?");
    row->allocator = mmb_results_string(json_object_get(mm, "allocator"), "libc");
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
    for (int c = 0; c < mmb_report_column_count(); c++) {
        for (size_t i = 0; i < n; i++)
            v[i] = entry_value(json_array_get(p->entries, i), c, &row->heap_bytes_per_object);
        row->value[c] = mmb_median(v, n);
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
                v[i] = mmb_results_number(
                    json_object_get(json_object_get(pauses, mmb_report_kinds[k]), kind_keys[f]));
            }
            double m = mmb_median(v, n);
            *(f == 0   ? &row->kind_count[k]
              : f == 1 ? &row->kind_p99_ns[k]
                       : &row->kind_max_ns[k]) = m;
        }
    json_t *mmu = json_object_get(mm, "mmu");
    row->nmmu = (int)json_array_size(mmu);
    if (row->nmmu > MMB_REPORT_MMU_MAX)
        row->nmmu = MMB_REPORT_MMU_MAX;
    for (int w = 0; w < row->nmmu; w++) {
        row->mmu_window_ms[w] =
            mmb_results_number(json_object_get(json_array_get(mmu, w), "window_ms"));
        for (size_t i = 0; i < n; i++) {
            json_t *m =
                json_object_get(json_object_get(json_array_get(p->entries, i), "mmbench"), "mmu");
            v[i] = mmb_results_number(json_object_get(json_array_get(m, w), "bounded"));
        }
        row->mmu_bounded[w] = mmb_median(v, n);
    }
    free(v);
    pool_pauses(row, p->entries);
    row->tradeoff = mmb_report_tradeoff_read(p->entries);
    row->alloc = mmb_report_alloc_read(p->entries);
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
            const char *name = mmb_results_cell(b);
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
                    errors[k] = mmb_results_string(json_object_get(b, "error_message"), "failed");
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
            for (int c = 0; c < MMB_REPORT_COLUMNS_MAX; c++)
                r->rows[k].value[c] = NAN;
        }
        json_decref(cells[k].entries);
    }
    free(cells);
    free(errors);
}

/* Families in the order the documents name them (context.mmbench.families, the workload table's
 * order, written by run), the first file's first; families no document names (older results)
 * follow in order of first appearance. */
static int family_rank(const mmb_report *r, const char *family) {
    int named = 0;
    for (int f = 0; f < r->nfiles; f++) {
        json_t *families = json_object_get(
            json_object_get(json_object_get(r->files[f].doc, "context"), "mmbench"), "families");
        size_t i;
        json_t *name;
        json_array_foreach(families, i, name) {
            if (strcmp(mmb_results_string(name, ""), family) == 0)
                return named;
            named++;
        }
    }
    for (int i = 0; i < r->nrows; i++)
        if (strcmp(r->rows[i].family, family) == 0)
            return named + i;
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
/* Results of more than one allocator (run --allocator): each row's options gain its allocator,
 * so a manager's rows are told apart by it (the label's options) and CSV's options say it. */
static void add_allocators(mmb_report *r) {
    bool several = false;
    for (int i = 1; i < r->nrows && !several; i++)
        several = strcmp(r->rows[i].allocator, r->rows[0].allocator) != 0;
    for (int i = 0; several && i < r->nrows; i++) {
        char *o = r->rows[i].options;
        size_t len = strlen(o);
        snprintf(o + len, sizeof r->rows[i].options - len, "%sallocator=%s", len ? " " : "",
                 r->rows[i].allocator);
    }
}

static void finish_tables(mmb_report *r) {
    add_allocators(r);
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

        for (int c = 0; c < mmb_report_column_count(); c++) {
            const mmb_metric *m = mmb_report_column(c);
            int better = (int)m->better, finite = 0;
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
            tb->has_column[c] = isfinite(best) || !m->column.optional;
            if (strcmp(m->name, "heap_bytes_per_object") == 0)
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

/* ---- the command ------------------------------------------------------------------------------
 */

static const char report_help[] =
    "usage: mmbench report RESULTS.json... [--format md|csv|html] [--out FILE]\n"
    "\n"
    "Tables of one or more `mmbench run --out` results: per workload family, one table per\n"
    "workload (and scale and parameters when several), managers as rows; each value the median\n"
    "over the cell's repetitions. Pauses are every pause the mutator saw: full and young\n"
    "collections and refcount cascades at or above the cascade threshold, with the kind of the\n"
    "longest beside the max pause; a table of pauses by kind follows each table. Bytes per\n"
    "object are heap bytes per live object where the workload measures it, else peak RSS per\n"
    "work unit; collections are full + young. Several files are merged: their cells appended,\n"
    "their contexts (machine and build) listed when they differ. For pause-sensitive and\n"
    "cycle-heavy workloads, a table (in HTML, scatters) of max pause against peak RSS and peak\n"
    "garbage follows, sorted by max pause, with the Pareto front marked; the steady phase's max\n"
    "pause where every cell has one. In HTML, memory over time where cells have a garbage series.\n"
    "\n"
    "Columns, with units, directions and titles from the metric registry\n"
    "(harness/core/metrics.c); the best value of each is marked (a table shows a column marked\n"
    "'when measured' only when some row has it):\n";

static const char report_help_tail[] =
    "\n"
    "Exit status: 0 ok, 1 the output could not be written, 2 bad usage (a bad --out included)\n"
    "or a bad results file.\n";

/* --format's names and renderers, the first the default. */
static const mmb_report_writer writers[] = {
    {"md", mmb_report_write_md},
    {"csv", mmb_report_write_csv},
    {"html", mmb_report_write_html},
};
#define N_WRITERS (sizeof writers / sizeof writers[0])

typedef struct render_job {
    const mmb_report *r;
    const mmb_report_writer *writer;
} render_job;

static int render_to(FILE *out, void *job) {
    const render_job *j = job;
    return j->writer->write(j->r, out);
}

/* Writes to path atomically (outfile.h), so a reader never sees half; else to stdout. */
static int write_out(const mmb_report *r, const mmb_report_writer *writer, const char *path) {
    if (!path) {
        if (writer->write(r, stdout) != 0 || fflush(stdout) != 0) {
            fprintf(stderr, "mmbench: error: report: standard output: cannot write: %s\n",
                    strerror(errno));
            return EXIT_FAILED;
        }
        return EXIT_OK;
    }
    render_job job = {r, writer};
    return mmb_outfile_write("report", "--out", path, render_to, &job);
}

static void free_report(mmb_report *r) {
    for (int f = 0; f < r->nfiles; f++)
        json_decref(r->files[f].doc);
    for (int i = 0; i < r->nrows; i++) {
        free(r->rows[i].pause_low_ns);
        free(r->rows[i].pause_count);
        mmb_report_tradeoff_free(r->rows[i].tradeoff);
        free(r->rows[i].alloc);
    }
    free(r->files);
    free(r->rows);
    free(r->tables);
    free(r->managers);
}

static const char *format_names[N_WRITERS + 1]; /* writers' names, for the flag's choices */
enum { OPT_FORMAT, OPT_OUT };
static const mmb_flag report_flags[] = {
    [OPT_FORMAT] = {"format", MMB_FLAG_CHOICE, "F", 0, 0, format_names,
                    "md (default): Markdown, the best value in bold\n"
                    "csv: one row per cell with every column, a header row, raw medians\n"
                    "     in base units (ns, bytes); the column `best` lists the columns in\n"
                    "     which the cell's value is its table's best, separated by spaces\n"
                    "html: one self-contained page (no network): the tables, the best\n"
                    "     value in bold, and SVG charts: pause percentile spectrum, MMU\n"
                    "     curves, throughput; max pause against peak memory (Pareto\n"
                    "     front), memory over time",
                    0},
    [OPT_OUT] = {"out", MMB_FLAG_TEXT, "FILE", 0, 0, NULL,
                 "write to FILE (through a temporary file renamed into place), not stdout;\n"
                 "checked first: a FILE that is not a regular file, or a directory where\n"
                 "none can be created, is bad usage",
                 0},
    {NULL, 0, NULL, 0, 0, NULL, NULL, 0},
};

typedef struct report_options {
    const mmb_report_writer *writer;
    const char *out;
} report_options;

static int report_flag(void *ctx, const mmb_flag_arg *a) {
    report_options *o = ctx;
    if (a->index == OPT_FORMAT)
        o->writer = &writers[a->choice];
    else
        o->out = a->text;
    return EXIT_OK;
}

/* The help's prose, then the flags from their rows, then the exit status. */
static void print_help(void) {
    fputs(report_help, stdout);
    for (int c = 0; c < mmb_report_column_count(); c++) {
        const mmb_metric *m = mmb_report_column(c);
        printf("  %-21s %s is better%s\n", m->column.title ? m->column.title : m->title,
               m->better == MMB_HIGHER_IS_BETTER ? "higher" : "lower",
               m->column.optional ? ", when measured" : "");
    }
    fputc('\n', stdout);
    mmb_flags_print_help(stdout, report_flags, 0);
    fputs(report_help_tail, stdout);
}

int mmb_report_main(int argc, char **argv) {
    for (size_t i = 0; i < N_WRITERS; i++)
        format_names[i] = writers[i].name;
    report_options o = {.writer = &writers[0]};
    int first = 0;
    int parsed = mmb_flags_parse("report", report_flags, 0, argc, argv, report_flag, &o, &first);
    if (parsed == MMB_FLAGS_HELP) {
        print_help();
        return EXIT_OK;
    }
    if (parsed != EXIT_OK)
        return parsed;
    if (first == argc)
        return fail("report", "mmbench report --help", "no RESULTS.json given");
    const char *out = o.out;
    if (out && mmb_outfile_check("report", "--out", out) != EXIT_OK)
        return EXIT_USAGE;
    int npaths = argc - first;
    char **paths = argv + first;

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
                if (r.files[g].context_group == g && mmb_report_same_machine(&r, f, g)) {
                    r.files[f].context_group = g;
                    break;
                }
        }
        collect_rows(&r);
        r.managers = mmb_xcalloc((size_t)r.nrows, sizeof *r.managers);
        group_tables(&r);
        finish_tables(&r);
        status = write_out(&r, o.writer, out);
    }
    free_report(&r);
    return status;
}
