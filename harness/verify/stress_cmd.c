/* mmbench stress (verify_commands.h): a random valid trace from a seed, run under the oracle. */
#include <inttypes.h>
#include <stdio.h>

#include "diag.h"
#include "outfile.h"
#include "stress.h"
#include "verify_cli.h"
#include "verify_commands.h"
#include "verify_run.h"

static const char stress_usage[] =
    "usage: mmbench stress --manager LIST --seed S --ops N [--shape SHAPE] "
    "[--emit FILE]\n"
    "                      [--option KEY=VALUE]... [--format json|table]\n"
    "\n"
    "Generates a random valid trace of exactly N operations from seed S and replays it under\n"
    "the oracle (as replay --verify), on one manager or on each in turn.\n"
    "\n";

static const char stress_footer[] = "\n"
                                    "Exit status: 0 ok, 1 the oracle found a violation, 2 bad "
                                    "usage.\n";

/* What the flags cannot check alone: each is one error line, in this order. */
static int check_flags(const mmb_verify_flags *f, int argc, char **argv, int operands) {
    if (operands < argc)
        return mmb_usage_error("stress", "mmbench stress --help", "unexpected argument '%s'",
                               argv[operands]);
    if (!f->have_seed || !f->have_ops)
        return mmb_usage_error("stress", "mmbench stress --help", "%s is required",
                               !f->have_seed ? "--seed" : "--ops");
    if (f->ops > (uint64_t)UINT32_MAX)
        return mmb_usage_error("stress", NULL, "--ops: at most %u operations", UINT32_MAX);
    if (f->emit_only && !f->emit)
        return mmb_usage_error("stress", "add --emit FILE", "--emit-only needs --emit");
    if (f->emit)
        return mmb_outfile_check("stress", "--emit", f->emit);
    return EXIT_OK;
}

static int write_trace(FILE *out, void *t) {
    return mmb_trace_write(t, out);
}

/* Generates the trace, writes it when asked, and runs it on the managers. */
static int stress(const mmb_verify_flags *f, const mmb_manager **list, size_t count,
                  mmb_heap_config *configs) {
    int status = EXIT_OK;
    mmb_trace t;
    mmb_trace_init(&t);
    mmb_stress_generate(&t, f->seed, (mmb_shape)f->shape, f->ops);
    if (f->emit)
        status = mmb_outfile_write("stress", "--emit", f->emit, write_trace, &t);
    if (status == EXIT_OK && !f->emit_only) {
        char where[256];
        snprintf(where, sizeof where, "stress seed %" PRIu64 " shape %s%s%s", f->seed,
                 mmb_shape_names[f->shape], f->emit ? " trace " : "", f->emit ? f->emit : "");
        status = mmb_verify_run_all("stress", list, count, configs, &t, true, f->table,
                                    f->emit ? f->emit : where);
    }
    mmb_trace_free(&t);
    return status;
}

int mmb_stress_main(int argc, char **argv) {
    mmb_verify_flags f = {.shape = MMB_SHAPE_MIXED};
    int operands = argc;
    int status = mmb_verify_flags_parse("stress", MMB_VERIFY_STRESS, argc, argv, &f, &operands);
    const mmb_manager *list[MMB_VERIFY_MAX_MANAGERS];
    mmb_heap_config configs[MMB_VERIFY_MAX_MANAGERS];
    size_t count = 0;
    if (status == MMB_FLAGS_HELP) {
        fputs(stress_usage, stdout);
        mmb_verify_flags_help(MMB_VERIFY_STRESS);
        fputs(stress_footer, stdout);
        mmb_verify_flags_free(&f);
        return EXIT_OK;
    }
    if (status == EXIT_OK)
        status = check_flags(&f, argc, argv, operands);
    if (status == EXIT_OK && (!f.emit_only || f.manager))
        status = mmb_verify_resolve_managers("stress", &f, list, &count, configs);
    if (status == EXIT_OK)
        status = stress(&f, list, count, configs);
    mmb_verify_flags_free(&f);
    return status;
}
