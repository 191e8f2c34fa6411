/* `mmbench run` stopped and resumed, and its flags refused before anything runs: a stop signal
 * keeps the finished cells (complete: false), kills the running cell and leaves no temporary
 * directory; --resume finishes the file; seeds round-trip. The test's argument is the mmbench
 * binary. Each run's $TMPDIR is the test's own directory, so what a run leaves is visible. */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "internal.h"
#include "mmbench_cli.h"
#include "test.h"

typedef struct sandbox {
    char dir[64];  /* the test's own directory */
    char tmp[128]; /* the runs' $TMPDIR, inside it */
    char out[128]; /* --out */
    char err[128]; /* the last run's standard error */
} sandbox;

static void sandbox_open(sandbox *s) {
    ASSERT_TRUE(mmb_test_arg != NULL);
    snprintf(s->dir, sizeof s->dir, "/tmp/mmbench-lifecycle-XXXXXX");
    ASSERT_TRUE(mkdtemp(s->dir) != NULL);
    snprintf(s->tmp, sizeof s->tmp, "%s/tmp", s->dir);
    snprintf(s->out, sizeof s->out, "%s/out.json", s->dir);
    snprintf(s->err, sizeof s->err, "%s/stderr", s->dir);
    ASSERT_TRUE(mkdir(s->tmp, 0700) == 0);
}

static void sandbox_close(sandbox *s) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
    ASSERT_EQ(system(cmd), 0);
}

/* Runs `ENV mmbench run ARGS` with $TMPDIR in the sandbox and stderr in s->err; the exit status. */
static int run(const sandbox *s, const char *env, const char *args) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "TMPDIR='%s' %s '%s' run --format none %s 2>'%s' >/dev/null", s->tmp,
             env, mmb_test_arg, args, s->err);
    int status = system(cmd);
    ASSERT_TRUE(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static int lines(const char *text) {
    int n = 0;
    for (; *text; text++)
        n += *text == '\n';
    return n;
}

/* Entries in the runs' $TMPDIR: a run must leave none. */
static int tmp_entries(const sandbox *s) {
    DIR *d = opendir(s->tmp);
    ASSERT_TRUE(d != NULL);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            fprintf(stderr, "left in $TMPDIR: %s\n", e->d_name);
            n++;
        }
    closedir(d);
    return n;
}

/* Processes whose environment holds this sandbox's TMPDIR: a cell that outlived its run. */
static int processes_now(const sandbox *s) {
    char want[160];
    int wlen = snprintf(want, sizeof want, "TMPDIR=%s", s->tmp);
    DIR *proc = opendir("/proc");
    ASSERT_TRUE(proc != NULL);
    int n = 0;
    for (struct dirent *e; (e = readdir(proc)) != NULL;) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9' || atoi(e->d_name) == getpid())
            continue;
        char path[300], env[65536];
        snprintf(path, sizeof path, "/proc/%s/environ", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t len = fread(env, 1, sizeof env, f);
        fclose(f);
        for (size_t at = 0; at < len; at += strnlen(env + at, len - at) + 1)
            if (strnlen(env + at, len - at) == (size_t)wlen && memcmp(env + at, want, wlen) == 0) {
                n++;
            }
    }
    closedir(proc);
    return n;
}

/* processes_now, once any process killed just before has had a moment (up to 10 s) to go. */
static int processes_left(const sandbox *s) {
    for (int tries = 0; tries < 1000; tries++) {
        if (processes_now(s) == 0)
            return 0;
        struct timespec ms = {0, 10000000};
        nanosleep(&ms, NULL);
    }
    return processes_now(s);
}

static json_t *mm_context(json_t *doc) {
    return json_object_get(json_object_get(doc, "context"), "mmbench");
}

/* How many entries of doc are iterations of cell `name`. */
static int entries_of(json_t *doc, const char *name) {
    int n = 0;
    size_t i;
    json_t *b;
    json_array_foreach(json_object_get(doc, "benchmarks"), i, b) {
        const char *cell =
            json_string_value(json_object_get(json_object_get(b, "mmbench"), "cell"));
        n += cell && strcmp(cell, name) == 0;
    }
    return n;
}

