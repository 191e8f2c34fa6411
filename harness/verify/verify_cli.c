/* The verify commands' flags and manager resolution (verify_cli.h). */
#include "verify_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "plugins.h"
#include "stress.h"

/* The most operations `stress --ops` reads: far past what fits in memory, short of overflowing
 * the trace's counts (stress then refuses more than UINT32_MAX by name). */
#define MMB_MAX_OPS 1000000000000ull

enum {
    REPLAY = MMB_VERIFY_REPLAY,
    STRESS = MMB_VERIFY_STRESS,
    RUNS = MMB_VERIFY_REPLAY | MMB_VERIFY_STRESS,
};

static const char *const formats[] = {"json", "table", NULL};

/* One row per flag; `commands` names those it applies to (list takes --manager only). */
enum {
    FLAG_MANAGER,
    FLAG_VERIFY,
    FLAG_OPTION,
    FLAG_FORMAT,
    FLAG_SEED,
    FLAG_OPS,
    FLAG_SHAPE,
    FLAG_EMIT,
    FLAG_EMIT_ONLY,
    FLAG_MAX_HEAP_BYTES,
    FLAG_MAX_TRACE_BYTES,
};
static const mmb_flag flags[] = {
    [FLAG_MANAGER] = {"manager", MMB_FLAG_TEXT, "LIST", 0, 0, NULL,
                      "the manager to run on, or a plug-in: PATH.so (its every manager) or\n"
                      "PATH.so:NAME (mmbench list shows them); comma separated: several; all:\n"
                      "the bundled managers, external: the external ones built (all,external:\n"
                      "both)",
                      RUNS | MMB_VERIFY_LIST},
    [FLAG_VERIFY] = {"verify", MMB_FLAG_SWITCH, NULL, 0, 0, NULL,
                     "run under the oracle: safety, completeness and integrity checks", REPLAY},
    [FLAG_OPTION] = {"option", MMB_FLAG_TEXT, "KEY=VALUE", 0, 0, NULL,
                     "a manager option; repeatable", RUNS},
    [FLAG_FORMAT] = {"format", MMB_FLAG_CHOICE, "json|table", 0, 0, formats,
                     "one JSON object per manager (default) or a readable table", RUNS},
    [FLAG_SEED] = {"seed", MMB_FLAG_U64, "S", 0, UINT64_MAX, NULL,
                   "the generator's seed: the same seed, shape and N give the same trace", STRESS},
    [FLAG_OPS] = {"ops", MMB_FLAG_U64, "N", 1, MMB_MAX_OPS, NULL,
                  "exactly N operations (at most 4294967295)", STRESS},
    [FLAG_SHAPE] = {"shape", MMB_FLAG_TEXT, "SHAPE", 0, 0, NULL,
                    "mixed (default), rings, chains, scc, dag or mutate", STRESS},
    [FLAG_EMIT] = {"emit", MMB_FLAG_TEXT, "FILE", 0, 0, NULL,
                   "also write the trace to FILE (replayable with mmbench replay)", STRESS},
    [FLAG_EMIT_ONLY] = {"emit-only", MMB_FLAG_SWITCH, NULL, 0, 0, NULL,
                        "write the trace and stop (needs --emit; --manager not needed)", STRESS},
    [FLAG_MAX_HEAP_BYTES] = {"max-heap-bytes", MMB_FLAG_BYTES, "BYTES", 0, 0, NULL,
                             "refuse a trace whose objects need more (default 1G): each 'new'\n"
                             "counts 32 + 8 x NSLOTS + PAYLOAD bytes, freed or not",
                             REPLAY},
    [FLAG_MAX_TRACE_BYTES] = {"max-trace-bytes", MMB_FLAG_BYTES, "BYTES", 0, 0, NULL,
                              "refuse a longer input (default 1G; a pipe or a device is read up\n"
                              "to it). BYTES: digits, optionally with K, M or G (powers of 1024)",
                              REPLAY},
    {NULL, 0, NULL, 0, 0, NULL, NULL, 0},
};

