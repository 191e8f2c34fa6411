/* `mmbench report --format html` (report.h): one self-contained page, with inline CSS and SVG
 * and no network references: the tables as in Markdown, and per workload three charts: the
 * pause percentile spectrum, the MMU curves and the throughput bars (report_svg.c draws). */
#include "report_model.h"

#include <math.h>
#include <string.h>

#include "format.h"
#include "report_alloc.h"
#include "report_svg.h"
#include "report_tradeoff.h"

#define CHART_WIDTH 360

static const char page_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>mmbench results</title>\n<style>\n"
    "body{font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;margin:24px;"
    "color:#222;background:#fff}\n"
    "h1{font-size:1.6em}h2{margin-top:1.6em;border-bottom:1px solid #ccc}h3{margin-bottom:.4em}\n"
    "table.r{border-collapse:collapse;font-size:13px}\n"
    "table.r th,table.r td{border:1px solid #ddd;padding:3px 7px}\n"
    "table.r th{background:#f2f4f7}table.r td{text-align:right;white-space:nowrap}\n"
    "table.r td.m{text-align:left;font-weight:600}\n"
    "table.r td.best{background:#e3f4e1}\n"
    "td.err{color:#b00020;text-align:left}\n"
    ".charts{display:flex;flex-wrap:wrap;gap:12px;margin-top:10px}\n"
    "figure{margin:0}figcaption{font-size:12px;color:#555;max-width:360px}\n"
    "figure.tradeoff figcaption,figure.memtime figcaption{max-width:480px}\n"
    "svg{background:#fff;border:1px solid #e4e4e4}\n"
    "svg text{font-family:inherit}svg .t{font-size:13px;font-weight:600}\n"
    "svg .k{font-size:10px;fill:#444}svg .l{font-size:11px;fill:#222}\n"
    "svg .plot{fill:#fbfbfb;stroke:#999}svg .g{stroke:#e2e2e2}\n"
    "svg .s{fill:none;stroke-width:2}\n"
    "dl.ctx{display:grid;grid-template-columns:max-content auto;gap:2px 16px;font-size:13px}\n"
    "dl.ctx dt{font-weight:600}dl.ctx dd{margin:0;font-family:ui-monospace,monospace}\n"
    "p.note{font-size:13px;color:#444;max-width:60em}\n"
    "</style>\n</head>\n<body>\n<h1>mmbench results</h1>\n"
    "<p class=\"note\">Medians over each cell's repetitions (n). <strong>Bold</strong>: the best "
    "value in its column (highest work units/s and MMU, lowest otherwise). Pauses are every pause "
    "the mutator saw: full and young collections and refcount cascades at or above the cascade "
    "threshold, with the kind of the longest beside the max pause; pauses by kind follow each "
    "table. MMU is the bounded minimum mutator utilisation.</p>\n";

/* ---- the pause percentile spectrum ---------------------------------------------------------- */

#define SPECTRUM_POINTS 75

/* The x axis is 1/(1-p), logarithmic: p = 50% at 2, 99.99% at 10^4. */
static void spectrum(const mmb_report_row *row, double *x, double *y, int *n) {
    *n = 0;
    if (row->npause > 0 && row->pause_total > 0) {
        for (int k = 0; k <= SPECTRUM_POINTS - 1; k++) {
            double inv = pow(10, log10(2) + k * (4 - log10(2)) / (SPECTRUM_POINTS - 1));
            double target = (1 - 1 / inv) * row->pause_total, cum = 0;
            int b = 0;
            for (; b < row->npause - 1; b++) {
                cum += row->pause_count[b];
                if (cum >= target)
                    break;
            }
            x[*n] = inv;
            y[(*n)++] = fmax(row->pause_low_ns[b], 1);
        }
        return;
    }
    static const double at[5] = {2, 10, 100, 1000, 10000}; /* p50 p90 p99 p99.9 max */
    for (int k = 0; k < 5; k++)
        if (isfinite(row->pause_points[k]) && row->pause_points[k] > 0) {
            x[*n] = at[k];
            y[(*n)++] = row->pause_points[k];
        }
}

static void ns_label(double ns, char *buf, size_t n) {
    static const mmb_format_style style = {
        {{0, false}, {0, false}, {0, false}, {0, false}}, " ", true};
    mmb_format_ns(ns, &style, buf, n);
}

