/* The matrix of `mmbench run` (run_internal.h): the flags expanded into cells (managers x
 * workloads x scales x parameter values x option values x placements), every name and value
 * checked before any cell runs; shards, the matrix's fingerprint and the --topology dry run. */
#include <fnmatch.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc_registry.h"
#include "build_info.h"
#include "diag.h"
#include "outfile.h"
#include "plugins.h"
#include "run.h"
#include "run_internal.h"
#include "strlist.h"

int mmb_run_dim_parse(const char *flag, const char *text, mmb_run_dim *d) {
    const char *eq = strchr(text, '=');
    if (!eq || eq == text || (size_t)(eq - text) >= sizeof d->key)
        return mmb_run_usage_error("%s '%s' is not KEY=VALUE[,VALUE...] (hint: mmbench run --help)",
                                   flag, text);
    memcpy(d->key, text, (size_t)(eq - text));
    d->key[eq - text] = '\0';
    d->nvalues = 0;
    for (const char *v = eq + 1;;) {
        const char *comma = strchr(v, ',');
        size_t len = comma ? (size_t)(comma - v) : strlen(v);
        if (len == 0 || len >= sizeof d->values[0] || d->nvalues == 16)
            return mmb_run_usage_error("%s '%s': empty, too long or more than 16 values", flag,
                                       text);
        memcpy(d->values[d->nvalues], v, len);
        d->values[d->nvalues++][len] = '\0';
        if (!comma)
            break;
        v = comma + 1;
    }
    return EXIT_OK;
}

/* mmb_run_dim_parse for the fuzz targets and their regression test (tests/fuzz): the status,
 * and in *nvalues the number of values parsed (0 on error). */
int mmb_run_parse_dim(const char *flag, const char *text, int *nvalues) {
    mmb_run_dim d;
    int status = mmb_run_dim_parse(flag, text, &d);
    *nvalues = status == EXIT_OK ? d.nvalues : 0;
    return status;
}

static bool workload_has_param(const mmb_workload *w, const char *key) {
    for (const mmb_param_spec *p = w->params; p && p->name; p++)
        if (strcmp(p->name, key) == 0)
            return true;
    return false;
}

static bool manager_has_option(const mmb_manager *m, const char *key) {
    for (const mmb_option_spec *o = mmb_common_options; o->name; o++)
        if (strcmp(o->name, key) == 0)
            return true;
    for (const mmb_option_spec *o = m->options; o && o->name; o++)
        if (strcmp(o->name, key) == 0)
            return true;
    return false;
}

/* Does workload w match a --workload pattern: a name, a family, a glob, or "all"? */
static bool workload_matches(const mmb_workload *w, const char *pattern) {
    return strcmp(pattern, "all") == 0 || strcmp(pattern, w->family) == 0 ||
           fnmatch(pattern, w->name, 0) == 0;
}

bool mmb_run_is_threaded(const mmb_workload *w) {
    return workload_has_param(w, MMB_PARAM_THREADS);
}

/* The `threads` parameter's value, or 1 for a workload without one. */
static unsigned workload_threads(const mmb_workload *w, const mmb_workload_env *env) {
    for (int i = 0; w->params && w->params[i].name; i++)
        if (strcmp(w->params[i].name, MMB_PARAM_THREADS) == 0)
            return (unsigned)env->params[i];
    return 1;
}

int mmb_run_cell_parse(const mmb_run_cell *c, mmb_heap_config *cfg, mmb_workload_env *env,
                       char *err, size_t n) {
    const char *kv[MMB_RUN_MAX_DIMS];
    for (int k = 0; k < c->noptions; k++)
        kv[k] = c->kv_options[k];
    if (mmb_options_parse(c->manager, kv, (size_t)c->noptions, cfg, err, n) != 0)
        return -1;
    for (int k = 0; k < c->nparams; k++)
        kv[k] = c->kv_params[k];
    memset(env, 0, sizeof *env);
    return mmb_params_parse(c->workload, c->scale, kv, (size_t)c->nparams, env, err, n);
}

