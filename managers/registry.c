/* The manager registry: every manager of list.h, in its order, then the external managers that
 * were built (external/list.h), then the plug-ins registered at run time. It sits above the
 * managers (each in its own file); they never call it. */
#include <string.h>

#include "mmbench/manager.h"
#include "mmbench/names.h"

#define MMB_MANAGER(id) extern const mmb_manager mmb_manager_##id;
#include "list.h"
#undef MMB_MANAGER

/* The external managers CMake built: one MMB_BUILT(ID) line each, generated at configure time
 * (managers/external/CMakeLists.txt). */
#define MMB_BUILT(id)                                                                              \
    extern const mmb_manager mmb_manager_##id;                                                     \
    const char *mmb_manager_##id##_version(void);
#include "mmb_external_built.h"
#undef MMB_BUILT

#define MMB_REGISTRY_MAX 64

static const mmb_manager *registry[MMB_REGISTRY_MAX] = {
#define MMB_MANAGER(id) &mmb_manager_##id,
#include "list.h"
#undef MMB_MANAGER
};

typedef struct built_entry {
    const mmb_manager *manager;
    const char *(*version)(void);
} built_entry;

static const built_entry built[] = {
#define MMB_BUILT(id) {&mmb_manager_##id, mmb_manager_##id##_version},
#include "mmb_external_built.h"
#undef MMB_BUILT
    {NULL, NULL},
};

typedef struct external_entry {
    const char *name;
    const char *packages;
} external_entry;

static const external_entry externals[] = {
#define MMB_EXTERNAL(id, public_name, pkgs) {public_name, pkgs},
#include "external/list.h"
#undef MMB_EXTERNAL
};
#define EXTERNAL_COUNT (sizeof externals / sizeof externals[0])

/* The built adapter of external/list.h's entry i, or NULL. */
static const built_entry *built_of(size_t i) {
    for (const built_entry *b = built; b->manager; b++)
        if (strcmp(b->manager->name, externals[i].name) == 0)
            return b;
    return NULL;
}

static size_t registry_count(void) {
    size_t n = 0;
    while (n < MMB_REGISTRY_MAX && registry[n])
        n++;
    return n;
}

/* The built external managers join the registry once, after the bundled ones, before any
 * plug-in: every entry point calls this first. */
static void add_externals(void) {
    static int done;
    if (done)
        return;
    done = 1;
    size_t n = registry_count();
    for (size_t i = 0; i < EXTERNAL_COUNT && n < MMB_REGISTRY_MAX; i++)
        if (built_of(i))
            registry[n++] = built_of(i)->manager;
}

size_t mmb_manager_count(void) {
    add_externals();
    return registry_count();
}

const mmb_manager *mmb_manager_at(size_t index) {
    add_externals();
    return index < registry_count() ? registry[index] : NULL;
}

const mmb_manager *mmb_manager_find(const char *name) {
    add_externals();
    for (size_t i = 0; i < registry_count(); i++)
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}

int mmb_manager_register(const mmb_manager *m) {
    add_externals();
    size_t n = registry_count();
    if (n == MMB_REGISTRY_MAX || mmb_manager_find(m->name))
        return -1;
    registry[n] = m;
    return 0;
}

void mmb_manager_names(char *buf, size_t bytes) {
    add_externals();
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < registry_count(); i++)
        mmb_names_append(buf, bytes, &used, registry[i]->name);
}

int mmb_manager_is_external(const mmb_manager *m) {
    for (const built_entry *b = built; b->manager; b++)
        if (b->manager == m)
            return 1;
    return 0;
}

const char *mmb_manager_version(const mmb_manager *m) {
    for (const built_entry *b = built; b->manager; b++)
        if (b->manager == m)
            return b->version();
    return NULL;
}

int mmb_manager_missing_at(size_t index, const char **name, const char **packages) {
    for (size_t i = 0; i < EXTERNAL_COUNT; i++) {
        if (built_of(i))
            continue;
        if (index-- == 0) {
            *name = externals[i].name;
            *packages = externals[i].packages;
            return 0;
        }
    }
    return -1;
}
