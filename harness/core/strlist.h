/* Lists of names as text: the one joiner for hints, help and "valid: ..." lines. */
#ifndef MMB_STRLIST_H
#define MMB_STRLIST_H

#include <stddef.h>

/* Joins the NULL-terminated items into buf (n bytes, n >= 1): SEP between them, or LAST (when not
 * NULL) before the last one ("a, b or c"). Truncated to fit, always terminated. Returns buf. */
char *mmb_join(char *buf, size_t n, const char *const *items, const char *sep, const char *last);

#endif
