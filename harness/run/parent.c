/* The parent of `mmbench run` (run_internal.h): each cell in a child process (under callgrind
 * with --instructions, one per repetition with --fresh-process), its results collected, a
 * stop signal honoured between cells, and --resume taking a stopped run's cells as done. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc_registry.h"
#include "build_info.h"
#include "child.h"
#include "diag.h"
#include "mmbench/clock.h"
#include "plugins.h"
#include "run_internal.h"

/* In a forked child: becomes `valgrind --tool=callgrind mmbench run ARGS --cell-index i`, with
 * instrumentation off until the cell's CALLGRIND_START_INSTRUMENTATION. */
static void exec_under_callgrind(int argc, char **argv, int i, const char *out,
                                 const char *cg_path) {
    char exe[4096], cg_flag[700], index[32];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0)
        _exit(EXIT_FAILED);
    exe[len] = '\0';
    snprintf(cg_flag, sizeof cg_flag, "--callgrind-out-file=%s", cg_path);
    snprintf(index, sizeof index, "%d", i);
    char **args = calloc((size_t)argc + 16, sizeof *args);
    int n = 0;
    args[n++] = "valgrind";
    args[n++] = "--tool=callgrind";
    args[n++] = "--instr-atstart=no";
    args[n++] = "--quiet";
    /* No gdbserver: its FIFOs in $TMPDIR would outlive a cell killed by a stop signal. */
    args[n++] = "--vgdb=no";
    args[n++] = cg_flag;
    args[n++] = exe;
    args[n++] = "run";
    for (int k = 1; k < argc; k++)
        args[n++] = argv[k];
    args[n++] = "--cell-index";
    args[n++] = index;
    args[n++] = "--cell-out";
    args[n++] = (char *)out;
    args[n] = NULL;
    /* hwloc's x86 backend reads CPUID, which valgrind emulates: it says so on every start and
     * disables itself. Leave it out; the OS backend gives the same topology. */
    setenv("HWLOC_COMPONENTS", "-x86", 1);
    /* Anything else valgrind puts in $TMPDIR goes into the run's own directory, removed at its
     * end whatever happens to the cell. */
    char tmpdir[700];
    snprintf(tmpdir, sizeof tmpdir, "%s", out);
    char *slash = strrchr(tmpdir, '/');
    if (slash) {
        *slash = '\0';
        setenv("TMPDIR", tmpdir, 1);
    }
    execvp("valgrind", args);
    fprintf(stderr, "mmbench: error: run: cannot run valgrind: %s\n", strerror(errno));
    _exit(EXIT_FAILED);
}

/* In a forked child: becomes `mmbench run ARGS --cell-index i --cell-out OUT` with the cell's
 * allocator library in LD_PRELOAD, so that it is the new process's malloc from its first call
 * (the cell checks it took effect before it runs). MMBENCH_TEST_NO_PRELOAD set: started without
 * it, for the test that the check catches that. */
static void exec_preloaded(int argc, char **argv, int i, const char *out, const char *library,
                           uint64_t repetitions) {
    char exe[4096], index[32], reps[32];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0)
        _exit(EXIT_FAILED);
    exe[len] = '\0';
    snprintf(index, sizeof index, "%d", i);
    snprintf(reps, sizeof reps, "%llu", (unsigned long long)repetitions);
    char **args = calloc((size_t)argc + 12, sizeof *args);
    int n = 0;
    args[n++] = exe;
    args[n++] = "run";
    for (int k = 1; k < argc; k++)
        args[n++] = argv[k];
    args[n++] = "--repetitions"; /* --fresh-process runs one at a time: the last one given wins */
    args[n++] = reps;
    args[n++] = "--cell-index";
    args[n++] = index;
    args[n++] = "--cell-out";
    args[n++] = (char *)out;
    args[n] = NULL;
    if (!getenv("MMBENCH_TEST_NO_PRELOAD"))
        setenv("LD_PRELOAD", library, 1);
    execv(exe, args);
    fprintf(stderr, "mmbench: error: run: cannot start %s: %s\n", exe, strerror(errno));
    _exit(EXIT_FAILED);
}