/* Records a cell left out of the matrix and why. */
static void skip_cell(json_t *skipped, const char *name, const char *why) {
    if (skipped)
        json_array_append_new(skipped, json_pack("{ssss}", "cell", name, "reason", why));
}

/* ---- histogram files ------------------------------------------------------------------------ */

const char *mmb_run_hgrm_kind(int what) {
    if (what < MMB_EVENT_KIND_COUNT)
        return mmb_event_kind_name((mmb_event_kind)what);
    return what == MMB_RUN_HGRM_LATENCY ? "latency" : "latency-uncorrected"; /* the longest */
}

/* The cell's name with '/', '=' and ',' made '_'. Never truncated: build_cells refused, before
 * any cell ran, a path that does not fit (check_hgrm_path). */
char *mmb_run_hgrm_path(const char *dir, const char *cell_name, const char *what) {
    size_t n = strlen(dir) + strlen(cell_name) + strlen(what) + sizeof "/..hgrm";
    char *path = mmb_xrealloc(NULL, n);
    size_t used = (size_t)snprintf(path, n, "%s/", dir);
    for (const char *s = cell_name; *s; s++)
        path[used++] = (*s == '/' || *s == '=' || *s == ',') ? '_' : *s;
    snprintf(path + used, n - used, ".%s.hgrm", what);
    return path;
}

/* Before any cell runs: every histogram path of the cell fits (none is truncated, so none can
 * collide with another's), and none already names something that is not a regular file. */
static int check_hgrm_path(const char *dir, const char *cell_name) {
    char *path = mmb_run_hgrm_path(dir, cell_name, mmb_run_hgrm_kind(MMB_RUN_HGRM_UNCORRECTED));
    size_t bytes = strlen(path), name_bytes = strlen(strrchr(path, '/') + 1);
    int status = EXIT_OK;
    bool long_name = name_bytes > NAME_MAX;
    if (bytes >= PATH_MAX || long_name)
        status = mmb_run_usage_error(
            "--hgrm %.100s%s: the histogram files of cell %s would not fit: %s of %zu "
            "characters, at most %d (hint: a shorter --hgrm directory, or shorter --param and "
            "--option values)",
            dir, strlen(dir) > 100 ? "..." : "", cell_name, long_name ? "a file name" : "a path",
            long_name ? name_bytes : bytes, long_name ? NAME_MAX : PATH_MAX - 1);
    free(path);
    for (size_t k = 0; status == EXIT_OK && k < MMB_RUN_HGRM_KINDS; k++) {
        struct stat st;
        path = mmb_run_hgrm_path(dir, cell_name, mmb_run_hgrm_kind((int)k));
        if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode))
            status = mmb_outfile_check("run", "--hgrm", path);
        free(path);
    }
    return status;
}

/* ---- cell names ------------------------------------------------------------------------------ */

/* Appends to a cell's name (*used bytes of it taken); false when the result would not fit, which
 * the caller refuses (name_too_long): a truncated name could make two cells one. */
