/* The harness's small shared helpers (build_info.h): the one-line usage error, allocation that
 * cannot fail silently, the clock. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
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

void *mmb_xrealloc(void *p, size_t bytes) {
    p = realloc(p, bytes ? bytes : 1);
    if (!p) {
        fprintf(stderr, "mmbench: error: out of memory (%zu bytes)\n", bytes);
        exit(EXIT_FAILED);
    }
    return p;
}

void *mmb_xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        fprintf(stderr, "mmbench: error: out of memory (%zu x %zu bytes)\n", n, size);
        exit(EXIT_FAILED);
    }
    return p;
}

uint64_t mmb_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
