/* mmbench conform: the conformance suite as a command, for any manager. Exit status: 0 every
 * check passed, 1 one failed, 2 bad usage. Design: harness/README.md, "The oracle". */
#ifndef MMB_CONFORM_H
#define MMB_CONFORM_H

int mmb_conform_main(int argc, char **argv);

#endif
