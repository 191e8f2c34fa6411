/* The verify commands (commands.h): replay, stress and list. Errors are one line,
 * "mmbench: error: WHERE: WHAT (hint: HOW)"; only main chooses the exit status. */
#include "verify_commands.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "build_info.h"
#include "diag.h"
#include "flags.h"
#include "mmbench/manager.h"
#include "oracle.h"
#include "outfile.h"
#include "stress.h"
#include "trace.h"
#include "workload.h"

#define fail_usage mmb_usage_error

/* The most operations `stress --ops` generates: far past what fits in memory, short of
 * overflowing the trace's counts. */
#define MMB_MAX_OPS 1000000000000ull

/* A repeated --option KEY=... would silently keep one of the values: refused, naming the key. */
static int check_option_key(const char *cmd, const char **options, size_t n, const char *kv) {
    size_t len = strcspn(kv, "=");
    for (size_t i = 0; i < n; i++)
        if (strncmp(options[i], kv, len) == 0 && strcspn(options[i], "=") == len)
            return fail_usage(cmd, "give each option once", "--option: key '%.*s' given twice",
                              (int)len, kv);
    return EXIT_OK;
}

/* ---- options shared by replay and stress ---------------------------------------------------- */

typedef struct run_flags {
    const char *manager; /* a name, or "all" */
    const char **options;
    size_t noptions;
    bool verify;
    bool table;
} run_flags;

/* Resolves --manager into a list; checks the options against each. */
static int resolve_managers(const char *cmd, const run_flags *f, const mmb_manager **list,
                            size_t *count, mmb_heap_config *configs) {
    char names[512], hint[600];
    mmb_manager_names(names, sizeof names);
    snprintf(hint, sizeof hint, "one of: %s, or all", names);
    if (!f->manager)
        return fail_usage(cmd, hint, "--manager is required");
    *count = 0;
    if (strcmp(f->manager, "all") == 0) {
        for (size_t i = 0; i < mmb_manager_count() && i < 64; i++)
            list[(*count)++] = mmb_manager_at(i);
    } else {
        const mmb_manager *m = mmb_manager_find(f->manager);
        if (!m)
            return fail_usage(cmd, hint, "unknown manager '%s'", f->manager);
        list[(*count)++] = m;
    }
    for (size_t i = 0; i < *count; i++) {
        char err[600];
        if (mmb_options_parse(list[i], f->options, f->noptions, &configs[i], err, sizeof err))
            return fail_usage(cmd, "mmbench list shows each manager's options", "%s", err);
    }
    return EXIT_OK;
}

/* ---- running a trace ------------------------------------------------------------------------ */

typedef struct pause_summary {
    uint64_t count, total_ns, max_ns;
} pause_summary;

static void on_event(void *ctx, const mmb_event *ev) {
    pause_summary *p = &((pause_summary *)ctx)[ev->kind];
    uint64_t ns = ev->end_ns - ev->start_ns;
    p->count++;
    p->total_ns += ns;
    if (ns > p->max_ns)
        p->max_ns = ns;
}

typedef struct run_result {
    mmb_stats stats;
    pause_summary pauses[3];
    double run_seconds;
    bool failed;
    char failure[1024];
} run_result;

/* Replays `t` on a fresh heap, then runs a final full collection. Returns EXIT_OK, or
 * EXIT_FAILED with the oracle's violation in r->failure. `where` names the trace in messages. */