static const char matrix[] = "--manager rc,cpython --workload churn,rings --scale tiny";
static const char *const cells[] = {"churn/rc/tiny", "churn/cpython/tiny", "rings/rc/tiny",
                                    "rings/cpython/tiny"};

/* SIGTERM to the parent only, while the third cell's process runs (a test hook, so that the
 * moment is exact); then --resume runs the two cells not run, and the result has each once. */
TEST_MMBENCH(run_stop_keeps_finished_cells_and_resumes, "run", 300, "run") {
    sandbox s;
    sandbox_open(&s);
    char args[1024];
    snprintf(args, sizeof args, "%s --out '%s'", matrix, s.out);
    ASSERT_EQ(run(&s, "MMBENCH_TEST_SIGNAL=TERM:2", args), 143);
    ASSERT_STR_CONTAINS(mmb_test_slurp(s.err),
                        "mmbench: error: run: stopped by SIGTERM: 2 cells not run");
    ASSERT_EQ(tmp_entries(&s), 0);
    ASSERT_EQ(processes_now(&s), 0);
    json_t *doc = mmb_test_load_json(NULL, s.out);
    json_t *mm = mm_context(doc);
    ASSERT_TRUE(json_is_false(json_object_get(mm, "complete")));
    json_t *not_run = json_object_get(mm, "not_run");
    ASSERT_EQ(json_array_size(not_run), 2);
    ASSERT_TRUE(strcmp(json_string_value(json_array_get(not_run, 0)), cells[2]) == 0);
    ASSERT_TRUE(strcmp(json_string_value(json_array_get(not_run, 1)), cells[3]) == 0);
    for (int i = 0; i < 4; i++)
        ASSERT_EQ(entries_of(doc, cells[i]), i < 2);
    char fingerprint[64];
    snprintf(fingerprint, sizeof fingerprint, "%s",
             json_string_value(json_object_get(json_object_get(mm, "matrix"), "fingerprint")));
    json_decref(doc);

    /* Another matrix, or another seed: refused, naming what differs; the file is untouched. */
    snprintf(args, sizeof args, "--manager rc --workload churn,rings --scale tiny --resume '%s'",
             s.out);
    ASSERT_EQ(run(&s, "", args), 2);
    ASSERT_STR_CONTAINS(mmb_test_slurp(s.err), "another matrix (fingerprint ");
    ASSERT_EQ(lines(mmb_test_slurp(s.err)), 1);
    snprintf(args, sizeof args, "%s --seed 2 --resume '%s'", matrix, s.out);
    ASSERT_EQ(run(&s, "", args), 2);
    ASSERT_STR_CONTAINS(mmb_test_slurp(s.err), "another matrix");
    snprintf(args, sizeof args, "%s --shard 1/2 --resume '%s'", matrix, s.out);
    ASSERT_EQ(run(&s, "", args), 2);
    ASSERT_STR_CONTAINS(mmb_test_slurp(s.err), "another shard (none, these flags 1/2)");
    ASSERT_EQ(tmp_entries(&s), 0);

    /* The same flags: only the missing cells run; the result is whole, each cell once. */
    snprintf(args, sizeof args, "%s --resume '%s'", matrix, s.out);
    ASSERT_EQ(run(&s, "", args), 0);
    ASSERT_EQ(tmp_entries(&s), 0);
    doc = mmb_test_load_json(NULL, s.out);
    mm = mm_context(doc);
    ASSERT_TRUE(json_is_true(json_object_get(mm, "complete")));
    ASSERT_EQ(json_array_size(json_object_get(mm, "not_run")), 0);
    ASSERT_TRUE(
        strcmp(json_string_value(json_object_get(json_object_get(mm, "matrix"), "fingerprint")),
               fingerprint) == 0);
    ASSERT_EQ(json_array_size(json_object_get(doc, "benchmarks")), 4);
    for (int i = 0; i < 4; i++) {
        ASSERT_EQ(entries_of(doc, cells[i]), 1);
        json_t *b = json_array_get(json_object_get(doc, "benchmarks"), (size_t)i);
        const char *cell =
            json_string_value(json_object_get(json_object_get(b, "mmbench"), "cell"));
        ASSERT_TRUE(strcmp(cell, cells[i]) == 0); /* in matrix order */
    }
    ASSERT_TRUE(json_object_get(mm, "resumed") != NULL);
    json_decref(doc);
    sandbox_close(&s);
}

