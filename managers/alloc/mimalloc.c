/* mimalloc: Debian's libmimalloc (2.0), linked and called through its own prefixed API beside
 * glibc (api). Each open makes one mi_heap, which the opening thread allocates from; mimalloc's
 * heaps belong to one thread, so another thread's allocations (a threaded workload's workers)
 * come from that thread's default heap, and any thread may free any block (mi_free). Close
 * deletes the heap and asks mimalloc to return its free memory (mi_collect). Statistics walk the
 * heap's areas: committed bytes as mapped, used blocks times their size as active (the opening
 * thread's heap only). */
#include <mimalloc.h>
#include <stdio.h>

#include "alloc.h"

static _Thread_local mi_heap_t *own_heap; /* the heap this thread opened, if any */

static void *mimalloc_alloc(void *ctx, size_t bytes) {
    mi_heap_t *heap = ctx;
    return heap == own_heap ? mi_heap_malloc(heap, bytes) : mi_malloc(bytes);
}

static void mimalloc_free(void *ctx, void *block, size_t bytes) {
    (void)ctx;
    (void)bytes;
    mi_free(block);
}

static const char *mimalloc_version(void) {
    static char text[32];
    int v = mi_version(); /* 209: 2.0.9 */
    snprintf(text, sizeof text, "%d.%d.%d", v / 100, v / 10 % 10, v % 10);
    return text;
}

static int mimalloc_open(mmb_allocator *out, char *err, size_t err_bytes) {
    mi_heap_t *heap = mi_heap_new();
    if (!heap) {
        snprintf(err, err_bytes, "mimalloc: mi_heap_new failed");
        return -1;
    }
    own_heap = heap;
    *out = (mmb_allocator){"mimalloc", heap, mimalloc_alloc, mimalloc_free};
    return 0;
}

static void mimalloc_close(mmb_allocator *a) {
    if (own_heap == a->ctx)
        own_heap = NULL;
    mi_heap_delete(a->ctx); /* blocks still allocated move to the default heap */
    mi_collect(true);
}

static bool add_area(const mi_heap_t *heap, const mi_heap_area_t *area, void *block,
                     size_t block_size, void *arg) {
    (void)heap;
    (void)block;
    (void)block_size;
    mmb_alloc_stats *s = arg;
    s->mapped_bytes += area->committed;
    s->active_bytes += area->used * area->block_size;
    return true;
}

static void mimalloc_stats(const mmb_allocator *a, mmb_alloc_stats *out) {
    out->mapped_bytes = out->active_bytes = 0;
    if (!mi_heap_visit_blocks(a->ctx, false, add_area, out))
        out->mapped_bytes = out->active_bytes = UINT64_MAX;
}

const mmb_alloc_impl mmb_alloc_mimalloc = {
    .name = "mimalloc",
    .summary = "Microsoft's mimalloc through its own API, one mi_heap per repetition",
    .attach = MMB_ALLOC_API,
    .version = mimalloc_version,
    .open = mimalloc_open,
    .close = mimalloc_close,
    .stats = mimalloc_stats,
};
