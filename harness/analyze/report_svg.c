/* SVG chart primitives for `mmbench report --format html` (report.h): axes with grid lines,
 * linear or logarithmic scales, lines and a legend; inline SVG with no external references. */
#include "report_svg.h"

#include <math.h>
#include <string.h>

#define LEGEND_PER_LINE 3
#define LEGEND_LINE_PX  16

void mmb_html_escape(FILE *out, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", out);
            break;
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        case '\'':
            fputs("&#39;", out);
            break;
        default:
            fputc(*s, out);
        }
    }
}

const char *mmb_svg_color(int i) {
    static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd",
                                          "#ff7f0e", "#17becf", "#8c564b", "#e377c2"};
    return palette[(unsigned)i % (sizeof palette / sizeof palette[0])];
}

int mmb_svg_legend_height(int n) {
    return ((n + LEGEND_PER_LINE - 1) / LEGEND_PER_LINE) * LEGEND_LINE_PX;
}

void mmb_svg_begin(mmb_svg *s, FILE *out, const char *title, const char *x_label,
                   const char *y_label) {
    s->out = out;
    if (s->left <= 0)
        s->left = 62;
    s->right = s->width - (s->right_margin > 0 ? s->right_margin : 14);
    s->top = 28;
    s->bottom = s->height - 44 - s->legend_px;
    fprintf(out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" role=\"img\"><title>",
            s->width, s->height, s->width, s->height);
    mmb_html_escape(out, title);
    fprintf(out, "</title><text class=\"t\" x=\"%d\" y=\"16\" text-anchor=\"middle\">",
            s->width / 2);
    mmb_html_escape(out, title);
    fprintf(out,
            "</text><rect class=\"plot\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>",
            s->left, s->top, s->right - s->left, s->bottom - s->top);
    if (x_label) {
        fprintf(out, "<text class=\"l\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
                (s->left + s->right) / 2, s->bottom + 30);
        mmb_html_escape(out, x_label);
        fputs("</text>", out);
    }
    if (y_label) {
        fprintf(out,
                "<text class=\"l\" transform=\"translate(12 %.1f) rotate(-90)\" "
                "text-anchor=\"middle\">",
                (s->top + s->bottom) / 2);
        mmb_html_escape(out, y_label);
        fputs("</text>", out);
    }
}

static double scaled(double v, bool log_scale) {
    return log_scale ? log10(v) : v;
}

double mmb_svg_px_x(const mmb_svg *s, double x) {
    double lo = scaled(s->x_min, s->x_log), hi = scaled(s->x_max, s->x_log);
    return s->left + (scaled(x, s->x_log) - lo) / (hi - lo) * (s->right - s->left);
}

double mmb_svg_px_y(const mmb_svg *s, double y) {
    double lo = scaled(s->y_min, s->y_log), hi = scaled(s->y_max, s->y_log);
    return s->bottom - (scaled(y, s->y_log) - lo) / (hi - lo) * (s->bottom - s->top);
}

void mmb_svg_x_tick(const mmb_svg *s, double v, const char *label) {
    double x = mmb_svg_px_x(s, v);
    fprintf(s->out,
            "<line class=\"g\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
            "<text class=\"k\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
            x, s->top, x, s->bottom, x, s->bottom + 14);
    mmb_html_escape(s->out, label);
    fputs("</text>", s->out);
}

void mmb_svg_y_tick(const mmb_svg *s, double v, const char *label) {
    double y = mmb_svg_px_y(s, v);
    fprintf(s->out,
            "<line class=\"g\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
            "<text class=\"k\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">",
            s->left, y, s->right, y, s->left - 4, y + 4);
    mmb_html_escape(s->out, label);
    fputs("</text>", s->out);
}

void mmb_svg_line(const mmb_svg *s, const double *x, const double *y, int n, const char *color) {
    fprintf(s->out, "<polyline class=\"s\" stroke=\"%s\" points=\"", color);
    for (int i = 0; i < n; i++)
        if (isfinite(x[i]) && isfinite(y[i]))
            fprintf(s->out, "%.1f,%.1f ", mmb_svg_px_x(s, x[i]), mmb_svg_px_y(s, y[i]));
    fputs("\"/>", s->out);
}

/* Where a point's label goes: right of the point, or left of it near the plot's right edge. */
static bool label_left(const mmb_svg *s, double px) {
    return px > s->right - 90;
}

#define LABEL_CHAR_PX 5.6 /* an average character of the 10 px labels */

/* Whether a label of width w on `line` (0: the point's, +-k: k lines below or above) and `left`
 * side of the point at (px, py) stays in the plot and off every label placed. */
