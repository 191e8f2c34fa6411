/* The workload registry: every workload of list.h, in its order. It sits above the workloads
 * (each in its own file); they never call it. */
#include <string.h>

#include "mmbench/names.h"
#include "workload.h"

#define MMB_WORKLOAD(id) extern const mmb_workload mmb_workload_##id;
#include "list.h"
#undef MMB_WORKLOAD

static const mmb_workload *const registry[] = {
#define MMB_WORKLOAD(id) &mmb_workload_##id,
#include "list.h"
#undef MMB_WORKLOAD
};

size_t mmb_workload_count(void) {
    return sizeof registry / sizeof registry[0];
}

const mmb_workload *mmb_workload_at(size_t index) {
    return index < mmb_workload_count() ? registry[index] : NULL;
}

const mmb_workload *mmb_workload_find(const char *name) {
    for (size_t i = 0; i < mmb_workload_count(); i++)
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}

void mmb_workload_names(char *buf, size_t bytes) {
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < mmb_workload_count(); i++)
        mmb_names_append(buf, bytes, &used, registry[i]->name);
}
