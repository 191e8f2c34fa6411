/* What the verify commands (replay, stress, list) share: one table of their flags, each row with
 * the commands it applies to (so a flag of another command is refused by name), its parse, and
 * --manager/--option resolution. */
#ifndef MMB_VERIFY_CLI_H
#define MMB_VERIFY_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmdline.h"
#include "mmbench/manager.h"
#include "trace.h"

/* The commands, as the table's `commands` mask. */
enum { MMB_VERIFY_REPLAY = 1u << 0, MMB_VERIFY_STRESS = 1u << 1, MMB_VERIFY_LIST = 1u << 2 };

/* The most managers one command runs on (--manager all). */
#define MMB_VERIFY_MAX_MANAGERS 64

typedef struct mmb_verify_flags {
    const char *manager; /* a name, or "all"; NULL: not given */
    const char **options;
    size_t noptions;
    bool verify; /* replay --verify; stress always verifies */
    bool table;  /* --format table */
    uint64_t seed, ops;
    bool have_seed, have_ops, emit_only;
    int shape; /* an mmb_shape */
    const char *emit;
    mmb_trace_limits limits;
} mmb_verify_flags;

/* Parses argv for command `cmd` (its bit in `mask`) into f, which holds the defaults. Returns
 * EXIT_OK with argv[*operands..argc) the operands, MMB_FLAGS_HELP for --help, or EXIT_USAGE after
 * its one error line. mmb_verify_flags_free releases f in every case. */
int mmb_verify_flags_parse(const char *cmd, unsigned mask, int argc, char **argv,
                           mmb_verify_flags *f, int *operands);
void mmb_verify_flags_free(mmb_verify_flags *f);

/* The flag lines of the command's --help. */
void mmb_verify_flags_help(unsigned mask);

/* Resolves --manager into list (room for MMB_VERIFY_MAX_MANAGERS) and checks --option against
 * each, filling configs. EXIT_OK, or EXIT_USAGE after one line naming what is wrong. */
int mmb_verify_resolve_managers(const char *cmd, const mmb_verify_flags *f,
                                const mmb_manager **list, size_t *count, mmb_heap_config *configs);

#endif
