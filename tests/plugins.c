/* Plug-in managers (harness/verify/plugins.h): the toy plug-in of tests/plugins/ listed, replayed,
 * stressed and run, its path and hash in the results; compare and merge on a changed hash; and one
 * broken build of it per rule the loader checks, each refused with one line and exit 2 before
 * anything runs. The tests' argument is the mmbench binary. */
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "mmbench/manager.h"
#include "mmbench_cli.h"
#include "plugins.h"
#include "test.h"

#define PLUGIN(name) MMB_TEST_PLUGIN_DIR "/lib" name ".so"
#define TRACE        MMB_TEST_SOURCE_DIR "/traces/good/ring_and_chain.trace"

/* Runs `mmbench ARGS`; returns its status with its stdout and stderr in out/err (each at most
 * 64 KiB, NUL-terminated). */
static int run_cli(const char *args, char *out, char *err) {
    char out_path[] = "/tmp/mmbench-plugins-out-XXXXXX",
         err_path[] = "/tmp/mmbench-plugins-err-XXXXXX";
    mmb_test_temp_file(out_path);
    mmb_test_temp_file(err_path);
    int status = mmb_test_mmbench(args, out_path, err_path);
    snprintf(out, 65536, "%s", mmb_test_slurp(out_path));
    snprintf(err, 65536, "%s", mmb_test_slurp(err_path));
    unlink(out_path);
    unlink(err_path);
    return status;
}

/* `mmbench ARGS` refuses with exactly one line, "mmbench: error: " + where_what, exit 2, and
 * nothing on stdout. */
static void expect_refused(const char *args, const char *where_what) {
    static char out[65536], err[65536];
    int status = run_cli(args, out, err);
    fprintf(stderr, "mmbench %s: %s", args, err);
    ASSERT_EQ(status, 2);
    ASSERT_STR_EQ(out, "");
    char expected[1024];
    snprintf(expected, sizeof expected, "mmbench: error: %s", where_what);
    ASSERT_TRUE(strncmp(err, expected, strlen(expected)) == 0);
    ASSERT_TRUE(strchr(err, '\n') == err + strlen(err) - 1);
}

/* The 64-bit FNV-1a of a file, written out again here so the loader's is checked against it. */
static void fnv1a64(const char *path, char hex[17]) {
    FILE *in = fopen(path, "rb");
    ASSERT_TRUE(in != NULL);
    uint64_t h = 0xcbf29ce484222325ull;
    int c;
    while ((c = fgetc(in)) != EOF)
        h = (h ^ (uint64_t)c) * 0x100000001b3ull;
    fclose(in);
    snprintf(hex, 17, "%016llx", (unsigned long long)h);
}

TEST(plugin_bundled_managers_pass_the_check) {
    char err[512];
    for (size_t i = 0; i < mmb_manager_count(); i++) {
        int rc = mmb_manager_check(mmb_manager_at(i), err, sizeof err);
        if (rc)
            fprintf(stderr, "%s: %s\n", mmb_manager_at(i)->name, err);
        ASSERT_EQ(rc, 0);
    }
}