static int run_trace(const mmb_manager *m, mmb_heap_config cfg, const mmb_trace *t, bool verify,
                     const char *where, run_result *r) {
    memset(r, 0, sizeof *r);
    cfg.on_event = on_event;
    cfg.event_ctx = r->pauses;
    mmb_heap *h;
    char err[512];
    mmb_oracle_options oopt = {.fill_payload = true};
    int created = verify ? mmb_oracle_create(m, &cfg, &oopt, &h, err, sizeof err)
                         : mmb_heap_create(m, &cfg, &h, err, sizeof err);
    if (created != 0) {
        snprintf(r->failure, sizeof r->failure, "manager %s: %s", m->name, err);
        r->failed = true;
        return EXIT_FAILED;
    }
    mmb_obj **objs = calloc(t->objects ? t->objects : 1, sizeof *objs);
    if (!objs) {
        fprintf(stderr, "mmbench: error: out of memory\n");
        exit(EXIT_FAILED);
    }
    double start = (double)mmb_now_ns() * 1e-9;
    size_t done = mmb_trace_run(t, h, objs, verify);
    if (done == t->count && !(verify && mmb_oracle_failed(h))) {
        if (verify)
            mmb_oracle_set_op(h, t->count + 1);
        mmb_collect(h);
    }
    r->run_seconds = (double)mmb_now_ns() * 1e-9 - start;
    mmb_stats_get(h, &r->stats);
    free(objs);
    if (!verify) {
        m->destroy(h);
        if (done < t->count) {
            snprintf(r->failure, sizeof r->failure, "manager %s: allocation failed at op %zu",
                     m->name, done + 1);
            r->failed = true;
        }
        return r->failed ? EXIT_FAILED : EXIT_OK;
    }
    uint64_t op = mmb_oracle_failure_op(h);
    char msg[512];
    if (mmb_oracle_close(h, msg, sizeof msg) != 0) {
        char at[128];
        if (op >= 1 && op <= t->count && t->lines[op - 1])
            snprintf(at, sizeof at, "%s:%" PRIu32, where, t->lines[op - 1]);
        else if (op >= 1 && op <= t->count)
            snprintf(at, sizeof at, "%s", where);
        else if (op == t->count + 1)
            snprintf(at, sizeof at, "%s, the final collection", where);
        else
            snprintf(at, sizeof at, "%s, destroying the heap", where);
        snprintf(r->failure, sizeof r->failure, "%s (at %s)", msg, at);
        r->failed = true;
        return EXIT_FAILED;
    }
    return EXIT_OK;
}

static json_t *result_json(const mmb_manager *m, const mmb_trace *t, const run_result *r,
                           bool verify) {
    const mmb_stats *s = &r->stats;
    json_t *o = json_object();
    json_object_set_new(o, "manager", json_string(m->name));
    json_object_set_new(o, "operations", json_integer((json_int_t)t->count));
    json_object_set_new(o, "objects_allocated", json_integer((json_int_t)s->objects_allocated));
    json_object_set_new(o, "objects_freed", json_integer((json_int_t)s->objects_freed));
    json_object_set_new(o, "objects_freed_by_rc", json_integer((json_int_t)s->objects_freed_by_rc));
    json_object_set_new(o, "objects_freed_by_gc", json_integer((json_int_t)s->objects_freed_by_gc));
    json_object_set_new(o, "live_objects", json_integer((json_int_t)s->live_objects));
    json_object_set_new(o, "collections",
                        json_integer((json_int_t)(s->collections_full + s->collections_young)));
    json_object_set_new(o, "collections_full", json_integer((json_int_t)s->collections_full));
    json_object_set_new(o, "collections_young", json_integer((json_int_t)s->collections_young));
    json_object_set_new(o, "increments", json_integer((json_int_t)s->increments));
    json_object_set_new(o, "decrements", json_integer((json_int_t)s->decrements));
    json_object_set_new(o, "objects_traversed", json_integer((json_int_t)s->objects_traversed));
    json_object_set_new(o, "header_bytes", json_integer((json_int_t)s->header_bytes));
    json_t *pauses = json_object();
    for (int k = 0; k < 3; k++) {
        const pause_summary *p = &r->pauses[k];
        json_object_set_new(pauses, mmb_event_kind_name((mmb_event_kind)k),
                            json_pack("{sIsIsI}", "count", (json_int_t)p->count, "total_ns",
                                      (json_int_t)p->total_ns, "max_ns", (json_int_t)p->max_ns));
    }
    json_object_set_new(o, "pauses", pauses);
    json_object_set_new(o, "verify", json_boolean(verify));
    json_object_set_new(o, "verify_errors", json_integer(r->failed && verify ? 1 : 0));
    if (r->failed)
        json_object_set_new(o, "failure", json_string(r->failure));
    json_object_set_new(o, "seconds", json_real(r->run_seconds));
    json_object_set_new(o, "ops_per_second",
                        json_real(r->run_seconds > 0 ? (double)t->count / r->run_seconds : 0));
    json_object_set_new(o, "build",
                        json_pack("{ssssssss}", "version", mmb_build_info_get()->version,
                                  "git_revision", mmb_build_info_get()->git_revision, "build_type",
                                  mmb_build_info_get()->build_type, "sanitizers",
                                  mmb_build_info_get()->sanitizers));
    return o;
}

