/* The metric registry (metrics.h): every metric `mmbench run` emits, and Google Benchmark's own,
 * in one table. A test (gate.gate_every_emitted_metric_has_a_row) walks a real run's output
 * and fails on any numeric key without a row here. The column positions are report's table
 * columns, left to right (report.c derives bytes/object and collections from the rows named). */
#include "metrics.h"

#include <stdlib.h>
#include <string.h>

#define NO_LIMIT (-1.0)
#define NO_COLUMN                                                                                  \
    { 0 }
#define COLUMN(p)                                                                                  \
    { .position = (p) }
#define OPTIONAL_COLUMN(p)                                                                         \
    { .position = (p), .optional = true }

/* Exact rows are the deterministic counters (identical in every repetition for a seed: any
 * change is real, judged without a test, +0% by default). Timed rows vary from run to run. */
/* One row a line, wider than the formatter would keep them. */
/* clang-format off */
const mmb_metric mmb_metrics[] = {
    /* Google Benchmark's, per iteration (compare converts time_unit to ns) */
    {"real_time", MMB_UNIT_NS, MMB_LOWER_IS_BETTER, false, 5, "time", NO_COLUMN},
    {"cpu_time", MMB_UNIT_NS, MMB_LOWER_IS_BETTER, false, 5, "CPU time", NO_COLUMN},
    {"bytes_per_second", MMB_UNIT_RATE, MMB_HIGHER_IS_BETTER, false, 5, "bytes/s", NO_COLUMN},
    {"items_per_second", MMB_UNIT_RATE, MMB_HIGHER_IS_BETTER, false, 5, "items/s", NO_COLUMN},
    /* throughput and scaling */
    {"work_units_per_second", MMB_UNIT_RATE, MMB_HIGHER_IS_BETTER, false, 5, "work units/s", COLUMN(1)},
    {"per_thread_units_per_second", MMB_UNIT_RATE, MMB_HIGHER_IS_BETTER, false, 5, "units/s per thread", OPTIONAL_COLUMN(2)},
    {"scaling_efficiency", MMB_UNIT_RATIO, MMB_HIGHER_IS_BETTER, false, 5, "scaling efficiency", OPTIONAL_COLUMN(3)},
    /* pauses: every pause the mutator saw (collections and cascades at or above the threshold) */
    {"pause_p99_ns", MMB_UNIT_NS, MMB_LOWER_IS_BETTER, false, 10, "p99 pause", COLUMN(4)},
    {"pause_p99_9_ns", MMB_UNIT_NS, MMB_LOWER_IS_BETTER, false, 10, "p99.9 pause", NO_COLUMN},
    {"pause_max_ns", MMB_UNIT_NS, MMB_LOWER_IS_BETTER, false, 10, "max pause", COLUMN(5)},
    {"mmu_10ms", MMB_UNIT_RATIO, MMB_HIGHER_IS_BETTER, false, NO_LIMIT, "MMU 10 ms", COLUMN(6)},
    /* the same over the workload's phases (workload.h), where it marked a steady phase: the
     * steady state alone, and the teardown (dropping the heap: a refcount cascade) apart */
    {"steady_pause_p99_ns", MMB_UNIT_NS, MMB_LOWER_IS_BETTER, false, 10, "steady p99 pause", NO_COLUMN},
    {"steady_pause_max_ns", MMB_UNIT_NS, MMB_LOWER_IS_BETTER, false, 10, "steady max pause", NO_COLUMN},
    {"steady_mmu_10ms", MMB_UNIT_RATIO, MMB_HIGHER_IS_BETTER, false, NO_LIMIT, "steady MMU 10 ms", NO_COLUMN},
    {"teardown_pause_max_ns", MMB_UNIT_NS, MMB_LOWER_IS_BETTER, false, 10, "teardown max pause", NO_COLUMN},
    /* full collections' total pause over their total survivors (manager.h's objects_visited -
     * objects_freed); absent where none had a survivor. Tabled last, beside collections */
    {"full_ns_per_live_object", MMB_UNIT_NS, MMB_LOWER_IS_BETTER, false, 10, "full GC ns/live object", OPTIONAL_COLUMN(15)},
    /* request latency (pause-sensitive workloads) */
    {"latency_p99_ns", MMB_UNIT_NS, MMB_LOWER_IS_BETTER, false, 10, "p99 latency", OPTIONAL_COLUMN(10)},
    {"latency_p99_uncorrected_ns", MMB_UNIT_NS, MMB_LOWER_IS_BETTER, false, NO_LIMIT, "p99 latency (uncorrected)", NO_COLUMN},
    /* memory */
    {"peak_rss_bytes", MMB_UNIT_BYTES, MMB_LOWER_IS_BETTER, false, 10, "peak RSS", COLUMN(7)},
    {"peak_rss_bytes_per_work_unit", MMB_UNIT_BYTES, MMB_LOWER_IS_BETTER, false, NO_LIMIT, "RSS bytes/unit", NO_COLUMN},
    /* report's bytes/object: this where the workload measures it, else the one above */
    {"heap_bytes_per_object", MMB_UNIT_BYTES, MMB_LOWER_IS_BETTER, false, NO_LIMIT, "heap bytes/object", {.position = 8, .key = "bytes_per_object", .title = "bytes/object"}},
    {"header_bytes_per_object", MMB_UNIT_BYTES, MMB_LOWER_IS_BETTER, false, NO_LIMIT, "header bytes/object", NO_COLUMN},
    {"memory_lag_objects", MMB_UNIT_COUNT, MMB_LOWER_IS_BETTER, false, NO_LIMIT, "memory lag (objects)", COLUMN(9)},
    /* the fragment workload's: resident memory after freeing 90% of its fill (and a collection)
     * and what the refill of other sizes added, each over the fill's growth of RSS */
    {"fragment_retained_fraction", MMB_UNIT_RATIO, MMB_LOWER_IS_BETTER, false, NO_LIMIT, "RSS kept after frees", NO_COLUMN},
    {"fragment_refill_growth_fraction", MMB_UNIT_RATIO, MMB_LOWER_IS_BETTER, false, NO_LIMIT, "RSS growth of refill", NO_COLUMN},
    {"fragment_rss_after_free_bytes", MMB_UNIT_BYTES, MMB_LOWER_IS_BETTER, false, NO_LIMIT, "RSS after frees", NO_COLUMN},
    /* the server workload's: the request rate it was paced at (given, or calibrated to 50%
     * utilisation from the warm-up's mean service time) and that mean; absent where it ran
     * unpaced (tiny scale, rate 0). The rate is an input, not an outcome: either way */
    {"server_offered_requests_per_second", MMB_UNIT_RATE, MMB_EITHER_IS_WORSE, false, NO_LIMIT, "offered load (requests/s)", NO_COLUMN},
    {"server_warmup_service_ns", MMB_UNIT_NS, MMB_LOWER_IS_BETTER, false, NO_LIMIT, "warm-up mean service time", NO_COLUMN},
    /* run --sample-garbage: live (the manager's stats) minus reachable from the mutator's references */
    {"garbage_peak_objects", MMB_UNIT_COUNT, MMB_LOWER_IS_BETTER, false, NO_LIMIT, "peak garbage (objects)", NO_COLUMN},
    {"garbage_peak_bytes", MMB_UNIT_BYTES, MMB_LOWER_IS_BETTER, false, NO_LIMIT, "peak garbage (bytes)", NO_COLUMN},
    {"garbage_mean_objects", MMB_UNIT_COUNT, MMB_LOWER_IS_BETTER, false, NO_LIMIT, "mean garbage (objects)", NO_COLUMN},
    {"garbage_mean_bytes", MMB_UNIT_BYTES, MMB_LOWER_IS_BETTER, false, NO_LIMIT, "mean garbage (bytes)", NO_COLUMN},
    /* the allocator (run's --allocator): calls, their time (one call in 64 timed, the clock's cost
     * taken off), bytes asked for against bytes held, and what it gave back at the end (more is
     * better, but registered either-way: the gate's tests pin the higher-is-better rows) */
    {"alloc_calls", MMB_UNIT_COUNT, MMB_LOWER_IS_BETTER, false, NO_LIMIT, "allocations", NO_COLUMN},
    {"free_calls", MMB_UNIT_COUNT, MMB_LOWER_IS_BETTER, false, NO_LIMIT, "frees", NO_COLUMN},
    {"alloc_ns_per_call", MMB_UNIT_NS, MMB_LOWER_IS_BETTER, false, NO_LIMIT, "alloc ns/call", NO_COLUMN},
    {"free_ns_per_call", MMB_UNIT_NS, MMB_LOWER_IS_BETTER, false, NO_LIMIT, "free ns/call", NO_COLUMN},
    {"alloc_time_fraction", MMB_UNIT_RATIO, MMB_LOWER_IS_BETTER, false, NO_LIMIT, "time in alloc+free", NO_COLUMN},
    {"requested_peak_live_bytes", MMB_UNIT_BYTES, MMB_LOWER_IS_BETTER, false, NO_LIMIT, "peak live bytes asked", NO_COLUMN},
    {"allocator_mapped_bytes", MMB_UNIT_BYTES, MMB_LOWER_IS_BETTER, false, NO_LIMIT, "allocator mapped", NO_COLUMN},
    {"allocator_active_bytes", MMB_UNIT_BYTES, MMB_LOWER_IS_BETTER, false, NO_LIMIT, "allocator active", NO_COLUMN},
    {"fragmentation", MMB_UNIT_RATIO, MMB_LOWER_IS_BETTER, false, NO_LIMIT, "peak RSS / peak live bytes", NO_COLUMN},
    {"rss_before_destroy_bytes", MMB_UNIT_BYTES, MMB_LOWER_IS_BETTER, false, NO_LIMIT, "RSS before destroy", NO_COLUMN},
    {"rss_after_close_bytes", MMB_UNIT_BYTES, MMB_LOWER_IS_BETTER, false, NO_LIMIT, "RSS after close", NO_COLUMN},
    {"memory_returned_bytes", MMB_UNIT_BYTES, MMB_EITHER_IS_WORSE, false, NO_LIMIT, "memory returned", NO_COLUMN},
    /* the deterministic counters */
    {"increments", MMB_UNIT_COUNT, MMB_LOWER_IS_BETTER, true, 0, "increments", COLUMN(11)},
    {"decrements", MMB_UNIT_COUNT, MMB_LOWER_IS_BETTER, true, 0, "decrements", COLUMN(12)},
    {"objects_traversed", MMB_UNIT_COUNT, MMB_LOWER_IS_BETTER, true, 0, "objects traversed", COLUMN(13)},
    /* report's collections column: full + young */
    {"collections_full", MMB_UNIT_COUNT, MMB_LOWER_IS_BETTER, true, 0, "full collections", {.position = 14, .key = "collections", .title = "collections"}},
    {"collections_young", MMB_UNIT_COUNT, MMB_LOWER_IS_BETTER, true, 0, "young collections", NO_COLUMN},
    {"objects_allocated", MMB_UNIT_COUNT, MMB_LOWER_IS_BETTER, true, 0, "objects allocated", NO_COLUMN},
    {"freed_by_rc", MMB_UNIT_COUNT, MMB_LOWER_IS_BETTER, true, 0, "freed by refcount", NO_COLUMN},
    {"freed_by_gc", MMB_UNIT_COUNT, MMB_LOWER_IS_BETTER, true, 0, "freed by collection", NO_COLUMN},
    {"header_bytes", MMB_UNIT_BYTES, MMB_LOWER_IS_BETTER, true, 0, "header bytes", NO_COLUMN},
    {"instructions", MMB_UNIT_COUNT, MMB_LOWER_IS_BETTER, true, 0, "instructions", NO_COLUMN}, /* callgrind */
    {"work_units", MMB_UNIT_COUNT, MMB_EITHER_IS_WORSE, true, NO_LIMIT, "work units", NO_COLUMN},
};
/* clang-format on */
const size_t mmb_metric_count = sizeof mmb_metrics / sizeof mmb_metrics[0];

