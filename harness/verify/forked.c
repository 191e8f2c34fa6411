/* A function in a forked child, waited for (forked.h). */
#include "forked.h"

#include <errno.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int mmb_forked_call(int (*fn)(void *ctx), void *ctx, unsigned timeout_s, int *wait_status) {
    fflush(NULL); /* else what is buffered now would be written by both processes */
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (timeout_s)
            alarm(timeout_s);
        int rc = fn(ctx);
        fflush(NULL);
        _exit(rc);
    }
    while (waitpid(pid, wait_status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return 0;
}