typedef struct parse_ctx {
    const char *cmd;
    mmb_verify_flags *f;
} parse_ctx;

/* A repeated --option KEY=... would silently keep one of the values: refused, naming the key. */
static int check_option_key(const char *cmd, const char **options, size_t n, const char *kv) {
    size_t len = strcspn(kv, "=");
    for (size_t i = 0; i < n; i++)
        if (strncmp(options[i], kv, len) == 0 && strcspn(options[i], "=") == len)
            return mmb_usage_error(cmd, "give each option once", "--option: key '%.*s' given twice",
                                   (int)len, kv);
    return EXIT_OK;
}

static int on_flag(void *ctx, const mmb_flag_arg *a) {
    const char *cmd = ((parse_ctx *)ctx)->cmd;
    mmb_verify_flags *f = ((parse_ctx *)ctx)->f;
    int status = EXIT_OK;
    switch (a->index) {
    case FLAG_MANAGER:
        f->manager = a->text;
        break;
    case FLAG_VERIFY:
        f->verify = true;
        break;
    case FLAG_OPTION:
        status = check_option_key(cmd, f->options, f->noptions, a->text);
        f->options[f->noptions++] = a->text;
        break;
    case FLAG_FORMAT:
        f->table = strcmp(formats[a->choice], "table") == 0;
        break;
    case FLAG_SEED:
        f->seed = a->u64;
        f->have_seed = true;
        break;
    case FLAG_OPS:
        f->ops = a->u64;
        f->have_ops = true;
        break;
    case FLAG_SHAPE:
        f->shape = mmb_shape_parse(a->text);
        if (f->shape < 0) {
            char hint[64];
            snprintf(hint, sizeof hint, "mmbench %s --help", cmd);
            status = mmb_usage_error(cmd, hint,
                                     "--shape: unknown shape '%s' (expected mixed, rings, chains, "
                                     "scc, dag or mutate)",
                                     a->text);
        }
        break;
    case FLAG_EMIT:
        f->emit = a->text;
        break;
    case FLAG_EMIT_ONLY:
        f->emit_only = true;
        break;
    case FLAG_MAX_HEAP_BYTES:
        f->limits.max_heap_bytes = a->u64;
        break;
    case FLAG_MAX_TRACE_BYTES:
        f->limits.max_trace_bytes = a->u64;
        break;
    }
    return status;
}

int mmb_verify_flags_parse(const char *cmd, unsigned mask, int argc, char **argv,
                           mmb_verify_flags *f, int *operands) {
    f->options = mmb_xcalloc((size_t)argc + 1, sizeof *f->options);
    parse_ctx ctx = {cmd, f};
    return mmb_flags_parse(cmd, flags, mask, argc, argv, on_flag, &ctx, operands);
}

void mmb_verify_flags_free(mmb_verify_flags *f) {
    free(f->options);
    f->options = NULL;
}

void mmb_verify_flags_help(unsigned mask) {
    mmb_flags_print_help(stdout, flags, mask);
}

int mmb_verify_resolve_managers(const char *cmd, const mmb_verify_flags *f,
                                const mmb_manager **list, size_t *count, mmb_heap_config *configs) {
    char err[2048];
    *count = 0;
    if (!f->manager) {
        char names[1024], hint[1100];
        mmb_manager_names(names, sizeof names);
        snprintf(hint, sizeof hint, "one of: %s, or all, external", names);
        return mmb_usage_error(cmd, hint, "--manager is required");
    }
    int status = mmb_manager_resolve_cli(cmd, &f->manager, 1, list, count, MMB_VERIFY_MAX_MANAGERS);
    if (status != EXIT_OK)
        return status;
    for (size_t i = 0; i < *count; i++) {
        if (mmb_options_parse(list[i], f->options, f->noptions, &configs[i], err, sizeof err))
            return mmb_usage_error(cmd, "mmbench list shows each manager's options", "%s", err);
    }
    return EXIT_OK;
}
