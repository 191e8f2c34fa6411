/* The counting allocator a cell's managers see (alloc_count.c): it wraps the cell's allocator
 * (managers/alloc/) and counts allocations, frees and the bytes asked for (live and peak), and
 * times one call in every MMB_ALLOC_SAMPLE with the clock, whose own cost is measured and taken
 * off. It changes nothing the managers count: they see the same blocks, sizes and order. */
#ifndef MMB_ALLOC_COUNT_H
#define MMB_ALLOC_COUNT_H

#include <stdbool.h>
#include <stdint.h>

#include "mmbench/manager.h"

#define MMB_ALLOC_SAMPLE 64 /* one call in this many is timed */

typedef struct mmb_alloc_counter {
    mmb_allocator inner;
    bool threaded; /* several threads may call: atomic counts */
    uint64_t allocs, frees;
    uint64_t live_bytes, peak_live_bytes; /* bytes asked for */
    uint64_t timed_allocs, timed_frees;
    uint64_t alloc_ns, free_ns; /* of the timed calls, the clock's cost included */
    double clock_ns;            /* what one timed call's two clock reads add, measured */
} mmb_alloc_counter;

/* Points c at inner (counts zeroed, the clock's cost measured) and returns the wrapper that
 * counts into c. */
mmb_allocator mmb_alloc_counter_wrap(mmb_alloc_counter *c, mmb_allocator inner, bool threaded);

/* The estimated mean nanoseconds of one allocation and one free (timed calls, less the clock's
 * cost, at least 0); NAN when no call of that kind was timed. */
double mmb_alloc_counter_alloc_ns(const mmb_alloc_counter *c);
double mmb_alloc_counter_free_ns(const mmb_alloc_counter *c);

#endif
