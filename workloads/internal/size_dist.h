/* Payload sizes for the allocator workloads (size-mix, fragment): a band of sizes drawn
 * log-uniformly by octaves, so that small sizes of a band are the common ones, as in real heaps.
 * Integer arithmetic only: the same sizes for a seed on every machine. */
#ifndef MMB_WORKLOADS_SIZE_DIST_H
#define MMB_WORKLOADS_SIZE_DIST_H

#include "workload.h"

/* Octaves [2^k, 2^(k+1)) for k = 0..20: every payload size up to MMB_MAX_PAYLOAD_BYTES. */
enum { MMBW_OCTAVES = 21 };

/* Sizes lo..hi. Octave k of the band is drawn with a weight proportional to the fraction of the
 * octave the band covers (cum: running sums, fixed point 2^-20), then a size uniformly within
 * the octave's part of the band: a step approximation of a density 1/size. */
typedef struct mmbw_band {
    uint32_t lo, hi;
    uint32_t k0, noctaves;
    uint64_t cum[MMBW_OCTAVES];
} mmbw_band;

static inline uint32_t mmbw_log2_floor(uint32_t v) {
    uint32_t k = 0;
    while (v >> (k + 1))
        k++;
    return k;
}

/* The band between a and b, in either order (both in 1..2^20). */
static inline mmbw_band mmbw_band_make(double a, double b) {
    mmbw_band band = {.lo = (uint32_t)(a < b ? a : b), .hi = (uint32_t)(a < b ? b : a)};
    band.k0 = mmbw_log2_floor(band.lo);
    band.noctaves = mmbw_log2_floor(band.hi) - band.k0 + 1;
    uint64_t sum = 0;
    for (uint32_t j = 0; j < band.noctaves; j++) {
        uint32_t k = band.k0 + j;
        uint32_t lo = band.lo > (1u << k) ? band.lo : 1u << k;
        uint32_t hi = band.hi < (2u << k) - 1 ? band.hi : (2u << k) - 1;
        sum += (uint64_t)(hi - lo + 1) << (MMBW_OCTAVES - 1 - k);
        band.cum[j] = sum;
    }
    return band;
}

static inline uint32_t mmbw_band_draw(const mmbw_band *b, mmb_rng *r) {
    uint64_t u = mmb_rng_next(r) % b->cum[b->noctaves - 1];
    uint32_t j = 0;
    while (u >= b->cum[j])
        j++;
    uint32_t k = b->k0 + j;
    uint32_t lo = b->lo > (1u << k) ? b->lo : 1u << k;
    uint32_t hi = b->hi < (2u << k) - 1 ? b->hi : (2u << k) - 1;
    return lo + mmb_rng_below(r, hi - lo + 1);
}

#endif
