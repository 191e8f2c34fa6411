/* A manager's counters (mmb_stats) as JSON: one table of the fields and the key each has in each
 * document that carries them (replay's result line, run's "deterministic" object, run's benchmark
 * counters), so the field list is known in one place. */
#ifndef MMB_HEAP_STATS_H
#define MMB_HEAP_STATS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmbench/manager.h"

/* The documents, each with its own keys. */
typedef enum mmb_stats_keys {
    MMB_STATS_KEYS_REPLAY,  /* replay's and stress's result line */
    MMB_STATS_KEYS_RUN,     /* run's "deterministic" object, per repetition */
    MMB_STATS_KEYS_COUNTER, /* run's Google Benchmark counters */
    MMB_STATS_KEY_SETS
} mmb_stats_keys;

/* The snapshot a row reads: the counters when the work ended, or after the final full
 * collection that follows (replay has only the second; it passes it as both). */
typedef enum mmb_stats_snapshot { MMB_STATS_AT_END, MMB_STATS_AFTER_COLLECTION } mmb_stats_snapshot;

#define MMB_STATS_NO_FIELD SIZE_MAX

typedef struct mmb_stats_row {
    const char *key[MMB_STATS_KEY_SETS]; /* its key in each document; NULL: not in that one */
    size_t field;                        /* offsetof(mmb_stats, FIELD) */
    size_t plus;                         /* a field added to it (a total), or MMB_STATS_NO_FIELD */
    mmb_stats_snapshot snapshot;
} mmb_stats_row;

/* The rows, in the order each document writes its keys. */
extern const mmb_stats_row mmb_stats_rows[];
extern const size_t mmb_stats_row_count;

/* The row's value, read from at_end or after (NULL: at_end) by its snapshot. */
uint64_t mmb_stats_row_value(const mmb_stats_row *row, const mmb_stats *at_end,
                             const mmb_stats *after);

/* Sets, in table order, the key of each row that has one in `keys` to its value (an integer). */
void mmb_stats_json_set(json_t *o, mmb_stats_keys keys, const mmb_stats *at_end,
                        const mmb_stats *after);

#endif