static bool append_name(char name[MMB_RUN_NAME_BYTES], size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool append_name(char name[MMB_RUN_NAME_BYTES], size_t *used, const char *fmt, ...) {
    const size_t size = MMB_RUN_NAME_BYTES;
    if (*used >= size)
        return false;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(name + *used, size - *used, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= size - *used) {
        *used = size;
        return false;
    }
    *used += (size_t)n;
    return true;
}

static int name_too_long(const char *start) {
    return mmb_run_usage_error("a cell's name would be longer than %zu characters: '%.100s...' "
                               "(hint: fewer or shorter --param and --option values)",
                               (size_t)MMB_RUN_NAME_BYTES - 1, start);
}

/* ---- expanding the flags ----------------------------------------------------------------------
 */

/* Turns the last cell into one cell per placement (or drops it, when it cannot run here): a
 * placement the topology lacks for the cell's thread count is skipped, with the reason. */
static int place_cell(const mmb_run_flags *f, hwloc_topology_t topo, mmb_run_cell *cells,
                      int *ncells, json_t *skipped) {
    mmb_run_cell *c = &cells[*ncells - 1];
    char why[300];
    if (c->threads > 1 && !(c->manager->caps & MMB_CAP_THREAD_SAFE)) {
        snprintf(why, sizeof why,
                 "%s is not thread-safe: it runs threaded workloads with " MMB_PARAM_THREADS
                 "=1 only",
                 c->manager->name);
        skip_cell(skipped, c->name, why);
        (*ncells)--;
        return EXIT_OK;
    }
    if (c->threads > 1 && strcmp(c->alloc->name, "pool") == 0) {
        snprintf(why, sizeof why,
                 "the pool allocator is not thread-safe: it runs threaded workloads with "
                 "" MMB_PARAM_THREADS "=1 only");
        skip_cell(skipped, c->name, why);
        (*ncells)--;
        return EXIT_OK;
    }
    if (f->nplacements == 0)
        return EXIT_OK;
    static mmb_run_cell base;
    base = *c;
    (*ncells)--;
    for (int p = 0; p < f->nplacements; p++) {
        char name[sizeof base.name];
        size_t used = 0;
        if (!append_name(name, &used, "%s/placement=%s", base.name,
                         mmb_placement_name((mmb_placement)f->placements[p])))
            return name_too_long(name);
        int pus[MMB_RUN_MAX_THREADS];
        if (mmb_placement_plan(topo, (mmb_placement)f->placements[p], (int)base.threads, pus, why,
                               sizeof why) != 0) {
            skip_cell(skipped, name, why);
            continue;
        }
        if (*ncells == MMB_RUN_MAX_CELLS)
            return mmb_run_usage_error("more than %d cells", MMB_RUN_MAX_CELLS);
        mmb_run_cell *d = &cells[*ncells];
        *d = base;
        d->index = (*ncells)++;
        d->placement = f->placements[p];
        snprintf(d->name, sizeof d->name, "%s", name);
    }
    return EXIT_OK;
}

/* The managers --manager names, in order ("all": the bundled ones; "external": the external ones
 * built; a plug-in's path: each of its). */
static int select_managers(const mmb_run_flags *f, const mmb_manager **ms, int *nm) {
    size_t n = 0;
    int status = mmb_manager_resolve_cli("run", f->managers, (size_t)f->nmanagers, ms, &n, 64);
    *nm = (int)n;
    bool external = false;
    for (int i = 0; i < f->nmanagers; i++)
        external |= strcmp(f->managers[i], "external") == 0;
    const char *name, *packages;
    for (size_t i = 0;
         status == EXIT_OK && external && mmb_manager_missing_at(i, &name, &packages) == 0; i++)
        fprintf(stderr,
                "mmbench: warning: run: external manager %s is not built here, so not in the "
                "matrix: it needs %s (hint: " MMB_NOT_BUILT_HINT ")\n",
                name, packages);
    return status;
}

/* The workloads --workload matches, each once, in registry order within each pattern. */
static int select_workloads(const mmb_run_flags *f, const mmb_workload **ws, int *nw) {
    *nw = 0;
    for (int i = 0; i < f->nworkloads; i++) {
        int before = *nw;
        for (size_t k = 0; k < mmb_workload_count() && *nw < 64; k++) {
            const mmb_workload *w = mmb_workload_at(k);
            bool dup = false;
            for (int j = 0; j < *nw; j++)
                dup |= ws[j] == w;
            if (!dup && workload_matches(w, f->workloads[i]))
                ws[(*nw)++] = w;
        }
        if (*nw == before) {
            char names[1024], families[256];
            mmb_workload_names(names, sizeof names);
            mmb_join(families, sizeof families, mmb_families, ", ", NULL);
            return mmb_run_usage_error("no workload matches '%s' (hint: names: %s; families: %s; "
                                       "or a glob, or all)",
                                       f->workloads[i], names, families);
        }
    }
    return EXIT_OK;
}

/* The allocators --allocator names, each once, in order ("all": every one available here). One
 * not available here is left out with a note in skipped; an unknown name is refused. *named:
 * how many were asked for, available or not (more than one: cell names gain the allocator, the
 * same on every machine). */
static int select_allocators(const mmb_run_flags *f, const mmb_alloc_impl **as, int *na, int *named,
                             json_t *skipped) {
    bool want[64] = {false};
    for (int i = 0; i < f->nallocators; i++) {
        int k = mmb_alloc_index(f->allocators[i]);
        if (strcmp(f->allocators[i], "all") == 0) {
            for (size_t j = 0; j < mmb_alloc_count() && j < 64; j++)
                want[j] |= mmb_alloc_impl_at(j, NULL) != NULL;
            continue;
        }
        if (k < 0) {
            char names[256];
            mmb_alloc_names(names, sizeof names);
            return mmb_run_usage_error("--allocator: unknown allocator '%s' (hint: %s, or all)",
                                       f->allocators[i], names);
        }
        want[k] = true;
    }
    *na = *named = 0;
    for (size_t j = 0; j < mmb_alloc_count() && j < 64; j++) {
        const char *why = NULL;
        const mmb_alloc_impl *a = want[j] ? mmb_alloc_impl_at(j, &why) : NULL;
        *named += want[j];
        if (a) {
            as[(*na)++] = a;
        } else if (want[j]) {
            char cells[128];
            snprintf(cells, sizeof cells, "every cell with allocator=%s", mmb_alloc_name_at(j));
            char reason[300];
            snprintf(reason, sizeof reason, "allocator %s is not available here: %s",
                     mmb_alloc_name_at(j), why);
            skip_cell(skipped, cells, reason);
        }
    }
    return EXIT_OK;
}

/* Adds NAME to the NULL-terminated names[] (room for max) unless it is there already. */
static void add_unique(const char **names, size_t max, const char *name) {
    size_t n = 0;
    for (; names[n]; n++)
        if (strcmp(names[n], name) == 0)
            return;
    if (n + 1 < max) {
        names[n] = name;
        names[n + 1] = NULL;
    }
}

/* Every --param key is a parameter of some selected workload, every --option key an option of
 * some selected manager; otherwise the error lists the valid ones. */
static int check_dims(const mmb_run_flags *f, const mmb_manager *const *ms, int nm,
                      const mmb_workload *const *ws, int nw) {
    enum { MAX_NAMES = 1024 };
    static const char *names[MAX_NAMES];
    char valid[1024];
    for (int d = 0; d < f->nparams; d++) {
        bool any = false;
        names[0] = NULL;
        for (int i = 0; i < nw; i++) {
            any |= workload_has_param(ws[i], f->params[d].key);
            for (const mmb_param_spec *p = ws[i]->params; p && p->name; p++)
                add_unique(names, MAX_NAMES, p->name);
        }
        if (!any)
            return mmb_run_usage_error(
                "no selected workload has a parameter '%s' (valid: %s)", f->params[d].key,
                names[0] ? mmb_join(valid, sizeof valid, names, ", ", NULL) : "none");
    }
    for (int d = 0; d < f->noptions; d++) {
        bool any = false;
        names[0] = NULL;
        for (const mmb_option_spec *o = mmb_common_options; o->name; o++)
            add_unique(names, MAX_NAMES, o->name);
        for (int i = 0; i < nm; i++) {
            any |= manager_has_option(ms[i], f->options[d].key);
            for (const mmb_option_spec *o = ms[i]->options; o && o->name; o++)
                add_unique(names, MAX_NAMES, o->name);
        }
        if (!any)
            return mmb_run_usage_error("no selected manager has an option '%s' (valid: %s)",
                                       f->options[d].key,
                                       mmb_join(valid, sizeof valid, names, ", ", NULL));
    }
    return EXIT_OK;
}

/* Whether dimension d (params first, then options at MMB_RUN_MAX_DIMS + k) applies to the pair,
 * and its number of values in *n. */
static bool dim_applies(const mmb_run_flags *f, const mmb_manager *m, const mmb_workload *w, int d,
                        int *n) {
    if (d < MMB_RUN_MAX_DIMS) {
        if (d >= f->nparams || !workload_has_param(w, f->params[d].key))
            return false;
        *n = f->params[d].nvalues;
        return true;
    }
    int k = d - MMB_RUN_MAX_DIMS;
    if (k >= f->noptions || !manager_has_option(m, f->options[k].key))
        return false;
    *n = f->options[k].nvalues;
    return true;
}

/* Fills cell c for the pair at the values idx[] picks, and checks its values now, so bad input
 * stops the run before it starts. */
static int fill_cell(const mmb_run_flags *f, mmb_run_cell *c, const mmb_manager *m,
                     const mmb_workload *w, mmb_scale scale, const int *idx,
                     const mmb_alloc_impl *alloc, bool name_alloc) {
    c->manager = m;
    c->workload = w;
    c->scale = scale;
    c->alloc = alloc;
    size_t used = 0;
    bool fits = append_name(c->name, &used, "%s/%s/%s", w->name, m->name, mmb_scale_names[scale]);
    for (int d = 0; d < f->nparams; d++)
        if (workload_has_param(w, f->params[d].key)) {
            snprintf(c->kv_params[c->nparams++], sizeof c->kv_params[0], "%s=%s", f->params[d].key,
                     f->params[d].values[idx[d]]);
            fits = fits && append_name(c->name, &used, "/%s", c->kv_params[c->nparams - 1]);
        }
    for (int d = 0; d < f->noptions; d++)
        if (manager_has_option(m, f->options[d].key)) {
            snprintf(c->kv_options[c->noptions++], sizeof c->kv_options[0], "%s=%s",
                     f->options[d].key, f->options[d].values[idx[MMB_RUN_MAX_DIMS + d]]);
            fits = fits && append_name(c->name, &used, "/%s", c->kv_options[c->noptions - 1]);
        }
    if (name_alloc)
        fits = fits && append_name(c->name, &used, "/allocator=%s", alloc->name);
    if (!fits)
        return name_too_long(c->name);
    char err[600];
    mmb_heap_config cfg;
    mmb_workload_env env;
    if (mmb_run_cell_parse(c, &cfg, &env, err, sizeof err) != 0)
        return mmb_run_usage_error("%s (hint: mmbench list)", err);
    c->threads = workload_threads(w, &env);
    c->placement = -1;
    if (c->threads > MMB_RUN_MAX_THREADS)
        return mmb_run_usage_error("%s: threads=%u is more than %d", c->name, c->threads,
                                   MMB_RUN_MAX_THREADS);
    return EXIT_OK;
}

/* The cells of one (workload, manager, scale): an odometer over the parameter and option values
 * that apply to the pair. */
static int add_cells(const mmb_run_flags *f, hwloc_topology_t topo, const mmb_manager *m,
                     const mmb_workload *w, mmb_scale scale, const mmb_alloc_impl *alloc,
                     bool name_alloc, mmb_run_cell *cells, int *ncells, json_t *skipped) {
    int idx[2 * MMB_RUN_MAX_DIMS] = {0};
    for (;;) {
        if (*ncells == MMB_RUN_MAX_CELLS)
            return mmb_run_usage_error("more than %d cells", MMB_RUN_MAX_CELLS);
        mmb_run_cell *c = &cells[*ncells];
        memset(c, 0, sizeof *c);
        c->index = (*ncells)++;
        if (fill_cell(f, c, m, w, scale, idx, alloc, name_alloc) != EXIT_OK ||
            place_cell(f, topo, cells, ncells, skipped) != EXIT_OK)
            return EXIT_USAGE;
        /* Next combination: advance the first dimension that applies and has more. */
        int d = 0, n = 0;
        for (; d < 2 * MMB_RUN_MAX_DIMS; d++) {
            if (!dim_applies(f, m, w, d, &n))
                continue;
            if (++idx[d] < n)
                break;
            idx[d] = 0;
        }
        if (d == 2 * MMB_RUN_MAX_DIMS)
            return EXIT_OK;
    }
}

int mmb_run_build_cells(const mmb_run_flags *f, hwloc_topology_t topo, mmb_run_cell *cells,
                        int *ncells, json_t *skipped) {
    const mmb_manager *ms[64];
    const mmb_workload *ws[64];
    const mmb_alloc_impl *as[64];
    int nm = 0, nw = 0, na = 0, named = 0;
    if (select_managers(f, ms, &nm) != EXIT_OK || select_workloads(f, ws, &nw) != EXIT_OK ||
        select_allocators(f, as, &na, &named, skipped) != EXIT_OK ||
        check_dims(f, ms, nm, ws, nw) != EXIT_OK)
        return EXIT_USAGE;
    *ncells = 0;
    for (int wi = 0; wi < nw; wi++)
        for (int mi = 0; mi < nm; mi++)
            for (int si = 0; si < f->nscales; si++)
                for (int ai = 0; ai < na; ai++)
                    if (add_cells(f, topo, ms[mi], ws[wi], f->scales[si], as[ai], named > 1, cells,
                                  ncells, skipped) != EXIT_OK)
                        return EXIT_USAGE;
    for (int i = 0; f->hgrm && i < *ncells; i++)
        if (check_hgrm_path(f->hgrm, cells[i].name) != EXIT_OK)
            return EXIT_USAGE;
    return EXIT_OK;
}

/* ---- shards, fingerprint, dry run -------------------------------------------------------------
 */

bool mmb_run_in_shard(const mmb_run_flags *f, int i) {
    return f->shard_n == 0 || i % f->shard_n == f->shard_k - 1;
}

/* FNV-1a over the seed, repetitions, oracle, garbage sampling and build, then every cell's
 * name. */
const char *mmb_run_fingerprint(const mmb_run_flags *f, const mmb_run_cell *cells, int n) {
    static char out[17];
    uint64_t h = 0xcbf29ce484222325ull;
    char buf[700];
    for (int i = -1; i < n; i++) {
        if (i < 0)
            snprintf(buf, sizeof buf, "%" PRIu64 "|%" PRIu64 "|%d|%s|%s|%s", f->seed,
                     f->repetitions, f->verify, mmb_build_info_get()->git_revision,
                     mmb_build_info_get()->build_type, mmb_build_info_get()->version);
        else
            snprintf(buf, sizeof buf, "%s", cells[i].name);
        if (i < 0 && f->sample_garbage) /* only then: other runs keep their fingerprints */
            snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "|garbage=%" PRIu64,
                     f->sample_garbage);
        for (const char *p = buf; *p; p++)
            h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
        h = (h ^ '\n') * 0x100000001b3ull;
    }
    snprintf(out, sizeof out, "%016" PRIx64, h);
    return out;
}

int mmb_run_dry_run(hwloc_topology_t topo, const mmb_run_cell *cells, int n, json_t *skipped) {
    printf("topology: ");
    mmb_topology_describe(topo, stdout);
    for (int i = 0; i < n; i++) {
        printf("%-64s threads %u", cells[i].name, cells[i].threads);
        if (cells[i].placement >= 0) {
            int pus[MMB_RUN_MAX_THREADS];
            char why[300];
            mmb_placement_plan(topo, (mmb_placement)cells[i].placement, (int)cells[i].threads, pus,
                               why, sizeof why);
            printf(" on PUs");
            for (unsigned t = 0; t < cells[i].threads; t++)
                printf("%s%d", t ? "," : " ", pus[t]);
        } else {
            printf(" unbound");
        }
        putchar('\n');
    }
    size_t k;
    json_t *s;
    json_array_foreach(skipped, k, s)
        printf("%-64s skipped: %s\n", json_string_value(json_object_get(s, "cell")),
               json_string_value(json_object_get(s, "reason")));
    printf("dry run (--topology): nothing was run\n");
    return EXIT_OK;
}
