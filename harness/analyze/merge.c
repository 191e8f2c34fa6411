/* `mmbench merge` (merge.h): checks that the shards are the N parts of one run - the same matrix
 * fingerprint, build and shard count, each part exactly once - and combines them in matrix order.
 * Design: harness/README.md, "Runs larger than one machine". */
#include "merge.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "diag.h"
#include "outfile.h"
#include "results.h"
#include "table.h"

/* The most shards a run can be merged from (seen[] has one flag each). */
#define MAX_SHARDS (1 << 20)

#define merge_error(...) mmb_usage_error("merge", NULL, __VA_ARGS__)

static const char *get_str(json_t *o, const char *a, const char *b) {
    json_t *v = json_object_get(o, a);
    if (b)
        v = json_object_get(v, b);
    const char *s = json_string_value(v);
    return s ? s : "";
}

static const char merge_help[] =
    "usage: mmbench merge [--out FILE] [--format table|json|none] SHARD.json...\n"
    "\n"
    "Combines the N results of `mmbench run --shard K/N` (one per K, from any machines) into\n"
    "one document in matrix order. Refuses shards of different runs: another matrix, seed or\n"
    "repetitions (the matrix fingerprint), another build (git revision, build type, version),\n"
    "another N, a shard given twice, or one missing.\n"
    "\n";

typedef struct entry {
    json_t *b;
    json_int_t index;
    size_t order; /* stable tie-break: repetitions and aggregates keep their order */
} entry;

static int by_index(const void *x, const void *y) {
    const entry *a = x, *b = y;
    if (a->index != b->index)
        return a->index < b->index ? -1 : 1;
    return a->order < b->order ? -1 : a->order > b->order;
}

/* One entry of a shard, as the cell-by-cell check sees it. */
typedef struct slot {
    json_int_t index;
    const char *cell, *what; /* "repetition", or the aggregate's name */
    json_int_t repetition;   /* -1 for an aggregate */
    int file;
} slot;

static int by_slot(const void *x, const void *y) {
    const slot *a = x, *b = y;
    if (a->index != b->index)
        return a->index < b->index ? -1 : 1;
    int c = strcmp(a->what, b->what);
    if (c)
        return c;
    if (a->repetition != b->repetition)
        return a->repetition < b->repetition ? -1 : 1;
    return a->file - b->file;
}

/* Every entry of every shard belongs to its shard's slice of the matrix (cells K, K+N, ...),
 * and no cell's repetition or aggregate is there twice: in one shard (a repeated cell) or in
 * two (overlapping shards). Names the first offending cell; EXIT_USAGE after one error line. */
