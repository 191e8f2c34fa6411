/* The pause-versus-memory trade-off (report_tradeoff.h): reading each cell's steady-phase pauses,
 * peak garbage and memory-over-time series from its repetitions, the Pareto front, and a table's
 * points sorted by max pause. Renderers draw it (report_md.c, report_html.c). */
#include "report_tradeoff.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "results.h"
#include "stats.h"

/* A measurement, or NAN: not a number, negative or absurdly large values are not measurements. */
static double valid_or_nan(double v) {
    return isfinite(v) && v >= 0 && v <= MMB_TRADEOFF_VALUE_MAX ? v : NAN;
}

static double number(json_t *v) {
    return valid_or_nan(mmb_results_number(v));
}

/* The entry's counter `name` (or under mmbench.deterministic, where exact counters once were),
 * else the number at `fallback` under its mmbench object. */
static double counter_or(json_t *e, const char *name, json_t *fallback) {
    double v = number(json_object_get(e, name));
    if (!isfinite(v))
        v = number(
            json_object_get(json_object_get(json_object_get(e, "mmbench"), "deterministic"), name));
    return isfinite(v) ? v : number(fallback);
}

static json_t *steady_phase(json_t *e) {
    json_t *pauses = json_object_get(json_object_get(e, "mmbench"), "pauses");
    return json_object_get(json_object_get(pauses, "phases"), "steady");
}

/* The repetition's garbage object, only when the sampler says it is available. */
static json_t *garbage_of(json_t *e) {
    json_t *g = json_object_get(json_object_get(e, "mmbench"), "garbage");
    return json_is_true(json_object_get(g, "available")) ? g : NULL;
}

static double garbage_peak(json_t *e) {
    return counter_or(e, "garbage_peak_bytes", json_object_get(garbage_of(e), "peak_bytes"));
}

/* How many points of the series are valid: 5 numbers each, t_ms not decreasing. With out
 * non-NULL, writes them (at most MMB_TRADEOFF_SERIES_MAX, evenly decimated). */
static int read_series(json_t *series, mmb_report_tradeoff *out) {
    size_t n = json_array_size(series), step = n / MMB_TRADEOFF_SERIES_MAX + 1, i;
    int kept = 0;
    double last_t = 0;
    for (i = 0; i < n; i += step) {
        json_t *p = json_array_get(series, i);
        double f[5];
        bool ok = json_array_size(p) == 5;
        for (size_t k = 0; k < 5; k++)
            ok &= isfinite(f[k] = number(json_array_get(p, k)));
        double t = f[0], live = f[2], garbage = f[4];
        if (!ok || t < last_t || kept >= MMB_TRADEOFF_SERIES_MAX)
            continue;
        last_t = t;
        if (out) {
            out->t_ms[kept] = t;
            out->live_bytes[kept] = live;
            out->garbage_bytes[kept] = garbage;
        }
        kept++;
    }
    return kept;
}

/* Orders repetitions by garbage peak, an absent one last, ties by their order. */
static bool peak_before(double a, size_t ia, double b, size_t ib) {
    if (isfinite(a) != isfinite(b))
        return isfinite(a);
    if (isfinite(a) && a != b)
        return a < b;
    return ia < ib;
}

/* The series of the repetition whose garbage peak is the lower median among those with one. */
static void pick_series(json_t *entries, mmb_report_tradeoff *t) {
    size_t n = json_array_size(entries), k = 0, i;
    size_t *order = mmb_xcalloc(n ? n : 1, sizeof *order);
    double *peak = mmb_xcalloc(n ? n : 1, sizeof *peak);
    json_t *e;
    json_array_foreach(entries, i, e) {
        if (read_series(json_object_get(garbage_of(e), "series"), NULL) < 2)
            continue;
        size_t at = k++;
        double p = garbage_peak(e);
        while (at > 0 && peak_before(p, i, peak[at - 1], order[at - 1])) {
            order[at] = order[at - 1];
            peak[at] = peak[at - 1];
            at--;
        }
        order[at] = i;
        peak[at] = p;
    }
    if (k > 0) {
        json_t *best =
            json_object_get(garbage_of(json_array_get(entries, order[(k - 1) / 2])), "series");
        int cap = read_series(best, NULL);
        t->t_ms = mmb_xcalloc((size_t)cap, sizeof(double));
        t->live_bytes = mmb_xcalloc((size_t)cap, sizeof(double));
        t->garbage_bytes = mmb_xcalloc((size_t)cap, sizeof(double));
        t->npoints = read_series(best, t);
    }
    free(order);
    free(peak);
}

mmb_report_tradeoff *mmb_report_tradeoff_read(json_t *entries) {
    mmb_report_tradeoff *t = mmb_xcalloc(1, sizeof *t);
    size_t n = json_array_size(entries), i;
    double *v[3];
    for (int k = 0; k < 3; k++)
        v[k] = mmb_xcalloc(n ? n : 1, sizeof(double));
    json_t *e;
    json_array_foreach(entries, i, e) {
        if (json_is_true(json_object_get(e, "error_occurred"))) {
            v[0][i] = v[1][i] = v[2][i] = NAN;
            continue;
        }
        json_t *steady = steady_phase(e);
        v[0][i] = counter_or(e, "steady_pause_max_ns", json_object_get(steady, "max_ns"));
        v[1][i] = counter_or(e, "steady_pause_p99_ns", json_object_get(steady, "p99_ns"));
        v[2][i] = garbage_peak(e);
    }
    t->steady_max_ns = mmb_median(v[0], n);
    t->steady_p99_ns = mmb_median(v[1], n);
    t->garbage_peak_bytes = mmb_median(v[2], n);
    for (int k = 0; k < 3; k++)
        free(v[k]);
    pick_series(entries, t);
    return t;
}

