/* The gate cannot pass by accident: every metric a real run emits has a registry row with a
 * direction (metrics.h), compare judges higher-is-better metrics as such, and merge refuses
 * shards that repeat or share cells. Tests taking an argument get the mmbench binary. */
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <unistd.h>

#include "metrics.h"
#include "mmbench_cli.h"
#include "report_model.h"
#include "test.h"

static const char *slurp(const char *path) {
    const char *text = mmb_test_slurp(path);
    fputs(text, stderr); /* shown by ctest --output-on-failure */
    return text;
}

/* Every numeric key of every entry of a real run - all managers, all workloads, threads 1 and 2
 * (so scaling_efficiency appears), server paced (so its offered load appears), with aggregates -
 * has a registry row with a direction, or is Google Benchmark's bookkeeping. */
TEST_MMBENCH(gate_every_emitted_metric_has_a_row, "gate", 600, "gate") {
    ASSERT_TRUE(mmb_test_arg != NULL);
    json_t *root =
        mmb_test_run_json("--manager all --workload all --scale tiny --param threads=1,2 "
                          "--param rate=1000000 --repetitions 2");
    size_t i, checked = 0;
    json_t *b;
    bool per_thread = false, scaling = false, offered = false;
    json_array_foreach(json_object_get(root, "benchmarks"), i, b) {
        const char *key;
        json_t *v;
        json_object_foreach(b, key, v) {
            if (!json_is_number(v) || mmb_metric_is_bookkeeping(key))
                continue;
            const mmb_metric *m = mmb_metric_find(key);
            if (!m)
                fprintf(stderr, "metric '%s' has no row in harness/core/metrics.c\n", key);
            ASSERT_TRUE(m != NULL);
            ASSERT_TRUE(m->better == MMB_LOWER_IS_BETTER || m->better == MMB_HIGHER_IS_BETTER ||
                        m->better == MMB_EITHER_IS_WORSE);
            ASSERT_TRUE(m->title && *m->title);
            per_thread |= strcmp(key, "per_thread_units_per_second") == 0;
            scaling |= strcmp(key, "scaling_efficiency") == 0;
            offered |= strcmp(key, "server_offered_requests_per_second") == 0;
            checked++;
        }
    }
    ASSERT_TRUE(per_thread && scaling); /* the run did emit the two the issue names */
    ASSERT_TRUE(offered);
    ASSERT_TRUE(checked > 100);
    ASSERT_EQ(mmb_metric_find("per_thread_units_per_second")->better, MMB_HIGHER_IS_BETTER);
    ASSERT_EQ(mmb_metric_find("scaling_efficiency")->better, MMB_HIGHER_IS_BETTER);
    ASSERT_EQ(mmb_metric_find("work_units_per_second")->better, MMB_HIGHER_IS_BETTER);
    ASSERT_EQ(mmb_metric_find("pause_max_ns")->better, MMB_LOWER_IS_BETTER);
    json_decref(root);
}

/* The registry has one row per name, and every report column names a row that agrees with
 * what the column shows. */
TEST(gate_registry_rows_are_unique_and_report_columns_registered) {
    for (size_t i = 0; i < mmb_metric_count; i++)
        for (size_t j = i + 1; j < mmb_metric_count; j++)
            ASSERT_TRUE(strcmp(mmb_metrics[i].name, mmb_metrics[j].name) != 0);
    /* report's columns are the registry's rows with a position: 1..count, each once */
    ASSERT_TRUE(mmb_report_column_count() > 0);
    ASSERT_TRUE(mmb_report_column_count() <= MMB_REPORT_COLUMNS_MAX);
    for (int c = 0; c < mmb_report_column_count(); c++) {
        const mmb_metric *m = mmb_report_column(c);
        ASSERT_TRUE(m != NULL);
        ASSERT_TRUE(mmb_metric_find(m->name) == m);
        ASSERT_EQ(mmb_report_column_of(m->name), c);
    }
    ASSERT_EQ(mmb_report_column(mmb_report_column_of("per_thread_units_per_second"))->better,
              MMB_HIGHER_IS_BETTER);
    ASSERT_EQ(mmb_report_column(mmb_report_column_of("scaling_efficiency"))->better,
              MMB_HIGHER_IS_BETTER);
}

