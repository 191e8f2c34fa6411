/* jemalloc: Debian's libjemalloc.so.2 (5.3), which replaces malloc for the whole process: the
 * cell's process is started with it in LD_PRELOAD (preload), and open checks that it took effect
 * (mallctl answers and malloc is jemalloc's). mmbench does not link it: its entry points are
 * found at run time (dlsym). Statistics: stats.mapped and stats.active after an "epoch" refresh;
 * close purges every arena. */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>

#include "alloc.h"
#include "preload.h"

typedef int (*mallctl_fn)(const char *, void *, size_t *, void *, size_t);

static mallctl_fn find_mallctl(void) {
    union {
        void *p;
        mallctl_fn f;
    } u = {dlsym(RTLD_DEFAULT, "mallctl")}; /* ISO C has no cast from void * to a function */
    return u.f;
}

static const char *jemalloc_version(void) {
    mallctl_fn ctl = find_mallctl();
    const char *v = NULL;
    size_t len = sizeof v;
    if (!ctl || ctl("version", &v, &len, NULL, 0) != 0)
        return NULL;
    return v;
}

static int jemalloc_open(mmb_allocator *out, char *err, size_t err_bytes) {
    if (!mmb_preload_check("jemalloc", "mallctl", "libjemalloc", err, err_bytes))
        return -1;
    *out = (mmb_allocator){"jemalloc", NULL, mmb_allocator_libc.alloc, mmb_allocator_libc.free};
    return 0;
}

static void jemalloc_close(mmb_allocator *a) {
    (void)a;
    mallctl_fn ctl = find_mallctl();
    if (ctl)
        ctl("arena.4096.purge", NULL, NULL, NULL, 0); /* 4096: MALLCTL_ARENAS_ALL */
}

static uint64_t read_size(mallctl_fn ctl, const char *name) {
    size_t v = 0, len = sizeof v;
    return ctl(name, &v, &len, NULL, 0) == 0 ? (uint64_t)v : UINT64_MAX;
}

static void jemalloc_stats(const mmb_allocator *a, mmb_alloc_stats *out) {
    (void)a;
    out->mapped_bytes = out->active_bytes = UINT64_MAX;
    mallctl_fn ctl = find_mallctl();
    uint64_t epoch = 1;
    size_t len = sizeof epoch;
    if (!ctl || ctl("epoch", &epoch, &len, &epoch, len) != 0)
        return;
    out->mapped_bytes = read_size(ctl, "stats.mapped");
    out->active_bytes = read_size(ctl, "stats.active");
}

const mmb_alloc_impl mmb_alloc_jemalloc = {
    .name = "jemalloc",
    .summary = "jemalloc 5, preloaded: it replaces malloc in the cell's whole process",
    .attach = MMB_ALLOC_PRELOAD,
    .version = jemalloc_version,
    .open = jemalloc_open,
    .close = jemalloc_close,
    .stats = jemalloc_stats,
};
