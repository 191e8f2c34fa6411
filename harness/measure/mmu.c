/* Exact MMU (mmu.h). The pause time inside a window [t, t + w] is piecewise linear in t, with
 * breakpoints where either edge meets a pause boundary, so its maximum is reached by a window
 * that starts at a pause's start or ends at a pause's end (or at the run's edges). Each candidate
 * is measured with prefix sums and a binary search: O(n log n). */
#include "mmu.h"

#include <stdlib.h>

static int by_start(const void *a, const void *b) {
    const mmb_pause *x = a, *y = b;
    return x->start_ns < y->start_ns ? -1 : x->start_ns > y->start_ns;
}

size_t mmb_pauses_normalize(mmb_pause *p, size_t n) {
    if (n == 0)
        return 0;
    qsort(p, n, sizeof *p, by_start);
    size_t out = 0;
    for (size_t i = 1; i < n; i++) {
        if (p[i].start_ns <= p[out].end_ns) {
            if (p[i].end_ns > p[out].end_ns)
                p[out].end_ns = p[i].end_ns;
        } else {
            p[++out] = p[i];
        }
    }
    return out + 1;
}

/* Pause time in [0, t]: prefix[i] is the total length of pauses 0..i-1. */
static uint64_t paused_before(const mmb_pause *p, const uint64_t *prefix, size_t n, uint64_t t) {
    size_t lo = 0, hi = n; /* first pause starting after t */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (p[mid].start_ns <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return 0;
    const mmb_pause *last = &p[lo - 1];
    uint64_t partial = t < last->end_ns ? t - last->start_ns : last->end_ns - last->start_ns;
    return prefix[lo - 1] + partial;
}

double mmb_mmu(const mmb_pause *p, size_t n, uint64_t run_ns, uint64_t w_ns) {
    if (run_ns == 0)
        return 1;
    if (w_ns == 0 || w_ns > run_ns)
        w_ns = run_ns;
    uint64_t *prefix = malloc((n + 1) * sizeof *prefix);
    if (!prefix)
        return -1;
    prefix[0] = 0;
    for (size_t i = 0; i < n; i++)
        prefix[i + 1] = prefix[i] + (p[i].end_ns - p[i].start_ns);
    uint64_t worst = 0;
    for (size_t i = 0; i <= 2 * n + 1; i++) {
        uint64_t t; /* window start */
        if (i < n)
            t = p[i].start_ns;
        else if (i < 2 * n)
            t = p[i - n].end_ns >= w_ns ? p[i - n].end_ns - w_ns : 0;
        else
            t = i == 2 * n ? 0 : run_ns - w_ns;
        if (t + w_ns > run_ns)
            t = run_ns - w_ns;
        uint64_t paused = paused_before(p, prefix, n, t + w_ns) - paused_before(p, prefix, n, t);
        if (paused > worst)
            worst = paused;
    }
    free(prefix);
    return 1.0 - (double)worst / (double)w_ns;
}