void mmb_report_tradeoff_free(mmb_report_tradeoff *t) {
    if (!t)
        return;
    free(t->t_ms);
    free(t->live_bytes);
    free(t->garbage_bytes);
    free(t);
}

/* ---- the Pareto front ------------------------------------------------------------------------ */

static bool on_axis(double v) {
    return isfinite(v) && v >= 0;
}

int mmb_pareto_front(const double *x, const double *y, int n, bool *front) {
    int count = 0;
    for (int i = 0; i < n; i++) {
        front[i] = on_axis(x[i]) && on_axis(y[i]);
        for (int j = 0; j < n && front[i]; j++) {
            if (j == i || !on_axis(x[j]) || !on_axis(y[j]))
                continue;
            if (x[j] <= x[i] && y[j] <= y[i] && (x[j] < x[i] || y[j] < y[i]))
                front[i] = false; /* j is at least as good on both and better on one */
        }
        count += front[i];
    }
    return count;
}

/* ---- a table's points ------------------------------------------------------------------------ */

static bool eligible_family(const char *family) {
    return strcmp(family, "pause-sensitive") == 0 || strcmp(family, "cycle-heavy") == 0;
}

/* Ascending by max pause, then peak RSS (absent last), then the table's order: stable. */
static bool before(const mmb_tradeoff_point *a, const mmb_tradeoff_point *b) {
    if (a->pause_ns != b->pause_ns)
        return a->pause_ns < b->pause_ns;
    if (isfinite(a->rss_bytes) != isfinite(b->rss_bytes))
        return isfinite(a->rss_bytes);
    if (isfinite(a->rss_bytes) && a->rss_bytes != b->rss_bytes)
        return a->rss_bytes < b->rss_bytes;
    return a->row < b->row;
}

/* Marks each point's two fronts; counts the points with each axis. */
static void fronts(mmb_tradeoff_view *v) {
    double x[MMB_TRADEOFF_ROWS] = {0}, g[MMB_TRADEOFF_ROWS] = {0}, y[MMB_TRADEOFF_ROWS] = {0};
    bool fr[MMB_TRADEOFF_ROWS] = {0}, fg[MMB_TRADEOFF_ROWS] = {0};
    for (int i = 0; i < v->npoints; i++) {
        x[i] = v->point[i].rss_bytes;
        g[i] = v->point[i].garbage_bytes;
        y[i] = v->point[i].pause_ns;
        v->nrss += isfinite(x[i]);
        v->ngarbage += isfinite(g[i]);
    }
    mmb_pareto_front(x, y, v->npoints, fr);
    mmb_pareto_front(g, y, v->npoints, fg);
    for (int i = 0; i < v->npoints; i++) {
        v->point[i].front_rss = fr[i];
        v->point[i].front_garbage = fg[i];
    }
}

void mmb_tradeoff_view_of(const mmb_report *r, const mmb_report_table *tb, mmb_tradeoff_view *v) {
    memset(v, 0, sizeof *v);
    v->eligible = eligible_family(tb->family);
    int max_col = mmb_report_column_of("pause_max_ns"),
        p99_col = mmb_report_column_of("pause_p99_ns"),
        rss_col = mmb_report_column_of("peak_rss_bytes");
    int ran = 0, steady = 0;
    for (int i = tb->first_row; i < tb->first_row + tb->nrows; i++) {
        const mmb_report_row *row = &r->rows[i];
        if (row->repetitions == 0)
            continue;
        ran++;
        steady += row->tradeoff && isfinite(row->tradeoff->steady_max_ns);
        v->nseries += row->tradeoff && row->tradeoff->npoints >= 2;
    }
    v->steady = ran > 0 && steady == ran;
    for (int i = tb->first_row; i < tb->first_row + tb->nrows && v->npoints < MMB_TRADEOFF_ROWS;
         i++) {
        const mmb_report_row *row = &r->rows[i];
        const mmb_report_tradeoff *t = row->tradeoff;
        if (row->repetitions == 0 || !t)
            continue;
        mmb_tradeoff_point p = {
            .row = i,
            .pause_ns = valid_or_nan(v->steady ? t->steady_max_ns : row->value[max_col]),
            .p99_ns = valid_or_nan(v->steady ? t->steady_p99_ns : row->value[p99_col]),
            .rss_bytes = valid_or_nan(row->value[rss_col]),
            .garbage_bytes = valid_or_nan(t->garbage_peak_bytes),
        };
        if (!isfinite(p.pause_ns))
            continue;
        int at = v->npoints++;
        while (at > 0 && before(&p, &v->point[at - 1])) {
            v->point[at] = v->point[at - 1];
            at--;
        }
        v->point[at] = p;
    }
    fronts(v);
}

bool mmb_tradeoff_has_scatter(const mmb_tradeoff_view *v) {
    return v->eligible && (v->nrss >= 2 || v->ngarbage >= 2);
}

const char *mmb_tradeoff_y_caption(const mmb_tradeoff_view *v) {
    return v->steady ? "the steady phase's max pause (steady_pause_max_ns)"
                     : "the whole run's max pause (pause_max_ns: not every cell has a steady "
                       "phase's)";
}