/* SIGINT before any cell finished: exit 130, a file with no cells and every cell not run. */
TEST_MMBENCH(run_sigint_exits_130, "run", 300, "run") {
    sandbox s;
    sandbox_open(&s);
    char args[1024];
    snprintf(args, sizeof args, "%s --out '%s'", matrix, s.out);
    ASSERT_EQ(run(&s, "MMBENCH_TEST_SIGNAL=INT:0", args), 130);
    ASSERT_EQ(tmp_entries(&s), 0);
    ASSERT_EQ(processes_now(&s), 0);
    json_t *doc = mmb_test_load_json(NULL, s.out);
    ASSERT_EQ(json_array_size(json_object_get(doc, "benchmarks")), 0);
    ASSERT_EQ(json_array_size(json_object_get(mm_context(doc), "not_run")), 4);
    json_decref(doc);
    /* A second signal ends the run at once: no results are written, the cell is still killed. */
    ASSERT_EQ(run(&s, "MMBENCH_TEST_SIGNAL=INT:1:2", args), 130);
    ASSERT_EQ(processes_left(&s), 0); /* killed as the run ended: gone a moment later */
    sandbox_close(&s);
}

/* --fresh-process: a cell stopped between its repetitions is not done, and --resume runs it
 * again whole. */
TEST_MMBENCH(run_stop_between_fresh_repetitions, "run", 300, "run") {
    sandbox s;
    sandbox_open(&s);
    char args[1024];
    snprintf(args, sizeof args, "%s --fresh-process --repetitions 3 --out '%s'", matrix, s.out);
    /* Children 0-2 are the first cell's repetitions, 3 and 4 the second's. */
    ASSERT_EQ(run(&s, "MMBENCH_TEST_SIGNAL=TERM:4", args), 143);
    ASSERT_EQ(tmp_entries(&s), 0);
    json_t *doc = mmb_test_load_json(NULL, s.out);
    ASSERT_EQ(entries_of(doc, cells[0]), 3);
    ASSERT_EQ(entries_of(doc, cells[1]), 0);
    ASSERT_EQ(json_array_size(json_object_get(mm_context(doc), "not_run")), 3);
    json_decref(doc);
    snprintf(args, sizeof args, "%s --fresh-process --repetitions 3 --resume '%s'", matrix, s.out);
    ASSERT_EQ(run(&s, "", args), 0);
    doc = mmb_test_load_json(NULL, s.out);
    for (int i = 0; i < 4; i++)
        ASSERT_EQ(entries_of(doc, cells[i]), 3);
    ASSERT_TRUE(json_is_true(json_object_get(mm_context(doc), "complete")));
    json_decref(doc);
    sandbox_close(&s);
}

/* Whether pid is still a process (a zombie counts as gone: it no longer runs). */
static bool alive(pid_t pid) {
    char path[64], state = 0;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    int ok = fscanf(f, "%*d %*s %c", &state);
    fclose(f);
    return ok == 1 && state != 'Z';
}

/* The cell process of `parent` now, or 0 (the run starts one at a time). */
static pid_t child_of(pid_t parent) {
    DIR *proc = opendir("/proc");
    ASSERT_TRUE(proc != NULL);
    pid_t found = 0;
    for (struct dirent *e; (e = readdir(proc)) != NULL && !found;) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        char path[300];
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        int ppid = 0, pgrp = 0;
        char state = 0;
        if (!f)
            continue;
        /* A cell's process leads its own group; popen's shell (valgrind --version) does not. */
        if (fscanf(f, "%*d %*s %c %d %d", &state, &ppid, &pgrp) == 3 && ppid == parent &&
            pgrp == atoi(e->d_name) && state != 'Z')
            found = atoi(e->d_name);
        fclose(f);
    }
    closedir(proc);
    return found;
}

/* A real SIGTERM from outside, to the parent only, while its second cell runs (under valgrind
 * with --instructions): the cell's process dies with its run, the first cell is kept. */
static void sigterm_to_parent(bool instructions) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    if (instructions)
        SKIP("a sanitized mmbench does not run under valgrind");
