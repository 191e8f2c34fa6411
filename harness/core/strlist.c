/* Lists of names as text (strlist.h), on the contract's one joiner (mmbench/names.h). */
#include "strlist.h"

#include "mmbench/names.h"

char *mmb_join(char *buf, size_t n, const char *const *items, const char *sep, const char *last) {
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; items[i]; i++)
        mmb_names_append_sep(buf, n, &used, last && i > 0 && !items[i + 1] ? last : sep, items[i]);
    return buf;
}