static void write_spectrum(const mmb_report *r, const mmb_report_table *tb, FILE *out) {
    const mmb_report_row *rows = &r->rows[tb->first_row];
    double xs[64][SPECTRUM_POINTS], ys[64][SPECTRUM_POINTS];
    int counts[64], nseries = 0, shown[64];
    double lo = INFINITY, hi = 0;
    for (int i = 0; i < tb->nrows && nseries < 64; i++) {
        spectrum(&rows[i], xs[nseries], ys[nseries], &counts[nseries]);
        if (counts[nseries] == 0)
            continue;
        for (int k = 0; k < counts[nseries]; k++) {
            lo = fmin(lo, ys[nseries][k]);
            hi = fmax(hi, ys[nseries][k]);
        }
        shown[nseries++] = i;
    }
    fputs("<figure>", out);
    mmb_svg s = {.x_min = 2, .x_max = 1e4, .x_log = true, .y_log = true, .width = CHART_WIDTH};
    s.y_min = nseries ? pow(10, floor(log10(lo))) : 1e3;
    s.y_max = nseries ? pow(10, ceil(log10(hi))) : 1e6;
    if (s.y_max <= s.y_min)
        s.y_max = s.y_min * 10;
    s.legend_px = mmb_svg_legend_height(nseries);
    s.height = 250 + s.legend_px;
    mmb_svg_begin(&s, out, "Pause percentile spectrum", "percentile", "pause");
    static const double px[] = {2, 10, 100, 1000, 10000};
    static const char *const pl[] = {"50", "90", "99", "99.9", "99.99"};
    for (int k = 0; k < 5; k++)
        mmb_svg_x_tick(&s, px[k], pl[k]);
    for (double v = s.y_min; v <= s.y_max * 1.001; v *= 10) {
        char label[32];
        ns_label(v, label, sizeof label);
        mmb_svg_y_tick(&s, v, label);
    }
    const char *names[64], *colors[64];
    for (int k = 0; k < nseries; k++) {
        names[k] = rows[shown[k]].label;
        colors[k] = mmb_svg_color(mmb_report_manager_index(r, rows[shown[k]].manager));
        mmb_svg_line(&s, xs[k], ys[k], counts[k], colors[k]);
    }
    mmb_svg_legend(&s, names, colors, nseries);
    mmb_svg_end(&s);
    fputs("<figcaption>Every pause (collections and refcount cascades at or above the cascade "
          "threshold) of all repetitions pooled; percentiles on a log(1/(1-p)) axis.",
          out);
    const char *sep = " No pauses: ";
    for (int i = 0; i < tb->nrows; i++) {
        bool plotted = false;
        for (int k = 0; k < nseries; k++)
            plotted |= shown[k] == i;
        if (!plotted) {
            fputs(sep, out);
            mmb_html_escape(out, rows[i].label);
            sep = ", ";
        }
    }
    fputs(*sep == ',' ? ".</figcaption></figure>\n" : "</figcaption></figure>\n", out);
}

/* ---- MMU curves ----------------------------------------------------------------------------- */

static void write_mmu(const mmb_report *r, const mmb_report_table *tb, FILE *out) {
    const mmb_report_row *rows = &r->rows[tb->first_row];
    double lo = INFINITY, hi = 0;
    int nseries = 0;
    for (int i = 0; i < tb->nrows; i++) {
        if (rows[i].nmmu > 0)
            nseries++;
        for (int w = 0; w < rows[i].nmmu; w++)
            if (rows[i].mmu_window_ms[w] > 0) {
                lo = fmin(lo, rows[i].mmu_window_ms[w]);
                hi = fmax(hi, rows[i].mmu_window_ms[w]);
            }
    }
    if (!(hi > lo))
        lo = 1, hi = 1000;
    fputs("<figure>", out);
    mmb_svg s = {
        .x_min = lo, .x_max = hi, .x_log = true, .y_min = 0, .y_max = 1, .width = CHART_WIDTH};
    s.legend_px = mmb_svg_legend_height(nseries);
    s.height = 250 + s.legend_px;
    mmb_svg_begin(&s, out, "Minimum mutator utilisation", "window", "utilisation (bounded)");
    for (double v = pow(10, ceil(log10(lo))); v <= hi * 1.001; v *= 10) {
        char label[32];
        snprintf(label, sizeof label, v < 1000 ? "%.0f ms" : "%.0f s", v < 1000 ? v : v / 1000);
        mmb_svg_x_tick(&s, v, label);
    }
    for (int k = 0; k <= 4; k++) {
        char label[16];
        snprintf(label, sizeof label, "%.2f", k / 4.0);
        mmb_svg_y_tick(&s, k / 4.0, label);
    }
    const char *names[64], *colors[64];
    int n = 0;
    for (int i = 0; i < tb->nrows && n < 64; i++) {
        if (rows[i].nmmu == 0)
            continue;
        names[n] = rows[i].label;
        colors[n] = mmb_svg_color(mmb_report_manager_index(r, rows[i].manager));
        mmb_svg_line(&s, rows[i].mmu_window_ms, rows[i].mmu_bounded, rows[i].nmmu, colors[n]);
        n++;
    }
    mmb_svg_legend(&s, names, colors, n);
    mmb_svg_end(&s);
    fputs("<figcaption>The least utilisation over all windows at least this long (medians over "
          "repetitions); pauses include refcount cascades.</figcaption></figure>\n",
          out);
}

