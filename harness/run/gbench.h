/* The C face of Google Benchmark (gbench.cc, the project's one C++ file): register C functions
 * as benchmarks, set counters from C, run with Google Benchmark's own flags. */
#ifndef MMB_GBENCH_H
#define MMB_GBENCH_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mmb_gb_sink mmb_gb_sink; /* where an iteration puts its counters */

/* One iteration of a benchmark: does the work, sets *seconds to the time of the measured region
 * (timed by the caller: Google Benchmark's own pause/resume costs microseconds here), and may
 * add counters. Returns 0, or -1 with a reason in err (the run is reported as an error). */
typedef int (*mmb_gb_fn)(void *arg, mmb_gb_sink *sink, double *seconds, char *err,
                         size_t err_bytes);

enum { MMB_GB_COUNTER_PLAIN = 0, MMB_GB_COUNTER_RATE = 1 };

/* Sets counter `name` for this iteration; RATE counters are divided by the iteration's time. */
void mmb_gb_counter(mmb_gb_sink *sink, const char *name, double value, int kind);

/* Registers fn(arg) as benchmark `name`, one iteration per repetition, manual time. */
void mmb_gb_register(const char *name, mmb_gb_fn fn, void *arg);

/* Runs the registered benchmarks with Google Benchmark's flags in argv (--benchmark_*). Returns
 * 0, or 2 (with a message) when argv holds a flag it does not know. */
int mmb_gb_run(int argc, char **argv);

#ifdef __cplusplus
}
#endif

#endif
