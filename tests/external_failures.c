/* The external managers python3.11 and php8.2 failing: a start that cannot find its standard
 * library, the engine's fatal errors and out-of-memory, a collector threshold too high to bring
 * back; each one line, and nothing on stdout. Every file these tests write is under their own
 * temporary directory; the failures are reached through the adapters' test hooks
 * (mmb_python3_11_test_prefix, mmb_php8_2_test_reset_max) or provoked in a child process. Tests
 * for an adapter that was not built skip. */
#include <signal.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include "mmbench/manager.h"
#include "test.h"

#if defined(MMB_HAVE_PHP8_2)
#include <php.h>
#endif

/* ---- helpers --------------------------------------------------------------------------------- */

/* A new temporary directory, its path in dir (at least 64 bytes). */
static void temp_dir(char *dir) {
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, 256, "%s/mmb-external-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    ASSERT_TRUE(mkdtemp(dir) != NULL);
}

/* Runs fn(ctx) in a child process with stdout and stderr in files of dir; returns its wait
 * status, the two files' text in out and err (at most 4 KiB each). */
static int in_child(const char *dir, void (*fn)(const void *ctx), const void *ctx, char *out,
                    char *err) {
    char out_path[512], err_path[512];
    snprintf(out_path, sizeof out_path, "%s/stdout", dir);
    snprintf(err_path, sizeof err_path, "%s/stderr", dir);
    fflush(NULL);
    pid_t pid = fork();
    ASSERT_TRUE(pid >= 0);
    if (pid == 0) {
        int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (o < 0 || e < 0 || dup2(o, STDOUT_FILENO) < 0 || dup2(e, STDERR_FILENO) < 0)
            _exit(99);
        fn(ctx);
        fflush(NULL);
        _exit(0);
    }
    int status;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    snprintf(out, 4096, "%s", mmb_test_slurp(out_path));
    snprintf(err, 4096, "%s", mmb_test_slurp(err_path));
    unlink(out_path);
    unlink(err_path);
    return status;
}

static size_t lines(const char *text) {
    size_t n = 0;
    for (; *text; text++)
        n += *text == '\n';
    return n;
}

static int create(const mmb_manager *m, mmb_heap **h, char *err, size_t err_bytes) {
    mmb_heap_config cfg;
    mmb_config_defaults(m, &cfg);
    return mmb_heap_create(m, &cfg, h, err, err_bytes);
}

/* ---- python3.11: a start without its standard library ---------------------------------------- */

#if defined(MMB_HAVE_PYTHON3_11)
extern const char *mmb_python3_11_test_prefix;
#endif

static const mmb_manager *python_or_skip(void) {
#if defined(MMB_HAVE_PYTHON3_11)
    const mmb_manager *m = mmb_manager_find("python3.11");
    if (m)
        return m;
#endif
    SKIP("python3.11 was not built (needs libpython3.11-dev)");
}

/* Creates a python3.11 heap from prefix (the hook), printing create's status and error. */
static void python_create(const void *ctx) {
#if defined(MMB_HAVE_PYTHON3_11)
    mmb_python3_11_test_prefix = ctx;
#endif
    mmb_heap *h = NULL;
    char err[8192];
    int status = create(python_or_skip(), &h, err, sizeof err);
    fprintf(stderr, "create %d: %s\n", status, status ? err : "");
    /* A second create reports the first failure again, without a second start. */
    if (status && create(python_or_skip(), &h, err, sizeof err) == 0)
        _exit(3);
}

TEST(python_missing_stdlib_is_one_line) {
    python_or_skip();
    char dir[256], out[4096], err[4096], want[1024];
    temp_dir(dir);
    int status = in_child(dir, python_create, dir, out, err);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    snprintf(want, sizeof want,
             "create -1: cannot start the embedded CPython: %s/lib/python3.11/encodings: missing "
             "(hint: reinstall libpython3.11-minimal, which holds its standard library)\n",
             dir);
    ASSERT_STR_EQ(err, want);
    ASSERT_STR_EQ(out, "");
    ASSERT_EQ(rmdir(dir), 0);
}

/* A standard library whose encodings package is an empty directory: the check passes, CPython's
 * start fails, and what it prints (its path configuration, the exception) does not show. */
