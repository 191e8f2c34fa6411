/* SVG charts for the HTML page of `mmbench report` (report_svg.c), inline and self-contained. */
#ifndef MMB_REPORT_SVG_H
#define MMB_REPORT_SVG_H

#include <stdbool.h>
#include <stdio.h>

/* A chart: data ranges (logarithmic axes take and give data values; the mapping takes log10)
 * mapped onto a plot area inside a width x height picture. */
typedef struct mmb_svg {
    FILE *out;
    double x_min, x_max, y_min, y_max;
    bool x_log, y_log;
    double left, right, top, bottom; /* the plot area, in pixels */
    int width, height;
    int legend_px;    /* room below the axis label for the legend: mmb_svg_legend_height */
    int right_margin; /* pixels right of the plot area; 14 when 0 */
} mmb_svg;

/* Writes text with &, <, >, " and ' escaped: safe in HTML and SVG text and attributes. */
void mmb_html_escape(FILE *out, const char *s);

/* A colour for series i, distinguishable from its neighbours. */
const char *mmb_svg_color(int i);

/* Opens <svg> (inline, no external references) with a title over the plot area. The caller sets
 * the ranges, scales, size and optionally the left margin first; begin lays out the rest. */
void mmb_svg_begin(mmb_svg *s, FILE *out, const char *title, const char *x_label,
                   const char *y_label);
double mmb_svg_px_x(const mmb_svg *s, double x);
double mmb_svg_px_y(const mmb_svg *s, double y);
/* A grid line and its label at data value v. */
void mmb_svg_x_tick(const mmb_svg *s, double v, const char *label);
void mmb_svg_y_tick(const mmb_svg *s, double v, const char *label);
/* A line through the finite points (x[i], y[i]). */
void mmb_svg_line(const mmb_svg *s, const double *x, const double *y, int n, const char *color);
/* Where a point's label goes: `line` lines below its point (negative: above), on its left or
 * right. */
typedef struct mmb_svg_place {
    int line;
    bool left;
} mmb_svg_place;
/* The labels placed so far on a chart, as boxes (x0, x1, baseline y), to keep new ones off them. */
#define MMB_SVG_LABELS_MAX 160
typedef struct mmb_svg_labels {
    double box[MMB_SVG_LABELS_MAX][3];
    int n;
} mmb_svg_labels;
/* Keeps labels off the dot of a point at (x, y): call for every point before placing labels. */
void mmb_svg_label_obstacle(const mmb_svg *s, mmb_svg_labels *placed, double x, double y);
/* The nearest place for the label of a point at (x, y) inside the plot that overlaps no label
 * placed so far (right of the point, or left near the plot's right edge, tried first); records
 * its box. */
mmb_svg_place mmb_svg_label_place(const mmb_svg *s, mmb_svg_labels *placed, double x, double y,
                                  const char *label);
/* A labelled point at (x, y): a dot in color, ringed when `ring`, inside <g class="CLS"> with
 * `tooltip` as its <title>; the label where `place` says, with a leader line to the point when
 * it is off the point's line. */
void mmb_svg_point(const mmb_svg *s, double x, double y, const char *color, const char *cls,
                   bool ring, const char *label, const char *tooltip, mmb_svg_place place);
/* A dashed dark line through the points (x[i], y[i]) in the order given, with class `cls`. */
void mmb_svg_dashed(const mmb_svg *s, const double *x, const double *y, int n, const char *cls);
/* A legend below the x axis: n names with their colours, three to a line. */
void mmb_svg_legend(const mmb_svg *s, const char *const *names, const char *const *colors, int n);
/* The legend's height for n names, to add to the picture's height. */
int mmb_svg_legend_height(int n);
void mmb_svg_end(const mmb_svg *s);

#endif
