/* mmbench-pool-test: the bundled pool allocator (managers/alloc/pool.c) on exact, deterministic
 * sequences: size classes, pool filling, reuse, arena ordering and unmapping, stats, a million
 * random pairs against a shadow, and rc and cpython under the oracle on it. A program of its own
 * (`mmbench-pool-test NAME`), each test one CTest; managers/alloc/README.md says what it checks. */
#include "alloc.h"
#include "oracle.h"
#include "stress.h"
#include "test.h"
#include "trace.h"

#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

extern const mmb_alloc_impl mmb_alloc_pool;

/* The geometry pool.c documents (managers/alloc/README.md). */
#define POOL_BYTES   ((uintptr_t)16 << 10)
#define ARENA_BYTES  ((uintptr_t)1 << 20)
#define HEADER_BYTES 48u
#define MIB          ((uint64_t)1 << 20)

static uintptr_t pool_base(const void *p) {
    return (uintptr_t)p & ~(POOL_BYTES - 1);
}

static uintptr_t arena_base(const void *p) {
    return (uintptr_t)p & ~(ARENA_BYTES - 1);
}

static uint32_t blocks_per_pool(size_t class_bytes) {
    return (uint32_t)((POOL_BYTES - HEADER_BYTES) / class_bytes);
}

/* ---- an opened pool that remembers every arena a small block came from ------------------------
 */

#define MAX_ARENAS 64

typedef struct probe {
    mmb_allocator inner;
    uintptr_t arenas[MAX_ARENAS];
    size_t narenas;
} probe;

static void *probe_alloc(void *ctx, size_t bytes) {
    probe *pr = ctx;
    void *b = pr->inner.alloc(pr->inner.ctx, bytes);
    if (b && bytes >= 1 && bytes <= 512) {
        uintptr_t a = arena_base(b);
        size_t k = 0;
        while (k < pr->narenas && pr->arenas[k] != a)
            k++;
        if (k == pr->narenas && pr->narenas < MAX_ARENAS)
            pr->arenas[pr->narenas++] = a;
    }
    return b;
}

static void probe_free(void *ctx, void *block, size_t bytes) {
    probe *pr = ctx;
    pr->inner.free(pr->inner.ctx, block, bytes);
}

static probe *probe_open(void) {
    probe *pr = calloc(1, sizeof *pr);
    char err[200];
    ASSERT_TRUE(pr != NULL);
    ASSERT_EQ(mmb_alloc_pool.open(&pr->inner, err, sizeof err), 0);
    ASSERT_STR_EQ(pr->inner.name, "pool");
    return pr;
}

static mmb_allocator probe_allocator(probe *pr) {
    return (mmb_allocator){"pool", pr, probe_alloc, probe_free};
}

static mmb_alloc_stats probe_stats(const probe *pr) {
    mmb_alloc_stats s;
    mmb_alloc_pool.stats(&pr->inner, &s);
    return s;
}

static void *pa(probe *pr, size_t bytes) {
    void *b = probe_alloc(pr, bytes);
    ASSERT_TRUE(b != NULL);
    return b;
}

static bool is_mapped(uintptr_t a) {
    unsigned char v;
    return mincore((void *)a, (size_t)sysconf(_SC_PAGESIZE), &v) == 0 || errno != ENOMEM;
}

/* Closes the pool and checks that every arena it ever used is unmapped now. */
static void probe_close_unmapped(probe *pr) {
    ASSERT_TRUE(pr->narenas > 0);
    mmb_alloc_pool.close(&pr->inner);
    for (size_t k = 0; k < pr->narenas; k++)
        ASSERT_TRUE(!is_mapped(pr->arenas[k]));
    free(pr);
}

/* ---- geometry ----------------------------------------------------------------------------------
 */

/* Sizes 16k+1 .. 16k+16 share class k: one pool per class, blocks a class size apart, the blocks
 * counted at their class size; 513 goes to malloc (in no arena, counted at its size). */
