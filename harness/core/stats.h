/* Statistics over a cell's repetitions: the one median every command uses, so run's console
 * table, report and compare agree on the same numbers. */
#ifndef MMB_STATS_H
#define MMB_STATS_H

#include <stddef.h>

/* The median of the finite values among v[0..n) (v is reordered); NAN when there are none. A
 * repetition that did not measure a metric (NAN, or a missing key read as NAN) is left out, never
 * counted as 0. For an even count, the mean of the two middle values. */
double mmb_median(double *v, size_t n);

#endif
