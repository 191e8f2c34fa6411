/* Flags as tables: each command declares its flags once (name, value type, range, help) and both
 * parsing and --help come from that table. Parsing is getopt_long's (GNU argument order and
 * unique abbreviations); values are checked by type before the command sees them. Design:
 * harness/README.md, "Layout". */
#ifndef MMB_CMDLINE_H
#define MMB_CMDLINE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum mmb_flag_type {
    MMB_FLAG_SWITCH, /* no value */
    MMB_FLAG_TEXT,   /* any text: a name, a list, a path; the command checks it */
    MMB_FLAG_U64,    /* a decimal integer in [min, max] (flags.h, mmb_flag_u64) */
    MMB_FLAG_BYTES,  /* a byte count with an optional K, M or G (mmb_flag_bytes) */
    MMB_FLAG_CHOICE, /* one of choices[] */
} mmb_flag_type;

typedef struct mmb_flag {
    const char *name;           /* "seed": given as --seed VALUE or --seed=VALUE */
    mmb_flag_type type;         /* how its value is checked */
    const char *metavar;        /* the value's name in --help ("S", "FILE"); NULL for a switch */
    uint64_t min, max;          /* MMB_FLAG_U64's range */
    const char *const *choices; /* MMB_FLAG_CHOICE's values, NULL-terminated */
    const char *help;           /* --help's text, '\n' between lines; NULL: not shown (internal) */
    unsigned commands;          /* a table shared by commands: the mask of those it applies to */
} mmb_flag;

/* One flag as given, checked against its row. */
typedef struct mmb_flag_arg {
    const mmb_flag *flag; /* its row */
    size_t index;         /* the row's index in the table: what a command switches on */
    const char *text;     /* the value as given; NULL for a switch */
    uint64_t u64;         /* MMB_FLAG_U64 and MMB_FLAG_BYTES: the value */
    size_t choice;        /* MMB_FLAG_CHOICE: the index into choices */
} mmb_flag_arg;

/* Called once per flag, in the order given: EXIT_OK, or EXIT_USAGE after its one error line. */
typedef int (*mmb_flag_fn)(void *ctx, const mmb_flag_arg *arg);

/* What mmb_flags_parse returns for --help or -h (the command prints its help and exits 0). */
#define MMB_FLAGS_HELP (-1)

/* Parses argv[1..argc) for command CMD against `table` (ended by a row with a NULL name). Rows
 * apply when `mask` is 0 or shares a bit with their `commands` (0: every command). Each flag's
 * value is checked by its type, then fn(ctx, arg) is called. On return argv[*operands..argc)
 * are the operands (getopt_long moves them after the flags). Returns EXIT_OK, MMB_FLAGS_HELP, or
 * EXIT_USAGE after one line "mmbench: error: CMD: WHAT (hint: mmbench CMD --help)", WHAT being
 * one of: unknown flag '--x'; flag '--x' needs a value; flag '--x' does not apply to CMD (a row
 * of the table that is another command's); --x: bad value 'V' (expected ...). */
int mmb_flags_parse(const char *cmd, const mmb_flag *table, unsigned mask, int argc, char **argv,
                    mmb_flag_fn fn, void *ctx, int *operands);

/* mmb_flags_parse for a command that takes no operands: --help prints `usage`, then the flag
 * lines, and returns MMB_FLAGS_HELP; an operand gets "CMD: unexpected argument 'X'" and
 * EXIT_USAGE. Otherwise as mmb_flags_parse (mask 0). */
int mmb_flags_parse_command(const char *cmd, const char *usage, const mmb_flag *table, int argc,
                            char **argv, mmb_flag_fn fn, void *ctx);

/* The flags' lines of --help: "  --name METAVAR" in a 22-column field, then the help text, its
 * further lines indented to the same column; rows that do not apply to `mask`, and rows without
 * help, are left out. */
void mmb_flags_print_help(FILE *out, const mmb_flag *table, unsigned mask);

#endif
