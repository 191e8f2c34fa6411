/* A log-linear histogram of durations in the style of HdrHistogram: exact below 128 ns, then 64
 * linear sub-buckets per power of two, so any recorded value is reported within 1/128 (< 1%)
 * relative error, from 1 ns to beyond 100 s. Recording is a few instructions and no allocation. */
#ifndef MMB_HIST_H
#define MMB_HIST_H

#include <stdint.h>
#include <stdio.h>

#define MMB_HIST_SUB_BITS 7 /* 2^7 exact values, then 2^6 sub-buckets per octave */
#define MMB_HIST_BUCKETS  (128 + 58 * 64)

typedef struct mmb_hist {
    uint64_t count;
    uint64_t min, max; /* exact */
    double sum;
    uint64_t counts[MMB_HIST_BUCKETS];
} mmb_hist;

void mmb_hist_init(mmb_hist *h);

static inline unsigned mmb_hist_index(uint64_t v) {
    if (v < 128)
        return (unsigned)v;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = msb - 6; /* v >> shift lies in [64, 128) */
    return 128 + (shift - 1) * 64 + (unsigned)((v >> shift) - 64);
}

static inline void mmb_hist_record(mmb_hist *h, uint64_t v) {
    h->counts[mmb_hist_index(v)]++;
    h->count++;
    h->sum += (double)v;
    if (v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
}

/* The lowest value and the width of bucket i. */
void mmb_hist_bucket(unsigned i, uint64_t *low, uint64_t *width);

/* The value at percentile p (0..100): the midpoint of the bucket holding the ceil(p% x count)-th
 * smallest value, clamped to [min, max] (so p = 100 is the exact max). 0 when empty. */
double mmb_hist_percentile(const mmb_hist *h, double p);

double mmb_hist_mean(const mmb_hist *h);

/* Adds b's counts into a. */
void mmb_hist_merge(mmb_hist *a, const mmb_hist *b);

/* Writes HdrHistogram's percentile-distribution text (.hgrm), values divided by `unit_ns`
 * (1e3: microseconds). */
int mmb_hist_write_hgrm(const mmb_hist *h, FILE *out, double unit_ns);

#endif