static int check_cells(json_t **docs, char **paths, int nfiles, json_int_t count,
                       json_int_t cells) {
    size_t total = 0;
    for (int i = 0; i < nfiles; i++)
        total += json_array_size(json_object_get(docs[i], "benchmarks"));
    slot *all = calloc(total ? total : 1, sizeof *all);
    if (!all)
        return merge_error("out of memory");
    size_t n = 0;
    int status = EXIT_OK;
    for (int i = 0; i < nfiles && status == EXIT_OK; i++) {
        json_int_t k = json_integer_value(json_object_get(
            json_object_get(json_object_get(json_object_get(docs[i], "context"), "mmbench"),
                            "shard"),
            "index"));
        size_t e;
        json_t *b;
        json_array_foreach(json_object_get(docs[i], "benchmarks"), e, b) {
            json_t *mm = json_object_get(b, "mmbench");
            json_t *index = json_object_get(mm, "cell_index");
            const char *cell = mmb_results_cell(b);
            if (!json_is_integer(index) || !cell) {
                status =
                    merge_error("%s: benchmarks[%zu] has no mmbench.cell and cell_index (hint: "
                                "give the files mmbench run --shard K/N --out wrote)",
                                paths[i], e);
                break;
            }
            json_int_t x = json_integer_value(index);
            if (x < 0 || x >= cells || x % count != k - 1) {
                status = merge_error("%s: cell %s (matrix index %lld) is not in shard %lld of %lld "
                                     "(its cells are %lld, %lld, ...): the shards overlap",
                                     paths[i], cell, (long long)x, (long long)k, (long long)count,
                                     (long long)(k - 1), (long long)(k - 1 + count));
                break;
            }
            const char *type = json_string_value(json_object_get(b, "run_type"));
            bool aggregate = type && strcmp(type, "aggregate") == 0;
            const char *agg = json_string_value(json_object_get(b, "aggregate_name"));
            all[n++] = (slot){
                x, cell, aggregate ? (agg ? agg : "aggregate") : "repetition",
                aggregate ? -1 : json_integer_value(json_object_get(b, "repetition_index")), i};
        }
    }
    if (status == EXIT_OK) {
        qsort(all, n, sizeof *all, by_slot);
        for (size_t j = 1; j < n && status == EXIT_OK; j++) {
            const slot *a = &all[j - 1], *b = &all[j];
            if (a->index != b->index)
                continue;
            if (strcmp(a->cell, b->cell) != 0)
                status = merge_error("%s and %s name matrix index %lld differently: %s and %s",
                                     paths[a->file], paths[b->file], (long long)a->index, a->cell,
                                     b->cell);
            else if (strcmp(a->what, b->what) == 0 && a->repetition == b->repetition &&
                     a->file == b->file)
                status = merge_error("%s: cell %s is repeated: its %s (%lld) is there twice (hint: "
                                     "give each shard as mmbench run wrote it)",
                                     paths[a->file], a->cell, a->what, (long long)a->repetition);
            else if (strcmp(a->what, b->what) == 0 && a->repetition == b->repetition)
                status = merge_error("cell %s is in both %s and %s: the shards overlap", a->cell,
                                     paths[a->file], paths[b->file]);
        }
    }
    free(all);
    return status;
}

static const char *const merge_formats[] = {"table", "json", "none", NULL};
enum { OPT_OUT, OPT_FORMAT };
enum { FORMAT_TABLE, FORMAT_JSON, FORMAT_NONE };
static const mmb_flag merge_flags[] = {
    [OPT_OUT] = {"out", MMB_FLAG_TEXT, "FILE", 0, 0, NULL, "write the merged JSON (atomically)", 0},
    [OPT_FORMAT] = {"format", MMB_FLAG_CHOICE, "F", 0, 0, merge_formats,
                    "standard output: table (default), json or none", 0},
    {NULL, 0, NULL, 0, 0, NULL, NULL, 0},
};

/* The shards being merged: the documents in the order given, and what the first fixes. */
typedef struct shards {
    const char *out;
    size_t format; /* FORMAT_* */
    char **paths;
    int nfiles;
    json_t **docs;
    json_int_t count, cells; /* N, and the matrix's cells */
    bool *seen;              /* seen[K]: shard K given */
} shards;

static int merge_flag(void *ctx, const mmb_flag_arg *a) {
    shards *m = ctx;
    if (a->index == OPT_OUT)
        m->out = a->text;
    else
        m->format = a->choice;
    return EXIT_OK;
}

/* A shard's plug-ins as "NAME fnv1a64 HASH, ..." ("none" without any): shards of one matrix ran
 * the same plug-in files. */
static const char *plugin_hashes(json_t *mm, char *buf, size_t n) {
    size_t used = 0, i;
    json_t *p;
    snprintf(buf, n, "none");
    json_array_foreach(json_object_get(mm, "plugins"), i, p) {
        const char *name = json_string_value(json_object_get(p, "name"));
        const char *hash = json_string_value(json_object_get(p, "fnv1a64"));
        if (used < n)
            used += (size_t)snprintf(buf + used, n - used, "%s%s fnv1a64 %s", i ? ", " : "",
                                     name ? name : "?", hash ? hash : "?");
    }
    return buf;
}

