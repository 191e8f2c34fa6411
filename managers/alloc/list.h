/* The allocators of run's --allocator: one line each, in the order `mmbench list` shows them. An
 * allocator named "a" is the object `mmb_alloc_a` defined in managers/alloc/a.c; it is available
 * when CMake built it (managers/alloc/CMakeLists.txt), otherwise listed with what it needs. */
MMB_ALLOC(libc)
MMB_ALLOC(pool)
MMB_ALLOC(mimalloc)
MMB_ALLOC(jemalloc)
MMB_ALLOC(tcmalloc)
