/* The harness's small shared helpers (build_info.h): the one-line usage error, allocation that
 * cannot fail silently, the clock. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "build_info.h"

int mmb_usage_error(const char *where, const char *hint, const char *fmt, ...) {
    char what[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (hint)
        fprintf(stderr, "mmbench: error: %s: %s (hint: %s)\n", where, what, hint);
    else
        fprintf(stderr, "mmbench: error: %s: %s\n", where, what);
    return EXIT_USAGE;
}

static char oom_where[600] = "mmbench";

void mmb_set_oom_where(const char *where) {
    snprintf(oom_where, sizeof oom_where, "%s", where ? where : "mmbench");
}

void mmb_out_of_memory(size_t bytes) {
    struct rlimit rl;
    char limit[96] = "no address-space limit (ulimit -v unlimited)";
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        snprintf(limit, sizeof limit, "an address-space limit of %" PRIu64 " bytes (ulimit -v)",
                 (uint64_t)rl.rlim_cur);
    fprintf(stderr,
            "mmbench: error: %s: out of memory allocating %zu bytes under %s (hint: a smaller "
            "--scale or --param, or more memory or a higher limit)\n",
            oom_where, bytes, limit);
    exit(EXIT_FAILED);
}

void *mmb_xrealloc(void *p, size_t bytes) {
    p = realloc(p, bytes ? bytes : 1);
    if (!p)
        mmb_out_of_memory(bytes);
    return p;
}

void *mmb_xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        mmb_out_of_memory(n > SIZE_MAX / (size ? size : 1) ? SIZE_MAX : n * size);
    return p;
}

uint64_t mmb_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