/* Sets every iteration entry's `metric`, where it has one, to factor x (1000 + its repetition
 * index): values that do not depend on this machine's load, and two sides that never overlap
 * (so the U test's p is its least, 2/252 for 5 a side); returns how many it set. */
static size_t set_metric(json_t *root, const char *metric, double factor) {
    size_t i, n = 0;
    json_t *b;
    json_array_foreach(json_object_get(root, "benchmarks"), i, b) {
        json_t *v = json_object_get(b, metric);
        const char *type = json_string_value(json_object_get(b, "run_type"));
        if (!json_is_number(v) || !type || strcmp(type, "iteration") != 0)
            continue;
        double rep = (double)json_integer_value(json_object_get(b, "repetition_index"));
        json_object_set_new(b, metric, json_real(factor * (1000 + rep)));
        n++;
    }
    return n;
}

/* Doubling every higher-is-better metric a real threaded run has is an improvement (exit 0),
 * under the default limits and under a thresholds file of +5% for every metric; halving them
 * is a regression (exit 1), so the test can fail. */
TEST_MMBENCH(gate_doubled_higher_is_better_is_not_a_regression, "gate", 600, "gate") {
    ASSERT_TRUE(mmb_test_arg != NULL);
    char dir[] = "/tmp/mmbench-gate-XXXXXX";
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    char base[600], better[600], worse[600], limits[600], out[600], args[4096];
    snprintf(base, sizeof base, "%s/base.json", dir);
    snprintf(better, sizeof better, "%s/better.json", dir);
    snprintf(worse, sizeof worse, "%s/worse.json", dir);
    snprintf(limits, sizeof limits, "%s/limits.txt", dir);
    snprintf(out, sizeof out, "%s/out.txt", dir);
    json_t *root = mmb_test_run_json("--manager rc-atomic --workload parallel-churn --scale tiny "
                                     "--param threads=1,2 --repetitions 5");
    json_t *up = json_deep_copy(root), *down = json_deep_copy(root);
    size_t scaled = 0;
    for (size_t k = 0; k < mmb_metric_count; k++) {
        if (mmb_metrics[k].better != MMB_HIGHER_IS_BETTER)
            continue;
        scaled += set_metric(root, mmb_metrics[k].name, 1);
        set_metric(up, mmb_metrics[k].name, 2);
        set_metric(down, mmb_metrics[k].name, 0.5);
    }
    ASSERT_EQ(json_dump_file(root, base, JSON_COMPACT), 0);
    ASSERT_TRUE(scaled >= 10 * 3); /* 10 entries; units/s, per thread, MMU, and scaling */
    ASSERT_EQ(json_dump_file(up, better, JSON_COMPACT), 0);
    ASSERT_EQ(json_dump_file(down, worse, JSON_COMPACT), 0);
    FILE *f = fopen(limits, "w");
    ASSERT_TRUE(f != NULL);
    fputs("* +5%\n", f);
    fclose(f);

    snprintf(args, sizeof args, "compare %s %s", base, better);
    ASSERT_EQ(mmb_test_mmbench(args, out, NULL), 0);
    const char *text = slurp(out);
    ASSERT_STR_CONTAINS(text, "summary: 0 regressions, 0 over limit but not significant");
    ASSERT_STR_CONTAINS(text, "5 improved"); /* units/s, per thread (2 cells), scaling */
    ASSERT_STR_CONTAINS(text,
                        "parallel-churn/rc-atomic/tiny/threads=2  per_thread_units_per_second");
    ASSERT_TRUE(strstr(text, "REGRESSION") == NULL);
    snprintf(args, sizeof args, "compare --thresholds %s %s %s", limits, base, better);
    ASSERT_EQ(mmb_test_mmbench(args, out, NULL), 0);
    text = slurp(out);
    ASSERT_TRUE(strstr(text, "REGRESSION") == NULL);
    ASSERT_STR_CONTAINS(text, "7 improved"); /* and MMU (no default limit), 2 cells */
    /* scaling_efficiency doubles too: one value per cell, the same in every repetition */
    const char *line = strstr(text, "scaling_efficiency");
    ASSERT_TRUE(line != NULL);
    ASSERT_STR_CONTAINS(line, "improved");

    snprintf(args, sizeof args, "compare --thresholds %s %s %s", limits, base, worse);
    ASSERT_EQ(mmb_test_mmbench(args, out, NULL), 1);
    text = slurp(out);
    ASSERT_STR_CONTAINS(text, "summary: 7 regressions,");
    line = strstr(text, "scaling_efficiency");
    ASSERT_TRUE(line != NULL);
    ASSERT_STR_CONTAINS(line, "REGRESSION");
    line = strstr(text, "per_thread_units_per_second");
    ASSERT_TRUE(line != NULL);
    ASSERT_STR_CONTAINS(line, "REGRESSION");
    json_decref(root);
    json_decref(up);
    json_decref(down);
    snprintf(args, sizeof args, "rm -rf %s", dir);
    ASSERT_EQ(system(args), 0);
}

