/* Lists of names, as the registries print them (mmb_manager_names, mmb_workload_names) and as
 * error messages list what is valid: "a, b, c". One definition for managers and workloads alike. */
#ifndef MMBENCH_NAMES_H
#define MMBENCH_NAMES_H

#include <stddef.h>
#include <stdio.h>

/* Appends `name` to the list in buf (`bytes` long, NUL-terminated; *used bytes of it filled, 0 for
 * an empty list), with `sep` before it unless it is the first. Once buf is full the list is cut
 * short, still NUL-terminated, and later names are dropped. The one joiner: the harness's
 * mmb_join (harness/core/strlist.h) is built on it. */
static inline void mmb_names_append_sep(char *buf, size_t bytes, size_t *used, const char *sep,
                                        const char *name) {
    if (*used >= bytes)
        return;
    int n = snprintf(buf + *used, bytes - *used, "%s%s", *used ? sep : "", name);
    if (n > 0)
        *used += (size_t)n;
}

/* mmb_names_append_sep with ", ". */
static inline void mmb_names_append(char *buf, size_t bytes, size_t *used, const char *name) {
    mmb_names_append_sep(buf, bytes, used, ", ", name);
}

#endif
