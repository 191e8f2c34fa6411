/* The counting allocator (alloc_count.h). Single-threaded cells count in plain fields; threaded
 * ones with relaxed atomics (their peak of live bytes with a compare-and-swap only when it
 * rises). Timing: the call whose count is a multiple of MMB_ALLOC_SAMPLE reads the clock before
 * and after; the mean over those, less the clock's measured cost, estimates every call. */
#include "alloc_count.h"

#include <math.h>
#include <string.h>

#include "mmbench/clock.h"

#define ADD(c, field, v)                                                                           \
    ((c)->threaded ? __atomic_fetch_add(&(c)->field, (v), __ATOMIC_RELAXED)                        \
                   : ((c)->field += (v), (c)->field - (v)))

static void raise_peak(mmb_alloc_counter *c, uint64_t live) {
    if (!c->threaded) {
        if (live > c->peak_live_bytes)
            c->peak_live_bytes = live;
        return;
    }
    uint64_t peak = __atomic_load_n(&c->peak_live_bytes, __ATOMIC_RELAXED);
    while (live > peak && !__atomic_compare_exchange_n(&c->peak_live_bytes, &peak, live, true,
                                                       __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
    }
}

/* The timed calls, both kinds of cell: rare (one in MMB_ALLOC_SAMPLE), kept out of line. */
__attribute__((noinline)) static void *timed_alloc(mmb_alloc_counter *c, size_t bytes) {
    uint64_t t0 = mmb_now_ns();
    void *block = c->inner.alloc(c->inner.ctx, bytes);
    uint64_t t1 = mmb_now_ns();
    ADD(c, alloc_ns, t1 - t0);
    ADD(c, timed_allocs, 1);
    return block;
}

__attribute__((noinline)) static void timed_free(mmb_alloc_counter *c, void *block, size_t bytes) {
    uint64_t t0 = mmb_now_ns();
    c->inner.free(c->inner.ctx, block, bytes);
    uint64_t t1 = mmb_now_ns();
    ADD(c, free_ns, t1 - t0);
    ADD(c, timed_frees, 1);
}

/* A single-threaded cell's: plain fields, the fewest instructions. */
static void *counted_alloc(void *ctx, size_t bytes) {
    mmb_alloc_counter *c = ctx;
    void *block = __builtin_expect(c->allocs++ % MMB_ALLOC_SAMPLE == 0, 0)
                      ? timed_alloc(c, bytes)
                      : c->inner.alloc(c->inner.ctx, bytes);
    if (block && (c->live_bytes += bytes) > c->peak_live_bytes)
        c->peak_live_bytes = c->live_bytes;
    return block;
}

static void counted_free(void *ctx, void *block, size_t bytes) {
    mmb_alloc_counter *c = ctx;
    c->live_bytes -= bytes;
    if (__builtin_expect(c->frees++ % MMB_ALLOC_SAMPLE == 0, 0))
        timed_free(c, block, bytes);
    else
        c->inner.free(c->inner.ctx, block, bytes);
}

/* A threaded cell's: relaxed atomics. */
static void *counted_alloc_mt(void *ctx, size_t bytes) {
    mmb_alloc_counter *c = ctx;
    void *block = ADD(c, allocs, 1) % MMB_ALLOC_SAMPLE == 0 ? timed_alloc(c, bytes)
                                                            : c->inner.alloc(c->inner.ctx, bytes);
    if (block)
        raise_peak(c, ADD(c, live_bytes, bytes) + bytes);
    return block;
}

static void counted_free_mt(void *ctx, void *block, size_t bytes) {
    mmb_alloc_counter *c = ctx;
    ADD(c, live_bytes, (uint64_t)0 - bytes);
    if (ADD(c, frees, 1) % MMB_ALLOC_SAMPLE == 0)
        timed_free(c, block, bytes);
    else
        c->inner.free(c->inner.ctx, block, bytes);
}

/* What two back-to-back clock reads measure: the least of many pairs' means. */
static double clock_cost_ns(void) {
    double best = INFINITY;
    for (int round = 0; round < 5; round++) {
        uint64_t sum = 0;
        for (int i = 0; i < 200; i++) {
            uint64_t t0 = mmb_now_ns();
            sum += mmb_now_ns() - t0;
        }
        best = fmin(best, (double)sum / 200);
    }
    return best;
}

mmb_allocator mmb_alloc_counter_wrap(mmb_alloc_counter *c, mmb_allocator inner, bool threaded) {
    memset(c, 0, sizeof *c);
    c->inner = inner;
    c->threaded = threaded;
    c->clock_ns = clock_cost_ns();
    if (threaded)
        return (mmb_allocator){inner.name, c, counted_alloc_mt, counted_free_mt};
    return (mmb_allocator){inner.name, c, counted_alloc, counted_free};
}

static double per_call(uint64_t ns, uint64_t calls, double clock_ns) {
    if (!calls)
        return NAN;
    return fmax(0, (double)ns / (double)calls - clock_ns);
}

double mmb_alloc_counter_alloc_ns(const mmb_alloc_counter *c) {
    return per_call(c->alloc_ns, c->timed_allocs, c->clock_ns);
}

double mmb_alloc_counter_free_ns(const mmb_alloc_counter *c) {
    return per_call(c->free_ns, c->timed_frees, c->clock_ns);
}
