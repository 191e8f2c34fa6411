/* `mmbench run`: the benchmark matrix. Design: harness/README.md, "Runs". */
#ifndef MMB_RUN_H
#define MMB_RUN_H

/* Returns the exit status: 0 every cell ran and passed its checks, 1 some cell failed, 2 bad
 * usage. argv[0] is "run". */
int mmb_run_main(int argc, char **argv);

#endif