static void print_json(json_t *o) {
    json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
    fflush(stdout);
}

static void print_table_header(void) {
    printf("%-12s %10s %10s %10s %10s %8s %7s %9s %10s\n", "manager", "ops", "allocated", "freed",
           "live", "collect", "verify", "seconds", "Mops/s");
}

static void print_table_row(const mmb_manager *m, const mmb_trace *t, const run_result *r,
                            bool verify) {
    printf("%-12s %10zu %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %8" PRIu64 " %7s %9.3f %10.2f\n",
           m->name, t->count, r->stats.objects_allocated, r->stats.objects_freed,
           r->stats.live_objects, r->stats.collections_full + r->stats.collections_young,
           !verify     ? "off"
           : r->failed ? "FAILED"
                       : "ok",
           r->run_seconds, r->run_seconds > 0 ? (double)t->count / r->run_seconds / 1e6 : 0.0);
    fflush(stdout);
}

/* ---- replay --------------------------------------------------------------------------------- */

static const char replay_help[] =
    "usage: mmbench replay --manager NAME [--verify] [--option KEY=VALUE]... [--format json|table]"
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
    "runs and one JSON object is printed with the manager's counts (live_objects: after it).\n"
    "\n"
    "  --manager NAME        the manager to replay on (mmbench list shows them)\n"
    "  --verify              run under the oracle: safety, completeness and integrity checks\n"
    "  --option KEY=VALUE    a manager option; repeatable\n"
    "  --format json|table   output: one JSON object (default) or a readable table row\n"
    "  --max-heap-bytes BYTES\n"
    "                        refuse a trace whose objects need more (default 1G): each 'new'\n"
    "                        counts 32 + 8 x NSLOTS + PAYLOAD bytes, freed or not\n"
    "  --max-trace-bytes BYTES\n"
    "                        refuse a longer input (default 1G; a pipe or a device is read up\n"
    "                        to it). BYTES: digits, optionally with K, M or G (powers of 1024)\n"
    "A line is at most 4096 bytes.\n"
    "\n"
    "Exit status: 0 ok, 1 the oracle found a violation, 2 bad usage or a bad trace.\n";

static const char stress_help[] =
    "usage: mmbench stress --manager NAME|all --seed S --ops N [--shape SHAPE] [--emit FILE]\n"
    "                      [--option KEY=VALUE]... [--format json|table]\n"
    "\n"
    "Generates a random valid trace of exactly N operations from seed S and replays it under\n"
    "the oracle (as replay --verify), on one manager or on each in turn.\n"
    "\n"
    "  --shape SHAPE         mixed (default), rings, chains, scc or dag\n"
    "  --emit FILE           also write the trace to FILE (replayable with mmbench replay)\n"
    "  --emit-only           write the trace and stop (needs --emit; --manager not needed)\n"
    "  --option KEY=VALUE    a manager option; repeatable\n"
    "  --format json|table   one JSON object per manager (default) or a readable table\n"
    "\n"
    "Exit status: 0 ok, 1 the oracle found a violation, 2 bad usage.\n";

static const char list_help[] =
    "usage: mmbench list\n"
    "\n"
    "Lists the managers (capabilities, options with defaults, the common options) and the\n"
    "workloads (family, parameters with their defaults at each scale).\n";

enum {
    OPT_HELP = 'h',
    OPT_MANAGER = 1000,
    OPT_OPTION,
    OPT_VERIFY,
    OPT_FORMAT,
    OPT_SEED,
    OPT_OPS,
    OPT_SHAPE,
    OPT_EMIT,
    OPT_EMIT_ONLY,
    OPT_MAX_HEAP_BYTES,
    OPT_MAX_TRACE_BYTES
};