TEST(pool_size_classes) {
    probe *pr = probe_open();
    uint64_t active = 0;
    for (size_t k = 0; k < 32; k++) {
        size_t cls = (k + 1) * 16;
        char *first = pa(pr, k * 16 + 1);
        ASSERT_EQ((uintptr_t)first - pool_base(first), HEADER_BYTES);
        for (size_t s = k * 16 + 2; s <= cls; s++) {
            char *b = pa(pr, s);
            ASSERT_EQ(pool_base(b), pool_base(first));
            ASSERT_EQ(b - first, (ptrdiff_t)((s - k * 16 - 1) * cls));
        }
        active += 16 * cls;
        ASSERT_EQ(probe_stats(pr).active_bytes, active);
    }
    ASSERT_EQ(pr->narenas, 1);
    ASSERT_EQ(probe_stats(pr).mapped_bytes, MIB);
    void *big = pa(pr, 513);
    ASSERT_TRUE(arena_base(big) != pr->arenas[0]);
    ASSERT_EQ(probe_stats(pr).mapped_bytes, MIB + 513);
    ASSERT_EQ(probe_stats(pr).active_bytes, active + 513);
    probe_close_unmapped(pr); /* blocks still out: close releases them too */
}

TEST(pool_alignment_16) {
    probe *pr = probe_open();
    for (size_t s = 1; s <= 2048; s++)
        for (int k = 0; k < 3; k++)
            ASSERT_EQ((uintptr_t)pa(pr, s) % 16, 0);
    probe_close_unmapped(pr);
}

/* A class's blocks come from one pool until it holds (16384 - 48) / size of them. */
TEST(pool_fills_one_pool_first) {
    static const size_t sizes[] = {16, 32, 48, 96, 256, 512};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        probe *pr = probe_open();
        uint32_t n = blocks_per_pool(sizes[i]);
        uintptr_t first = pool_base(pa(pr, sizes[i]));
        for (uint32_t k = 1; k < n; k++)
            ASSERT_EQ(pool_base(pa(pr, sizes[i])), first);
        ASSERT_TRUE(pool_base(pa(pr, sizes[i])) != first);
        probe_close_unmapped(pr);
    }
}

/* The last freed block is the next handed out (LIFO), before never-used ones. */
TEST(pool_reuses_freed_block_first) {
    probe *pr = probe_open();
    void *a = pa(pr, 40), *b = pa(pr, 40), *c = pa(pr, 40);
    probe_free(pr, b, 40);
    ASSERT_TRUE(pa(pr, 48) == b); /* same class (48) */
    probe_free(pr, a, 40);
    probe_free(pr, c, 33);
    ASSERT_TRUE(pa(pr, 40) == c);
    ASSERT_TRUE(pa(pr, 40) == a);
    probe_close_unmapped(pr);
}

/* A full pool that gets a block back is used before a pool with more room: the fullest first. */
TEST(pool_prefers_fullest_pool) {
    probe *pr = probe_open();
    uint32_t n = blocks_per_pool(64);
    void **full = malloc(n * sizeof *full);
    for (uint32_t k = 0; k < n; k++)
        full[k] = pa(pr, 64);
    void *other = pa(pr, 64); /* a second pool, nearly empty, now the class's current one */
    ASSERT_TRUE(pool_base(other) != pool_base(full[0]));
    probe_free(pr, full[7], 64);
    ASSERT_TRUE(pa(pr, 64) == full[7]);
    ASSERT_EQ(pool_base(pa(pr, 64)), pool_base(other)); /* full again: back to the other */
    free(full);
    probe_close_unmapped(pr);
}

/* ---- arenas -------------------------------------------------------------------------------------
 */

/* Class 512 holds 31 blocks a pool, 64 pools an arena: 1984 blocks fill an arena. */
#define PER_ARENA_512 (31u * 64u)

/* New pools come from the arena with the fewest free pools. */
TEST(pool_prefers_fullest_arena) {
    probe *pr = probe_open();
    uint32_t total = PER_ARENA_512 + 31; /* arena A full, B one full pool */
    void **b = malloc(total * sizeof *b);
    for (uint32_t k = 0; k < total; k++)
        b[k] = pa(pr, 512);
    ASSERT_EQ(pr->narenas, 2);
    uintptr_t arena_a = arena_base(b[0]), arena_b = arena_base(b[PER_ARENA_512]);
    ASSERT_EQ(arena_base(b[PER_ARENA_512 - 1]), arena_a);
    ASSERT_TRUE(arena_b != arena_a);
    for (uint32_t k = 0; k < 10 * 31; k++) /* A: 10 free pools; B: 63 */
        probe_free(pr, b[k], 512);
    for (uint32_t k = 0; k < 10 * 31; k++)
        ASSERT_EQ(arena_base(pa(pr, 512)), arena_a);
    ASSERT_EQ(arena_base(pa(pr, 512)), arena_b); /* A is full again */
    ASSERT_EQ(probe_stats(pr).mapped_bytes, 2 * MIB);
    free(b);
    probe_close_unmapped(pr);
}

