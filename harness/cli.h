/* The command line: `mmbench SUBCOMMAND ...`. Kept apart from main() so that a test binary can
 * register extra managers (the deliberately broken ones) and run the same CLI. */
#ifndef MMB_CLI_H
#define MMB_CLI_H

/* Returns the process exit status: 0 ok, 1 a check or run failed, 2 bad usage or bad input. */
int mmb_cli_main(int argc, char **argv);

#endif