#endif
    if (instructions && system("valgrind --version >/dev/null 2>&1") != 0)
        SKIP("no valgrind here");
    sandbox s;
    sandbox_open(&s);
    char env_tmp[200];
    snprintf(env_tmp, sizeof env_tmp, "TMPDIR=%s", s.tmp);
    const char *objects = instructions ? "objects=200000" : "objects=3000000";
    char cell0[64];
    snprintf(cell0, sizeof cell0, "churn/rc/tiny/%s", objects);
    pid_t pid = fork();
    ASSERT_TRUE(pid >= 0);
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout) || !freopen(s.err, "w", stderr))
            _exit(127);
        char *argv[] = {(char *)mmb_test_arg,
                        "run",
                        "--format",
                        "none",
                        "--manager",
                        "rc,cpython,bacon-rajan,marksweep",
                        "--workload",
                        "churn",
                        "--scale",
                        "tiny",
                        "--param",
                        (char *)objects,
                        "--out",
                        s.out,
                        instructions ? "--instructions" : NULL,
                        NULL};
        char *envp[] = {env_tmp, "PATH=/usr/bin:/bin", NULL};
        execve(mmb_test_arg, argv, envp);
        _exit(127);
    }
    /* Wait for the second cell's process: the first has then finished. */
    pid_t first = 0, second = 0;
    for (int polls = 0; !second && polls < 600000; polls++) {
        pid_t c = child_of(pid);
        if (c && !first)
            first = c;
        else if (c && c != first)
            second = c;
        struct timespec ms = {0, 200000};
        nanosleep(&ms, NULL);
    }
    ASSERT_TRUE(second != 0);
    ASSERT_EQ(kill(pid, SIGTERM), 0);
    int ws;
    ASSERT_EQ(waitpid(pid, &ws, 0), pid);
    ASSERT_TRUE(WIFEXITED(ws));
    if (WEXITSTATUS(ws) == 0) { /* every cell finished before the signal: nothing to check */
        sandbox_close(&s);
        SKIP("every cell finished before the signal: nothing to check");
    }
    fprintf(stderr, "the run's standard error:\n%s",
            mmb_test_slurp(s.err)); /* shown when a check fails */
    ASSERT_EQ(WEXITSTATUS(ws), 143);
    ASSERT_TRUE(!alive(second));
    ASSERT_EQ(processes_now(&s), 0);
    ASSERT_EQ(tmp_entries(&s), 0);
    json_t *doc = mmb_test_load_json(NULL, s.out);
    ASSERT_TRUE(json_is_false(json_object_get(mm_context(doc), "complete")));
    ASSERT_EQ(entries_of(doc, cell0), 1);
    ASSERT_EQ(json_array_size(json_object_get(mm_context(doc), "not_run")) +
                  json_array_size(json_object_get(doc, "benchmarks")),
              4);
    json_decref(doc);
    /* The same flags with --resume (the cells' processes get them too, under valgrind). */
    char args[1024];
    snprintf(args, sizeof args,
             "--manager rc,cpython,bacon-rajan,marksweep --workload churn --scale tiny --param %s "
             "%s --resume '%s'",
             objects, instructions ? "--instructions" : "", s.out);
    ASSERT_EQ(run(&s, "", args), 0);
    ASSERT_EQ(tmp_entries(&s), 0);
    doc = mmb_test_load_json(NULL, s.out);
    ASSERT_TRUE(json_is_true(json_object_get(mm_context(doc), "complete")));
    ASSERT_EQ(json_array_size(json_object_get(doc, "benchmarks")), 4);
    size_t i;
    json_t *b;
    json_array_foreach(json_object_get(doc, "benchmarks"), i, b) {
        ASSERT_TRUE(!json_is_true(json_object_get(b, "error_occurred")));
        ASSERT_TRUE(!instructions || json_integer_value(json_object_get(b, "instructions")) > 0);
    }
    json_decref(doc);
    sandbox_close(&s);
}

TEST_MMBENCH(run_sigterm_to_parent_kills_the_cell, "run", 300, "run") {
    sigterm_to_parent(false);
}

TEST_MMBENCH(run_sigterm_to_parent_kills_valgrind, "run", 300, "run") {
    sigterm_to_parent(true);
}

