/* The verify layer's commands: replay a trace, stress a manager under the oracle, list what is
 * registered. Each returns the exit status (0 ok, 1 a check failed, 2 bad usage). */
#ifndef MMB_VERIFY_COMMANDS_H
#define MMB_VERIFY_COMMANDS_H

int mmb_replay_main(int argc, char **argv);
int mmb_stress_main(int argc, char **argv);
int mmb_list_main(int argc, char **argv);

#endif