static const struct option long_options[] = {
    {"help", no_argument, NULL, OPT_HELP},
    {"manager", required_argument, NULL, OPT_MANAGER},
    {"option", required_argument, NULL, OPT_OPTION},
    {"verify", no_argument, NULL, OPT_VERIFY},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"seed", required_argument, NULL, OPT_SEED},
    {"ops", required_argument, NULL, OPT_OPS},
    {"shape", required_argument, NULL, OPT_SHAPE},
    {"emit", required_argument, NULL, OPT_EMIT},
    {"emit-only", no_argument, NULL, OPT_EMIT_ONLY},
    {"max-heap-bytes", required_argument, NULL, OPT_MAX_HEAP_BYTES},
    {"max-trace-bytes", required_argument, NULL, OPT_MAX_TRACE_BYTES},
    {NULL, 0, NULL, 0},
};

/* Flags a subcommand accepts, as a string of OPT_ codes. */
typedef struct parsed {
    run_flags run;
    uint64_t seed, ops;
    bool have_seed, have_ops, emit_only;
    int shape;
    const char *emit;
    mmb_trace_limits limits;
    bool help;
} parsed;

static int parse_flags(const char *cmd, const int *allowed, int argc, char **argv, parsed *p) {
    char hint[64];
    snprintf(hint, sizeof hint, "mmbench %s --help", cmd);
    p->run.options = calloc((size_t)argc, sizeof *p->run.options);
    optind = 1;
    opterr = 0;
    for (;;) {
        int longindex = -1;
        int c = getopt_long(argc, argv, ":h", long_options, &longindex);
        if (c == -1)
            break;
        if (c == '?')
            return fail_usage(cmd, hint, "unknown flag '%s'", argv[optind - 1]);
        if (c == ':')
            return fail_usage(cmd, hint, "flag '%s' needs a value", argv[optind - 1]);
        bool ok = false;
        for (const int *a = allowed; *a; a++)
            ok |= *a == c;
        if (!ok && c != OPT_HELP) {
            /* argv[optind - 1] is the flag itself, or its value when given apart. */
            const char *given = argv[optind - 1];
            if (given[0] != '-' && longindex >= 0)
                return fail_usage(cmd, hint, "flag '--%s' does not apply to %s",
                                  long_options[longindex].name, cmd);
            return fail_usage(cmd, hint, "flag '%s' does not apply to %s", given, cmd);
        }
        int status = EXIT_OK;
        switch (c) {
        case OPT_HELP:
            p->help = true;
            break;
        case OPT_MANAGER:
            p->run.manager = optarg;
            break;
        case OPT_OPTION:
            status = check_option_key(cmd, p->run.options, p->run.noptions, optarg);
            p->run.options[p->run.noptions++] = optarg;
            break;
        case OPT_VERIFY:
            p->run.verify = true;
            break;
        case OPT_FORMAT:
            if (strcmp(optarg, "json") && strcmp(optarg, "table"))
                return fail_usage(cmd, hint, "--format: bad value '%s' (expected json or table)",
                                  optarg);
            p->run.table = strcmp(optarg, "table") == 0;
            break;
        case OPT_SEED:
            status = mmb_flag_u64(cmd, "--seed", optarg, 0, UINT64_MAX, &p->seed);
            p->have_seed = true;
            break;
        case OPT_OPS:
            status = mmb_flag_u64(cmd, "--ops", optarg, 1, MMB_MAX_OPS, &p->ops);
            p->have_ops = true;
            break;
        case OPT_SHAPE:
            p->shape = mmb_shape_parse(optarg);
            if (p->shape < 0)
                return fail_usage(cmd, hint,
                                  "--shape: unknown shape '%s' (expected mixed, rings, chains, "
                                  "scc or dag)",
                                  optarg);
            break;
        case OPT_EMIT:
            p->emit = optarg;
            break;
        case OPT_EMIT_ONLY:
            p->emit_only = true;
            break;
        case OPT_MAX_HEAP_BYTES:
            status = mmb_flag_bytes(cmd, "--max-heap-bytes", optarg, &p->limits.max_heap_bytes);
            break;
        case OPT_MAX_TRACE_BYTES:
            status = mmb_flag_bytes(cmd, "--max-trace-bytes", optarg, &p->limits.max_trace_bytes);
            break;
        }
        if (status != EXIT_OK)
            return status;
    }
    return EXIT_OK;
}