/* Seeds are unsigned 64-bit, and what a result records is what --seed takes back. */
TEST_MMBENCH(run_seed_round_trips, "run", 300, "run") {
    sandbox s;
    sandbox_open(&s);
    static const char *const seeds[] = {"9223372036854775807", "9223372036854775808",
                                        "18446744073709551615"};
    for (int k = 0; k < 3; k++) {
        char args[1024];
        snprintf(args, sizeof args,
                 "--manager rc --workload churn --scale tiny --seed %s --out '%s'", seeds[k],
                 s.out);
        ASSERT_EQ(run(&s, "", args), 0);
        json_t *doc = mmb_test_load_json(NULL, s.out);
        json_t *seed = json_object_get(
            json_object_get(json_array_get(json_object_get(doc, "benchmarks"), 0), "mmbench"),
            "seed");
        char text[32];
        if (json_is_integer(seed))
            snprintf(text, sizeof text, "%lld", (long long)json_integer_value(seed));
        else
            snprintf(text, sizeof text, "%s",
                     json_string_value(seed) ? json_string_value(seed) : "?");
        ASSERT_TRUE(strcmp(text, seeds[k]) == 0);
        ASSERT_EQ(json_is_integer(seed), k == 0);
        ASSERT_TRUE(
            json_equal(seed, json_object_get(json_object_get(mm_context(doc), "matrix"), "seed")));
        json_decref(doc);
        /* The recorded value is accepted back. */
        snprintf(args, sizeof args,
                 "--manager rc --workload churn --scale tiny --seed %s "
                 "--topology 'synthetic:pack:1 core:2 pu:1'",
                 text);
        ASSERT_EQ(run(&s, "", args), 0);
    }
    sandbox_close(&s);
}