/* Adds callgrind's instruction total to every iteration entry of a cell's results. */
static void add_instruction_counts(json_t *root, const char *cg_path, const char *cell_name) {
    FILE *in = fopen(cg_path, "r");
    long long total = -1;
    char line[512];
    /* "totals:" is the whole run's count; "summary:" may cover only the last part dumped. */
    while (in && fgets(line, sizeof line, in))
        if (sscanf(line, "totals: %lld", &total) == 1)
            break;
    if (in)
        fclose(in);
    unlink(cg_path);
    if (total < 0) {
        mmb_error(EXIT_FAILED, "run", NULL, "%s: no instruction count in callgrind's output",
                  cell_name);
        return;
    }
    size_t k;
    json_t *b;
    json_array_foreach(json_object_get(root, "benchmarks"), k, b) {
        const char *type = json_string_value(json_object_get(b, "run_type"));
        if (type && strcmp(type, "iteration") == 0) {
            mmb_run_emit_entry(b, "instructions", json_integer(total));
            json_object_set_new(json_object_get(b, "mmbench"), "instructions", json_integer(total));
        }
    }
}

/* Runs one cell in a forked child (under callgrind with --instructions) and waits: EXIT_USAGE
 * when the child rejected a flag, EXIT_FAILED when no child could start, else EXIT_OK; the
 * child's status is in *ws. A stop signal kills the child (child.h). */
static int cell_in_child(const mmb_run_cell *c, const mmb_run_flags *f, int argc, char **argv,
                         const char *path, const char *cg_path, int *ws) {
    fflush(stdout);
    fflush(stderr);
    *ws = 0;
    pid_t pid = mmb_child_fork();
    if (pid < 0) {
        return mmb_error(EXIT_FAILED, "run", NULL, "%s: cannot start the cell's process: %s",
                         c->name, strerror(errno));
    }
    if (pid == 0 && f->instructions)
        exec_under_callgrind(argc, argv, c->index, path, cg_path);
    const char *library = c->alloc ? mmb_alloc_preload_path(c->alloc) : NULL;
    if (pid == 0 && library)
        exec_preloaded(argc, argv, c->index, path, library, f->repetitions);
    if (pid == 0)
        _exit(mmb_run_one_cell(c, f, path));
    if (mmb_child_wait(pid, ws) != 0)
        return EXIT_FAILED;
    return WIFEXITED(*ws) && WEXITSTATUS(*ws) == EXIT_USAGE ? EXIT_USAGE : EXIT_OK;
}

/* Adds the iteration entries of one single-repetition run as repetition r of n. */
static void append_repetition(json_t **root, json_t *part, json_int_t r, json_int_t n) {
    json_t *keep = json_array();
    size_t k;
    json_t *b;
    json_array_foreach(json_object_get(part, "benchmarks"), k, b) {
        const char *type = json_string_value(json_object_get(b, "run_type"));
        if (type && strcmp(type, "iteration") != 0)
            continue;
        mmb_run_emit_entry(b, "repetition_index", json_integer(r));
        mmb_run_emit_entry(b, "repetitions", json_integer(n));
        json_object_set_new(json_object_get(b, "mmbench"), "repetition", json_integer(r));
        json_object_set_new(json_object_get(b, "mmbench"), "fresh_process", json_true());
        json_array_append(keep, b);
    }
    if (!*root) {
        json_object_set_new(part, "benchmarks", keep);
        *root = part;
        return;
    }
    json_array_extend(json_object_get(*root, "benchmarks"), keep);
    json_decref(keep);
    json_decref(part);
}

/* The build a results document says made it, as "KEY VALUE" for the first field that differs
 * from this build; NULL when it is this build. */
static const char *other_build(json_t *mm, char *buf, size_t n) {
    const char *keys[] = {"version", "git_revision", "build_type", "sanitizers"};
    const char *ours[] = {mmb_build_info_get()->version, mmb_build_info_get()->git_revision,
                          mmb_build_info_get()->build_type, mmb_build_info_get()->sanitizers};
    for (size_t i = 0; i < 4; i++) {
        const char *theirs = json_string_value(json_object_get(mm, keys[i]));
        if (!theirs || strcmp(theirs, ours[i]) != 0) {
            snprintf(buf, n, "%s %s, this build's %s", keys[i], theirs ? theirs : "(none)",
                     ours[i]);
            return buf;
        }
    }
    /* A plug-in rebuilt is another build too: each the document names must be loaded, the same
     * file bytes. */
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(mm, "plugins"), i, p) {
        const char *name = json_string_value(json_object_get(p, "name"));
        const char *hash = json_string_value(json_object_get(p, "fnv1a64"));
        const char *here = NULL;
        for (size_t k = 0; k < mmb_plugin_count() && !here; k++)
            if (name && strcmp(mmb_plugin_at(k)->plugin->name, name) == 0)
                here = mmb_plugin_at(k)->fnv1a64;
        if (!here || !hash || strcmp(here, hash) != 0) {
            snprintf(buf, n, "plug-in %s fnv1a64 %s, this run's %s", name ? name : "(none)",
                     hash ? hash : "(none)", here ? here : "(not loaded)");
            return buf;
        }
    }
    return NULL;
}

