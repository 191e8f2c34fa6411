/* Child processes that a stop signal cannot orphan, and their temporary directory (child.h).
 * The invariant: while a child runs, `running_child` holds its pid (and process group), and the
 * stop-signal handler kills that group; the child is reaped only after `running_child` is
 * cleared, so the handler never kills a group whose id was given to someone else. */
#include "child.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t stop_signal;   /* the first SIGINT or SIGTERM, or 0 */
static volatile sig_atomic_t running_child; /* the running child's pid, or 0 */
static struct sigaction old_int, old_term;
static int installed;
static int forks; /* children started, for the test hook */

static void on_stop_signal(int sig) {
    pid_t child = (pid_t)running_child;
    if (child > 0)
        kill(-child, SIGKILL);
    if (stop_signal)
        _exit(128 + sig);
    stop_signal = sig;
}

void mmb_stop_signals_install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGINT);
    sigaddset(&sa.sa_mask, SIGTERM);
    stop_signal = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    installed = 1;
}

void mmb_stop_signals_restore(void) {
    if (!installed)
        return;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    installed = 0;
}

int mmb_stop_signal(void) {
    return stop_signal;
}

/* MMBENCH_TEST_SIGNAL="SIG:N[:2]": the signal to send after starting child N, and how often. */
static void test_hook(int n) {
    const char *spec = getenv("MMBENCH_TEST_SIGNAL");
    char name[8];
    int at = -1, times = 1;
    if (!spec || sscanf(spec, "%7[A-Z]:%d:%d", name, &at, &times) < 2 || at != n)
        return;
    int sig = strcmp(name, "INT") == 0 ? SIGINT : strcmp(name, "TERM") == 0 ? SIGTERM : 0;
    for (int i = 0; sig && i < times; i++)
        kill(getpid(), sig);
}

pid_t mmb_child_fork(void) {
    sigset_t stops, old;
    sigemptyset(&stops);
    sigaddset(&stops, SIGINT);
    sigaddset(&stops, SIGTERM);
    sigprocmask(SIG_BLOCK, &stops, &old);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        /* The parent killed outright (SIGKILL) cannot kill the group: the kernel does. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
        sigprocmask(SIG_SETMASK, &old, NULL);
        return 0;
    }
    if (pid > 0) {
        setpgid(pid, pid); /* also here: the group exists before the parent can kill it */
        running_child = pid;
    }
    int e = errno;
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (pid > 0)
        test_hook(forks++);
    errno = e;
    return pid;
}

int mmb_child_wait(pid_t pid, int *ws) {
    siginfo_t info;
    /* Wait without reaping; clear running_child with stop signals blocked; then reap. */
    while (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT) != 0)
        if (errno != EINTR)
            return -1;
    sigset_t stops, old;
    sigemptyset(&stops);
    sigaddset(&stops, SIGINT);
    sigaddset(&stops, SIGTERM);
    sigprocmask(SIG_BLOCK, &stops, &old);
    running_child = 0;
    sigprocmask(SIG_SETMASK, &old, NULL);
    /* The child is gone; anything it started in its group goes with it. */
    kill(-pid, SIGKILL);
    while (waitpid(pid, ws, 0) < 0)
        if (errno != EINTR)
            return -1;
    return 0;
}

int mmb_tempdir_create(const char *prefix, char *out, size_t n, char *why, size_t why_bytes) {
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    if ((size_t)snprintf(out, n, "%s/%s-XXXXXX", base, prefix) >= n) {
        snprintf(why, why_bytes, "TMPDIR is too long (more than %zu bytes)",
                 n - strlen(prefix) - 9);
        out[0] = '\0';
        return -1;
    }
    if (!mkdtemp(out)) {
        snprintf(why, why_bytes, "cannot create a temporary directory in %s: %s", base,
                 strerror(errno));
        out[0] = '\0';
        return -1;
    }
    return 0;
}

void mmb_tempdir_remove(const char *dir) {
    if (!dir || !*dir)
        return;
    DIR *d = opendir(dir);
    if (d) {
        char path[4200];
        for (struct dirent *e; (e = readdir(d)) != NULL;) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, e->d_name) < sizeof path)
                unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
}
