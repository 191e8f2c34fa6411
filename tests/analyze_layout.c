/* The analyze layer reads one registry (harness/core/metrics.c): the gate's thresholds name only
 * registered metrics, report marks as best what compare calls better for every column, and
 * report orders families as the results document names them. In-process: the commands' mains
 * are called directly, their output sent to files. */
#include <fnmatch.h>
#include <glob.h>
#include <jansson.h>
#include <stdbool.h>
#include <unistd.h>

#include "compare.h"
#include "diag.h"
#include "metrics.h"
#include "report.h"
#include "report_model.h"
#include "test.h"

#define PATH_BYTES 600

/* The repository's root, from this file's path (CMake compiles it by its absolute path). */
static void source_root(char *buf, size_t n) {
    snprintf(buf, n, "%s", __FILE__);
    char *tail = strstr(buf, "/tests/analyze_layout.c");
    if (tail)
        *tail = '\0';
    else
        snprintf(buf, n, ".");
}

/* Whether a thresholds line's METRIC (a glob) names at least one registry row. */
static bool metric_is_registered(const char *pattern) {
    for (size_t i = 0; i < mmb_metric_count; i++)
        if (fnmatch(pattern, mmb_metrics[i].name, 0) == 0)
            return true;
    return false;
}

/* Checks every line of one thresholds file; returns how many metrics it named, -1 on one that
 * has no row (printed). */
static int check_thresholds(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[512];
    int named = 0, bad = 0;
    while (fgets(line, sizeof line, f)) {
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '#' || *p == '\n' || *p == '\0')
            continue;
        size_t len = strcspn(p, " \t@\n#");
        p[len] = '\0';
        named++;
        /* the registry's defaults, and every exact or timed metric: words, not metric names */
        if (strcmp(p, "defaults") == 0 || strcmp(p, ":exact") == 0 || strcmp(p, ":timed") == 0)
            continue;
        if (!metric_is_registered(p)) {
            fprintf(stderr, "%s: metric '%s' has no row in the registry\n", path, p);
            bad++;
        }
    }
    fclose(f);
    return bad ? -1 : named;
}

TEST(analyze_thresholds_name_only_registered_metrics) {
    /* the checker can fail */
    ASSERT_TRUE(!metric_is_registered("frobs_per_second"));
    ASSERT_TRUE(metric_is_registered("pause_*"));
    char root[4096], pattern[4200];
    source_root(root, sizeof root);
    snprintf(pattern, sizeof pattern, "%s/ci/regress-thresholds*.txt", root);
    glob_t g;
    ASSERT_EQ(glob(pattern, 0, NULL, &g), 0);
    ASSERT_TRUE(g.gl_pathc >= 2); /* regress-thresholds.txt and -timing.txt */
    for (size_t i = 0; i < g.gl_pathc; i++) {
        int named = check_thresholds(g.gl_pathv[i]);
        if (named <= 0)
            fprintf(stderr, "%s: %d\n", g.gl_pathv[i], named);
        ASSERT_TRUE(named > 0);
    }
    globfree(&g);
}

