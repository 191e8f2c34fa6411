/* mimalloc: Debian's libmimalloc (2.0), called through its own prefixed API beside glibc (api).
 * Debian's shared library also defines malloc and free, so linking it would make it every cell's
 * malloc, libc cells' too: it is opened at run time instead (dlopen, RTLD_LOCAL: its malloc does
 * not interpose on the process's), and its mi_ entry points are taken from that handle.
 * Each open makes one mi_heap, which the opening thread allocates from; mimalloc's heaps belong
 * to one thread, so another thread's allocations (a threaded workload's workers) come from that
 * thread's default mimalloc heap, and any thread may free any block (mi_free). Close deletes the
 * heap and asks mimalloc to return its free memory (mi_collect). Statistics walk the heap's
 * areas: committed bytes as mapped, used blocks times their size as active (the opening
 * thread's heap only). */
#include <dlfcn.h>
#include <mimalloc.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"

typedef struct mi_api {
    mi_heap_t *(*heap_new)(void);
    void *(*heap_malloc)(mi_heap_t *, size_t);
    void *(*malloc)(size_t);
    void (*free)(void *);
    void (*heap_delete)(mi_heap_t *);
    void (*collect)(bool);
    int (*version)(void);
    bool (*heap_visit_blocks)(const mi_heap_t *, bool, mi_block_visit_fun *, void *);
} mi_api;

static mi_api api;
static _Thread_local mi_heap_t *own_heap; /* the heap this thread opened, if any */

/* ISO C has no cast from void * to a function pointer: through memcpy. */
static bool find(void *lib, const char *symbol, void *fn, size_t bytes) {
    void *p = dlsym(lib, symbol);
    memcpy(fn, &p, bytes);
    return p != NULL;
}

/* Opens the library once: 0, or -1 with the reason in err. */
static int load(char *err, size_t err_bytes) {
    static void *lib;
    if (lib)
        return 0;
    void *h = dlopen(MMB_MIMALLOC_LIBRARY, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(err, err_bytes, "mimalloc: cannot open %s: %s", MMB_MIMALLOC_LIBRARY, dlerror());
        return -1;
    }
    bool ok = find(h, "mi_heap_new", &api.heap_new, sizeof api.heap_new) &&
              find(h, "mi_heap_malloc", &api.heap_malloc, sizeof api.heap_malloc) &&
              find(h, "mi_malloc", &api.malloc, sizeof api.malloc) &&
              find(h, "mi_free", &api.free, sizeof api.free) &&
              find(h, "mi_heap_delete", &api.heap_delete, sizeof api.heap_delete) &&
              find(h, "mi_collect", &api.collect, sizeof api.collect) &&
              find(h, "mi_version", &api.version, sizeof api.version) &&
              find(h, "mi_heap_visit_blocks", &api.heap_visit_blocks, sizeof api.heap_visit_blocks);
    if (!ok) {
        snprintf(err, err_bytes, "mimalloc: %s lacks an entry point of mimalloc 2.0",
                 MMB_MIMALLOC_LIBRARY);
        dlclose(h);
        return -1;
    }
    lib = h;
    return 0;
}

static void *mimalloc_alloc(void *ctx, size_t bytes) {
    mi_heap_t *heap = ctx;
    return heap == own_heap ? api.heap_malloc(heap, bytes) : api.malloc(bytes);
}

static void mimalloc_free(void *ctx, void *block, size_t bytes) {
    (void)ctx;
    (void)bytes;
    api.free(block);
}

static const char *mimalloc_version(void) {
    static char text[32];
    char err[256];
    if (load(err, sizeof err) != 0)
        return NULL;
    int v = api.version(); /* 209: 2.0.9 */
    snprintf(text, sizeof text, "%d.%d.%d", v / 100, v / 10 % 10, v % 10);
    return text;
}

static int mimalloc_open(mmb_allocator *out, char *err, size_t err_bytes) {
    if (load(err, err_bytes) != 0)
        return -1;
    mi_heap_t *heap = api.heap_new();
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
    api.heap_delete(a->ctx); /* blocks still allocated move to the default heap */
    api.collect(true);
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
    if (!api.heap_visit_blocks(a->ctx, false, add_area, out))
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
