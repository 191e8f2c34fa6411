/* The allocator axis: the allocators a cell's managers can take their memory from (run's
 * --allocator), one file each under managers/alloc/ and one MMB_ALLOC line in list.h. Each
 * fills in the contract's mmb_allocator (manager.h) for one cell. Design: managers/alloc/README.md.
 */
#ifndef MMB_ALLOC_H
#define MMB_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmbench/manager.h"

/* How an allocator is attached to a cell. */
typedef enum mmb_alloc_attach {
    MMB_ALLOC_BUILTIN = 0, /* code in mmbench itself (libc's malloc, the bundled pool) */
    MMB_ALLOC_API = 1,     /* a library linked in, called through its own API (mimalloc) */
    MMB_ALLOC_PRELOAD = 2, /* a library that replaces malloc for the whole process: the cell's
                              process is started with it in LD_PRELOAD, and checked to use it */
} mmb_alloc_attach;

/* What an allocator can tell of the memory it holds; a field is UINT64_MAX where it cannot. */
typedef struct mmb_alloc_stats {
    uint64_t mapped_bytes; /* obtained from the system and not yet returned */
    uint64_t active_bytes; /* in blocks handed out, with the allocator's rounding */
} mmb_alloc_stats;

typedef struct mmb_alloc_impl {
    const char *name;    /* as --allocator spells it: "libc", "pool", "mimalloc", ... */
    const char *summary; /* one line for `mmbench list` */
    mmb_alloc_attach attach;
    /* The library's version as the running process has it, or NULL when unknown. */
    const char *(*version)(void);
    /* Opens an allocator for one cell and fills *out (name, ctx, alloc, free). Returns 0, or -1
     * with a one-line reason in err (err_bytes long). */
    int (*open)(mmb_allocator *out, char *err, size_t err_bytes);
    /* Releases everything open made and whatever the allocator still holds for it. */
    void (*close)(mmb_allocator *a);
    /* Fills *out; NULL where the allocator can tell nothing. */
    void (*stats)(const mmb_allocator *a, mmb_alloc_stats *out);
} mmb_alloc_impl;

#endif
