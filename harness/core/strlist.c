/* Lists of names as text (strlist.h). */
#include "strlist.h"

#include <stdio.h>

char *mmb_join(char *buf, size_t n, const char *const *items, const char *sep, const char *last) {
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; items[i] && len < n; i++) {
        const char *before = i == 0 ? "" : last && !items[i + 1] ? last : sep;
        int w = snprintf(buf + len, n - len, "%s%s", before, items[i]);
        len += w > 0 ? (size_t)w : 0;
    }
    return buf;
}