TEST(python_broken_stdlib_is_one_line) {
    python_or_skip();
    char dir[256], path[512], out[4096], err[4096];
    temp_dir(dir);
    snprintf(path, sizeof path, "%s/lib", dir);
    ASSERT_EQ(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/lib/python3.11", dir);
    ASSERT_EQ(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/lib/python3.11/encodings", dir);
    ASSERT_EQ(mkdir(path, 0700), 0);
    int status = in_child(dir, python_create, dir, out, err);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ASSERT_EQ(lines(err), 1);
    ASSERT_STR_CONTAINS(err, "create -1: cannot start the embedded CPython: ");
    ASSERT_STR_CONTAINS(err, "(hint: its standard library under ");
    ASSERT_TRUE(strstr(err, "Python path configuration") == NULL);
    ASSERT_STR_EQ(out, "");
    ASSERT_EQ(rmdir(path), 0);
    snprintf(path, sizeof path, "%s/lib/python3.11", dir);
    ASSERT_EQ(rmdir(path), 0);
    snprintf(path, sizeof path, "%s/lib", dir);
    ASSERT_EQ(rmdir(path), 0);
    ASSERT_EQ(rmdir(dir), 0);
}

/* The checker's own check: the real prefix starts (the hook unset). */
TEST(python_real_stdlib_starts) {
    python_or_skip();
    char dir[256], out[4096], err[4096];
    temp_dir(dir);
    int status = in_child(dir, python_create, NULL, out, err);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ASSERT_STR_EQ(err, "create 0: \n");
    ASSERT_STR_EQ(out, "");
    ASSERT_EQ(rmdir(dir), 0);
}

/* ---- php8.2: the engine's errors ------------------------------------------------------------- */

#if defined(MMB_HAVE_PHP8_2)
extern uint32_t mmb_php8_2_test_reset_max;
#endif

static const mmb_manager *php_or_skip(void) {
#if defined(MMB_HAVE_PHP8_2)
    const mmb_manager *m = mmb_manager_find("php8.2");
    if (m)
        return m;
#endif
    SKIP("php8.2 was not built (needs libphp8.2-embed and php8.2-dev)");
}

#if defined(MMB_HAVE_PHP8_2)
/* A heap, then the error CTX names raised inside the engine. */
static void php_raise(const void *ctx) {
    mmb_heap *h = NULL;
    char err[512];
    if (create(php_or_skip(), &h, err, sizeof err) != 0)
        _exit(4);
    int type = *(const int *)ctx;
    zend_error(type, "raised by the test (%s)", type == E_WARNING ? "a warning" : "fatal");
    fprintf(stderr, "returned\n");
}

/* A heap, then objects of 64 KiB each until the engine's memory manager refuses one: at the
 * engine's memory limit (which the adapter turns off) set back to 64 MiB when ctx says so, else
 * under an address-space limit 256 MiB above what the process maps now, set before the heap
 * (where the adapter puts the engine's limit under it). */
static void php_exhaust(const void *ctx) {
    mmb_heap *h = NULL;
    char err[512];
    if (*(const bool *)ctx) {
        if (create(php_or_skip(), &h, err, sizeof err) != 0)
            _exit(4);
        zend_string *key = zend_string_init("memory_limit", sizeof "memory_limit" - 1, 0);
        zend_alter_ini_entry_chars(key, "64M", 3, PHP_INI_SYSTEM, PHP_INI_STAGE_RUNTIME);
        zend_string_release(key);
    } else {
        unsigned long pages = 0;
        FILE *f = fopen("/proc/self/statm", "r");
        if (!f || fscanf(f, "%lu", &pages) != 1)
            _exit(5);
        fclose(f);
        struct rlimit rl;
        rl.rlim_cur = rl.rlim_max = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + (256u << 20);
        if (setrlimit(RLIMIT_AS, &rl) != 0)
            _exit(6);
        if (create(php_or_skip(), &h, err, sizeof err) != 0)
            _exit(4);
    }
    for (int i = 0; i < 1000000; i++)
        mmb_alloc(h, 0, 1u << 16);
    _exit(7);
}

/* One line, from mmb_allocator_out_of_memory (no handler here: it aborts). */
static void exhaust(bool at_memory_limit) {
    char dir[256], out[4096], err[4096];
    temp_dir(dir);
    int status = in_child(dir, php_exhaust, &at_memory_limit, out, err);
    if (!WIFSIGNALED(status))
        fprintf(stderr, "the child's status: %d, its stderr: %s", status, err);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
    ASSERT_EQ(lines(err), 1);
    ASSERT_STR_CONTAINS(err, "mmbench: error: allocator 'php8.2 emalloc': out of memory "
                             "allocating 655");
    ASSERT_STR_EQ(out, "");
    ASSERT_EQ(rmdir(dir), 0);
}
#endif

TEST(php_fatal_error_is_one_line) {
    php_or_skip();
#if defined(MMB_HAVE_PHP8_2)
    char dir[256], out[4096], err[4096];
    temp_dir(dir);
    int type = E_ERROR;
    int status = in_child(dir, php_raise, &type, out, err);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
    ASSERT_STR_EQ(err, "mmbench: error: php8.2: the engine raised a fatal error (type 1): raised "
                       "by the test (fatal) (hint: a bug in the adapter, "
                       "managers/external/php8_2.c)\n");
    ASSERT_STR_EQ(out, "");
    ASSERT_EQ(rmdir(dir), 0);
#endif
}

/* The checker's own check: a warning is no fatal error, and with display_errors off prints
 * nothing anywhere (the embed SAPI's default would print "PHP Warning: ..." on stdout). */
TEST(php_warning_prints_nothing) {
    php_or_skip();
#if defined(MMB_HAVE_PHP8_2)
    char dir[256], out[4096], err[4096];
    temp_dir(dir);
    int type = E_WARNING;
    int status = in_child(dir, php_raise, &type, out, err);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ASSERT_STR_EQ(err, "returned\n");
    ASSERT_STR_EQ(out, "");
    ASSERT_EQ(rmdir(dir), 0);
#endif
}

TEST(php_memory_limit_is_one_line) {
    php_or_skip();
#if defined(MMB_HAVE_PHP8_2)
    exhaust(true);
#endif
}

TEST(php_out_of_memory_is_one_line) {
    php_or_skip();
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    SKIP("an address-space limit stops the sanitizer's own mappings");
#elif defined(MMB_HAVE_PHP8_2)
    exhaust(false);
#endif
}

/* ---- php8.2: a threshold too high to bring back ---------------------------------------------- */

/* 30000 live objects made candidates 10^5 times: runs that free nothing raise the threshold from
 * 10001 by 10000 each (tests/fidelity_php.c, bacon_rajan_adaptive_threshold_rises). */
static void raise_threshold(mmb_heap *h) {
    enum { N = 30000 };
    static mmb_obj *objs[N];
    for (int i = 0; i < N; i++)
        objs[i] = mmb_alloc(h, 1, 0);
    for (int i = 0; i < 100000; i++) {
        mmb_incref(h, objs[i % N]);
        mmb_decref(h, objs[i % N]);
    }
    for (int i = 0; i < N; i++)
        mmb_decref(h, objs[i]);
}

/* With the bound lowered to 20001 by the hook: a heap after one that left the threshold above it
 * is refused, in one line; with the bound as shipped the same heap is made. */
TEST(php_threshold_above_the_bound_refuses_create) {
    const mmb_manager *m = php_or_skip();
#if defined(MMB_HAVE_PHP8_2)
    mmb_heap *h = NULL;
    char err[512];
    ASSERT_EQ(create(m, &h, err, sizeof err), 0);
    raise_threshold(h);
    zend_gc_status st;
    zend_gc_get_status(&st);
    ASSERT_TRUE(st.threshold > 20001);
    h->manager->destroy(h);
    mmb_php8_2_test_reset_max = 20001;
    ASSERT_EQ(create(m, &h, err, sizeof err), -1);
    char want[512];
    snprintf(want, sizeof want,
             "the engine's collector threshold is %u after the last heap, above the 20001 this "
             "adapter brings back to 10001 (hint: run each php8.2 heap in a fresh process)",
             st.threshold);
    ASSERT_STR_EQ(err, want);
    mmb_php8_2_test_reset_max = 0;
    ASSERT_EQ(create(m, &h, err, sizeof err), 0);
    zend_gc_get_status(&st);
    ASSERT_EQ(st.threshold, 10001);
    h->manager->destroy(h);
#else
    (void)m;
#endif
}
