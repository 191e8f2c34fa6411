/* `mmbench run`: the benchmark matrix. Design: harness/README.md, "Runs". */
#ifndef MMB_RUN_H
#define MMB_RUN_H

/* Returns the exit status: 0 every cell ran and passed its checks, 1 some cell failed, 2 bad
 * usage. argv[0] is "run". */
int mmb_run_main(int argc, char **argv);

#include <jansson.h>

/* The readable table of a results document's benchmarks: one row per cell, medians. */
void mmb_run_print_table(json_t *benchmarks);
/* The threaded cells' rates per thread and scaling against one thread; nothing when none. */
void mmb_run_print_threads_table(json_t *benchmarks);

/* Writes doc to path through a temporary file renamed into place; -1 (after one error line
 * naming `cmd`) when it cannot. */
int mmb_write_json_atomically(json_t *doc, const char *path, const char *cmd);

/* Parses one `--param`/`--option` value, KEY=VALUE[,VALUE...], as run does (flag names it in the
 * error line): EXIT_OK with *nvalues set, or EXIT_USAGE. For the fuzz targets (tests/fuzz). */
int mmb_run_parse_dim(const char *flag, const char *text, int *nvalues);

#endif
