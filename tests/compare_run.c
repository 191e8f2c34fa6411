/* `mmbench compare` on real `mmbench run` output: a file against itself, and against a copy with
 * an injected slowdown or a deterministic counter changed by one. The argument is the binary. */
#include <jansson.h>
#include <unistd.h>

#include "mmbench_cli.h"
#include "test.h"

static char run_path[] = "/tmp/mmbench-compare-run-XXXXXX";

static void run_once(void) {
    ASSERT_TRUE(mmb_test_arg != NULL);
    mmb_test_temp_file(run_path);
    char args[2048];
    snprintf(args, sizeof args,
             "run --workload churn,rings --manager rc,cpython --scale tiny --repetitions 9 "
             "--format none --out %s",
             run_path);
    ASSERT_EQ(mmb_test_mmbench(args, NULL, "/dev/stderr"), 0);
}

/* Runs compare; returns its exit status, its standard output in `out`. */
static int compare(const char *base, const char *next, char *out, size_t n) {
    char out_path[] = "/tmp/mmbench-compare-out-XXXXXX";
    mmb_test_temp_file(out_path);
    char args[2048];
    snprintf(args, sizeof args, "compare %s %s", base, next);
    int status = mmb_test_mmbench(args, out_path, "/dev/stderr");
    FILE *f = fopen(out_path, "r");
    ASSERT_TRUE(f != NULL);
    size_t len = fread(out, 1, n - 1, f);
    out[len] = '\0';
    fclose(f);
    unlink(out_path);
    fputs(out, stderr); /* shown by ctest --output-on-failure */
    return status;
}

/* Copies the run in SRC to PATH with `metric` of one cell's repetitions changed: times factor,
 * plus add; with spread > 0, the repetitions are first set to the first one's value times
 * (1 + i * spread), so that a test of significance does not depend on the machine's noise. */
static void write_changed_from(const char *src, const char *path, const char *cell,
                               const char *metric, double factor, double add, double spread) {
    json_error_t err;
    json_t *root = json_load_file(src, 0, &err);
    ASSERT_TRUE(root != NULL);
    size_t i, changed = 0;
    json_t *b;
    double first = -1;
    json_array_foreach(json_object_get(root, "benchmarks"), i, b) {
        const char *name =
            json_string_value(json_object_get(json_object_get(b, "mmbench"), "cell"));
        const char *type = json_string_value(json_object_get(b, "run_type"));
        if (!name || strcmp(name, cell) != 0 || !type || strcmp(type, "iteration") != 0)
            continue;
        double v = json_number_value(json_object_get(b, metric));
        if (first < 0)
            first = v;
        if (spread > 0)
            v = first * (1 + (double)changed * spread);
        json_object_set_new(b, metric, json_real(v * factor + add));
        changed++;
    }
    ASSERT_EQ(changed, 9);
    ASSERT_EQ(json_dump_file(root, path, JSON_COMPACT), 0);
    json_decref(root);
}

static void write_changed(const char *path, const char *cell, const char *metric, double factor,
                          double add) {
    write_changed_from(run_path, path, cell, metric, factor, add, 0);
}

/* Copies into `buf` the line of the report that starts with `cell` and names `metric`; returns
 * buf, or NULL when there is none. */
static const char *line_with(const char *out, const char *cell, const char *metric, char *buf,
                             size_t n) {
    size_t lc = strlen(cell);
    for (const char *line = out; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        snprintf(buf, n, "%.*s", (int)len, line);
        if (strncmp(buf, cell, lc) == 0 && buf[lc] == ' ' && strstr(buf, metric))
            return buf;
        line += len + (end != NULL);
    }
    return NULL;
}

TEST_MMBENCH(compare_run_with_itself, "compare", 600, "compare") {
    run_once();
    static char out[1 << 16];
    ASSERT_EQ(compare(run_path, run_path, out, sizeof out), 0);
    ASSERT_STR_CONTAINS(out, "no metric changed");
    ASSERT_STR_CONTAINS(out, "summary: 0 regressions");
    ASSERT_STR_CONTAINS(out, "cells: 4 compared, 0 only in BASE, 0 only in NEW; 0 warnings");
    unlink(run_path);
}

/* A slowdown of 2x against repetitions 1% apart: on a loaded machine, real repetitions of a tiny
 * cell can differ by more than 2x, and then no test of 9 against 9 could call it significant. */
TEST_MMBENCH(compare_run_injected_slowdown, "compare", 600, "compare") {
    run_once();
    char base[sizeof run_path + 8], slow[sizeof run_path + 8];
    snprintf(base, sizeof base, "%s.base", run_path);
    snprintf(slow, sizeof slow, "%s.slow", run_path);
    write_changed_from(run_path, base, "rings/cpython/tiny", "real_time", 1, 0, 0.01);
    write_changed_from(base, slow, "rings/cpython/tiny", "real_time", 2, 0, 0);
    static char out[1 << 16];
    ASSERT_EQ(compare(base, slow, out, sizeof out), 1);
    char buf[512];
    const char *line = line_with(out, "rings/cpython/tiny", "real_time", buf, sizeof buf);
    ASSERT_TRUE(line != NULL);
    ASSERT_STR_CONTAINS(line, "+100.0%");
    ASSERT_STR_CONTAINS(line, "REGRESSION");
    unlink(base);
    unlink(slow);
    unlink(run_path);
}

TEST_MMBENCH(compare_run_counter_changed_by_one, "compare", 600, "compare") {
    run_once();
    char more[sizeof run_path + 8];
    snprintf(more, sizeof more, "%s.more", run_path);
    write_changed(more, "churn/rc/tiny", "increments", 1, 1);
    static char out[1 << 16];
    ASSERT_EQ(compare(run_path, more, out, sizeof out), 1);
    char buf[512];
    const char *line = line_with(out, "churn/rc/tiny", "increments", buf, sizeof buf);
    ASSERT_TRUE(line != NULL);
    ASSERT_STR_CONTAINS(line, "exact  REGRESSION");
    ASSERT_STR_CONTAINS(out, "summary: 1 regression,");
    unlink(more);
    unlink(run_path);
}