/* ---- throughput bars ------------------------------------------------------------------------ */

#define BAR_PX 24

static void write_throughput(const mmb_report *r, const mmb_report_table *tb, FILE *out) {
    int tput = mmb_report_column_of("work_units_per_second");
    const mmb_report_row *rows = &r->rows[tb->first_row];
    double hi = 0;
    for (int i = 0; i < tb->nrows; i++)
        if (isfinite(rows[i].value[tput]))
            hi = fmax(hi, rows[i].value[tput]);
    if (hi <= 0)
        hi = 1;
    fputs("<figure>", out);
    mmb_svg s = {.x_min = 0,
                 .x_max = hi * 1.25,
                 .y_min = 0,
                 .y_max = tb->nrows,
                 .width = CHART_WIDTH,
                 .left = 110};
    s.height = 28 + 44 + BAR_PX * tb->nrows + 8;
    mmb_svg_begin(&s, out, "Throughput", "work units/s", NULL);
    for (int k = 0; k <= 2; k++) {
        char label[32];
        mmb_report_format(hi * k / 2, MMB_UNIT_RATE, label, sizeof label);
        mmb_svg_x_tick(&s, hi * k / 2, label);
    }
    for (int i = 0; i < tb->nrows; i++) {
        double v = rows[i].value[tput];
        double y = s.top + 4 + i * BAR_PX, w = isfinite(v) ? mmb_svg_px_x(&s, v) - s.left : 0;
        char label[32];
        mmb_report_format(v, MMB_UNIT_RATE, label, sizeof label);
        fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>",
                s.left, y, w, BAR_PX - 6,
                mmb_svg_color(mmb_report_manager_index(r, rows[i].manager)));
        fprintf(out, "<text class=\"l\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", s.left - 4,
                y + 13);
        mmb_html_escape(out, rows[i].label);
        fprintf(out, "</text><text class=\"k\" x=\"%.1f\" y=\"%.1f\"%s>%s</text>", s.left + w + 4,
                y + 13, rows[i].best[tput] ? " font-weight=\"bold\"" : "", label);
    }
    mmb_svg_end(&s);
    fputs("<figcaption>Work units per second, median over repetitions.</figcaption></figure>\n",
          out);
}

/* ---- the pause-versus-memory trade-off (report_tradeoff.h) ----------------------------------- */

#define TRADEOFF_WIDTH  480
#define TRADEOFF_HEIGHT 300

/* The memory axis over [lo, hi]: linear with a margin (from 0 when the values start near it), or
 * logarithmic when they span 20x or more (a leaking manager would crowd the rest into a corner). */
static void memory_range(double lo, double hi, mmb_svg *s) {
    if (lo > 0 && hi / lo >= 20) {
        s->x_log = true;
        s->x_min = lo / 1.5;
        s->x_max = hi * 1.5;
        return;
    }
    double pad = hi > lo ? (hi - lo) * 0.12 : (hi > 0 ? hi * 0.1 : 1);
    s->x_min = lo - pad < 0 || lo < (hi - lo) * 0.5 ? 0 : lo - pad;
    s->x_max = hi + pad;
}

/* A logarithmic bytes axis: grid lines at 1, 10 and 100 of each binary unit. */
static void log_bytes_ticks(const mmb_svg *s) {
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double unit = 1;
    for (int u = 0; u < 5; u++, unit *= 1024)
        for (int m = 1; m <= 100; m *= 10)
            if (m * unit >= s->x_min && m * unit <= s->x_max) {
                char label[32];
                snprintf(label, sizeof label, "%d %s", m, units[u]);
                mmb_svg_x_tick(s, m * unit, label);
            }
}

