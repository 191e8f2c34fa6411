/* mmbench conform (conform.h): every check of conform_checks.c that applies to the manager, each
 * in a forked child with a timeout; a failing trace written out and, with --minimize, shrunk
 * (shrink.h) to a small trace with the replay command that reproduces it. */
#include "conform.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmdline.h"
#include "conform_internal.h"
#include "diag.h"
#include "forked.h"
#include "mmbench/clock.h"
#include "outfile.h"
#include "plugins.h"
#include "shrink.h"

static const char conform_usage[] =
    "usage: mmbench conform --manager LIST [--level quick|full] [--minimize]\n"
    "                       [--out-dir DIR] [--seed S]\n"
    "\n"
    "Checks that a manager keeps the contract (include/mmbench/manager.h): the oracle over stress\n"
    "traces of every shape (completeness as its capabilities claim), the threaded oracle for a\n"
    "thread-safe manager, long chains freed by cascade and by collection, its options' bounds,\n"
    "collect_young and freeze, its events and phases, and its stats. One line per check, then a\n"
    "summary. A failing trace is written to DIR; --minimize shrinks it while the check still\n"
    "fails, and prints the command that replays it.\n"
    "\n";

static const char conform_footer[] =
    "Exit status: 0 every check passed, 1 a check failed, 2 bad usage.\n";

static const char *const levels[] = {"quick", "full", NULL};

enum { FLAG_MANAGER, FLAG_LEVEL, FLAG_MINIMIZE, FLAG_OUT_DIR, FLAG_SEED };
static const mmb_flag flags[] = {
    [FLAG_MANAGER] = {"manager", MMB_FLAG_TEXT, "LIST", 0, 0, NULL,
                      "the manager to check (mmbench list shows them), or a plug-in:\n"
                      "every manager of PATH.so, or PATH.so:NAME one of them; comma\n"
                      "separated: several; all: the bundled ones, external: the external\n"
                      "ones built (all,external: both)",
                      0},
    [FLAG_LEVEL] = {"level", MMB_FLAG_CHOICE, "quick|full", 0, 0, levels,
                    "quick (default: 5 seeds x 5000 operations a shape, chains of 10^6) or\n"
                    "full (10 seeds x 50000 operations, chains of 10^7)",
                    0},
    [FLAG_MINIMIZE] = {"minimize", MMB_FLAG_SWITCH, NULL, 0, 0, NULL,
                       "shrink a failing trace while the same check still fails", 0},
    [FLAG_OUT_DIR] = {"out-dir", MMB_FLAG_TEXT, "DIR", 0, 0, NULL,
                      "write failing traces here (default: a new directory in $TMPDIR)", 0},
    [FLAG_SEED] = {"seed", MMB_FLAG_U64, "S", 0, UINT64_MAX / 2, NULL,
                   "the first stress seed (default 1); each trace of a check takes the next", 0},
    {NULL, 0, NULL, 0, 0, NULL, NULL, 0},
};

typedef struct conform_flags {
    const char *manager, *out_dir;
    char spec[1024];  /* how replay names the manager being checked */
    char prefix[160]; /* "" for one manager; "NAME." before its trace files when several */
    size_t level;
    bool minimize;
    uint64_t seed;
} conform_flags;

static int on_flag(void *ctx, const mmb_flag_arg *arg) {
    conform_flags *f = ctx;
    switch (arg->index) {
    case FLAG_MANAGER:
        f->manager = arg->text;
        break;
    case FLAG_LEVEL:
        f->level = arg->choice;
        break;
    case FLAG_MINIMIZE:
        f->minimize = true;
        break;
    case FLAG_OUT_DIR:
        f->out_dir = arg->text;
        break;
    case FLAG_SEED:
        f->seed = arg->u64;
        break;
    }
    return EXIT_OK;
}

/* The most managers one --manager names (a plug-in may hold several). */
#define MAX_MANAGERS 64

/* ---- forked children ---------------------------------------------------------------------- */

typedef struct conform_child {
    int (*fn)(void *ctx, mmb_conform_report *r);
    void *ctx;
    mmb_conform_report *shared;
} conform_child;

static int conform_child_main(void *arg) {
    conform_child *c = arg;
    return c->fn(c->ctx, c->shared) ? EXIT_FAILED : EXIT_OK;
}

