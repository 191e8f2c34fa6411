/* Child processes that a stop signal cannot orphan, and a temporary directory that goes with
 * them (child.c). Used by `run` for its cells; design: harness/README.md, "Interrupted runs". */
#ifndef MMB_CHILD_H
#define MMB_CHILD_H

#include <stddef.h>
#include <sys/types.h>

/* Catches SIGINT and SIGTERM: the first kills the running child's process group (the cell and
 * anything it started, valgrind included) and is remembered for mmb_stop_signal; a second ends
 * the process at once with status 128 + signal. mmb_stop_signals_restore puts the old handlers
 * back. */
void mmb_stop_signals_install(void);
void mmb_stop_signals_restore(void);

/* The first stop signal received since mmb_stop_signals_install, or 0. */
int mmb_stop_signal(void);

/* fork() for a child that must not outlive its parent's stop: the child leads a process group of
 * its own, gets the default SIGINT and SIGTERM back, and is killed if the parent dies. Returns
 * as fork does; -1 with errno. A pending stop signal is delivered in the parent only after the
 * child is known, so it is never missed.
 * Test hook: MMBENCH_TEST_SIGNAL="SIG:N" (SIG is INT or TERM) makes the parent send itself
 * SIG right after starting its N-th child (0-based), and "SIG:N:2" sends it twice. */
pid_t mmb_child_fork(void);

/* Waits for child pid (started by mmb_child_fork) and reaps it; *ws as waitpid. Returns 0, or -1
 * with errno. */
int mmb_child_wait(pid_t pid, int *ws);

/* Creates a fresh directory PREFIX-XXXXXX in $TMPDIR (or /tmp when it is unset or empty) into
 * out (n bytes). Returns 0, or -1 with the reason in why. */
int mmb_tempdir_create(const char *prefix, char *out, size_t n, char *why, size_t why_bytes);

/* Removes dir and the files in it (it holds no directories); nothing when dir is empty. */
void mmb_tempdir_remove(const char *dir);

#endif
