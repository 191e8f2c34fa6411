/* The allocator registry (alloc_registry.h): list.h's allocators, each present when CMake built it
 * (the generated mmb_alloc_built.h: MMB_ALLOC_BUILT(ID, PRELOAD_PATH) for each built one,
 * MMB_ALLOC_MISSING(ID, WHY) for each that is not). */
#include "alloc_registry.h"

#include <string.h>
#include <unistd.h>

#define MMB_ALLOC_BUILT(id, path) extern const mmb_alloc_impl mmb_alloc_##id;
#define MMB_ALLOC_MISSING(id, why)
#include "mmb_alloc_built.h"
#undef MMB_ALLOC_BUILT
#undef MMB_ALLOC_MISSING

typedef struct entry {
    const char *name;
    const mmb_alloc_impl *impl; /* NULL: not built */
    const char *path;           /* a preloaded library's, "" for the others */
    const char *why;            /* why it is not built */
} entry;

static const entry built[] = {
#define MMB_ALLOC_BUILT(id, path)  {#id, &mmb_alloc_##id, path, NULL},
#define MMB_ALLOC_MISSING(id, why) {#id, NULL, "", why},
#include "mmb_alloc_built.h"
#undef MMB_ALLOC_BUILT
#undef MMB_ALLOC_MISSING
    {NULL, NULL, NULL, NULL},
};

static const char *const names[] = {
#define MMB_ALLOC(id) #id,
#include "list.h"
#undef MMB_ALLOC
};
#define COUNT (sizeof names / sizeof names[0])

static const entry *entry_of(const char *name) {
    for (const entry *e = built; e->name; e++)
        if (strcmp(e->name, name) == 0)
            return e;
    return NULL;
}

size_t mmb_alloc_count(void) {
    return COUNT;
}

const char *mmb_alloc_name_at(size_t i) {
    return i < COUNT ? names[i] : NULL;
}

const mmb_alloc_impl *mmb_alloc_impl_at(size_t i, const char **why) {
    if (i >= COUNT)
        return NULL;
    const entry *e = entry_of(names[i]);
    const char *reason = e ? e->why : "its source is not in this build (managers/alloc/)";
    if (e && e->impl && e->path[0] && access(e->path, R_OK) != 0)
        reason = "its library is gone since the build found it";
    else if (e && e->impl)
        return e->impl;
    if (why)
        *why = reason;
    return NULL;
}

int mmb_alloc_index(const char *name) {
    for (size_t i = 0; i < COUNT; i++)
        if (strcmp(names[i], name) == 0)
            return (int)i;
    return -1;
}

void mmb_alloc_names(char *buf, size_t bytes) {
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < COUNT && used + 1 < bytes; i++) {
        size_t n = strlen(names[i]);
        if (used + n + 3 > bytes)
            break;
        if (used) {
            memcpy(buf + used, ", ", 2);
            used += 2;
        }
        memcpy(buf + used, names[i], n + 1);
        used += n;
    }
}

const char *mmb_alloc_preload_path(const mmb_alloc_impl *a) {
    for (const entry *e = built; e->name; e++)
        if (e->impl == a)
            return e->path[0] ? e->path : NULL;
    return NULL;
}

const mmb_alloc_impl *mmb_alloc_default(void) {
    return mmb_alloc_impl_at(0, NULL);
}
