/* The log-linear histogram (hist.h). Bucket i < 128 holds exactly the value i; above, bucket
 * 128 + (s - 1) * 64 + k holds [(64 + k) << s, (65 + k) << s): width 2^s over a value of at least
 * 64 * 2^s, so a bucket's midpoint is within 1/128 of anything in it. */
#include "hist.h"

#include <math.h>
#include <string.h>

void mmb_hist_init(mmb_hist *h) {
    memset(h, 0, sizeof *h);
    h->min = UINT64_MAX;
}

void mmb_hist_bucket(unsigned i, uint64_t *low, uint64_t *width) {
    if (i < 128) {
        *low = i;
        *width = 1;
        return;
    }
    unsigned shift = (i - 128) / 64 + 1, k = (i - 128) % 64;
    *low = (uint64_t)(64 + k) << shift;
    *width = (uint64_t)1 << shift;
}

double mmb_hist_percentile(const mmb_hist *h, double p) {
    if (!h->count)
        return 0;
    if (p <= 0)
        return (double)h->min;
    uint64_t rank = (uint64_t)ceil(p / 100.0 * (double)h->count);
    if (rank < 1)
        rank = 1;
    if (rank >= h->count)
        return (double)h->max;
    uint64_t seen = 0;
    for (unsigned i = 0; i < MMB_HIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            uint64_t low, width;
            mmb_hist_bucket(i, &low, &width);
            double mid = width == 1 ? (double)low : (double)low + (double)width / 2;
            if (mid < (double)h->min)
                mid = (double)h->min;
            if (mid > (double)h->max)
                mid = (double)h->max;
            return mid;
        }
    }
    return (double)h->max;
}

double mmb_hist_mean(const mmb_hist *h) {
    return h->count ? h->sum / (double)h->count : 0;
}

void mmb_hist_merge(mmb_hist *a, const mmb_hist *b) {
    for (unsigned i = 0; i < MMB_HIST_BUCKETS; i++)
        a->counts[i] += b->counts[i];
    a->count += b->count;
    a->sum += b->sum;
    if (b->min < a->min)
        a->min = b->min;
    if (b->max > a->max)
        a->max = b->max;
}

int mmb_hist_write_hgrm(const mmb_hist *h, FILE *out, double unit_ns) {
    fprintf(out, "%12s %14s %10s %14s\n\n", "Value", "Percentile", "TotalCount",
            "1/(1-Percentile)");
    /* Percentile ticks as HdrHistogram prints them: 5 per halving of the distance to 100%. */
    double step = 100.0 / 10.0, p = 0;
    double sum_sq = 0;
    uint64_t seen = 0;
    for (unsigned i = 0; i < MMB_HIST_BUCKETS; i++)
        if (h->counts[i]) {
            uint64_t low, width;
            mmb_hist_bucket(i, &low, &width);
            double mid = width == 1 ? (double)low : (double)low + (double)width / 2;
            double d = mid - mmb_hist_mean(h);
            sum_sq += d * d * (double)h->counts[i];
        }
    while (h->count && p < 100.0) {
        double v = mmb_hist_percentile(h, p);
        seen = (uint64_t)ceil(p / 100.0 * (double)h->count);
        if (seen < 1)
            seen = 1;
        fprintf(out, "%12.3f %14.12f %10llu %14.2f\n", v / unit_ns, p / 100.0,
                (unsigned long long)seen, 1.0 / (1.0 - p / 100.0));
        p += step;
        if (100.0 - p < 2 * step - 1e-12 && step > 1e-6)
            step /= 2;
        if (step < 1e-6)
            break;
    }
    if (h->count)
        fprintf(out, "%12.3f %14.12f %10llu\n", (double)h->max / unit_ns, 1.0,
                (unsigned long long)h->count);
    fprintf(out, "#[Mean    = %12.3f, StdDeviation   = %12.3f]\n", mmb_hist_mean(h) / unit_ns,
            h->count ? sqrt(sum_sq / (double)h->count) / unit_ns : 0.0);
    fprintf(out, "#[Max     = %12.3f, Total count    = %12llu]\n", (double)h->max / unit_ns,
            (unsigned long long)h->count);
    fprintf(out, "#[Buckets = %12d, SubBuckets     = %12d]\n", 58, 64);
    return ferror(out) ? -1 : 0;
}