/* The rules no toy build breaks, on tables made here from a bundled one. */
TEST(plugin_check_catches_each_rule) {
    char err[512];
    const mmb_manager *rc = mmb_manager_find("rc");
    ASSERT_TRUE(rc != NULL);
    mmb_manager m = *rc;
    m.caps |= MMB_CAP_YOUNG;
    ASSERT_EQ(mmb_manager_check(&m, err, sizeof err), -1);
    ASSERT_STR_CONTAINS(err, "collect_young is NULL but MMB_CAP_YOUNG is claimed");
    m = *rc;
    m.thread_attach = rc->decref == NULL ? NULL : (void (*)(mmb_heap *))rc->collect;
    ASSERT_EQ(mmb_manager_check(&m, err, sizeof err), -1);
    ASSERT_STR_CONTAINS(err, "only one of thread_attach and thread_detach");
    m.thread_detach = m.thread_attach;
    ASSERT_EQ(mmb_manager_check(&m, err, sizeof err), -1);
    ASSERT_STR_CONTAINS(err, "does not claim MMB_CAP_THREAD_SAFE");
    m = *rc;
    m.name = "a/b";
    ASSERT_EQ(mmb_manager_check(&m, err, sizeof err), -1);
    ASSERT_STR_CONTAINS(err, "manager name 'a/b' has characters other than");
    m = *rc;
    m.summary = NULL;
    ASSERT_EQ(mmb_manager_check(&m, err, sizeof err), -1);
    ASSERT_STR_CONTAINS(err, "no summary");
    mmb_option_spec many[MMB_MAX_OPTIONS + 2] = {{0}};
    char names[MMB_MAX_OPTIONS + 1][8];
    for (int i = 0; i <= MMB_MAX_OPTIONS; i++) {
        snprintf(names[i], sizeof names[i], "o%d", i);
        many[i] = (mmb_option_spec){names[i], MMB_OPT_INT, 1, 0, 2, "one"};
    }
    m = *rc;
    m.options = many;
    ASSERT_EQ(mmb_manager_check(&m, err, sizeof err), -1);
    ASSERT_STR_CONTAINS(err, "more than 16 options");
    many[1] = (mmb_option_spec){"cascade-threshold", MMB_OPT_INT, 1, 0, 2, "one"};
    many[2] = (mmb_option_spec){NULL, MMB_OPT_INT, 0, 0, 0, NULL};
    ASSERT_EQ(mmb_manager_check(&m, err, sizeof err), -1);
    ASSERT_STR_CONTAINS(err, "option 'cascade-threshold' has the name of a common option");
    many[1] = (mmb_option_spec){"b", MMB_OPT_INT, 1, 3, 2, "one"};
    ASSERT_EQ(mmb_manager_check(&m, err, sizeof err), -1);
    ASSERT_STR_CONTAINS(err, "option 'b' has min > max");
    many[1] = (mmb_option_spec){"b", MMB_OPT_BOOL, 2, 0, 1, "one"};
    ASSERT_EQ(mmb_manager_check(&m, err, sizeof err), -1);
    ASSERT_STR_CONTAINS(err, "option 'b' is a bool whose default is neither 0 nor 1");
    many[1] = (mmb_option_spec){"b", MMB_OPT_BOOL, 1, 0, 1, NULL};
    ASSERT_EQ(mmb_manager_check(&m, err, sizeof err), -1);
    ASSERT_STR_CONTAINS(err, "option 'b' has no help line");
}

TEST_MMBENCH(plugin_list, "plugins", 60, "cli plugins") {
    static char out[65536], err[65536];
    char abs[PATH_MAX], hash[17], line[PATH_MAX + 100];
    ASSERT_TRUE(realpath(PLUGIN("toy"), abs) != NULL);
    fnv1a64(abs, hash);
    ASSERT_EQ(run_cli("list --manager " PLUGIN("toy"), out, err), 0);
    ASSERT_STR_EQ(err, "");
    ASSERT_STR_CONTAINS(out,
                        "managers:\n  toy          a test plug-in: plain reference counting\n");
    snprintf(line, sizeof line, "    plug-in              %s (toy 1.2.3, fnv1a64 %s)\n", abs, hash);
    ASSERT_STR_CONTAINS(out, line);
    ASSERT_STR_CONTAINS(out, "    toy-knob             default 4 ");
    ASSERT_STR_CONTAINS(out, "\n  toy-two      ");
    ASSERT_TRUE(strstr(out, "\n  rc ") == NULL); /* only the managers named */
    /* PATH:NAME: that one only. */
    ASSERT_EQ(run_cli("list --manager " PLUGIN("toy") ":toy-two", out, err), 0);
    ASSERT_STR_CONTAINS(out, "\n  toy-two      ");
    ASSERT_TRUE(strstr(out, "\n  toy   ") == NULL);
}

TEST_MMBENCH(plugin_replay_and_stress, "plugins", 120, "cli plugins") {
    static char out[65536], err[65536];
    ASSERT_EQ(run_cli("replay --verify --manager " PLUGIN("toy") ":toy " TRACE, out, err), 0);
    ASSERT_STR_CONTAINS(out, "{\"manager\":\"toy\",\"operations\":21,");
    ASSERT_STR_CONTAINS(out, "\"live_objects\":5,"); /* plain RC: the ring stays */
    ASSERT_STR_CONTAINS(out, "\"verify_errors\":0");
    /* The whole plug-in: both managers, each under the oracle; its option is accepted. */
    ASSERT_EQ(
        run_cli("stress --manager " PLUGIN("toy") " --seed 3 --ops 5000 --format table", out, err),
        0);
    ASSERT_STR_CONTAINS(out, "toy ");
    ASSERT_STR_CONTAINS(out, "toy-two ");
    ASSERT_EQ(run_cli("stress --manager " PLUGIN("toy") ":toy --option toy-knob=16 --seed 1 "
                                                        "--ops 2000",
                      out, err),
              0);
    expect_refused("stress --manager " PLUGIN("toy") ":toy --option toy-knob=17 --seed 1 --ops 9",
                   "stress: option 'toy-knob' of manager 'toy': bad value '17'");
}