/* Loads shard i and checks it against the first: a shard of the same run, not given before. */
static int load_shard(shards *m, int i) {
    const char *path = m->paths[i], *first = m->paths[0];
    if (mmb_results_load("merge", path, NULL, &m->docs[i]) != EXIT_OK)
        return EXIT_USAGE;
    json_t *mm = json_object_get(json_object_get(m->docs[i], "context"), "mmbench");
    json_t *shard = json_object_get(mm, "shard");
    if (!shard || !mmb_results_benchmarks(m->docs[i]))
        return merge_error("%s: not a shard's results (hint: made by mmbench run --shard "
                           "K/N --out FILE)",
                           path);
    json_int_t k = json_integer_value(json_object_get(shard, "index"));
    json_int_t n = json_integer_value(json_object_get(shard, "count"));
    json_t *m0 = json_object_get(json_object_get(m->docs[0], "context"), "mmbench");
    if (i == 0) {
        if (n < 1 || n > MAX_SHARDS) /* found by fuzzing: seen[] was calloc(n + 1) */
            return merge_error("%s: shard count %lld out of 1..%d", path, (long long)n, MAX_SHARDS);
        m->count = n;
        m->cells = json_integer_value(json_object_get(json_object_get(mm, "matrix"), "cells"));
        m->seen = mmb_xcalloc((size_t)m->count + 1, sizeof *m->seen);
    } else if (n != m->count) {
        return merge_error("%s is shard %lld of %lld, but %s is of %lld", path, (long long)k,
                           (long long)n, first, (long long)m->count);
    }
    static const char *const same[][2] = {
        {"git_revision", NULL}, {"build_type", NULL}, {"version", NULL}, {"matrix", "fingerprint"}};
    for (size_t f = 0; f < sizeof same / sizeof same[0]; f++) {
        const char *a = get_str(m0, same[f][0], same[f][1]);
        const char *b = get_str(mm, same[f][0], same[f][1]);
        if (strcmp(a, b) != 0)
            return merge_error("%s has %s%s%s '%s', but %s has '%s' (hint: run every shard of one "
                               "matrix with the same build and flags)",
                               path, same[f][0], same[f][1] ? " " : "",
                               same[f][1] ? same[f][1] : "", b, first, a);
    }
    /* The external libraries too (absent in results written before them: the same as none). */
    json_t *ea = json_object_get(m0, "external"), *eb = json_object_get(mm, "external");
    if (json_array_size(ea) + json_array_size(eb) && !json_equal(ea, eb)) {
        char *ta = json_dumps(ea, JSON_COMPACT), *tb = json_dumps(eb, JSON_COMPACT);
        int status = merge_error("%s has external managers %s, but %s has %s (hint: run every "
                                 "shard of one matrix with the same libraries)",
                                 path, tb ? tb : "none", first, ta ? ta : "none");
        free(ta);
        free(tb);
        return status;
    }
    char pa[1024], pb[1024];
    if (strcmp(plugin_hashes(m0, pa, sizeof pa), plugin_hashes(mm, pb, sizeof pb)) != 0)
        return merge_error("%s has plug-ins %s, but %s has %s (hint: run every shard of one "
                           "matrix with the same build and flags)",
                           path, pb, first, pa);
    if (k < 1 || k > m->count)
        return merge_error("%s: shard index %lld out of 1..%lld", path, (long long)k,
                           (long long)m->count);
    if (m->seen[k])
        return merge_error("%s: shard %lld of %lld given twice", path, (long long)k,
                           (long long)m->count);
    m->seen[k] = true;
    return EXIT_OK;
}

/* Every entry of every shard in matrix order (repetitions and aggregates keep their order),
 * with the shards' hosts; checks the cells are exactly the matrix's, then writes. */
