/* The build's identity, recorded in every result (set by CMake; these defaults are for builds
 * outside it). */
#ifndef MMB_BUILD_INFO_H
#define MMB_BUILD_INFO_H

#ifndef MMB_VERSION
#define MMB_VERSION "0.0.0"
#endif
#ifndef MMB_GIT_REVISION
#define MMB_GIT_REVISION "unknown"
#endif
#ifndef MMB_BUILD_TYPE
#define MMB_BUILD_TYPE "unknown"
#endif
#ifndef MMB_SANITIZERS
#define MMB_SANITIZERS ""
#endif

/* Exit statuses: only main chooses one. */
enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

/* Prints the house's one-line error, "mmbench: error: WHERE: WHAT (hint: HOW)" (no hint part
 * when hint is NULL), and returns EXIT_USAGE. */
int mmb_usage_error(const char *where, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#include <stddef.h>
#include <stdint.h>

/* realloc and calloc that end the process with one line when memory runs out: the harness's own
 * bookkeeping has no sensible way to go on without it. */
void *mmb_xrealloc(void *p, size_t bytes);
void *mmb_xcalloc(size_t n, size_t size);
/* Names what this process does ("run: churn/rc/tiny") in their out-of-memory line,
 * "mmbench: error: WHERE: out of memory allocating N bytes under LIMIT (hint: ...)", which says
 * the address-space limit in force (ulimit -v). NULL: "mmbench". */
void mmb_set_oom_where(const char *where);
/* Prints that line for a failed allocation of `bytes` and ends the process (status 1). */
_Noreturn void mmb_out_of_memory(size_t bytes);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t mmb_now_ns(void);

#endif
