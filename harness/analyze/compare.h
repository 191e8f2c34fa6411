/* `mmbench compare`: two runs' results cell by cell and metric by metric, with a Mann-Whitney U
 * test over the repetitions and limits from a thresholds file. Design: compare.c's opening
 * comment and `mmbench compare --help`. */
#ifndef MMB_COMPARE_H
#define MMB_COMPARE_H

#include <stdbool.h>
#include <stddef.h>

typedef enum mmb_utest_method {
    MMB_UTEST_AUTO,   /* exact when both samples have at most 20 values, else normal */
    MMB_UTEST_EXACT,  /* the exact permutation distribution (at most 200 values in all) */
    MMB_UTEST_NORMAL, /* normal approximation, tie-corrected, with continuity correction */
} mmb_utest_method;

typedef struct mmb_utest_result {
    double u;   /* U of the first sample: pairs (a_i, b_j) with a_i > b_j, ties counting 1/2 */
    double p;   /* two-sided p-value, in (0, 1] */
    bool exact; /* whether p came from the exact distribution */
} mmb_utest_result;

/* Two-sided Mann-Whitney U test of samples a (na values) and b (nb values), as scipy's
 * mannwhitneyu(a, b, alternative='two-sided') computes it. Returns 0, or -1 when a sample is
 * empty, an exact test was asked for more than 200 values, or memory ran out. */
int mmb_utest(const double *a, size_t na, const double *b, size_t nb, mmb_utest_method method,
              mmb_utest_result *out);

/* `mmbench compare BASE.json NEW.json ...`; argv[0] is "compare". Returns the exit status: 0 no
 * regression, 1 a limit exceeded with significance (or a cell failed in NEW), 2 bad usage or
 * bad input. */
int mmb_compare_main(int argc, char **argv);

/* Parses TEXT (NUL-terminated, modified) as a --thresholds file named FILE in errors: EXIT_OK, or
 * EXIT_USAGE after one error line. For the fuzz targets (tests/fuzz). */
int mmb_compare_parse_thresholds(char *text, const char *file);

#endif