/* run: the plug-in beside a bundled manager, its path and hash in the context and on its cells. */
TEST_MMBENCH(plugin_run_records_path_and_hash, "plugins", 300, "run plugins") {
    char abs[PATH_MAX], hash[17];
    ASSERT_TRUE(realpath(PLUGIN("toy"), abs) != NULL);
    fnv1a64(abs, hash);
    json_t *root = mmb_test_run_json("--manager " PLUGIN("toy") ":toy,rc --workload churn "
                                                                "--scale tiny --repetitions 1");
    json_t *mm = json_object_get(json_object_get(root, "context"), "mmbench");
    json_t *plugins = json_object_get(mm, "plugins");
    ASSERT_EQ(json_array_size(plugins), 1);
    json_t *p = json_array_get(plugins, 0);
    ASSERT_STR_EQ(json_string_value(json_object_get(p, "path")), abs);
    ASSERT_STR_EQ(json_string_value(json_object_get(p, "fnv1a64")), hash);
    ASSERT_STR_EQ(json_string_value(json_object_get(p, "name")), "toy");
    ASSERT_STR_EQ(json_string_value(json_object_get(p, "version")), "1.2.3");
    size_t i, toy = 0, rc = 0;
    json_t *b;
    json_array_foreach(json_object_get(root, "benchmarks"), i, b) {
        json_t *cell = json_object_get(b, "mmbench");
        const char *manager = json_string_value(json_object_get(cell, "manager"));
        const char *plugin = json_string_value(json_object_get(cell, "plugin"));
        ASSERT_TRUE(manager != NULL);
        ASSERT_TRUE(!json_is_true(json_object_get(b, "error_occurred")));
        if (strcmp(manager, "toy") == 0) {
            ASSERT_STR_EQ(plugin, abs);
            toy++;
        } else {
            ASSERT_STR_EQ(manager, "rc");
            ASSERT_TRUE(plugin == NULL);
            rc++;
        }
    }
    ASSERT_TRUE(toy > 0 && rc > 0);
    json_decref(root);
}

/* Writes doc to a new temporary file (its name in path). */
static void write_temp(json_t *doc, char *path) {
    mmb_test_temp_file(path);
    ASSERT_EQ(json_dump_file(doc, path, JSON_INDENT(1)), 0);
}

/* compare warns on a plug-in of another build; merge refuses shards of different plug-ins. */
TEST_MMBENCH(plugin_hash_compare_and_merge, "plugins", 300, "run plugins") {
    static char out[65536], err[65536];
    json_t *a = mmb_test_run_json("--manager " PLUGIN("toy") ":toy --workload churn --scale tiny "
                                                             "--repetitions 3 --shard 1/1");
    json_t *b = json_deep_copy(a);
    json_t *p = json_array_get(
        json_object_get(json_object_get(json_object_get(b, "context"), "mmbench"), "plugins"), 0);
    char ha[17];
    ASSERT_TRUE(json_string_value(json_object_get(p, "fnv1a64")) != NULL);
    snprintf(ha, sizeof ha, "%s", json_string_value(json_object_get(p, "fnv1a64")));
    char base[] = "/tmp/mmbench-plugins-a-XXXXXX", next[] = "/tmp/mmbench-plugins-b-XXXXXX";
    char args[512], expected[256];
    write_temp(a, base);
    /* The same file: no warning. */
    snprintf(args, sizeof args, "compare %s %s", base, base);
    ASSERT_EQ(run_cli(args, out, err), 0);
    ASSERT_TRUE(strstr(out, "plug-in") == NULL);
    snprintf(expected, sizeof expected,
             "warning: plug-in toy not the same build: BASE fnv1a64 %s, NEW 0123456789abcdef\n",
             ha);
    json_object_set_new(p, "fnv1a64", json_string("0123456789abcdef"));
    write_temp(b, next);
    snprintf(args, sizeof args, "compare %s %s", base, next);
    ASSERT_EQ(run_cli(args, out, err), 0);
    ASSERT_STR_CONTAINS(out, expected);
    char merged[] = "/tmp/mmbench-plugins-merged-XXXXXX";
    mmb_test_temp_file(merged);
    snprintf(args, sizeof args, "merge --out %s %s %s", merged, base, next);
    snprintf(expected, sizeof expected,
             "merge: %s has plug-ins toy fnv1a64 0123456789abcdef, but %s has toy fnv1a64 %s", next,
             base, ha);
    expect_refused(args, expected);
    unlink(base);
    unlink(next);
    unlink(merged);
    json_decref(a);
    json_decref(b);
}

