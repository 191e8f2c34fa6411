/* What the preloaded allocators (jemalloc.c, tcmalloc.c) share: the check that the library really
 * is the process's malloc. Their blocks come from malloc and free as the process has them:
 * mmb_allocator_libc's functions (manager.h), whichever library defines malloc. */
#ifndef MMB_ALLOC_PRELOAD_H
#define MMB_ALLOC_PRELOAD_H

#include <stddef.h>

#include "mmbench/manager.h"

/* Looks up `symbol` (the library's own entry point) in the running process, and checks that
 * malloc is defined by a file whose name contains `soname`: the symbol, or NULL with one line in
 * err saying which half failed (the library not loaded: not started with LD_PRELOAD; or loaded
 * but malloc still glibc's). */
void *mmb_preload_check(const char *name, const char *symbol, const char *soname, char *err,
                        size_t err_bytes);

#endif
