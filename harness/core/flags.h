/* Strict parsers for command-line values (flags.c): integers with a range, and the Google
 * Benchmark flags that `run` passes through. Each prints the house's one-line error. */
#ifndef MMB_FLAGS_H
#define MMB_FLAGS_H

#include <stdbool.h>
#include <stdint.h>

/* Whether TEXT is a decimal integer in [min, max]: digits only (no sign, space, base prefix or
 * suffix) and no overflow. Sets *out only when it is. */
bool mmb_parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *out);

/* mmb_parse_u64 for the value of FLAG of command CMD: EXIT_OK, or EXIT_USAGE after
 * "mmbench: error: CMD: FLAG: bad value 'TEXT' (expected an integer in MIN..MAX) (hint: mmbench
 * CMD --help)". */
int mmb_flag_u64(const char *cmd, const char *flag, const char *text, uint64_t min, uint64_t max,
                 uint64_t *out);

/* A number of bytes for FLAG: digits (at least 1), optionally K, M or G (powers of 1024), no
 * overflow: EXIT_OK, or EXIT_USAGE after one line. */
int mmb_flag_bytes(const char *cmd, const char *flag, const char *text, uint64_t *out);

/* Checks one `--benchmark_NAME[=VALUE]` argument against the Google Benchmark flags that `run`
 * passes through, and the type of its value (gbench.cc hands them to Google Benchmark 1.7.1,
 * which would otherwise print its own text, or take `abc` as true). Returns EXIT_OK, or
 * EXIT_USAGE after one line. Flags that mmbench sets itself (--benchmark_out, _format,
 * _out_format, _filter, _list_tests) are refused with the mmbench flag to use instead;
 * --benchmark_repetitions is `run --repetitions` and is handled by run. */
int mmb_gb_flag_check(const char *arg);

#endif