/* Runs the trace on each manager; prints a JSON line or a table row for each. */
static int run_all(const mmb_manager **list, size_t count, mmb_heap_config *configs,
                   const mmb_trace *t, const run_flags *f, const char *where) {
    int status = EXIT_OK;
    if (f->table)
        print_table_header();
    for (size_t i = 0; i < count; i++) {
        if (count > 1 && isatty(STDERR_FILENO))
            fprintf(stderr, "\rmmbench: %zu/%zu %-12s", i + 1, count, list[i]->name);
        run_result r;
        int s = run_trace(list[i], configs[i], t, f->verify, where, &r);
        if (count > 1 && isatty(STDERR_FILENO))
            fprintf(stderr, "\r%40s\r", "");
        if (r.failed) {
            char shown[sizeof r.failure * 4]; /* r.failure names the trace file */
            fprintf(stderr, "mmbench: %s: %s\n", f->verify ? "verify failed" : "error",
                    mmb_escape(shown, sizeof shown, r.failure));
        }
        if (f->table) {
            print_table_row(list[i], t, &r, f->verify);
        } else {
            json_t *o = result_json(list[i], t, &r, f->verify);
            json_object_set_new(o, "trace", json_string(where));
            print_json(o);
            json_decref(o);
        }
        if (s != EXIT_OK)
            status = s;
    }
    return status;
}

int mmb_replay_main(int argc, char **argv) {
    static const int allowed[] = {OPT_MANAGER,        OPT_OPTION,          OPT_VERIFY, OPT_FORMAT,
                                  OPT_MAX_HEAP_BYTES, OPT_MAX_TRACE_BYTES, 0};
    parsed p = {.limits = {MMB_TRACE_DEFAULT_MAX_HEAP_BYTES, MMB_TRACE_DEFAULT_MAX_TRACE_BYTES}};
    int status = parse_flags("replay", allowed, argc, argv, &p);
    if (status == EXIT_OK && p.help) {
        fputs(replay_help, stdout);
    } else if (status == EXIT_OK && argc - optind != 1) {
        status = fail_usage("replay", "mmbench replay --help",
                            argc - optind ? "expected one trace FILE, got %d" : "no trace FILE%.0d",
                            argc - optind);
    } else if (status == EXIT_OK) {
        const mmb_manager *list[64];
        mmb_heap_config configs[64];
        size_t count;
        status = resolve_managers("replay", &p.run, list, &count, configs);
        if (status == EXIT_OK) {
            mmb_trace t;
            char err[5120]; /* the path and a line's message */
            mmb_trace_init(&t);
            if (mmb_trace_read(&t, argv[optind], &p.limits, err, sizeof err) != 0) {
                status = mmb_usage_error(NULL, NULL, "%s", err); /* err: "FILE:LINE: what" */
            } else {
                status = run_all(list, count, configs, &t, &p.run, argv[optind]);
            }
            mmb_trace_free(&t);
        }
    }
    free(p.run.options);
    return status;
}

static int write_trace(FILE *out, void *t) {
    return mmb_trace_write(t, out);
}

