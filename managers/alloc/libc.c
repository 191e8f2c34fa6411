/* libc: the C library's malloc and free, as every cell had before the allocator axis (builtin).
 * Its statistics come from glibc's mallinfo2: mapped is the main arena's sbrk'd bytes plus the
 * mmap'd chunks, active the bytes in chunks handed out. Close asks glibc to return what it can
 * (malloc_trim), as the other allocators' closes do. */
#include <gnu/libc-version.h>
#include <malloc.h>
#include <stdlib.h>

#include "alloc.h"

static const char *libc_version(void) {
    return gnu_get_libc_version();
}

static int libc_open(mmb_allocator *out, char *err, size_t err_bytes) {
    (void)err;
    (void)err_bytes;
    *out = mmb_allocator_libc; /* managers/common.c's, every manager's default */
    return 0;
}

static void libc_close(mmb_allocator *a) {
    (void)a;
    malloc_trim(0);
}

static void libc_stats(const mmb_allocator *a, mmb_alloc_stats *out) {
    (void)a;
    struct mallinfo2 mi = mallinfo2();
    out->mapped_bytes = (uint64_t)mi.arena + (uint64_t)mi.hblkhd;
    out->active_bytes = (uint64_t)mi.uordblks + (uint64_t)mi.hblkhd;
}

const mmb_alloc_impl mmb_alloc_libc = {
    .name = "libc",
    .summary = "the C library's malloc and free (glibc; the default)",
    .attach = MMB_ALLOC_BUILTIN,
    .version = libc_version,
    .open = libc_open,
    .close = libc_close,
    .stats = libc_stats,
};
