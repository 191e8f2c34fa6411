/* Results documents: the one loader of `mmbench run --out` JSON that compare, report and merge
 * share (open, parse with line:column errors, the "benchmarks" array, a cell's entries). Design:
 * harness/README.md, "Layout". */
#ifndef MMB_RESULTS_H
#define MMB_RESULTS_H

#include <jansson.h>
#include <stdbool.h>

/* Opens and parses `path` into *doc (owned by the caller). On failure *doc is NULL and one line
 * is printed, "mmbench: error: [CMD: ]PATH: cannot open: WHY" or "mmbench: error: [CMD: ]
 * PATH:LINE:COLUMN: not valid JSON: WHAT (hint: HINT)", and EXIT_USAGE returned; else EXIT_OK.
 * CMD NULL leaves the command out of the line. */
int mmb_results_load(const char *cmd, const char *path, const char *hint, json_t **doc);

/* The document's "benchmarks" array; NULL when it has none. */
json_t *mmb_results_benchmarks(const json_t *doc);

/* The entry's run_type is "iteration" (a repetition); `absent` is the answer without one. */
bool mmb_results_is_iteration(const json_t *entry, bool absent);

/* The entry's mmbench.cell; NULL when it has none (plain Google Benchmark output). */
const char *mmb_results_cell(const json_t *entry);

/* A JSON number's value; NAN when v is not a number (or absent). */
double mmb_results_number(const json_t *v);

/* A JSON string's text; `fallback` when v is not a string (or absent). */
const char *mmb_results_string(const json_t *v, const char *fallback);

#endif