size_t mmb_metric_column_count(void) {
    size_t n = 0;
    for (size_t i = 0; i < mmb_metric_count; i++)
        n += mmb_metrics[i].column.position > 0;
    return n;
}

/* Positions are 1..count, each once (a test checks it). */
const mmb_metric *mmb_metric_column_at(size_t i) {
    for (size_t k = 0; k < mmb_metric_count; k++)
        if (mmb_metrics[k].column.position == (int)i + 1)
            return &mmb_metrics[k];
    return NULL;
}

const mmb_metric *mmb_metric_find(const char *name) {
    for (size_t i = 0; i < mmb_metric_count; i++)
        if (strcmp(mmb_metrics[i].name, name) == 0)
            return &mmb_metrics[i];
    return NULL;
}

bool mmb_metric_is_bookkeeping(const char *key) {
    /* "threads" is also run's own counter: the cell's thread count, a setting, not a result. */
    static const char *const keys[] = {"family_index", "per_family_instance_index",
                                       "repetitions",  "repetition_index",
                                       "threads",      "iterations"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(key, keys[i]) == 0)
            return true;
    return false;
}

const char *mmb_pause_kind_at_median(const double *max_ns, const char *const *kind, int n) {
    if (n <= 0)
        return NULL;
    /* The rank-n/2 repetition by max (ties by position): a selection, no sort needed. */
    for (int i = 0; i < n; i++) {
        int below = 0, equal_before = 0;
        for (int j = 0; j < n; j++) {
            below += max_ns[j] < max_ns[i];
            equal_before += j < i && max_ns[j] == max_ns[i];
        }
        if (below + equal_before == n / 2)
            return kind[i];
    }
    return NULL;
}
