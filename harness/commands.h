/* The command table: every `mmbench COMMAND`, its layer's entry point and its one-line summary. */
#ifndef MMB_COMMANDS_H
#define MMB_COMMANDS_H

/* Dispatches argv[1] to its command (argv[1..] passed on, so the command sees its own name as
 * argv[0]); --help, --version. Returns the exit status: 0 ok, 1 a check or run failed, 2 bad
 * usage. */
int mmb_cli_main(int argc, char **argv);

#endif