int mmb_conform_forked(int (*fn)(void *ctx, mmb_conform_report *r), void *ctx, unsigned timeout_s,
                       mmb_conform_report *report) {
    mmb_conform_report *shared =
        mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED) { /* the check cannot run: a FAIL with the reason, not an exit */
        snprintf(report->reason, sizeof report->reason, "cannot map shared memory: %s",
                 strerror(errno));
        return 1;
    }
    *shared = *report;
    conform_child child = {fn, ctx, shared};
    int ws;
    if (mmb_forked_call(conform_child_main, &child, timeout_s, &ws) != 0) {
        snprintf(report->reason, sizeof report->reason, "cannot fork: %s", strerror(errno));
        munmap(shared, sizeof *shared);
        return 1;
    }
    *report = *shared;
    munmap(shared, sizeof *shared);
    report->reason[sizeof report->reason - 1] = '\0';
    if (WIFEXITED(ws) && WEXITSTATUS(ws) == EXIT_OK)
        return 0;
    if (WIFSIGNALED(ws) && WTERMSIG(ws) == SIGALRM)
        snprintf(report->reason, sizeof report->reason, "timed out after %u s", timeout_s);
    else if (WIFSIGNALED(ws))
        snprintf(report->reason, sizeof report->reason, "crashed: signal %d (%s)", WTERMSIG(ws),
                 strsignal(WTERMSIG(ws)));
    else if (!(WIFEXITED(ws) && WEXITSTATUS(ws) == EXIT_FAILED) || !report->reason[0])
        snprintf(report->reason, sizeof report->reason, "exited with status %d",
                 WIFEXITED(ws) ? WEXITSTATUS(ws) : -1);
    return 1;
}

/* ---- running a check ---------------------------------------------------------------------- */

typedef struct check_run {
    const mmb_conform_ctx *c;
    const mmb_conform_check *check;
    const mmb_trace *trace; /* a shrinking candidate; NULL: the check's own traces */
} check_run;

static int run_in_child(void *arg, mmb_conform_report *r) {
    check_run *run = arg;
    if (run->trace)
        return run->check->run_trace(run->c, run->trace, r->reason, sizeof r->reason);
    if (run->check->run)
        return run->check->run(run->c, r);
    r->have_trace = true;
    r->shape = run->check->shape;
    for (unsigned i = 0; i < run->c->seeds; i++) {
        r->seed = run->c->seed + i;
        mmb_trace t;
        mmb_trace_init(&t);
        mmb_stress_generate(&t, r->seed, (mmb_shape)r->shape, run->c->ops);
        int failed = run->check->run_trace(run->c, &t, r->reason, sizeof r->reason);
        mmb_trace_free(&t);
        if (failed)
            return 1;
    }
    return 0;
}

/* What a failure is, for "the same check still fails": the oracle's check=NAME, else the reason
 * up to its first digit (numbers change as the trace shrinks). */
static void signature(const char *reason, char *sig, size_t n) {
    const char *at = strstr(reason, "check=");
    if (at)
        snprintf(sig, n, "%.*s", (int)strcspn(at, " "), at);
    else
        snprintf(sig, n, "%.*s", (int)strcspn(reason, "0123456789"), reason);
}

typedef struct shrink_ctx {
    check_run run;
    unsigned timeout_s; /* per candidate */
    char sig[256];
} shrink_ctx;

static bool still_fails(const mmb_trace *candidate, void *arg) {
    shrink_ctx *s = arg;
    s->run.trace = candidate;
    mmb_conform_report r = {0};
    if (mmb_conform_forked(run_in_child, &s->run, s->timeout_s, &r) == 0)
        return false;
    char sig[256];
    signature(r.reason, sig, sizeof sig);
    return strcmp(sig, s->sig) == 0;
}

/* Where failing traces go: --out-dir, or a directory made in $TMPDIR at the first failure. */
typedef struct out_dir {
    char path[4096];
    bool ready;
    bool failed; /* it could not be made: said once, not again for every failing check */
} out_dir;

