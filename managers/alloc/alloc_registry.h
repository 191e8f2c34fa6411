/* The allocator registry (registry.c): every allocator of list.h, whether this build has it, and
 * for a preloaded one the library the cell's process is started with. */
#ifndef MMB_ALLOC_REGISTRY_H
#define MMB_ALLOC_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

#include "alloc.h"

/* The allocators of list.h, in its order. */
size_t mmb_alloc_count(void);

/* The i-th allocator's name; its implementation, or NULL when it is not available here, and then
 * in *why (when why is not NULL) what it needs. */
const char *mmb_alloc_name_at(size_t i);
const mmb_alloc_impl *mmb_alloc_impl_at(size_t i, const char **why);

/* The allocator of that name: its index, or -1 when list.h has none. */
int mmb_alloc_index(const char *name);

/* The names of list.h, comma separated, into buf. */
void mmb_alloc_names(char *buf, size_t bytes);

/* A preloaded allocator's library (the path CMake found), NULL for the others. */
const char *mmb_alloc_preload_path(const mmb_alloc_impl *a);

/* The libc allocator: the default of every cell. */
const mmb_alloc_impl *mmb_alloc_default(void);

#endif
