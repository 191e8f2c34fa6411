/* pool: the bundled small-object allocator (--allocator pool), in the manner of CPython 3.11's
 * obmalloc: 16-byte size classes up to 512 bytes, 16 KiB pools in 1 MiB arenas from mmap, larger
 * requests from malloc. One instance per cell; NOT thread-safe (one heap, one thread).
 * Design, what it takes from obmalloc and what it costs: managers/alloc/README.md. */
#include "alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Sizes (obmalloc 3.11's with its radix tree: ALIGNMENT 16, SMALL_REQUEST_THRESHOLD 512,
 * POOL_BITS 14, ARENA_BITS 20). Arenas are aligned to their size, pools to theirs: a block's pool
 * and arena are its address masked. */
#define POOL_ALIGN        16u
#define POOL_MAX_SMALL    512u
#define POOL_CLASSES      (POOL_MAX_SMALL / POOL_ALIGN)
#define POOL_BYTES        ((size_t)16 << 10)
#define POOL_ARENA_BYTES  ((size_t)1 << 20)
#define POOL_PER_ARENA    ((uint32_t)(POOL_ARENA_BYTES / POOL_BYTES))
#define POOL_HEADER_BYTES 48u

/* A free block's first word links it to the next free block of its pool (NULL: none). */
typedef struct pool_block {
    struct pool_block *next;
} pool_block;

typedef struct pool_arena pool_arena;

/* At the start of every pool, padded to POOL_HEADER_BYTES so blocks stay 16-aligned. Invariant:
 * a pool in its class's used list has free_list != NULL (a free block, or the next bump block). */
typedef struct pool_header {
    pool_block *free_list;
    struct pool_header *next, *prev; /* class's used list; or next in the arena's empty pools */
    uint32_t used_count;             /* blocks handed out */
    uint32_t class_index;
    uint32_t bump_offset; /* next never-used block; past bump_limit: none left */
    uint32_t bump_limit;  /* offset of the last block that fits */
    pool_arena *arena;
} pool_header;

_Static_assert(sizeof(pool_header) <= POOL_HEADER_BYTES, "pool header must fit");

/* Kept apart from its 1 MiB (as obmalloc's arena_object), so the arena is all pools. */
struct pool_arena {
    char *base;               /* POOL_ARENA_BYTES, aligned to POOL_ARENA_BYTES */
    pool_header *empty_pools; /* pools carved before and empty now, linked by next */
    uint32_t free_pools;      /* empty pools + pools never carved */
    uint32_t carved_pools;    /* pools [0, carved_pools) have been used at some time */
    pool_arena *next, *prev;  /* bucket of arenas with this many free pools (0: in none) */
    pool_arena *all_next, *all_prev;
};

/* A request above POOL_MAX_SMALL: a malloc block with this prefix, so close can free it. */
typedef struct pool_large {
    struct pool_large *next, *prev;
} pool_large;

_Static_assert(sizeof(pool_large) == 16, "the large prefix keeps blocks 16-aligned");

typedef struct pool_state {
    pool_header *used[POOL_CLASSES]; /* per class: pools with a free block, head first */
    /* Usable arenas by free pools (1..POOL_PER_ARENA), each a list; bit n-1 of usable_mask
     * set when bucket n is not empty. New pools come from the lowest bucket: the fullest arena. */
    pool_arena *bucket[POOL_PER_ARENA + 1];
    uint64_t usable_mask;
    pool_arena *arenas; /* every mapped arena */
    pool_large *large;
    uint64_t arena_count, large_bytes;
} pool_state;

static inline pool_header *pool_of(void *block) {
    return (pool_header *)((uintptr_t)block & ~(uintptr_t)(POOL_BYTES - 1));
}

/* ---- arenas: buckets by free pools, mapping and unmapping ---------------------------------- */

static void bucket_insert(pool_state *a, pool_arena *ar) {
    uint32_t n = ar->free_pools;
    ar->prev = NULL;
    ar->next = a->bucket[n];
    if (ar->next)
        ar->next->prev = ar;
    a->bucket[n] = ar;
    a->usable_mask |= UINT64_C(1) << (n - 1);
}

