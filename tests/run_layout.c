/* The run layer's seams (harness/run/run_internal.h): every metric run emits passes the metric
 * registry, which refuses a name without a row; and the one list joiner (core/strlist.h). */
#include "run_internal.h"
#include "strlist.h"
#include "test.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

TEST(run_emit_refuses_a_metric_without_a_registry_row) {
    char path[] = "/tmp/mmb-run-layout-XXXXXX";
    int fd = mkstemp(path);
    ASSERT_TRUE(fd >= 0);
    fflush(stderr);
    pid_t pid = fork();
    ASSERT_TRUE(pid >= 0);
    if (pid == 0) {
        dup2(fd, 2);
        json_t *entry = json_object();
        mmb_run_emit_entry(entry, "pause_p99_ns", json_real(1));        /* a row: kept */
        mmb_run_emit_entry(entry, "repetition_index", json_integer(0)); /* bookkeeping */
        if (json_object_size(entry) != 2)
            _exit(3);
        mmb_run_emit_entry(entry, "pause_p99_9_ns_not_registered", json_real(1));
        _exit(0); /* not reached: the emit aborts */
    }
    int ws = 0;
    ASSERT_EQ(waitpid(pid, &ws, 0), pid);
    char err[512];
    ssize_t got = pread(fd, err, sizeof err - 1, 0);
    err[got > 0 ? got : 0] = '\0';
    close(fd);
    unlink(path);
    ASSERT_TRUE(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGABRT);
    ASSERT_STR_CONTAINS(err, "mmbench: error: run: metric 'pause_p99_9_ns_not_registered' has no "
                             "row in the metric registry");
}

TEST(strlist_join_separates_and_truncates) {
    static const char *const three[] = {"a", "bb", "c", NULL}, *const none[] = {NULL};
    char buf[64];
    ASSERT_STR_EQ(mmb_join(buf, sizeof buf, three, ", ", NULL), "a, bb, c");
    ASSERT_STR_EQ(mmb_join(buf, sizeof buf, three, ", ", " or "), "a, bb or c");
    ASSERT_STR_EQ(mmb_join(buf, sizeof buf, none, ", ", " or "), "");
    ASSERT_STR_EQ(mmb_join(buf, 5, three, ", ", NULL), "a, b");
    ASSERT_STR_EQ(mmb_join(buf, sizeof buf, mmb_families, ", ", NULL),
                  "many-small, cycle-heavy, pause-sensitive, threaded");
}
