/* The manager registry: every manager of list.h, in its order, and the plug-ins registered at run
 * time. It sits above the managers (each in its own file); they never call it. */
#include <string.h>

#include "mmbench/manager.h"
#include "mmbench/names.h"

#define MMB_MANAGER(id) extern const mmb_manager mmb_manager_##id;
#include "list.h"
#undef MMB_MANAGER

#define MMB_REGISTRY_MAX 64

static const mmb_manager *registry[MMB_REGISTRY_MAX] = {
#define MMB_MANAGER(id) &mmb_manager_##id,
#include "list.h"
#undef MMB_MANAGER
};

static size_t registry_count(void) {
    size_t n = 0;
    while (n < MMB_REGISTRY_MAX && registry[n])
        n++;
    return n;
}

size_t mmb_manager_count(void) {
    return registry_count();
}

const mmb_manager *mmb_manager_at(size_t index) {
    return index < registry_count() ? registry[index] : NULL;
}

const mmb_manager *mmb_manager_find(const char *name) {
    for (size_t i = 0; i < registry_count(); i++)
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}

int mmb_manager_register(const mmb_manager *m) {
    size_t n = registry_count();
    if (n == MMB_REGISTRY_MAX || mmb_manager_find(m->name))
        return -1;
    registry[n] = m;
    return 0;
}

void mmb_manager_names(char *buf, size_t bytes) {
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < registry_count(); i++)
        mmb_names_append(buf, bytes, &used, registry[i]->name);
}