static void bucket_remove(pool_state *a, pool_arena *ar) {
    uint32_t n = ar->free_pools;
    if (ar->prev)
        ar->prev->next = ar->next;
    else
        a->bucket[n] = ar->next;
    if (ar->next)
        ar->next->prev = ar->prev;
    if (!a->bucket[n])
        a->usable_mask &= ~(UINT64_C(1) << (n - 1));
}

static pool_arena *arena_map(pool_state *a) {
    pool_arena *ar = calloc(1, sizeof *ar);
    if (!ar)
        return NULL;
    /* Over-map and trim both ends: exactly one arena, aligned to its size. */
    size_t span = 2 * POOL_ARENA_BYTES;
    char *raw = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) {
        free(ar);
        return NULL;
    }
    uintptr_t aligned =
        ((uintptr_t)raw + POOL_ARENA_BYTES - 1) & ~(uintptr_t)(POOL_ARENA_BYTES - 1);
    size_t head = aligned - (uintptr_t)raw, tail = span - head - POOL_ARENA_BYTES;
    if (head)
        munmap(raw, head);
    if (tail)
        munmap((char *)aligned + POOL_ARENA_BYTES, tail);
    ar->base = (char *)aligned;
    ar->free_pools = POOL_PER_ARENA;
    ar->all_next = a->arenas;
    if (a->arenas)
        a->arenas->all_prev = ar;
    a->arenas = ar;
    a->arena_count++;
    bucket_insert(a, ar);
    return ar;
}

static void arena_unmap(pool_state *a, pool_arena *ar) {
    if (ar->all_prev)
        ar->all_prev->all_next = ar->all_next;
    else
        a->arenas = ar->all_next;
    if (ar->all_next)
        ar->all_next->all_prev = ar->all_prev;
    munmap(ar->base, POOL_ARENA_BYTES);
    free(ar);
    a->arena_count--;
}

/* ---- pools: taking one for a class, giving an empty one back -------------------------------- */

/* A pool for class `ci` from the fullest usable arena (a new arena when none), with its first
 * block handed out; NULL when out of memory. */
static void *pool_fresh(pool_state *a, uint32_t ci) {
    pool_arena *ar = a->usable_mask ? a->bucket[__builtin_ctzll(a->usable_mask) + 1] : NULL;
    if (!ar && !(ar = arena_map(a)))
        return NULL;
    bucket_remove(a, ar);
    pool_header *p = ar->empty_pools;
    if (p)
        ar->empty_pools = p->next;
    else
        p = (pool_header *)(ar->base + (size_t)ar->carved_pools++ * POOL_BYTES);
    if (--ar->free_pools)
        bucket_insert(a, ar);
    uint32_t size = (ci + 1) * POOL_ALIGN;
    p->arena = ar;
    p->class_index = ci;
    p->used_count = 1;
    p->bump_limit = POOL_BYTES - size;
    pool_block *first = (pool_block *)((char *)p + POOL_HEADER_BYTES);
    p->free_list = (pool_block *)((char *)first + size);
    p->free_list->next = NULL;
    p->bump_offset = POOL_HEADER_BYTES + 2 * size;
    p->prev = NULL;
    p->next = a->used[ci];
    if (p->next)
        p->next->prev = p;
    a->used[ci] = p;
    return first;
}

/* The head pool of its class ran out of free blocks: bump one more, or unlink it (full). */
static void pool_refill(pool_state *a, pool_header *p) {
    if (p->bump_offset <= p->bump_limit) {
        p->free_list = (pool_block *)((char *)p + p->bump_offset);
        p->free_list->next = NULL;
        p->bump_offset += (p->class_index + 1) * POOL_ALIGN;
        return;
    }
    a->used[p->class_index] = p->next;
    if (p->next)
        p->next->prev = NULL;
}

/* Its last block came back: the pool returns to its arena, and a wholly free arena is unmapped
 * unless it is the only one (a spare kept against map/unmap thrashing, as obmalloc does). */
static void pool_empty(pool_state *a, pool_header *p) {
    if (p->prev)
        p->prev->next = p->next;
    else
        a->used[p->class_index] = p->next;
    if (p->next)
        p->next->prev = p->prev;
    pool_arena *ar = p->arena;
    p->next = ar->empty_pools;
    ar->empty_pools = p;
    if (ar->free_pools)
        bucket_remove(a, ar);
    ar->free_pools++;
    if (ar->free_pools == POOL_PER_ARENA && a->bucket[POOL_PER_ARENA]) {
        arena_unmap(a, ar);
        return;
    }
    bucket_insert(a, ar);
}