/* Bad flags stop the run before anything runs: one mmbench line, exit 2, nothing in $TMPDIR. */
TEST_MMBENCH(run_bad_flags_leave_nothing, "run", 300, "run") {
    sandbox s;
    sandbox_open(&s);
    static const struct {
        const char *args, *message;
    } cases[] = {
        {"--benchmark_repetitions=abc",
         "mmbench: error: run: --benchmark_repetitions: bad value 'abc' (expected an integer in "
         "1..64)"},
        {"--benchmark_min_time=abc", "--benchmark_min_time: bad value 'abc'"},
        {"--benchmark_min_warmup_time=-1", "--benchmark_min_warmup_time: bad value '-1'"},
        {"--benchmark_enable_random_interleaving=abc",
         "--benchmark_enable_random_interleaving: bad value 'abc'"},
        {"--benchmark_time_unit=h", "--benchmark_time_unit: bad value 'h'"},
        {"--benchmark_context=novalue", "--benchmark_context: bad value 'novalue'"},
        {"--benchmark_filter=churn", "mmbench sets --benchmark_filter itself"},
        {"--benchmark_out=x.json", "mmbench sets --benchmark_out itself (use --out)"},
        {"--benchmark_nope=1", "unknown flag '--benchmark_nope=1'"},
        {"--seed ' -1'", "--seed: bad value ' -1'"},
        {"--seed 18446744073709551616", "--seed: bad value '18446744073709551616'"},
        {"--seed 0x10", "--seed: bad value '0x10'"},
        {"--repetitions 65", "--repetitions: bad value '65' (expected an integer in 1..64)"},
        {"--shard 1/4294967297", "--shard: bad value '1/4294967297'"},
        {"--shard 1/-3", "--shard: bad value '1/-3'"},
        {"--shard ' 1/2'", "--shard: bad value ' 1/2'"},
        {"--cell-index 1x", "--cell-index: bad value '1x'"},
        {"--param window=8 --param window=16", "--param: key 'window' given twice"},
        {"--option cascade-threshold=1 --option cascade-threshold=2",
         "--option: key 'cascade-threshold' given twice"},
        {"--resume /nonexistent.json", "--resume /nonexistent.json: cannot read"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char args[1024];
        snprintf(args, sizeof args, "--manager rc --workload churn --scale tiny --out '%s' %s",
                 s.out, cases[k].args);
        ASSERT_EQ(run(&s, "", args), 2);
        const char *err = mmb_test_slurp(s.err);
        ASSERT_STR_CONTAINS(err, cases[k].message);
        ASSERT_TRUE(strncmp(err, "mmbench: error: run: ", 21) == 0);
        ASSERT_EQ(lines(err), 1);
        ASSERT_EQ(tmp_entries(&s), 0);
        ASSERT_TRUE(access(s.out, F_OK) != 0);
    }
    /* The flags mmbench passes through still work. */
    char args[1024];
    snprintf(args, sizeof args,
             "--manager rc --workload churn --scale tiny --benchmark_repetitions=2 "
             "--benchmark_min_warmup_time=0 --benchmark_context=k=v --out '%s'",
             s.out);
    ASSERT_EQ(run(&s, "", args), 0);
    json_t *doc = mmb_test_load_json(NULL, s.out);
    size_t i, iterations = 0;
    json_t *b;
    json_array_foreach(json_object_get(doc, "benchmarks"), i, b) {
        const char *type = json_string_value(json_object_get(b, "run_type"));
        iterations += type && strcmp(type, "iteration") == 0;
    }
    ASSERT_EQ(iterations, 2);
    ASSERT_TRUE(
        strcmp(json_string_value(json_object_get(json_object_get(doc, "context"), "k")), "v") == 0);
    json_decref(doc);
    ASSERT_EQ(tmp_entries(&s), 0);
    sandbox_close(&s);
}

/* Runs BODY in a forked child, which must exit 1; returns what it wrote to standard error. */
static const char *stderr_of_exit_1(void (*body)(void)) {
    char path[] = "/tmp/mmbench-oom-XXXXXX";
    int fd = mkstemp(path);
    ASSERT_TRUE(fd >= 0);
    pid_t pid = fork();
    ASSERT_TRUE(pid >= 0);
    if (pid == 0) {
        dup2(fd, STDERR_FILENO);
        body();
        _exit(0);
    }
    int ws;
    ASSERT_EQ(waitpid(pid, &ws, 0), pid);
    ASSERT_TRUE(WIFEXITED(ws));
    ASSERT_EQ(WEXITSTATUS(ws), 1);
    const char *err = mmb_test_slurp(path);
    unlink(path);
    close(fd);
    return err;
}

static void harness_runs_out(void) {
    struct rlimit rl = {.rlim_cur = 1ull << 30, .rlim_max = 1ull << 30};
    setrlimit(RLIMIT_AS, &rl);
    mmb_set_oom_where("run: churn/rc/tiny");
    mmb_xrealloc(NULL, (size_t)3 << 30);
}

/* Out of memory says where (the cell) and under which limit, in the one-line format. */
TEST_MMBENCH(run_out_of_memory_names_cell_and_limit, "run", 300, "run") {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    SKIP("the sanitizers' allocators report a failed allocation their own way");
#endif
    const char *err = stderr_of_exit_1(harness_runs_out);
    ASSERT_STR_CONTAINS(err, "mmbench: error: run: churn/rc/tiny: out of memory allocating "
                             "3221225472 bytes under an address-space limit of 1073741824 bytes "
                             "(ulimit -v) (hint: ");
    ASSERT_EQ(lines(err), 1);
}

static void *refuse_alloc(void *ctx, size_t bytes) {
    (void)ctx, (void)bytes;
    return NULL;
}

static void refuse_free(void *ctx, void *p, size_t bytes) {
    (void)ctx, (void)p, (void)bytes;
}

static void manager_runs_out(void) {
    mmb_set_oom_where("run: rings/marksweep/tiny");
    mmb_set_out_of_memory_handler(mmb_out_of_memory);
    const mmb_allocator refusing = {"refusing", NULL, refuse_alloc, refuse_free};
    mmb_alloc_or_die(&refusing, 4096);
}

/* A manager's own allocation that cannot fail (a work stack, a root table) failing: the line the
 * harness prints, through the handler run installs in each cell, not the managers' bare one. */
TEST_MMBENCH(run_out_of_memory_in_a_manager_names_the_cell, "run", 300, "run") {
    const char *err = stderr_of_exit_1(manager_runs_out);
    ASSERT_STR_CONTAINS(err, "mmbench: error: run: rings/marksweep/tiny: out of memory allocating "
                             "4096 bytes under ");
    ASSERT_EQ(lines(err), 1);
}
