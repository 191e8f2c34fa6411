/* Number formatting (format.h). */
#include "format.h"

#include <math.h>
#include <stdio.h>

static void scaled(double v, double step, const char *const units[4], const mmb_format_style *st,
                   char *buf, size_t n) {
    /* One division by an exact power (1e3, 1e6, 1e9; 1024^k), so digits never depend on a chain
     * of roundings. */
    int s = 0;
    double div = 1;
    while (s < 3 && fabs(v) >= div * step) {
        div *= step;
        s++;
    }
    v /= div;
    const mmb_digits *d = &st->at[s];
    if (d->significant)
        snprintf(buf, n, "%.*g%s%s", d->digits, v, st->space, units[s]);
    else
        snprintf(buf, n, "%.*f%s%s", d->digits, v, st->space, units[s]);
}

void mmb_format_ns(double v, const mmb_format_style *style, char *buf, size_t n) {
    static const char *const plain[4] = {"ns", "us", "ms", "s"};
    static const char *const micro[4] = {"ns", "µs", "ms", "s"};
    scaled(v, 1e3, style->micro_sign ? micro : plain, style, buf, n);
}

void mmb_format_bytes(double v, const mmb_format_style *style, char *buf, size_t n) {
    static const char *const units[4] = {"B", "KiB", "MiB", "GiB"};
    scaled(v, 1024, units, style, buf, n);
}

void mmb_format_si(double v, const mmb_format_style *style, char *buf, size_t n) {
    static const char *const units[4] = {"", "k", "M", "G"};
    scaled(v, 1e3, units, style, buf, n);
}