/* Grid lines at round values over the axis, about four, labelled in one unit: bytes (B to TiB)
 * or milliseconds (ms, or s from 2 s). */
static void round_ticks(const mmb_svg *s, bool x_axis, bool bytes) {
    static const char *const byte_units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double lo = x_axis ? s->x_min : s->y_min, hi = x_axis ? s->x_max : s->y_max, unit = 1;
    const char *name = bytes ? "B" : "ms";
    if (bytes)
        for (int k = 1; k < 5 && hi >= 1024 * unit; k++) {
            unit *= 1024;
            name = byte_units[k];
        }
    else if (hi >= 2000) {
        unit = 1000;
        name = "s";
    }
    double raw = (hi - lo) / 4 / unit;
    if (!(raw > 0) || !isfinite(raw))
        return;
    double mag = pow(10, floor(log10(raw))), f = raw / mag;
    double nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10, step = nice * mag;
    int decimals = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9) + (nice == 2.5);
    for (double v = ceil(lo / unit / step - 1e-9) * step; v <= hi / unit * (1 + 1e-9); v += step) {
        char label[32];
        snprintf(label, sizeof label, "%.*f %s", decimals, fabs(v) < step / 2 ? 0 : v, name);
        (x_axis ? mmb_svg_x_tick : mmb_svg_y_tick)(s, v * unit, label);
    }
}

/* The log pause axis: whole decades around the positive pauses. When some point did not pause,
 * one more decade below, whose floor is labelled "none" and holds those points. */
static bool pause_range(const mmb_tradeoff_view *v, mmb_svg *s) {
    double lo = INFINITY, hi = 0;
    bool zero = false;
    for (int i = 0; i < v->npoints; i++) {
        zero |= v->point[i].pause_ns == 0;
        if (v->point[i].pause_ns > 0) {
            lo = fmin(lo, v->point[i].pause_ns);
            hi = fmax(hi, v->point[i].pause_ns);
        }
    }
    s->y_min = hi > 0 ? pow(10, floor(log10(lo))) : 1e3;
    s->y_max = hi > 0 ? pow(10, ceil(log10(hi))) : 1e4;
    if (s->y_max <= s->y_min)
        s->y_max = s->y_min * 10;
    if (zero)
        s->y_min /= 10;
    return zero;
}

/* One point's tooltip: its numbers, and whether it is on this scatter's front. */
static void point_tooltip(const mmb_report_row *row, const mmb_tradeoff_point *p, bool front,
                          char *buf, size_t n) {
    char mx[64], p99[64], rss[64], g[64];
    mmb_report_format(p->pause_ns, MMB_UNIT_NS, mx, sizeof mx);
    mmb_report_format(p->p99_ns, MMB_UNIT_NS, p99, sizeof p99);
    mmb_report_format(p->rss_bytes, MMB_UNIT_BYTES, rss, sizeof rss);
    mmb_report_format(p->garbage_bytes, MMB_UNIT_BYTES, g, sizeof g);
    snprintf(buf, n, "%s: max pause %s, p99 pause %s, peak RSS %s, peak garbage %s%s", row->label,
             mx, p99, rss, g, front ? "; on the Pareto front" : "");
}

/* Max pause (log) against peak RSS or peak garbage, one labelled point per row, the front ringed
 * and joined. */