int mmb_stress_main(int argc, char **argv) {
    static const int allowed[] = {OPT_MANAGER, OPT_OPTION, OPT_FORMAT,    OPT_SEED, OPT_OPS,
                                  OPT_SHAPE,   OPT_EMIT,   OPT_EMIT_ONLY, 0};
    parsed p = {0};
    p.shape = MMB_SHAPE_MIXED;
    int status = parse_flags("stress", allowed, argc, argv, &p);
    const mmb_manager *list[64];
    mmb_heap_config configs[64];
    size_t count = 0;
    if (status == EXIT_OK && p.help) {
        fputs(stress_help, stdout);
        free(p.run.options);
        return EXIT_OK;
    }
    if (status == EXIT_OK && optind < argc)
        status =
            fail_usage("stress", "mmbench stress --help", "unexpected argument '%s'", argv[optind]);
    if (status == EXIT_OK && (!p.have_seed || !p.have_ops))
        status = fail_usage("stress", "mmbench stress --help", "%s is required",
                            !p.have_seed ? "--seed" : "--ops");
    if (status == EXIT_OK && p.ops > (uint64_t)UINT32_MAX)
        status = fail_usage("stress", NULL, "--ops: at most %u operations", UINT32_MAX);
    if (status == EXIT_OK && p.emit_only && !p.emit)
        status = fail_usage("stress", "add --emit FILE", "--emit-only needs --emit");
    if (status == EXIT_OK && p.emit)
        status = mmb_outfile_check("stress", "--emit", p.emit);
    if (status == EXIT_OK && (!p.emit_only || p.run.manager))
        status = resolve_managers("stress", &p.run, list, &count, configs);
    if (status == EXIT_OK) {
        mmb_trace t;
        mmb_trace_init(&t);
        mmb_stress_generate(&t, p.seed, (mmb_shape)p.shape, p.ops);
        if (p.emit)
            status = mmb_outfile_write("stress", "--emit", p.emit, write_trace, &t);
        if (status == EXIT_OK && !p.emit_only) {
            char where[256];
            snprintf(where, sizeof where, "stress seed %" PRIu64 " shape %s%s%s", p.seed,
                     mmb_shape_names[p.shape], p.emit ? " trace " : "", p.emit ? p.emit : "");
            p.run.verify = true;
            status = run_all(list, count, configs, &t, &p.run, p.emit ? p.emit : where);
        }
        mmb_trace_free(&t);
    }
    free(p.run.options);
    return status;
}

static void print_caps(unsigned caps) {
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {{MMB_CAP_REFCOUNT, "refcount"},
                 {MMB_CAP_CYCLES, "cycles"},
                 {MMB_CAP_YOUNG, "young"},
                 {MMB_CAP_THREAD_SAFE, "thread-safe"},
                 {MMB_CAP_INCREMENTAL, "incremental"},
                 {MMB_CAP_FINALIZERS, "finalizers"}};
    bool any = false;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (caps & names[i].bit) {
            printf("%s%s", any ? ", " : "", names[i].name);
            any = true;
        }
    printf("%s\n", any ? "" : "-");
}

static void print_option(const mmb_option_spec *o) {
    char def[32];
    if (o->type == MMB_OPT_BOOL)
        snprintf(def, sizeof def, "%s", o->default_value ? "true" : "false");
    else
        snprintf(def, sizeof def, "%" PRId64, o->default_value);
    printf("    %-20s default %-10s %s\n", o->name, def, o->help);
}

int mmb_list_main(int argc, char **argv) {
    static const int allowed[] = {0};
    parsed p = {0};
    int status = parse_flags("list", allowed, argc, argv, &p);
    free(p.run.options);
    if (status != EXIT_OK)
        return status;
    if (p.help) {
        fputs(list_help, stdout);
        return EXIT_OK;
    }
    if (optind < argc)
        return fail_usage("list", "mmbench list --help", "unexpected argument '%s'", argv[optind]);
    printf("managers:\n");
    for (size_t i = 0; i < mmb_manager_count(); i++) {
        const mmb_manager *m = mmb_manager_at(i);
        printf("  %-12s %s\n", m->name, m->summary);
        printf("    %-20s ", "capabilities");
        print_caps(m->caps);
        for (const mmb_option_spec *o = m->options; o && o->name; o++)
            print_option(o);
    }
    printf("common options (every manager):\n");
    for (const mmb_option_spec *o = mmb_common_options; o->name; o++)
        print_option(o);
    printf("\nworkloads (families: many-small, cycle-heavy, pause-sensitive, threaded):\n");
    for (size_t i = 0; i < mmb_workload_count(); i++) {
        const mmb_workload *w = mmb_workload_at(i);
        printf("  %-14s %-16s %s\n", w->name, w->family, w->summary);
        for (const mmb_param_spec *ps = w->params; ps && ps->name; ps++) {
            printf("    %-20s", ps->name);
            for (int s = 0; s < MMB_SCALE_COUNT; s++)
                printf(" %s %-8g", mmb_scale_names[s], ps->defaults[s]);
            printf(" %s\n", ps->help);
        }
    }
    return EXIT_OK;
}