/* An arena whose last pool empties is unmapped (mapped_bytes drops by exactly 1 MiB), except one
 * wholly free arena kept as a spare. */
TEST(pool_unmaps_empty_arena) {
    probe *pr = probe_open();
    uint32_t total = 3 * PER_ARENA_512;
    void **b = malloc(total * sizeof *b);
    for (uint32_t k = 0; k < total; k++)
        b[k] = pa(pr, 512);
    ASSERT_EQ(pr->narenas, 3);
    ASSERT_EQ(probe_stats(pr).mapped_bytes, 3 * MIB);
    for (uint32_t k = 0; k < PER_ARENA_512; k++) /* the first empties: kept as the spare */
        probe_free(pr, b[k], 512);
    ASSERT_EQ(probe_stats(pr).mapped_bytes, 3 * MIB);
    ASSERT_TRUE(is_mapped(pr->arenas[0]));
    for (uint32_t k = PER_ARENA_512; k < 2 * PER_ARENA_512 - 1; k++)
        probe_free(pr, b[k], 512);
    ASSERT_EQ(probe_stats(pr).mapped_bytes, 3 * MIB);
    probe_free(pr, b[2 * PER_ARENA_512 - 1], 512); /* the second's last pool empties */
    ASSERT_EQ(probe_stats(pr).mapped_bytes, 2 * MIB);
    ASSERT_TRUE(!is_mapped(pr->arenas[1]));
    ASSERT_TRUE(is_mapped(pr->arenas[0]) && is_mapped(pr->arenas[2]));
    for (uint32_t k = 2 * PER_ARENA_512; k < total; k++)
        probe_free(pr, b[k], 512);
    ASSERT_EQ(probe_stats(pr).mapped_bytes, MIB);
    ASSERT_EQ(probe_stats(pr).active_bytes, 0);
    free(b);
    probe_close_unmapped(pr);
}

/* Stats after a known sequence. */
TEST(pool_stats_exact) {
    probe *pr = probe_open();
    mmb_alloc_stats s = probe_stats(pr);
    ASSERT_EQ(s.mapped_bytes, 0);
    ASSERT_EQ(s.active_bytes, 0);
    void *a = pa(pr, 24), *b = pa(pr, 100), *c = pa(pr, 1000);
    s = probe_stats(pr);
    ASSERT_EQ(s.mapped_bytes, MIB + 1000);
    ASSERT_EQ(s.active_bytes, 32 + 112 + 1000);
    probe_free(pr, a, 24);
    probe_free(pr, c, 1000);
    s = probe_stats(pr);
    ASSERT_EQ(s.mapped_bytes, MIB);
    ASSERT_EQ(s.active_bytes, 112);
    probe_free(pr, b, 100);
    s = probe_stats(pr);
    ASSERT_EQ(s.mapped_bytes, MIB); /* the spare */
    ASSERT_EQ(s.active_bytes, 0);
    probe_close_unmapped(pr);
}

/* ---- a shadow of random pairs ------------------------------------------------------------------
 */

