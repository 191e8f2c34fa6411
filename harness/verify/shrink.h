/* Shrinking a failing trace by delta debugging over its operations (ddmin): chunks of operations
 * are removed while the trace still fails, each candidate rebuilt through the trace builders so
 * that it stays valid (an operation that no longer fits, such as one on an object whose `new` was
 * removed, is dropped with it). */
#ifndef MMB_SHRINK_H
#define MMB_SHRINK_H

#include <stdbool.h>

#include "trace.h"

/* Whether a candidate still fails (the same way); run by the caller, typically in a child. */
typedef bool (*mmb_shrink_fails_fn)(const mmb_trace *candidate, void *ctx);

typedef struct mmb_shrink_stats {
    size_t ops_before, ops_after;
    size_t candidates; /* candidates tried */
    double seconds;
    bool out_of_time; /* stopped at the time limit: smaller, maybe not minimal */
} mmb_shrink_stats;

/* Shrinks `in` (which fails) into `out` (an initialised, empty trace), giving up refining after
 * time_limit_s seconds. `out` is a valid trace that fails, at most as long as `in`, and
 * 1-minimal when not out of time: removing any one operation makes it pass. */
void mmb_shrink_trace(const mmb_trace *in, mmb_shrink_fails_fn fails, void *ctx,
                      double time_limit_s, mmb_trace *out, mmb_shrink_stats *stats);

#endif