static void write_scatter(const mmb_report *r, const mmb_report_table *tb,
                          const mmb_tradeoff_view *v, bool garbage, FILE *out) {
    double lo = INFINITY, hi = 0, fx[MMB_TRADEOFF_ROWS], fy[MMB_TRADEOFF_ROWS];
    int nfront = 0;
    for (int i = 0; i < v->npoints; i++) {
        double x = garbage ? v->point[i].garbage_bytes : v->point[i].rss_bytes;
        if (isfinite(x)) {
            lo = fmin(lo, x);
            hi = fmax(hi, x);
        }
    }
    mmb_svg s = {.y_log = true,
                 .width = TRADEOFF_WIDTH,
                 .height = TRADEOFF_HEIGHT,
                 .left = 70,
                 .right_margin = 30};
    memory_range(lo, hi, &s);
    bool zero_floor = pause_range(v, &s);
    fprintf(out, "<figure class=\"tradeoff\" data-axis=\"%s\" data-table=\"",
            garbage ? "garbage" : "rss");
    mmb_html_escape(out, tb->title);
    fputs("\">", out);
    mmb_svg_begin(&s, out,
                  garbage ? "Max pause against peak garbage" : "Max pause against peak RSS",
                  garbage ? (s.x_log ? "peak garbage (log scale)" : "peak garbage")
                          : (s.x_log ? "peak RSS (log scale)" : "peak RSS"),
                  v->steady ? "max pause (steady phase)" : "max pause (whole run)");
    if (s.x_log)
        log_bytes_ticks(&s);
    else
        round_ticks(&s, true, true);
    for (double t = s.y_min; t <= s.y_max * 1.001; t *= 10) {
        char label[32];
        ns_label(t, label, sizeof label);
        mmb_svg_y_tick(&s, t, zero_floor && t == s.y_min ? "none" : label);
    }
    /* The front, in order of memory (its pauses then fall), joined. */
    for (int i = 0; i < v->npoints; i++) {
        const mmb_tradeoff_point *p = &v->point[i];
        if (!(garbage ? p->front_garbage : p->front_rss))
            continue;
        double x = garbage ? p->garbage_bytes : p->rss_bytes, y = fmax(p->pause_ns, s.y_min);
        int at = nfront++;
        while (at > 0 && (fx[at - 1] > x || (fx[at - 1] == x && fy[at - 1] < y))) {
            fx[at] = fx[at - 1];
            fy[at] = fy[at - 1];
            at--;
        }
        fx[at] = x;
        fy[at] = y;
    }
    mmb_svg_dashed(&s, fx, fy, nfront, "front");
    mmb_svg_labels placed = {0};
    for (int i = 0; i < v->npoints; i++) {
        double x = garbage ? v->point[i].garbage_bytes : v->point[i].rss_bytes;
        if (isfinite(x))
            mmb_svg_label_obstacle(&s, &placed, x, fmax(v->point[i].pause_ns, s.y_min));
    }
    for (int i = 0; i < v->npoints; i++) {
        const mmb_tradeoff_point *p = &v->point[i];
        const mmb_report_row *row = &r->rows[p->row];
        double x = garbage ? p->garbage_bytes : p->rss_bytes, y = fmax(p->pause_ns, s.y_min);
        bool front = garbage ? p->front_garbage : p->front_rss;
        if (!isfinite(x))
            continue;
        char tip[800], label[300];
        point_tooltip(row, p, front, tip, sizeof tip);
        snprintf(label, sizeof label, p->pause_ns > 0 ? "%s" : "%s (no pause)", row->label);
        mmb_svg_place place = mmb_svg_label_place(&s, &placed, x, y, label);
        mmb_svg_point(&s, x, y, mmb_svg_color(mmb_report_manager_index(r, row->manager)),
                      front ? "pt front" : "pt", front, label, tip, place);
    }
    mmb_svg_end(&s);
    fputs("<figcaption>One point per manager (medians over repetitions); y: ", out);
    mmb_html_escape(out, mmb_tradeoff_y_caption(v));
    fputs(", log scale. Ringed and joined: the Pareto front, where no other manager both pauses "
          "less and holds less memory.",
          out);
    if (zero_floor)
        fputs(" A manager that did not pause sits on the floor (none).", out);
    const char *sep = " No value: ";
    for (int i = 0; i < v->npoints; i++)
        if (!isfinite(garbage ? v->point[i].garbage_bytes : v->point[i].rss_bytes)) {
            fputs(sep, out);
            mmb_html_escape(out, r->rows[v->point[i].row].label);
            sep = ", ";
        }
    fputs(*sep == ',' ? ".</figcaption></figure>\n" : "</figcaption></figure>\n", out);
}

