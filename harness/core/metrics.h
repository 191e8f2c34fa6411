/* The metric registry: one row per metric a results entry can hold (name, unit, which way is
 * better, exact or timed, compare's default limit, the table title). compare and report take
 * direction, exactness, limits, units and titles from here; adding a metric is one row here plus
 * the line that measures it; with a column position it is also a column of report's tables. Design:
 * harness/README.md, "Metrics". */
#ifndef MMB_METRICS_H
#define MMB_METRICS_H

#include <stdbool.h>
#include <stddef.h>

/* How a value is formatted. */
typedef enum {
    MMB_UNIT_RATE,  /* per second */
    MMB_UNIT_NS,    /* a duration */
    MMB_UNIT_RATIO, /* 0..1 (or a speedup) */
    MMB_UNIT_BYTES,
    MMB_UNIT_COUNT /* objects, operations, instructions */
} mmb_unit;

typedef enum mmb_better {
    MMB_LOWER_IS_BETTER = -1,
    MMB_EITHER_IS_WORSE = 0, /* a change means different work, not better or worse */
    MMB_HIGHER_IS_BETTER = +1,
} mmb_better;

/* A metric's place in report's tables (a row without one is compared but not tabled). */
typedef struct mmb_metric_column {
    int position;      /* 1, 2, ...: the column's place in report's tables; 0: not a column */
    bool optional;     /* shown in a table only when some row of it has a value */
    const char *key;   /* the CSV header when not the name (a column report derives) */
    const char *title; /* the header when not the row's title */
} mmb_metric_column;

typedef struct mmb_metric {
    const char *name; /* the numeric key in a results entry */
    mmb_unit unit;
    mmb_better better;
    bool exact;           /* deterministic: identical in every repetition for a seed */
    double limit_percent; /* compare's default: how much worse it may get; < 0: no limit */
    const char *title;    /* a table header */
    mmb_metric_column column;
} mmb_metric;

extern const mmb_metric mmb_metrics[];
extern const size_t mmb_metric_count;

/* The rows that are report's columns, in column order: count of them, and the i-th. */
size_t mmb_metric_column_count(void);
const mmb_metric *mmb_metric_column_at(size_t i);

/* The row for `name`; NULL when it has none (compare warns and treats it as lower is better). */
const mmb_metric *mmb_metric_find(const char *name);

/* Google Benchmark's numeric fields that are not measurements (family_index, iterations, ...):
 * they have no row and are not compared. */
bool mmb_metric_is_bookkeeping(const char *key);

/* The kind beside a headline max pause: with max_ns[i] and kind[i] (the kind of the longest
 * pause, NULL when none) of n repetitions, the kind of the repetition whose max is the median
 * (the upper middle one for even n), so the kind belongs to the value shown. NULL when n is 0
 * or that repetition had no pause. */
const char *mmb_pause_kind_at_median(const double *max_ns, const char *const *kind, int n);

#endif