int mmb_run_load_resume(const mmb_run_flags *f, mmb_run_state *st) {
    const char *file = f->resume;
    json_error_t jerr;
    st->resumed = json_load_file(file, 0, &jerr);
    if (!st->resumed)
        return mmb_run_usage_error("--resume %s: cannot read: %s", file, jerr.text);
    json_t *context = json_object_get(st->resumed, "context");
    json_t *mm = json_object_get(context, "mmbench");
    json_t *benchmarks = json_object_get(st->resumed, "benchmarks");
    const char *fp =
        json_string_value(json_object_get(json_object_get(mm, "matrix"), "fingerprint"));
    if (!fp || !json_is_array(benchmarks))
        return mmb_run_usage_error("--resume %s: not a results file of mmbench run (no "
                                   "context.mmbench.matrix)",
                                   file);
    char why[300];
    if (other_build(mm, why, sizeof why))
        return mmb_usage_error("run", "resume with the build that started the run",
                               "--resume %s: made by another build (%s)", file, why);
    const char *ours = mmb_run_fingerprint(f, st->cells, st->ncells);
    if (strcmp(fp, ours) != 0)
        return mmb_usage_error(
            "run", "give the flags of the interrupted run, in context.mmbench.command",
            "--resume %s: another matrix (fingerprint %s, these flags make %s)", file, fp, ours);
    json_t *shard = json_object_get(mm, "shard");
    int k = (int)json_integer_value(json_object_get(shard, "index"));
    int n = (int)json_integer_value(json_object_get(shard, "count"));
    if (k != f->shard_k || n != f->shard_n) {
        char theirs[32] = "none", these[32] = "none";
        if (n)
            snprintf(theirs, sizeof theirs, "%d/%d", k, n);
        if (f->shard_n)
            snprintf(these, sizeof these, "%d/%d", f->shard_k, f->shard_n);
        return mmb_usage_error("run", "give the --shard of the interrupted run",
                               "--resume %s: another shard (%s, these flags %s)", file, theirs,
                               these);
    }
    size_t i;
    json_t *b;
    json_array_foreach(benchmarks, i, b) {
        json_t *cm = json_object_get(b, "mmbench");
        const char *name = json_string_value(json_object_get(cm, "cell"));
        json_int_t ci = json_integer_value(json_object_get(cm, "cell_index"));
        if (!name || ci < 0 || ci >= st->ncells || strcmp(st->cells[ci].name, name) != 0 ||
            !mmb_run_in_shard(f, (int)ci))
            return mmb_run_usage_error(
                "--resume %s: entry %zu (cell %s) is not a cell of this matrix", file, i,
                name ? name : "(none)");
        if (!st->done[ci])
            st->done[ci] = json_array();
        json_array_append(st->done[ci], b);
        if (json_is_true(json_object_get(b, "error_occurred")))
            st->failed = 1; /* the whole run's status counts the cells run before */
    }
    st->gb_context = json_deep_copy(context);
    json_object_del(st->gb_context, "mmbench");
    return EXIT_OK;
}

/* The entry that stands for a cell whose process died (a crash in the manager, say). */
static json_t *died_entry(const mmb_run_cell *c, const mmb_run_flags *f, int ws, bool tty) {
    char why[128];
    if (WIFSIGNALED(ws))
        snprintf(why, sizeof why, "the cell's process was killed by signal %d (%s)", WTERMSIG(ws),
                 strsignal(WTERMSIG(ws)));
    else
        snprintf(why, sizeof why, "the cell's process exited with status %d", WEXITSTATUS(ws));
    if (tty)
        fprintf(stderr, "\r\033[K");
    mmb_error(EXIT_FAILED, "run", NULL, "%s: %s", c->name, why);
    json_t *entry =
        json_pack("{sssssbssso}", "name", c->name, "run_type", "iteration", "error_occurred", 1,
                  "error_message", why, "mmbench", mmb_run_cell_json(c, f));
    json_t *list = json_array();
    json_array_append_new(list, entry);
    return list;
}