/* ---- the contract's alloc and free ---------------------------------------------------------- */

static void *large_alloc(pool_state *a, size_t bytes) {
    pool_large *l = malloc(sizeof *l + (bytes ? bytes : 1));
    if (!l)
        return NULL;
    l->prev = NULL;
    l->next = a->large;
    if (l->next)
        l->next->prev = l;
    a->large = l;
    a->large_bytes += bytes;
    return l + 1;
}

static void large_free(pool_state *a, void *block, size_t bytes) {
    pool_large *l = (pool_large *)block - 1;
    if (l->prev)
        l->prev->next = l->next;
    else
        a->large = l->next;
    if (l->next)
        l->next->prev = l->prev;
    a->large_bytes -= bytes;
    free(l);
}

static void *pool_alloc(void *ctx, size_t bytes) {
    pool_state *a = ctx;
    size_t ci = (bytes - 1) / POOL_ALIGN; /* 0 wraps round: large */
    if (__builtin_expect(ci >= POOL_CLASSES, 0))
        return large_alloc(a, bytes);
    pool_header *p = a->used[ci];
    if (__builtin_expect(!p, 0))
        return pool_fresh(a, (uint32_t)ci);
    pool_block *b = p->free_list;
    p->used_count++;
    if (!(p->free_list = b->next))
        pool_refill(a, p);
    return b;
}

static void pool_free(void *ctx, void *block, size_t bytes) {
    pool_state *a = ctx;
    size_t ci = (bytes - 1) / POOL_ALIGN;
    if (__builtin_expect(ci >= POOL_CLASSES, 0)) {
        large_free(a, block, bytes);
        return;
    }
    pool_header *p = pool_of(block);
    pool_block *b = block, *was = p->free_list;
    b->next = was;
    p->free_list = b;
    if (__builtin_expect(--p->used_count == 0, 0)) {
        pool_empty(a, p);
        return;
    }
    if (__builtin_expect(!was, 0)) { /* it was full: the fullest pool with room goes first */
        p->prev = NULL;
        p->next = a->used[ci];
        if (p->next)
            p->next->prev = p;
        a->used[ci] = p;
    }
}

/* ---- open, close, stats ------------------------------------------------------------------ */

static void pool_release(pool_state *a) {
    while (a->arenas)
        arena_unmap(a, a->arenas);
    while (a->large) {
        pool_large *l = a->large;
        a->large = l->next;
        free(l);
    }
    free(a);
}

static void pool_state_stats(const pool_state *a, mmb_alloc_stats *out) {
    uint64_t active = a->large_bytes;
    for (const pool_arena *ar = a->arenas; ar; ar = ar->all_next)
        for (uint32_t k = 0; k < ar->carved_pools; k++) {
            const pool_header *p = (const pool_header *)(ar->base + (size_t)k * POOL_BYTES);
            active += (uint64_t)p->used_count * (p->class_index + 1) * POOL_ALIGN;
        }
    out->mapped_bytes = a->arena_count * POOL_ARENA_BYTES + a->large_bytes;
    out->active_bytes = active;
}

static int pool_open(mmb_allocator *out, char *err, size_t err_bytes) {
    pool_state *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, err_bytes, "pool: out of memory for the allocator's state");
        return -1;
    }
    *out = (mmb_allocator){"pool", a, pool_alloc, pool_free};
    return 0;
}

static void pool_close(mmb_allocator *al) {
    if (al->ctx)
        pool_release(al->ctx);
    al->ctx = NULL;
}

static void pool_stats(const mmb_allocator *al, mmb_alloc_stats *out) {
    pool_state_stats(al->ctx, out);
}

static const char *pool_version(void) {
    return "1";
}

const mmb_alloc_impl mmb_alloc_pool = {
    .name = "pool",
    .summary = "bundled obmalloc-style pools: 16-byte classes to 512 B, 16 KiB pools, 1 MiB arenas",
    .attach = MMB_ALLOC_BUILTIN,
    .version = pool_version,
    .open = pool_open,
    .close = pool_close,
    .stats = pool_stats,
};