/* --resume of a run made with another build of the plug-in is refused, naming the two hashes. */
TEST_MMBENCH(plugin_resume_refuses_another_build, "plugins", 300, "run plugins") {
    const char *flags = "--manager " PLUGIN("toy") ":toy --workload churn --scale tiny";
    json_t *doc = mmb_test_run_json(flags);
    json_t *p = json_array_get(
        json_object_get(json_object_get(json_object_get(doc, "context"), "mmbench"), "plugins"), 0);
    char here[17], path[] = "/tmp/mmbench-plugins-resume-XXXXXX", args[512], expected[512];
    snprintf(here, sizeof here, "%s", json_string_value(json_object_get(p, "fnv1a64")));
    json_object_set_new(p, "fnv1a64", json_string("0123456789abcdef"));
    write_temp(doc, path);
    snprintf(args, sizeof args, "run --format none --resume %s %s", path, flags);
    snprintf(expected, sizeof expected,
             "run: --resume %s: made by another build (plug-in toy fnv1a64 0123456789abcdef, this "
             "run's %s) (hint: resume with the build that started the run)\n",
             path, here);
    expect_refused(args, expected);
    unlink(path);
    json_decref(doc);
}

/* replay on the broken build PLUGIN refuses with "replay: PATH: WHAT" and nothing else. */
static void replay_refused(const char *plugin, const char *what) {
    char args[1024], expected[1024];
    snprintf(args, sizeof args, "replay --manager %s/lib%s.so %s", MMB_TEST_PLUGIN_DIR, plugin,
             TRACE);
    snprintf(expected, sizeof expected, "replay: %s/lib%s.so: %s", MMB_TEST_PLUGIN_DIR, plugin,
             what);
    expect_refused(args, expected);
}

/* One broken build per rule: one line naming the defect, exit 2, before anything runs. */
TEST_MMBENCH(plugin_refused_no_symbol, "plugins", 60, "cli plugins") {
    replay_refused("no-symbol", "not an mmbench plug-in (no symbol mmbench_plugin)\n");
}

TEST_MMBENCH(plugin_refused_wrong_abi, "plugins", 60, "cli plugins") {
    expect_refused("stress --manager " PLUGIN("wrong-abi") " --seed 1 --ops 10",
                   "stress: " MMB_TEST_PLUGIN_DIR "/libwrong-abi.so: built for ABI version 3, this "
                   "mmbench has ABI version 2 (hint: rebuild it against this mmbench's SDK)\n");
}

TEST_MMBENCH(plugin_refused_null, "plugins", 60, "cli plugins") {
    expect_refused("list --manager " PLUGIN("null"),
                   "list: " MMB_TEST_PLUGIN_DIR "/libnull.so: mmbench_plugin(2) returned NULL");
}

TEST_MMBENCH(plugin_refused_no_name, "plugins", 60, "cli plugins") {
    replay_refused("no-name", "a manager has no name\n");
}

TEST_MMBENCH(plugin_refused_duplicate_name, "plugins", 60, "cli plugins") {
    replay_refused("duplicate-name", "two managers are named 'toy'\n");
}

TEST_MMBENCH(plugin_refused_taken_name, "plugins", 60, "cli plugins") {
    replay_refused("taken-name",
                   "manager 'rc' has the name of a registered manager (hint: rename it)\n");
}

TEST_MMBENCH(plugin_refused_missing_op, "plugins", 60, "cli plugins") {
    replay_refused("missing-op", "manager 'toy' has no store operation (it is required)\n");
}

TEST_MMBENCH(plugin_refused_duplicate_option, "plugins", 60, "cli plugins") {
    replay_refused("duplicate-option", "manager 'toy': option 'toy-knob' is declared twice\n");
}

TEST_MMBENCH(plugin_refused_bad_default, "plugins", 60, "cli plugins") {
    replay_refused("bad-default",
                   "manager 'toy': option 'toy-knob' has its default outside its own [min, max]\n");
}

/* run refuses before any cell: nothing written, nothing on stdout. */
TEST_MMBENCH(plugin_refused_by_run, "plugins", 60, "cli plugins") {
    expect_refused("run --manager rc," PLUGIN("bad-default") " --workload churn --scale tiny",
                   "run: " MMB_TEST_PLUGIN_DIR "/libbad-default.so: manager 'toy': option "
                   "'toy-knob' has its default outside its own [min, max]\n");
}

TEST_MMBENCH(plugin_refused_not_a_library, "plugins", 60, "cli plugins") {
    expect_refused("replay --manager " TRACE ".so " TRACE,
                   "replay: " TRACE ".so: cannot open: No such file or directory\n");
    expect_refused("replay --manager " TRACE " " TRACE,
                   "replay: " TRACE ": cannot load as a shared library: ");
    expect_refused("replay --manager " PLUGIN("toy") ":nope " TRACE,
                   "replay: " PLUGIN("toy") " has no manager 'nope' (hint: it has: toy, "
                                            "toy-two)\n");
}
