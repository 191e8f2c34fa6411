/* mmbench-pool-bench: a micro benchmark, not a test: the bundled pool (managers/alloc/pool.c) and
 * glibc's malloc side by side in one run, on churn-like patterns of 32-96 byte blocks with
 * interleaved lifetimes. `mmbench-pool-bench [STEPS]`; prints ns per alloc+free pair. */
#include "alloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

extern const mmb_alloc_impl mmb_alloc_pool;

static void *libc_alloc(void *ctx, size_t bytes) {
    (void)ctx;
    return malloc(bytes);
}

static void libc_free(void *ctx, void *block, size_t bytes) {
    (void)ctx, (void)bytes;
    free(block);
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t rng_next(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

#define MAX_LIVE (1u << 16)

typedef struct live_block {
    void *p;
    size_t bytes;
} live_block;

/* `live` blocks resident; each step frees a random one and allocates a new 32-96 byte block in
 * its place (lifetimes interleave as churn's do); every 64th step a burst of 16 short-lived
 * blocks is made and freed youngest first, as a cascade does. Returns ns per pair. */
static double run_churn(const mmb_allocator *al, uint64_t steps, uint32_t live, uint64_t *sum) {
    static live_block slot[MAX_LIVE];
    uint64_t s = 0x2545f4914f6cdd1du, pairs = 0;
    for (uint32_t k = 0; k < live; k++) {
        slot[k].bytes = 32 + rng_next(&s) % 65;
        slot[k].p = al->alloc(al->ctx, slot[k].bytes);
    }
    uint64_t t0 = now_ns();
    for (uint64_t i = 0; i < steps; i++) {
        uint64_t r = rng_next(&s);
        live_block *b = &slot[r % live];
        al->free(al->ctx, b->p, b->bytes);
        b->bytes = 32 + (r >> 32) % 65;
        b->p = al->alloc(al->ctx, b->bytes);
        *(uint64_t *)b->p = i;
        *sum += (uintptr_t)b->p & 0xff;
        pairs++;
        if (i % 64 == 0) {
            void *burst[16];
            for (int k = 0; k < 16; k++)
                burst[k] = al->alloc(al->ctx, 48);
            for (int k = 15; k >= 0; k--)
                al->free(al->ctx, burst[k], 48);
            pairs += 16;
        }
    }
    double ns = (double)(now_ns() - t0) / (double)pairs;
    for (uint32_t k = 0; k < live; k++)
        al->free(al->ctx, slot[k].p, slot[k].bytes);
    return ns;
}

int main(int argc, char **argv) {
    uint64_t steps = argc > 1 ? strtoull(argv[1], NULL, 10) : 20000000u;
    static const uint32_t lives[] = {1000, 10000, 60000};
    mmb_allocator libc = {"libc", NULL, libc_alloc, libc_free}, pool;
    char err[200];
    if (mmb_alloc_pool.open(&pool, err, sizeof err) != 0) {
        fprintf(stderr, "mmbench: error: pool-bench: %s\n", err);
        return 1;
    }
    uint64_t sum = 0;
    printf("%-8s %10s %12s %12s %8s\n", "live", "steps", "libc ns/op", "pool ns/op", "ratio");
    for (size_t k = 0; k < sizeof lives / sizeof lives[0]; k++) {
        double l0 = run_churn(&libc, steps / 4, lives[k], &sum); /* warm both first */
        double p0 = run_churn(&pool, steps / 4, lives[k], &sum);
        double l = run_churn(&libc, steps, lives[k], &sum);
        double p = run_churn(&pool, steps, lives[k], &sum);
        (void)l0, (void)p0;
        printf("%-8u %10llu %12.2f %12.2f %7.2fx\n", lives[k], (unsigned long long)steps, l, p,
               l / p);
    }
    mmb_alloc_stats st;
    mmb_alloc_pool.stats(&pool, &st);
    printf("pool after: mapped %llu bytes, active %llu bytes (checksum %llu)\n",
           (unsigned long long)st.mapped_bytes, (unsigned long long)st.active_bytes,
           (unsigned long long)(sum & 0xffff));
    mmb_alloc_pool.close(&pool);
    return 0;
}
