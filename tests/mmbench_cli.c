/* Helpers for the tests that run the mmbench binary (mmbench_cli.h). */
#include "mmbench_cli.h"

#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

int mmb_test_mmbench(const char *args, const char *out_path, const char *err_path) {
    ASSERT_TRUE(mmb_test_arg != NULL);
    char cmd[16384];
    int len = snprintf(cmd, sizeof cmd, "%s %s >%s 2>%s", mmb_test_arg, args,
                       out_path ? out_path : "/dev/null", err_path ? err_path : "/dev/null");
    ASSERT_TRUE(len > 0 && (size_t)len < sizeof cmd);
    int status = system(cmd);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void mmb_test_temp_file(char *path) {
    int fd = mkstemp(path);
    ASSERT_TRUE(fd >= 0);
    close(fd);
}

json_t *mmb_test_load_json(const char *dir, const char *name) {
    char path[4096];
    snprintf(path, sizeof path, "%s%s%s", dir ? dir : "", dir ? "/" : "", name);
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (!root)
        fprintf(stderr, "%s: %s\n", path, err.text);
    ASSERT_TRUE(root != NULL);
    return root;
}

json_t *mmb_test_run_json(const char *extra) {
    char path[] = "/tmp/mmbench-run-test-XXXXXX";
    mmb_test_temp_file(path);
    char args[2048];
    snprintf(args, sizeof args, "run --format none --out %s %s", path, extra);
    ASSERT_EQ(mmb_test_mmbench(args, NULL, "/dev/stderr"), 0); /* its errors in the log */
    json_t *root = mmb_test_load_json(NULL, path);
    unlink(path);
    return root;
}