static uint64_t rng_next(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

#define SHADOW_SLOTS 4096

/* `pairs` allocations and their frees in random interleaving (sizes 1..600, up to SHADOW_SLOTS
 * live): each block is filled with a pattern of its own and checked when freed, so two live
 * blocks that overlap show. Returns how many blocks were found overwritten or misaligned. */
static uint64_t shadow_run(const mmb_allocator *al, uint64_t pairs, uint64_t seed) {
    static unsigned char *blk[SHADOW_SLOTS];
    static size_t len[SHADOW_SLOTS];
    static unsigned char tag[SHADOW_SLOTS];
    uint64_t bad = 0, done = 0, s = seed;
    memset(blk, 0, sizeof blk);
    while (done < pairs) {
        uint64_t r = rng_next(&s);
        size_t k = r % SHADOW_SLOTS;
        if (blk[k]) {
            for (size_t i = 0; i < len[k]; i++)
                if (blk[k][i] != (unsigned char)(tag[k] + i)) {
                    bad++;
                    break;
                }
            al->free(al->ctx, blk[k], len[k]);
            blk[k] = NULL;
            done++;
            continue;
        }
        len[k] = 1 + (r >> 20) % ((r >> 40) % 8 == 0 ? 600 : 96);
        blk[k] = al->alloc(al->ctx, len[k]);
        ASSERT_TRUE(blk[k] != NULL);
        bad += (uintptr_t)blk[k] % 16 != 0;
        tag[k] = (unsigned char)(r >> 50);
        for (size_t i = 0; i < len[k]; i++)
            blk[k][i] = (unsigned char)(tag[k] + i);
    }
    for (size_t k = 0; k < SHADOW_SLOTS; k++)
        if (blk[k])
            al->free(al->ctx, blk[k], len[k]);
    return bad;
}

TEST(pool_random_pairs_shadow) {
    probe *pr = probe_open();
    mmb_allocator al = probe_allocator(pr);
    ASSERT_EQ(shadow_run(&al, 1000000, 0x9e3779b97f4a7c15u), 0);
    ASSERT_EQ(probe_stats(pr).active_bytes, 0);
    probe_close_unmapped(pr);
}

/* The shadow catches an allocator that hands out overlapping blocks. */
static void *overlap_alloc(void *ctx, size_t bytes) {
    static _Alignas(16) unsigned char two[2][1024];
    unsigned *n = ctx;
    (void)bytes;
    return two[(*n)++ % 2];
}

static void overlap_free(void *ctx, void *block, size_t bytes) {
    (void)ctx, (void)block, (void)bytes;
}

TEST(pool_shadow_catches_overlap) {
    unsigned n = 0;
    mmb_allocator broken = {"overlap", &n, overlap_alloc, overlap_free};
    ASSERT_TRUE(shadow_run(&broken, 10000, 1) > 0);
}

/* ---- managers on it, under the oracle ----------------------------------------------------------
 */

static void manager_on_pool(const char *name) {
    const mmb_manager *m = mmb_manager_find(name);
    ASSERT_TRUE(m != NULL);
    probe *pr = probe_open();
    mmb_heap_config cfg;
    mmb_config_defaults(m, &cfg);
    cfg.allocator = probe_allocator(pr);
    mmb_oracle_options opt = {.fill_payload = true};
    char err[600];
    for (int shape = 0; shape < MMB_SHAPE_COUNT; shape++) {
        mmb_heap *h = NULL;
        ASSERT_EQ(mmb_oracle_create(m, &cfg, &opt, &h, err, sizeof err), 0);
        mmb_trace t;
        mmb_trace_init(&t);
        mmb_stress_generate(&t, 11 + (uint64_t)shape, (mmb_shape)shape, 20000);
        mmb_obj **objs = calloc(t.objects + 1, sizeof *objs);
        size_t ran = mmb_trace_run(&t, h, objs, true);
        if (mmb_oracle_failed(h))
            fprintf(stderr, "%s\n", mmb_oracle_failure(h));
        ASSERT_EQ(ran, t.count);
        int status = mmb_oracle_close(h, err, sizeof err);
        if (status)
            fprintf(stderr, "%s\n", err);
        ASSERT_EQ(status, 0);
        ASSERT_EQ(probe_stats(pr).active_bytes, 0); /* every block came back */
        free(objs);
        mmb_trace_free(&t);
    }
    probe_close_unmapped(pr);
}

TEST(pool_rc_under_oracle) {
    manager_on_pool("rc");
}

TEST(pool_cpython_under_oracle) {
    manager_on_pool("cpython");
}

/* ---- the runner (test.h's, for a program of its own) -------------------------------------------
 */

static mmb_test *tests;
const char *mmb_test_arg, *mmb_test_arg2;

void mmb_test_register(mmb_test *t) {
    t->next = tests;
    tests = t;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: mmbench-pool-test NAME\n");
        return 2;
    }
    for (mmb_test *t = tests; t; t = t->next)
        if (strcmp(t->name, argv[1]) == 0) {
            t->fn();
            printf("%s: ok\n", t->name);
            return 0;
        }
    fprintf(stderr, "mmbench-pool-test: no test named '%s'\n", argv[1]);
    return 2;
}