/* Live or garbage bytes over time, one line per row with a series. */
static void write_memtime(const mmb_report *r, const mmb_report_table *tb, bool garbage,
                          FILE *out) {
    double tmax = 0, ymax = 0;
    const char *names[MMB_TRADEOFF_ROWS], *colors[MMB_TRADEOFF_ROWS];
    int n = 0;
    for (int i = tb->first_row; i < tb->first_row + tb->nrows; i++) {
        const mmb_report_tradeoff *t = r->rows[i].tradeoff;
        if (r->rows[i].repetitions == 0 || !t || t->npoints < 2)
            continue;
        for (int k = 0; k < t->npoints; k++) {
            tmax = fmax(tmax, t->t_ms[k]);
            ymax = fmax(ymax, garbage ? t->garbage_bytes[k] : t->live_bytes[k]);
        }
    }
    mmb_svg s = {.x_min = 0,
                 .x_max = tmax > 0 ? tmax : 1,
                 .y_min = 0,
                 .y_max = ymax > 0 ? ymax * 1.05 : 1,
                 .width = TRADEOFF_WIDTH,
                 .left = 70,
                 .right_margin = 30};
    int rows = 0;
    for (int i = tb->first_row; i < tb->first_row + tb->nrows; i++)
        rows +=
            r->rows[i].repetitions > 0 && r->rows[i].tradeoff && r->rows[i].tradeoff->npoints >= 2;
    s.legend_px = mmb_svg_legend_height(rows < MMB_TRADEOFF_ROWS ? rows : MMB_TRADEOFF_ROWS);
    s.height = TRADEOFF_HEIGHT + s.legend_px;
    fprintf(out, "<figure class=\"memtime\" data-series=\"%s\" data-table=\"",
            garbage ? "garbage" : "live");
    mmb_html_escape(out, tb->title);
    fputs("\">", out);
    mmb_svg_begin(&s, out, garbage ? "Garbage over time" : "Live memory over time", "time",
                  garbage ? "garbage bytes" : "live bytes");
    round_ticks(&s, true, false);
    round_ticks(&s, false, true);
    for (int i = tb->first_row; i < tb->first_row + tb->nrows && n < MMB_TRADEOFF_ROWS; i++) {
        const mmb_report_tradeoff *t = r->rows[i].tradeoff;
        if (r->rows[i].repetitions == 0 || !t || t->npoints < 2)
            continue;
        names[n] = r->rows[i].label;
        colors[n] = mmb_svg_color(mmb_report_manager_index(r, r->rows[i].manager));
        mmb_svg_line(&s, t->t_ms, garbage ? t->garbage_bytes : t->live_bytes, t->npoints,
                     colors[n]);
        n++;
    }
    mmb_svg_legend(&s, names, colors, n);
    mmb_svg_end(&s);
    fputs(garbage ? "<figcaption>Bytes of objects not yet freed that the mutator can no longer "
                    "reach, sampled every so many operations (sampling time excluded); the "
                    "repetition with the median peak.</figcaption></figure>\n"
                  : "<figcaption>Bytes of every object not yet freed, reachable or not, sampled "
                    "every so many operations (sampling time excluded); the repetition with the "
                    "median peak garbage.</figcaption></figure>\n",
          out);
}

/* The table's trade-off figures, when there is something to show. */
static void write_tradeoff(const mmb_report *r, const mmb_report_table *tb, FILE *out) {
    mmb_tradeoff_view v;
    mmb_tradeoff_view_of(r, tb, &v);
    bool scatter = mmb_tradeoff_has_scatter(&v), lines = v.nseries >= 2;
    if (!scatter && !lines)
        return;
    fputs("<div class=\"charts tradeoffs\">\n", out);
    if (scatter && v.nrss >= 2)
        write_scatter(r, tb, &v, false, out);
    if (scatter && v.ngarbage >= 2)
        write_scatter(r, tb, &v, true, out);
    if (lines) {
        write_memtime(r, tb, false, out);
        write_memtime(r, tb, true, out);
    }
    fputs("</div>\n", out);
}

/* ---- tables and context --------------------------------------------------------------------- */

static void write_table(const mmb_report *r, const mmb_report_table *tb, FILE *out) {
    fputs("<table class=\"r\"><thead><tr><th>manager</th><th>n</th>", out);
    for (int c = 0; c < mmb_report_column_count(); c++)
        if (tb->has_column[c]) {
            fputs("<th>", out);
            mmb_html_escape(out, mmb_report_title(tb, c));
            fputs("</th>", out);
        }
    fputs("</tr></thead>\n<tbody>\n", out);
    for (int i = tb->first_row; i < tb->first_row + tb->nrows; i++) {
        const mmb_report_row *row = &r->rows[i];
        fputs("<tr><td class=\"m\">", out);
        mmb_html_escape(out, row->label);
        fprintf(out, "</td><td>%d</td>", row->repetitions);
        if (row->repetitions == 0 && *row->error) {
            int span = 0;
            for (int c = 0; c < mmb_report_column_count(); c++)
                span += tb->has_column[c];
            fprintf(out, "<td class=\"err\" colspan=\"%d\">failed: ", span);
            mmb_html_escape(out, row->error);
            fputs("</td></tr>\n", out);
            continue;
        }
        for (int c = 0; c < mmb_report_column_count(); c++) {
            if (!tb->has_column[c])
                continue;
            char v[96];
            mmb_report_cell(row, c, v, sizeof v);
            fprintf(out,
                    row->best[c] ? "<td class=\"best\"><strong>%s</strong></td>" : "<td>%s</td>",
                    v);
        }
        fputs("</tr>\n", out);
    }
    fputs("</tbody></table>\n", out);
}

