/* Running a function in a forked child of this process and waiting for it: what conform does for
 * each check, and stress and replay for each manager of a list (the external managers hold
 * process-wide state: one runtime, one mode, a process each). */
#ifndef MMB_FORKED_H
#define MMB_FORKED_H

/* Flushes every stdio stream, forks, and in the child runs fn(ctx), flushes again and ends with
 * _exit(fn's return value); fn may instead end the child itself with exit() (its atexit handlers
 * and leak checks then run, as at the end of a process that ran only it). timeout_s > 0: the
 * child is sent SIGALRM after that many seconds. The parent waits for the child (through EINTR).
 * Returns 0 with *wait_status as waitpid gives it, or -1 with errno when no child could be
 * started. What the child writes to the inherited stdout and stderr comes before anything the
 * parent writes after this returns. */
int mmb_forked_call(int (*fn)(void *ctx), void *ctx, unsigned timeout_s, int *wait_status);

#endif