/* Runs cell i in child processes (one, or one per repetition with --fresh-process): its results
 * document in *root, NULL when the cell's process died or a stop signal came before the cell
 * finished (a cell that finished first is kept). EXIT_USAGE when a child refused a flag. */
static int run_cell_processes(const mmb_run_flags *f, mmb_run_state *st, int i, int argc,
                              char **argv, json_t **root, int *ws) {
    char path[600], cg_path[600];
    snprintf(path, sizeof path, "%s/cell-%d.json", st->dir, i);
    snprintf(cg_path, sizeof cg_path, "%s/callgrind-%d.out", st->dir, i);
    const mmb_run_cell *c = &st->cells[i];
    json_error_t jerr;
    *root = NULL;
    if (!f->fresh_process || f->instructions) {
        int status = cell_in_child(c, f, argc, argv, path, cg_path, ws);
        if (status == EXIT_OK && !mmb_stop_signal())
            *root = json_load_file(path, 0, &jerr);
        unlink(path);
        if (*root && f->instructions)
            add_instruction_counts(*root, cg_path, c->name);
        return status;
    }
    /* Each repetition in a process of its own: the spread then includes what differs between
     * processes (memory layout, allocator state), which is what a comparison across builds must
     * be tested against. */
    mmb_run_flags one = *f;
    one.repetitions = 1;
    for (uint64_t r = 0; r < f->repetitions && !mmb_stop_signal(); r++) {
        int status = cell_in_child(c, &one, argc, argv, path, cg_path, ws);
        json_t *part = status == EXIT_OK ? json_load_file(path, 0, &jerr) : NULL;
        unlink(path);
        if (!part) {
            json_decref(*root);
            *root = NULL;
            return status;
        }
        append_repetition(root, part, (json_int_t)r, (json_int_t)f->repetitions);
    }
    if (mmb_stop_signal() && json_array_size(json_object_get(*root, "benchmarks")) <
                                 (size_t)f->repetitions) { /* stopped between repetitions */
        json_decref(*root);
        *root = NULL;
    }
    return EXIT_OK;
}

int mmb_run_cells(const mmb_run_flags *f, mmb_run_state *st, int argc, char **argv) {
    char why[300];
    if (mmb_tempdir_create("mmbench-run", st->dir, sizeof st->dir, why, sizeof why) != 0)
        return mmb_run_usage_error("%s", why);
    bool tty = isatty(STDERR_FILENO);
    int todo = 0, started = 0;
    for (int i = 0; i < st->ncells; i++)
        todo += mmb_run_in_shard(f, i) && !st->done[i];
    for (int i = 0; i < st->ncells && !mmb_stop_signal(); i++) {
        if (!mmb_run_in_shard(f, i) || st->done[i])
            continue;
        started++;
        if (tty) {
            double elapsed = (double)(mmb_now_ns() - st->start_ns) * 1e-9;
            double left = started > 1 ? elapsed / (started - 1) * (todo - started + 1) : 0;
            fprintf(stderr, "\r\033[Kmmbench: cell %d of %d: %s (%.0f s left)", started, todo,
                    st->cells[i].name, left);
        }
        int ws = 0;
        json_t *root = NULL;
        int status = run_cell_processes(f, st, i, argc, argv, &root, &ws);
        if (mmb_stop_signal() && !root)
            break;                /* the cell was stopped: it is not done */
        if (status == EXIT_USAGE) /* a flag the child refused: the child said which */
            return EXIT_USAGE;
        if (!root) {
            st->done[i] = died_entry(&st->cells[i], f, ws, tty);
            st->failed = 1;
            continue;
        }
        if (!st->gb_context)
            st->gb_context = json_incref(json_object_get(root, "context"));
        st->done[i] = json_array();
        size_t k;
        json_t *b;
        json_array_foreach(json_object_get(root, "benchmarks"), k, b) {
            if (json_is_true(json_object_get(b, "error_occurred"))) {
                if (tty)
                    fprintf(stderr, "\r\033[K");
                mmb_error(EXIT_FAILED, "run", NULL, "%s: %s", st->cells[i].name,
                          json_string_value(json_object_get(b, "error_message")));
                st->failed = 1;
            }
            json_array_append(st->done[i], b);
        }
        json_decref(root);
    }
    if (tty)
        fprintf(stderr, "\r\033[K");
    return EXIT_OK;
}