/* The table's pauses by kind, for the kinds some row had. */
static void write_kinds(const mmb_report *r, const mmb_report_table *tb, FILE *out) {
    int shown = 0;
    for (int k = 0; k < MMB_REPORT_KINDS; k++)
        shown += tb->has_kind[k];
    if (!shown)
        return;
    fputs("<p class=\"note\">Pauses by kind (medians over repetitions; n: pauses in a "
          "repetition):</p>\n<table class=\"r k\"><thead><tr><th>manager</th>",
          out);
    for (int k = 0; k < MMB_REPORT_KINDS; k++)
        if (tb->has_kind[k])
            fprintf(out, "<th>%s n</th><th>%s p99</th><th>%s max</th>", mmb_report_kinds[k],
                    mmb_report_kinds[k], mmb_report_kinds[k]);
    fputs("</tr></thead>\n<tbody>\n", out);
    for (int i = tb->first_row; i < tb->first_row + tb->nrows; i++) {
        fputs("<tr><td class=\"m\">", out);
        mmb_html_escape(out, r->rows[i].label);
        fputs("</td>", out);
        for (int k = 0; k < MMB_REPORT_KINDS; k++) {
            char n[64], p99[64], mx[64];
            if (!tb->has_kind[k])
                continue;
            mmb_report_kind_cells(&r->rows[i], k, n, p99, mx, sizeof n);
            fprintf(out, "<td>%s</td><td>%s</td><td>%s</td>", n, p99, mx);
        }
        fputs("</tr>\n", out);
    }
    fputs("</tbody></table>\n", out);
}

typedef struct html_context {
    FILE *out;
    bool open; /* a <dl> is open */
} html_context;

static void html_section(void *ctx, const char *heading) {
    html_context *h = ctx;
    if (h->open)
        fputs("</dl>\n", h->out);
    if (heading) {
        fputs("<h3>", h->out);
        mmb_html_escape(h->out, heading);
        fputs("</h3>\n", h->out);
    }
    fputs("<dl class=\"ctx\">\n", h->out);
    h->open = true;
}

static void html_field(void *ctx, const char *label, const char *value) {
    FILE *out = ((html_context *)ctx)->out;
    fputs("<dt>", out);
    mmb_html_escape(out, label);
    fputs("</dt><dd>", out);
    mmb_html_escape(out, value);
    fputs("</dd>\n", out);
}

int mmb_report_write_html(const mmb_report *r, FILE *out) {
    fputs(page_head, out);
    const char *family = NULL;
    for (int t = 0; t < r->ntables; t++) {
        const mmb_report_table *tb = &r->tables[t];
        if (!family || strcmp(family, tb->family) != 0) {
            family = tb->family;
            fputs("<h2>", out);
            mmb_html_escape(out, family);
            fputs("</h2>\n", out);
        }
        fputs("<section>\n<h3>", out);
        mmb_html_escape(out, tb->title);
        fputs("</h3>\n", out);
        write_table(r, tb, out);
        write_kinds(r, tb, out);
        mmb_report_alloc_html(r, tb, out);
        fputs("<div class=\"charts\">\n", out);
        write_spectrum(r, tb, out);
        write_mmu(r, tb, out);
        write_throughput(r, tb, out);
        fputs("</div>\n", out);
        write_tradeoff(r, tb, out);
        fputs("</section>\n", out);
    }
    fputs("<h2>Context</h2>\n", out);
    html_context h = {out, false};
    mmb_report_contexts(r, html_section, html_field, &h);
    fputs(h.open ? "</dl>\n</body>\n</html>\n" : "</body>\n</html>\n", out);
    return ferror(out) ? -1 : 0;
}
