/* Diagnostics (diag.h): the one-line error with its input text escaped, and allocation that
 * cannot fail silently. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "diag.h"

/* Length of the valid UTF-8 sequence at s that encodes a character other than a C1 control,
 * or 0 when there is none (an invalid or cut sequence, an overlong or surrogate form, C1). */
static size_t utf8_printable_length(const unsigned char *s) {
    unsigned char c = s[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF; /* the allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        if (c == 0xC2)
            lo = 0xA0; /* C2 80..C2 9F are the C1 controls */
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        return 0;
    }
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return n;
}

char *mmb_escape(char *out, size_t out_bytes, const char *in) {
    if (out_bytes == 0)
        return out;
    const unsigned char *s = (const unsigned char *)in;
    size_t used = 0;
    while (*s) {
        char piece[8];
        size_t n, advance = 1;
        if (*s >= 0x20 && *s < 0x7F && *s != '\\') {
            piece[0] = (char)*s;
            n = 1;
        } else if (*s == '\\' || *s == '\n' || *s == '\r' || *s == '\t') {
            piece[0] = '\\';
            piece[1] = *s == '\\' ? '\\' : *s == '\n' ? 'n' : *s == '\r' ? 'r' : 't';
            n = 2;
        } else if (*s >= 0x80 && (n = utf8_printable_length(s)) > 0) {
            memcpy(piece, s, n);
            advance = n;
        } else {
            snprintf(piece, sizeof piece, "\\x%02x", *s);
            n = 4;
        }
        if (used + n >= out_bytes)
            break;
        memcpy(out + used, piece, n);
        used += n;
        s += advance;
    }
    out[used] = '\0';
    return out;
}

__attribute__((format(printf, 4, 0))) static int
print_error(int status, const char *where, const char *hint, const char *fmt, va_list ap) {
    char what[2048], e_where[2048], e_what[4096], e_hint[2048];
    vsnprintf(what, sizeof what, fmt, ap);
    mmb_escape(e_what, sizeof e_what, what);
    if (where)
        mmb_escape(e_where, sizeof e_where, where);
    if (hint)
        mmb_escape(e_hint, sizeof e_hint, hint);
    fprintf(stderr, "mmbench: error: %s%s%s%s%s%s\n", where ? e_where : "", where ? ": " : "",
            e_what, hint ? " (hint: " : "", hint ? e_hint : "", hint ? ")" : "");
    return status;
}

int mmb_error(int status, const char *where, const char *hint, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    print_error(status, where, hint, fmt, ap);
    va_end(ap);
    return status;
}

int mmb_usage_error(const char *where, const char *hint, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    print_error(EXIT_USAGE, where, hint, fmt, ap);
    va_end(ap);
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
