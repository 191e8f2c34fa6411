/* The console tables of a run's results, from the results JSON's "benchmarks" array. */
#ifndef MMB_TABLE_H
#define MMB_TABLE_H

#include <jansson.h>

/* One row per cell: medians over its repetitions of time, rate, pauses, MMU, RSS, collections. */
void mmb_table_print(json_t *benchmarks);
/* The threaded cells: total and per-thread rates, and scaling against one thread. */
void mmb_table_print_threads(json_t *benchmarks);

/* The median of `key` over the iteration entries of `cell_name` (consecutive in `benchmarks`,
 * failed repetitions left out); NAN when none has it. */
double mmb_table_cell_median(json_t *benchmarks, const char *cell_name, const char *key);

#endif
