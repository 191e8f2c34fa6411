/* `mmbench run`: the benchmark matrix. Design: harness/README.md, "Runs". */
#ifndef MMB_RUN_H
#define MMB_RUN_H

/* Returns the exit status: 0 every cell ran and passed its checks, 1 some cell failed, 2 bad
 * usage. argv[0] is "run". */
int mmb_run_main(int argc, char **argv);

/* Parses one `--param`/`--option` value, KEY=VALUE[,VALUE...], as run does (flag names it in the
 * error line): EXIT_OK with *nvalues set, or EXIT_USAGE. For the fuzz targets (tests/fuzz). */
int mmb_run_parse_dim(const char *flag, const char *text, int *nvalues);

#endif