static int prepare_dir(out_dir *d) {
    if (d->ready)
        return 0;
    if (d->failed)
        return EXIT_FAILED;
    d->failed = true;
    const char *base = getenv("TMPDIR");
    snprintf(d->path, sizeof d->path, "%s/mmbench-conform-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(d->path))
        return mmb_error(EXIT_FAILED, "conform", "set TMPDIR or give --out-dir",
                         "cannot create a directory in %s: %s", base && *base ? base : "/tmp",
                         strerror(errno));
    d->ready = true;
    d->failed = false;
    return 0;
}

/* Prints s as one shell word: as it is when it holds only safe characters, else in single
 * quotes (a ' written as '\''), so a printed command can be pasted as it stands. */
static void print_shell_word(const char *s) {
    if (*s &&
        strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./:=+-,@%") ==
            strlen(s)) {
        fputs(s, stdout);
        return;
    }
    putchar('\'');
    for (; *s; s++)
        if (*s == '\'')
            fputs("'\\''", stdout);
        else
            putchar(*s);
    putchar('\'');
}

/* A trace file: a comment naming what failed, then the operations. */
typedef struct trace_file {
    const mmb_trace *trace;
    const char *header;
} trace_file;

static int write_trace_fn(FILE *out, void *ctx) {
    const trace_file *f = ctx;
    if (fprintf(out, "# %s\n", f->header) < 0)
        return -1;
    return mmb_trace_write(f->trace, out);
}

/* Writes t to DIR/NAME with a header comment; the path in path. */
static int save_trace(out_dir *d, const char *name, const mmb_trace *t, const char *header,
                      char *path, size_t n) {
    if (prepare_dir(d) != 0)
        return EXIT_FAILED;
    if (snprintf(path, n, "%s/%s", d->path, name) >= (int)n)
        return mmb_error(EXIT_FAILED, "conform", NULL, "--out-dir %s: too long", d->path);
    trace_file f = {t, header};
    return mmb_outfile_write("conform", "--out-dir", path, write_trace_fn, &f);
}

/* The failing trace of a trace check: written, shrunk with --minimize, and how to replay it. */
static void report_trace(const check_run *run, const mmb_conform_report *r, out_dir *d,
                         bool minimize, const char *manager_spec, const char *prefix) {
    mmb_trace t, small;
    mmb_trace_init(&t);
    mmb_stress_generate(&t, r->seed, (mmb_shape)r->shape, run->c->ops);
    char path[4200] = "", name[320], header[2400];
    snprintf(header, sizeof header,
             "mmbench conform --manager %s: %s failed (seed %" PRIu64 ", shape %s): %s",
             manager_spec, run->check->name, r->seed, mmb_shape_names[r->shape], r->reason);
    snprintf(name, sizeof name, "%s%s.trace", prefix, run->check->name);
    bool saved = save_trace(d, name, &t, header, path, sizeof path) == EXIT_OK;
    if (!saved)
        path[0] = '\0';
    if (saved)
        printf("      trace: %s (%zu operations, seed %" PRIu64 ", shape %s)\n", path, t.count,
               r->seed, mmb_shape_names[r->shape]);
    shrink_ctx s = {.run = *run};
    signature(r->reason, s.sig, sizeof s.sig);
    /* A candidate gets a tenth of a check's time: a hang costs that, not the whole. */
    s.timeout_s = run->c->timeout_s / 10 ? run->c->timeout_s / 10 : 1;
    /* Shrinking keeps what still fails: a failure that does not repeat on the whole trace
     * (intermittent: threads, timing) would shrink to noise, so it is said and not shrunk. */
    if (minimize && !still_fails(&t, &s)) {
        printf("      not minimized: the whole trace did not fail the same way again (an "
               "intermittent failure)\n");
        minimize = false;
    }
    if (minimize) {
        mmb_shrink_stats st;
        mmb_trace_init(&small);
        mmb_shrink_trace(&t, still_fails, &s, run->c->timeout_s, &small, &st);
        snprintf(name, sizeof name, "%s%s.min.trace", prefix, run->check->name);
        char min_path[4200];
        if (save_trace(d, name, &small, header, min_path, sizeof min_path) == EXIT_OK) {
            snprintf(path, sizeof path, "%s", min_path);
            printf("      minimized: %s (%zu operations, from %zu; shrinking took %.2f s, %zu "
                   "candidates%s)\n",
                   path, st.ops_after, st.ops_before, st.seconds, st.candidates,
                   st.out_of_time ? ", stopped at its time limit" : "");
            if (!still_fails(&small, &s))
                printf("      note: the minimized trace did not fail again on a re-run (an "
                       "intermittent failure)\n");
        }
        mmb_trace_free(&small);
    }
    /* An oracle check, or any check whose failure is the oracle's: replay --verify finds it. */
    if (!path[0]) {
        printf("      (the trace could not be written: nothing to replay)\n");
    } else if (run->check->replayable || strstr(r->reason, " check=")) {
        printf("      reproduce: ");
        print_shell_word(program_invocation_name);
        printf(" replay --manager ");
        print_shell_word(manager_spec);
        printf(" --verify ");
        print_shell_word(path);
        printf("\n");
    } else
        printf("      (this check is conform's own: mmbench replay runs the trace but does not "
               "make this check)\n");
    mmb_trace_free(&t);
}

/* Runs one check and prints its line; 0 passed, 1 failed. */
static int run_check(const mmb_conform_ctx *c, const mmb_conform_check *check, out_dir *d,
                     const conform_flags *f) {
    check_run run = {c, check, NULL};
    mmb_conform_report r = {0};
    uint64_t start = mmb_now_ns();
    int failed = mmb_conform_forked(run_in_child, &run, c->timeout_s, &r);
    double secs = (double)(mmb_now_ns() - start) * 1e-9;
    printf("%s  %-20s (%.2f s)\n", failed ? "FAIL" : "PASS", check->name, secs);
    if (!failed)
        return 0;
    if (r.have_trace)
        printf("      %s (seed %" PRIu64 ", shape %s)\n", r.reason, r.seed,
               mmb_shape_names[r.shape]);
    else
        printf("      %s\n", r.reason);
    if (r.have_trace)
        report_trace(&run, &r, d, f->minimize, f->spec, f->prefix);
    return 1;
}

/* Every check that applies to m; the summary; EXIT_OK or EXIT_FAILED. */
static int conform(const mmb_manager *m, const conform_flags *f) {
    bool full = f->level == 1;
    mmb_conform_ctx c = {
        .manager = m,
        .seed = f->seed,
        .seeds = full ? 10 : 5,
        .ops = full ? 50000 : 5000,
        .chain = full ? 10000000 : 1000000,
        .threads = 4,
        .timeout_s = full ? 600 : 120,
    };
    out_dir d = {.ready = false};
    if (f->out_dir) {
        if (mkdir(f->out_dir, 0777) != 0 && errno != EEXIST)
            return mmb_usage_error("conform", NULL, "--out-dir %s: %s", f->out_dir,
                                   strerror(errno));
        if (mmb_outfile_check_dir("conform", "--out-dir", f->out_dir) != EXIT_OK)
            return EXIT_USAGE;
        snprintf(d.path, sizeof d.path, "%s", f->out_dir);
        d.ready = true;
    }
    printf("conform: manager %s, level %s (%u seeds x %" PRIu64 " operations, chains of %" PRIu64
           "), seed %" PRIu64 "\n",
           m->name, levels[f->level], c.seeds, c.ops, c.chain, c.seed);
    unsigned passed = 0, failed = 0;
    for (const mmb_conform_check *k = mmb_conform_checks; k->name; k++) {
        if (k->applies && !k->applies(m))
            continue;
        if (run_check(&c, k, &d, f))
            failed++;
        else
            passed++;
    }
    printf("summary: %u passed, %u failed\n", passed, failed);
    return failed ? EXIT_FAILED : EXIT_OK;
}

int mmb_conform_main(int argc, char **argv) {
    conform_flags f = {.seed = 1};
    int operands = argc;
    int status = mmb_flags_parse("conform", flags, 0, argc, argv, on_flag, &f, &operands);
    if (status == MMB_FLAGS_HELP) {
        fputs(conform_usage, stdout);
        mmb_flags_print_help(stdout, flags, 0);
        fputs(conform_footer, stdout);
        return EXIT_OK;
    }
    if (status != EXIT_OK)
        return status;
    if (operands < argc)
        return mmb_usage_error("conform", "mmbench conform --help", "unexpected operand '%s'",
                               argv[operands]);
    if (!f.manager)
        return mmb_usage_error("conform", "mmbench conform --help", "--manager is required");
    const mmb_manager *list[MAX_MANAGERS];
    size_t count = 0;
    status = mmb_manager_resolve_cli("conform", &f.manager, 1, list, &count, MAX_MANAGERS);
    if (status != EXIT_OK)
        return status;
    for (size_t i = 0; i < count; i++) {
        /* One manager: as given. Several: a plug-in's as ABSOLUTE-PATH:NAME, a registered one by
         * its name (so `all` replays as `rc`), and each one's trace files prefixed NAME. */
        const mmb_plugin_loaded *pl = mmb_plugin_of(list[i]);
        if (count == 1)
            snprintf(f.spec, sizeof f.spec, "%s", f.manager);
        else if (pl)
            snprintf(f.spec, sizeof f.spec, "%s:%s", pl->path, list[i]->name);
        else
            snprintf(f.spec, sizeof f.spec, "%s", list[i]->name);
        snprintf(f.prefix, sizeof f.prefix, count == 1 ? "%.0s" : "%s.", list[i]->name);
        if (conform(list[i], &f) != EXIT_OK)
            status = EXIT_FAILED;
    }
    return status;
}
