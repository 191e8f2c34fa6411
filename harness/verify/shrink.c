/* Trace shrinking (shrink.h): Zeller's ddmin over the operations, complements only. */
#include "shrink.h"

#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "mmbench/clock.h"

/* Rebuilds into `out` (emptied first) the operations of `src` whose keep[i] is set, through the
 * builders, in order; an operation the builders refuse in the smaller trace is left out. */
static void rebuild(const mmb_trace *src, const bool *keep, mmb_trace *out) {
    mmb_trace_free(out);
    mmb_trace_init(out);
    char err[256];
    for (size_t i = 0; i < src->count; i++) {
        if (!keep[i])
            continue;
        const mmb_op *op = &src->ops[i];
        uint64_t a = mmb_op_kind_of(op) == MMB_OP_COLLECT ? 0 : src->obj[op->a].id;
        uint32_t slot = mmb_op_slot(op);
        switch (mmb_op_kind_of(op)) {
        case MMB_OP_NEW:
            (void)mmb_trace_new(out, a, slot, op->b, 0, err, sizeof err);
            break;
        case MMB_OP_SET:
            (void)mmb_trace_set(out, a, slot, op->b ? src->obj[op->b - 1].id : 0, 0, err,
                                sizeof err);
            break;
        case MMB_OP_GET:
            (void)mmb_trace_get(out, a, slot, 0, err, sizeof err);
            break;
        case MMB_OP_DROP:
            (void)mmb_trace_drop(out, a, 0, err, sizeof err);
            break;
        case MMB_OP_COLLECT:
            mmb_trace_collect(out, 0);
            break;
        }
    }
}

/* Copies t (a rebuilt trace has no gaps) into out by rebuilding every operation. */
static void copy_trace(const mmb_trace *t, mmb_trace *out) {
    bool *all = mmb_xcalloc(t->count ? t->count : 1, sizeof *all);
    memset(all, 1, t->count * sizeof *all);
    rebuild(t, all, out);
    free(all);
}

void mmb_shrink_trace(const mmb_trace *in, mmb_shrink_fails_fn fails, void *ctx,
                      double time_limit_s, mmb_trace *out, mmb_shrink_stats *stats) {
    memset(stats, 0, sizeof *stats);
    stats->ops_before = in->count;
    uint64_t start = mmb_now_ns();
    copy_trace(in, out);
    mmb_trace cand;
    mmb_trace_init(&cand);
    size_t n = 2;
    while (out->count >= 2) {
        size_t len = out->count, chunk = (len + n - 1) / n;
        bool *keep = mmb_xcalloc(len, sizeof *keep);
        bool reduced = false;
        for (size_t at = 0; at < len && !reduced; at += chunk) {
            if ((double)(mmb_now_ns() - start) * 1e-9 > time_limit_s) {
                stats->out_of_time = true;
                break;
            }
            for (size_t i = 0; i < len; i++)
                keep[i] = i < at || i >= at + chunk;
            rebuild(out, keep, &cand);
            stats->candidates++;
            if (cand.count < len && fails(&cand, ctx)) {
                copy_trace(&cand, out);
                reduced = true;
            }
        }
        free(keep);
        if (stats->out_of_time)
            break;
        if (reduced)
            n = n > 2 ? n - 1 : 2;
        else if (n >= len)
            break;
        else
            n = 2 * n < len ? 2 * n : len;
    }
    mmb_trace_free(&cand);
    stats->ops_after = out->count;
    stats->seconds = (double)(mmb_now_ns() - start) * 1e-9;
}