static int combine(shards *m) {
    size_t total = 0;
    for (int i = 0; i < m->nfiles; i++)
        total += json_array_size(mmb_results_benchmarks(m->docs[i]));
    entry *all = mmb_xcalloc(total ? total : 1, sizeof *all);
    size_t n = 0;
    json_t *hosts = json_array();
    for (int i = 0; i < m->nfiles; i++) {
        json_t *ctx = json_object_get(m->docs[i], "context");
        json_t *mm = json_object_get(ctx, "mmbench");
        json_array_append_new(hosts,
                              json_pack("{sOsOsOsO}", "shard", json_object_get(mm, "shard"),
                                        "host_name", json_object_get(ctx, "host_name"), "cpu_model",
                                        json_object_get(mm, "cpu_model"), "wall_seconds",
                                        json_object_get(mm, "wall_seconds")));
        size_t k;
        json_t *b;
        json_array_foreach(mmb_results_benchmarks(m->docs[i]), k, b) {
            all[n].b = b;
            all[n].index =
                json_integer_value(json_object_get(json_object_get(b, "mmbench"), "cell_index"));
            all[n].order = n;
            n++;
        }
    }
    qsort(all, n, sizeof *all, by_index);
    /* The cells must be exactly the matrix's: each index once (repetitions share one). */
    json_int_t distinct = 0, last = -1;
    for (size_t i = 0; i < n; i++)
        if (all[i].index != last) {
            distinct++;
            last = all[i].index;
        }
    int status = EXIT_OK;
    if (distinct != m->cells)
        status = merge_error("the shards hold %lld distinct cells, the matrix has %lld",
                             (long long)distinct, (long long)m->cells);
    json_t *benchmarks = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append(benchmarks, all[i].b);
    json_t *context = json_deep_copy(json_object_get(m->docs[0], "context"));
    json_t *mm = json_object_get(context, "mmbench");
    json_object_del(mm, "shard");
    json_object_set_new(mm, "shards", hosts);
    json_t *doc = json_pack("{soso}", "context", context, "benchmarks", benchmarks);
    if (status == EXIT_OK && m->out && mmb_outfile_write_json(doc, "merge", "--out", m->out) != 0)
        status = EXIT_FAILED;
    if (status == EXIT_OK && m->format == FORMAT_TABLE)
        mmb_table_print(benchmarks);
    else if (status == EXIT_OK && m->format == FORMAT_JSON) {
        json_dumpf(doc, stdout, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
    }
    json_decref(doc);
    free(all);
    return status;
}

int mmb_merge_main(int argc, char **argv) {
    shards m = {.format = FORMAT_TABLE};
    int first = 0;
    int parsed = mmb_flags_parse("merge", merge_flags, 0, argc, argv, merge_flag, &m, &first);
    if (parsed == MMB_FLAGS_HELP) {
        fputs(merge_help, stdout);
        mmb_flags_print_help(stdout, merge_flags, 0);
        return EXIT_OK;
    }
    if (parsed != EXIT_OK)
        return parsed;
    m.nfiles = argc - first;
    m.paths = argv + first;
    if (m.nfiles < 1)
        return merge_error("no shard files given (hint: mmbench merge --help)");
    if (m.out && mmb_outfile_check("merge", "--out", m.out) != EXIT_OK)
        return EXIT_USAGE;
    m.docs = mmb_xcalloc((size_t)m.nfiles, sizeof *m.docs);
    int status = EXIT_OK;
    for (int i = 0; i < m.nfiles && status == EXIT_OK; i++)
        status = load_shard(&m, i);
    for (json_int_t k = 1; status == EXIT_OK && m.nfiles < m.count && k <= m.count; k++)
        if (!m.seen[k])
            status = merge_error("shard %lld of %lld is missing", (long long)k, (long long)m.count);
    if (status == EXIT_OK)
        status = check_cells(m.docs, m.paths, m.nfiles, m.count, m.cells);
    if (status == EXIT_OK)
        status = combine(&m);
    for (int i = 0; i < m.nfiles; i++)
        json_decref(m.docs[i]);
    free(m.docs);
    free(m.seen);
    return status;
}
