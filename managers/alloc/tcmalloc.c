/* tcmalloc: Debian's gperftools libtcmalloc.so.4, which replaces malloc for the whole process:
 * the cell's process is started with it in LD_PRELOAD (preload), and open checks that it took
 * effect (the MallocExtension symbols are there and malloc is tcmalloc's). mmbench does not link
 * it: its entry points are found at run time (dlsym). Statistics: MallocExtension's
 * generic.heap_size (bytes it holds from the system) and generic.current_allocated_bytes; close
 * asks it to release its free memory. */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>

#include "alloc.h"
#include "preload.h"

typedef int (*property_fn)(const char *, size_t *);
typedef const char *(*version_fn)(int *, int *, const char **);
typedef void (*release_fn)(void);

/* ISO C has no cast from void * to a function pointer: through a union. */
#define FIND(type, symbol)                                                                         \
    (((union {                                                                                     \
         void *p;                                                                                  \
         type f;                                                                                   \
     }){dlsym(RTLD_DEFAULT, symbol)})                                                              \
         .f)

static const char *tcmalloc_version(void) {
    version_fn v = FIND(version_fn, "tc_version");
    static char text[48];
    int major = 0, minor = 0;
    const char *patch = NULL;
    if (!v)
        return NULL;
    v(&major, &minor, &patch);
    snprintf(text, sizeof text, "%d.%d%s", major, minor, patch ? patch : "");
    return text;
}

static int tcmalloc_open(mmb_allocator *out, char *err, size_t err_bytes) {
    if (!mmb_preload_check("tcmalloc", "MallocExtension_GetNumericProperty", "libtcmalloc", err,
                           err_bytes))
        return -1;
    *out = (mmb_allocator){"tcmalloc", NULL, mmb_allocator_libc.alloc, mmb_allocator_libc.free};
    return 0;
}

static void tcmalloc_close(mmb_allocator *a) {
    (void)a;
    release_fn release = FIND(release_fn, "MallocExtension_ReleaseFreeMemory");
    if (release)
        release();
}

static uint64_t read_property(property_fn get, const char *name) {
    size_t v = 0;
    return get && get(name, &v) ? (uint64_t)v : UINT64_MAX;
}

static void tcmalloc_stats(const mmb_allocator *a, mmb_alloc_stats *out) {
    (void)a;
    property_fn get = FIND(property_fn, "MallocExtension_GetNumericProperty");
    out->mapped_bytes = read_property(get, "generic.heap_size");
    out->active_bytes = read_property(get, "generic.current_allocated_bytes");
}

const mmb_alloc_impl mmb_alloc_tcmalloc = {
    .name = "tcmalloc",
    .summary = "gperftools' tcmalloc, preloaded: it replaces malloc in the cell's whole process",
    .attach = MMB_ALLOC_PRELOAD,
    .version = tcmalloc_version,
    .open = tcmalloc_open,
    .close = tcmalloc_close,
    .stats = tcmalloc_stats,
};
