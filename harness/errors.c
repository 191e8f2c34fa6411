/* The one-line error every subcommand prints for bad usage or bad input (build_info.h). */
#include <stdarg.h>
#include <stdio.h>

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
