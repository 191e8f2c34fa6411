/* Number formatting: one scaler for durations (ns, µs, ms, s) and byte counts (B, KiB, MiB, GiB)
 * (and SI multiples) that compare, report and run's console table share, each with its own style
 * (digits per scale, the space before the unit), so each keeps its look from one implementation. */
#ifndef MMB_FORMAT_H
#define MMB_FORMAT_H

#include <stdbool.h>
#include <stddef.h>

/* The digits at one scale: `digits` decimals (%f), or `digits` significant digits (%g). */
typedef struct mmb_digits {
    int digits;
    bool significant;
} mmb_digits;

typedef struct mmb_format_style {
    mmb_digits at[4];  /* per scale, smallest first: ns us ms s, or B KiB MiB GiB */
    const char *space; /* between the number and the unit: "" or " " */
    bool micro_sign;   /* "µs", else "us" */
} mmb_format_style;

/* v nanoseconds at the largest scale (1e3 apart) its magnitude reaches: "1.5ms", "2.00 s". The
 * caller formats what is not finite. */
void mmb_format_ns(double v, const mmb_format_style *style, char *buf, size_t n);

/* v bytes at the largest scale (1024 apart) its magnitude reaches: "3.1KiB", "12 B". */
void mmb_format_bytes(double v, const mmb_format_style *style, char *buf, size_t n);

/* v at the largest SI scale (1e3 apart) its magnitude reaches, unit "", "k", "M" or "G":
 * "2.50M" (a rate). */
void mmb_format_si(double v, const mmb_format_style *style, char *buf, size_t n);

#endif
