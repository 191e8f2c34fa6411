/* mmbench replay (verify_commands.h): a trace file, validated whole, then run on a manager. */
#include <stdio.h>

#include "diag.h"
#include "verify_cli.h"
#include "verify_commands.h"
#include "verify_run.h"

static const char replay_usage[] =
    "usage: mmbench replay --manager LIST [--verify] [--option KEY=VALUE]... "
    "[--format json|table]"
    "\n"
    "                      [--max-heap-bytes BYTES] [--max-trace-bytes BYTES] FILE\n"
    "\n"
    "Replays a trace (one operation a line; '#' starts a comment):\n"
    "  new ID NSLOTS PAYLOAD   a new object; the mutator holds one reference\n"
    "  set A SLOT B            store B (or '-' for null) into slot SLOT of A\n"
    "  get A SLOT              the mutator takes a reference to the object in A's slot\n"
    "  drop A                  the mutator releases one reference to A\n"
    "  collect                 a full collection\n"
    "The whole file is validated before anything runs. After the last line a full collection\n"
    "runs and one JSON object is printed with the manager's counts (live_objects: after it) and\n"
    "its pauses, by kind and in all, with percentiles (as mmbench run reports them).\n"
    "\n";

static const char replay_footer[] =
    "A line is at most 4096 bytes.\n"
    "\n"
    "Exit status: 0 ok, 1 the oracle found a violation, 2 bad usage or a bad trace.\n";

/* Reads the trace at path and runs it on the managers. */
static int replay_file(const mmb_verify_flags *f, const char *path) {
    const mmb_manager *list[MMB_VERIFY_MAX_MANAGERS];
    mmb_heap_config configs[MMB_VERIFY_MAX_MANAGERS];
    size_t count;
    int status = mmb_verify_resolve_managers("replay", f, list, &count, configs);
    if (status != EXIT_OK)
        return status;
    mmb_trace t;
    char err[5120]; /* the path and a line's message */
    mmb_trace_init(&t);
    if (mmb_trace_read(&t, path, &f->limits, err, sizeof err) != 0)
        status = mmb_usage_error(NULL, NULL, "%s", err); /* err: "FILE:LINE: what" */
    else
        status = mmb_verify_run_all("replay", list, count, configs, &t, f->verify, f->table, path);
    mmb_trace_free(&t);
    return status;
}

int mmb_replay_main(int argc, char **argv) {
    mmb_verify_flags f = {
        .limits = {MMB_TRACE_DEFAULT_MAX_HEAP_BYTES, MMB_TRACE_DEFAULT_MAX_TRACE_BYTES}};
    int operands = argc;
    int status = mmb_verify_flags_parse("replay", MMB_VERIFY_REPLAY, argc, argv, &f, &operands);
    if (status == MMB_FLAGS_HELP) {
        fputs(replay_usage, stdout);
        mmb_verify_flags_help(MMB_VERIFY_REPLAY);
        fputs(replay_footer, stdout);
        status = EXIT_OK;
    } else if (status == EXIT_OK && argc - operands != 1) {
        status = mmb_usage_error("replay", "mmbench replay --help",
                                 argc - operands ? "expected one trace FILE, got %d"
                                                 : "no trace FILE%.0d",
                                 argc - operands);
    } else if (status == EXIT_OK) {
        status = replay_file(&f, argv[operands]);
    }
    mmb_verify_flags_free(&f);
    return status;
}