static bool label_fits(const mmb_svg *s, const mmb_svg_labels *placed, double px, double py,
                       double w, int line, bool left) {
    double x0 = left ? px - 10 - w : px + 10, x1 = x0 + w, base = py - 6 + 11 * line;
    if (base < s->top + 9 || base > s->bottom - 2 || x0 < s->left + 2 || x1 > s->width - 2)
        return false;
    for (int b = 0; b < placed->n; b++)
        if (fabs(placed->box[b][2] - base) < 10 && x0 < placed->box[b][1] && placed->box[b][0] < x1)
            return false;
    return true;
}

void mmb_svg_label_obstacle(const mmb_svg *s, mmb_svg_labels *placed, double x, double y) {
    if (placed->n >= MMB_SVG_LABELS_MAX)
        return;
    double px = mmb_svg_px_x(s, x), py = mmb_svg_px_y(s, y), *b = placed->box[placed->n++];
    /* as a label box: a text's baseline sits 4 px below the middle of a 10 px dot */
    b[0] = px - 6;
    b[1] = px + 6;
    b[2] = py + 4;
}

mmb_svg_place mmb_svg_label_place(const mmb_svg *s, mmb_svg_labels *placed, double x, double y,
                                  const char *label) {
    double px = mmb_svg_px_x(s, x), py = mmb_svg_px_y(s, y), w = LABEL_CHAR_PX * strlen(label);
    bool side = label_left(s, px);
    /* The point's line on its usual side, then the other side, then one line above, below,
     * two above, ..., each on both sides; the point's own line when nothing fits. */
    mmb_svg_place p = {0, side};
    bool found = false;
    for (int k = 0; k < 64 && !found; k++) {
        int line = k % 2 ? (k + 1) / 2 * -1 : k / 2;
        for (int other = 0; other < 2 && !found; other++)
            if (label_fits(s, placed, px, py, w, line, other ? !side : side)) {
                p = (mmb_svg_place){line, other ? !side : side};
                found = true;
            }
    }
    if (placed->n < MMB_SVG_LABELS_MAX) {
        double *b = placed->box[placed->n++];
        b[0] = p.left ? px - 10 - w : px + 10;
        b[1] = b[0] + w;
        b[2] = py - 6 + 11 * p.line;
    }
    return p;
}

void mmb_svg_point(const mmb_svg *s, double x, double y, const char *color, const char *cls,
                   bool ring, const char *label, const char *tooltip, mmb_svg_place place) {
    double px = mmb_svg_px_x(s, x), py = mmb_svg_px_y(s, y);
    bool left = place.left;
    int stack = place.line;
    fprintf(s->out, "<g class=\"%s\"><title>", cls);
    mmb_html_escape(s->out, tooltip);
    fputs("</title>", s->out);
    if (ring)
        fprintf(s->out,
                "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"7.5\" fill=\"none\" stroke=\"#222\" "
                "stroke-width=\"1.5\"/>",
                px, py);
    double tx = left ? px - 10 : px + 10, ty = py - 6 + 11 * stack;
    if (stack != 0) /* a label moved off its point: a leader line back to it */
        fprintf(s->out,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\" "
                "stroke-width=\"0.8\"/>",
                px, py, tx + (left ? 2 : -2), ty - 3);
    fprintf(s->out,
            "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" fill=\"%s\"/>"
            "<text class=\"k\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">",
            px, py, color, tx, ty, left ? "end" : "start");
    mmb_html_escape(s->out, label);
    fputs("</text></g>", s->out);
}

void mmb_svg_dashed(const mmb_svg *s, const double *x, const double *y, int n, const char *cls) {
    fprintf(s->out,
            "<polyline class=\"%s\" fill=\"none\" stroke=\"#333\" stroke-width=\"1.2\" "
            "stroke-dasharray=\"5 3\" points=\"",
            cls);
    for (int i = 0; i < n; i++)
        if (isfinite(x[i]) && isfinite(y[i]))
            fprintf(s->out, "%.1f,%.1f ", mmb_svg_px_x(s, x[i]), mmb_svg_px_y(s, y[i]));
    fputs("\"/>", s->out);
}

void mmb_svg_legend(const mmb_svg *s, const char *const *names, const char *const *colors, int n) {
    double width = (s->right - s->left) / LEGEND_PER_LINE;
    for (int i = 0; i < n; i++) {
        double x = s->left + (i % LEGEND_PER_LINE) * width;
        double y = s->bottom + 48 + (i / LEGEND_PER_LINE) * LEGEND_LINE_PX;
        fprintf(s->out,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"4\" fill=\"%s\"/>"
                "<text class=\"k\" x=\"%.1f\" y=\"%.1f\">",
                x, y - 6, colors[i], x + 16, y);
        mmb_html_escape(s->out, names[i]);
        fputs("</text>", s->out);
    }
}

void mmb_svg_end(const mmb_svg *s) {
    fputs("</svg>\n", s->out);
}