/* Runs main(argv) with standard output sent to out_path; returns its status. */
static int run_main(int (*fn)(int, char **), char **argv, const char *out_path) {
    int argc = 0;
    while (argv[argc])
        argc++;
    fflush(stdout);
    int saved = dup(1);
    FILE *out = fopen(out_path, "w");
    ASSERT_TRUE(out != NULL);
    dup2(fileno(out), 1);
    int status = fn(argc, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    fclose(out);
    return status;
}

/* An entry of cell `cell` (manager `manager`) where every report column's metric is `scale`
 * times 1000 (timed metrics plus the repetition, so two sides never overlap). */
static json_t *entry(const char *cell, const char *manager, const char *family, double scale,
                     int rep) {
    json_t *mm = json_pack("{ssssssssss}", "cell", cell, "manager", manager, "workload", "w",
                           "family", family, "scale", "tiny");
    json_object_set_new(mm, "params", json_pack("{si}", "threads", 2));
    json_t *e = json_pack("{sssssisssO}", "name", cell, "run_type", "iteration", "repetition_index",
                          rep, "time_unit", "ns", "mmbench", mm);
    json_decref(mm);
    for (int c = 0; c < mmb_report_column_count(); c++) {
        const mmb_metric *m = mmb_report_column(c);
        json_object_set_new(e, m->name, json_real(scale * 1000 + (m->exact ? 0 : rep)));
    }
    json_object_set_new(e, "collections_young", json_real(0)); /* collections: full + young */
    return e;
}

static void write_doc(const char *path, json_t *benchmarks, json_t *families) {
    json_t *mm = json_object();
    if (families)
        json_object_set(mm, "families", families);
    json_t *doc = json_pack("{s{so}so}", "context", "mmbench", mm, "benchmarks", benchmarks);
    ASSERT_EQ(json_dump_file(doc, path, JSON_COMPACT), 0);
    json_decref(doc);
}

/* The line of `text` that holds `word` between spaces; "" when none. */
static void line_with(const char *text, const char *word, char *buf, size_t n) {
    char needle[128];
    snprintf(needle, sizeof needle, " %s ", word);
    const char *at = strstr(text, needle);
    buf[0] = '\0';
    if (!at)
        return;
    const char *start = at, *end = strchr(at, '\n');
    while (start > text && start[-1] != '\n')
        start--;
    snprintf(buf, n, "%.*s", (int)((end ? end : at + strlen(at)) - start), start);
}

/* The `best` field (the last) of the CSV line whose manager field is `manager`. */
static void best_of(const char *csv, const char *manager, char *buf, size_t n) {
    char key[64];
    snprintf(key, sizeof key, ",%s,", manager);
    buf[0] = '\0';
    for (const char *line = strchr(csv, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
        const char *end = strchr(line + 1, '\n');
        size_t len = end ? (size_t)(end - line - 1) : strlen(line + 1);
        char row[8192];
        snprintf(row, sizeof row, "%.*s", (int)len, line + 1);
        if (strstr(row, key)) {
            const char *last = strrchr(row, ',');
            snprintf(buf, n, " %s ", last ? last + 1 : "");
            return;
        }
    }
}

/* For every report column, the manager report marks best is the one compare calls improved:
 * both take the direction from the registry (they once disagreed on two metrics). */
TEST(analyze_report_best_is_what_compare_calls_better) {
    char dir[] = "/tmp/mmbench-analyze-XXXXXX";
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    char both[PATH_BYTES], base[PATH_BYTES], next[PATH_BYTES], limits[PATH_BYTES], csv[PATH_BYTES],
        out[PATH_BYTES];
    const struct {
        char *path;
        const char *name;
    } files[] = {{both, "both.json"},    {base, "base.json"}, {next, "new.json"},
                 {limits, "limits.txt"}, {csv, "report.csv"}, {out, "compare.txt"}};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        snprintf(files[i].path, PATH_BYTES, "%s/%s", dir, files[i].name);
    json_t *all = json_array(), *a = json_array(), *b = json_array();
    for (int rep = 0; rep < 5; rep++) {
        json_array_append_new(all, entry("w/low/tiny", "low", "threaded", 1, rep));
        json_array_append_new(all, entry("w/high/tiny", "high", "threaded", 2, rep));
        json_array_append_new(a, entry("w/m/tiny", "m", "threaded", 1, rep));
        json_array_append_new(b, entry("w/m/tiny", "m", "threaded", 2, rep));
    }
    write_doc(both, all, NULL);
    write_doc(base, a, NULL);
    write_doc(next, b, NULL);
    FILE *f = fopen(limits, "w");
    ASSERT_TRUE(f != NULL);
    fputs("* +5%\n", f);
    fclose(f);

    char *report_argv[] = {"report", "--format", "csv", "--out", csv, both, NULL};
    ASSERT_EQ(run_main(mmb_report_main, report_argv, out), EXIT_OK);
    char *compare_argv[] = {"compare", "--thresholds", limits, base, next, NULL};
    ASSERT_EQ(run_main(mmb_compare_main, compare_argv, out), EXIT_FAILED); /* lower-is-better */
    const char *table = mmb_test_slurp(csv);
    char high_best[2048], low_best[2048];
    best_of(table, "high", high_best, sizeof high_best);
    best_of(table, "low", low_best, sizeof low_best);
    const char *verdicts = mmb_test_slurp(out);
    for (int c = 0; c < mmb_report_column_count(); c++) {
        const mmb_metric *m = mmb_report_column(c);
        char key[96], line[1024];
        snprintf(key, sizeof key, " %s ", mmb_report_column_key(c));
        bool high_is_best = strstr(high_best, key) != NULL;
        bool low_is_best = strstr(low_best, key) != NULL;
        line_with(verdicts, m->name, line, sizeof line);
        bool doubled_regressed = strstr(line, "REGRESSION") != NULL;
        bool doubled_improved = strstr(line, "improved") != NULL;
        if (high_is_best == low_is_best || high_is_best != doubled_improved ||
            low_is_best != doubled_regressed)
            fprintf(stderr, "column %s: report best high=%d low=%d; compare: '%s'\n", m->name,
                    high_is_best, low_is_best, line);
        ASSERT_TRUE(high_is_best != low_is_best);
        ASSERT_EQ(high_is_best, m->better == MMB_HIGHER_IS_BETTER);
        ASSERT_EQ(doubled_improved, high_is_best);
        ASSERT_EQ(doubled_regressed, low_is_best);
    }
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ASSERT_EQ(system(cmd), 0);
}

/* Tables follow the families as the document's context names them; without that list (older
 * results), the order in which they first appear. */
TEST(analyze_report_orders_families_as_the_document_names_them) {
    char dir[] = "/tmp/mmbench-analyze-XXXXXX";
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    char named[PATH_BYTES], plain[PATH_BYTES], out[PATH_BYTES];
    snprintf(named, PATH_BYTES, "%s/named.json", dir);
    snprintf(plain, PATH_BYTES, "%s/plain.json", dir);
    snprintf(out, PATH_BYTES, "%s/report.md", dir);
    json_t *cells = json_array();
    json_array_append_new(cells, entry("w/m/tiny", "m", "many-small", 1, 0));
    json_t *late = entry("v/m/tiny", "m", "threaded", 1, 0);
    json_object_set_new(json_object_get(late, "mmbench"), "workload", json_string("v"));
    json_array_append_new(cells, late);
    json_t *families = json_pack("[ss]", "threaded", "many-small");
    write_doc(named, json_deep_copy(cells), families);
    write_doc(plain, cells, NULL);
    json_decref(families);

    char *named_argv[] = {"report", named, NULL};
    ASSERT_EQ(run_main(mmb_report_main, named_argv, out), EXIT_OK);
    const char *md = mmb_test_slurp(out);
    ASSERT_TRUE(strstr(md, "## threaded") != NULL && strstr(md, "## many-small") != NULL);
    ASSERT_TRUE(strstr(md, "## threaded") < strstr(md, "## many-small"));
    char *plain_argv[] = {"report", plain, NULL};
    ASSERT_EQ(run_main(mmb_report_main, plain_argv, out), EXIT_OK);
    md = mmb_test_slurp(out);
    ASSERT_TRUE(strstr(md, "## many-small") < strstr(md, "## threaded"));
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ASSERT_EQ(system(cmd), 0);
}