/* Writes `doc` with entry `from` of `src` appended to its benchmarks. */
static void write_with_entry(const char *path, json_t *doc, json_t *src, size_t from) {
    json_t *copy = json_deep_copy(doc);
    json_array_append(json_object_get(copy, "benchmarks"),
                      json_array_get(json_object_get(src, "benchmarks"), from));
    ASSERT_EQ(json_dump_file(copy, path, JSON_COMPACT), 0);
    json_decref(copy);
}

/* merge refuses a shard that repeats a cell, and a shard holding another shard's cell. */
TEST_MMBENCH(gate_merge_refuses_repeated_cells, "gate", 600, "gate") {
    ASSERT_TRUE(mmb_test_arg != NULL);
    char dir[] = "/tmp/mmbench-gate-XXXXXX";
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    char args[4096], err[600], path[700];
    snprintf(err, sizeof err, "%s/err", dir);
    const char *matrix = "--manager rc,cpython --workload churn,rings --scale tiny "
                         "--repetitions 2 --format none";
    for (int k = 1; k <= 2; k++) {
        snprintf(args, sizeof args, "run %s --shard %d/2 --out %s/s%d.json", matrix, k, dir, k);
        ASSERT_EQ(mmb_test_mmbench(args, NULL, NULL), 0);
    }
    snprintf(args, sizeof args, "merge --format none %s/s1.json %s/s2.json", dir, dir);
    ASSERT_EQ(mmb_test_mmbench(args, NULL, err), 0);

    json_t *s1 = mmb_test_load_json(dir, "s1.json");
    json_t *s2 = mmb_test_load_json(dir, "s2.json");
    const char *first = json_string_value(json_object_get(
        json_object_get(json_array_get(json_object_get(s1, "benchmarks"), 0), "mmbench"), "cell"));
    const char *other = json_string_value(json_object_get(
        json_object_get(json_array_get(json_object_get(s2, "benchmarks"), 0), "mmbench"), "cell"));
    ASSERT_TRUE(first && other);
    char want[700];

    /* Shard 1 with its first entry twice: a repeated cell. */
    snprintf(path, sizeof path, "%s/s1-repeated.json", dir);
    write_with_entry(path, s1, s1, 0);
    snprintf(args, sizeof args, "merge --format none %s %s/s2.json", path, dir);
    ASSERT_EQ(mmb_test_mmbench(args, NULL, err), 2);
    snprintf(want, sizeof want, "s1-repeated.json: cell %s is repeated: its repetition (0)", first);
    ASSERT_STR_CONTAINS(slurp(err), want);

    /* Shard 1 with a cell of shard 2: overlapping shards. */
    snprintf(path, sizeof path, "%s/s1-overlap.json", dir);
    write_with_entry(path, s1, s2, 0);
    snprintf(args, sizeof args, "merge --format none %s/s2.json %s", dir, path);
    ASSERT_EQ(mmb_test_mmbench(args, NULL, err), 2);
    snprintf(want, sizeof want, "s1-overlap.json: cell %s (matrix index 1) is not in shard 1 of 2",
             other);
    ASSERT_STR_CONTAINS(slurp(err), want);
    ASSERT_STR_CONTAINS(slurp(err), "the shards overlap");
    json_decref(s1);
    json_decref(s2);
    snprintf(args, sizeof args, "rm -rf %s", dir);
    ASSERT_EQ(system(args), 0);
}
