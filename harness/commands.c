/* The command table (commands.h): one row per command, naming the layer that implements it.
 * Adding a command is its row here; `mmbench --help` is printed from this table. */
#include "commands.h"

#include <stdio.h>
#include <string.h>

#include "build_info.h"
#include "calibrate.h"
#include "compare.h"
#include "conform.h"
#include "diag.h"
#include "merge.h"
#include "report.h"
#include "run.h"
#include "topology.h"
#include "verify_commands.h"

typedef struct command {
    const char *name;
    int (*main)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"run", mmb_run_main, "benchmark managers x workloads (the main job)"}, /* run/ */
    {"merge", mmb_merge_main,
     "combine the shards of a run made with run --shard K/N"}, /* analyze/ */
    {"report", mmb_report_main,
     "tables (Markdown, CSV) or an HTML page with charts from run --out results"}, /* analyze/ */
    {"compare", mmb_compare_main,
     "compare two runs' results: changes, U tests, limits (the regression gate)"}, /* analyze/ */
    {"replay", mmb_replay_main, "replay a trace file on a manager, optionally under the oracle"},
    {"stress", mmb_stress_main, "generate random traces and replay them under the oracle"},
    {"conform", mmb_conform_main,
     "check that a manager keeps the contract; shrink a failing trace"}, /* verify/ */
    {"list", mmb_list_main, "list managers, their capabilities and options, and the workloads"},
    {"calibrate", mmb_calibrate_main,
     "measure what mmbench's own instrumentation costs on this machine"}, /* run/ */
    {"topology", mmb_topology_main,
     "show the CPU topology (this machine's or another's) and the thread placements"}, /* run/ */
};

static void print_help(void) {
    printf("usage: mmbench COMMAND [ARGS]\n"
           "\n"
           "A benchmark and stress-testing suite for reference-counting + cycle-collecting memory\n"
           "managers.\n"
           "\n"
           "Commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        printf("  %-9s %s\n", commands[i].name, commands[i].summary);
    printf("\nmmbench COMMAND --help shows a command's flags; mmbench --version the build.\n");
}

int mmb_cli_main(int argc, char **argv) {
    if (argc < 2)
        return mmb_usage_error("mmbench", "mmbench --help", "no command given");
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        print_help();
        return EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0) {
        const mmb_build_info *b = mmb_build_info_get();
        printf("mmbench %s (git %s, %s build%s%s)\n", b->version, b->git_revision, b->build_type,
               *b->sanitizers ? ", sanitizers " : "", b->sanitizers);
        return EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(cmd, commands[i].name) == 0)
            return commands[i].main(argc - 1, argv + 1);
    return mmb_usage_error("mmbench", "mmbench --help lists the commands", "unknown command '%s'",
                           cmd);
}
