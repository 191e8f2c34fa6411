/* `mmbench compare` (compare.h): cells of two results files matched by name; per metric the
 * medians over repetitions, the relative change, a two-sided Mann-Whitney U test (as Google
 * Benchmark's tools/compare.py runs scipy's), and limits from a thresholds file (--help). */
#include "compare.h"

#include <errno.h>
#include <fnmatch.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "diag.h"
#include "format.h"
#include "metrics.h"
#include "results.h"
#include "stats.h"

/* ---- the Mann-Whitney U test -------------------------------------------------------------------
 *
 * Ranks: the pooled values sorted, tied values sharing their mean rank (midrank). Midranks are
 * halves, so they are kept doubled: integers, and the rank sum of `a` doubled (W2) is an integer.
 *
 * Exact (both samples at most 20 values, the usual 3..20 repetitions): the distribution of W2
 * over all C(n, na) ways to pick which of the pooled values came from `a`, counted by dynamic
 * programming: ways[k][s] = the number of k-subsets of the values seen so far whose doubled ranks
 * sum to s. It conditions on the observed ties, so it stays exact with ties, where the textbook
 * recurrence for U (and scipy, which then falls back to the normal approximation) does not. Why
 * exact: at these sizes the normal approximation is off in the tail that decides a gate (3 vs 3
 * values: the smallest exact p is 0.1, the approximation says 0.08), and the cost is small: at
 * most 40 values x 21 subset sizes x 1641 sums. Counts fit a double exactly up to C(40, 20).
 * Two-sided p = min(1, 2 min(P(W2 <= w), P(W2 >= w))), as scipy's exact method.
 *
 * Normal (larger samples): mean na nb / 2, variance na nb / 12 ((n + 1) - sum(t^3 - t) /
 * (n (n - 1))) over tie groups of size t, continuity correction 1/2, as scipy's asymptotic
 * method. Past 20 values a side its absolute error is a few 10^-3 at most (2 10^-3 near p = 0.8,
 * 2 10^-4 near p = 0.09 for 21 vs 21), where at 9 vs 9 it is 3 10^-3 near p = 0.025. */

typedef struct ranked {
    double value;
    bool from_a;
} ranked;

static int cmp_ranked(const void *x, const void *y) {
    double a = ((const ranked *)x)->value, b = ((const ranked *)y)->value;
    return (a > b) - (a < b);
}

/* P-value from the exact distribution of the doubled rank sum of a na-subset of `rank2`. */
static int exact_p(const uint32_t *rank2, size_t n, size_t na, uint64_t w2, double *p) {
    size_t sums = (size_t)n * (n + 1) + 1; /* doubled ranks of all n values sum to n (n + 1) */
    double *ways = calloc((na + 1) * sums, sizeof *ways);
    if (!ways)
        return -1;
    ways[0] = 1;
    for (size_t i = 0; i < n; i++) {
        size_t w = rank2[i], top = i + 1 < na ? i + 1 : na;
        for (size_t k = top; k >= 1; k--)
            for (size_t s = sums - 1; s >= w; s--)
                ways[k * sums + s] += ways[(k - 1) * sums + s - w];
    }
    double below = 0, above = 0, total = 0;
    for (size_t s = 0; s < sums; s++) {
        double c = ways[na * sums + s];
        total += c;
        if (s <= w2)
            below += c;
        if (s >= w2)
            above += c;
    }
    free(ways);
    double tail = (below < above ? below : above) / total;
    *p = 2 * tail < 1 ? 2 * tail : 1;
    return 0;
}

int mmb_utest(const double *a, size_t na, const double *b, size_t nb, mmb_utest_method method,
              mmb_utest_result *out) {
    size_t n = na + nb;
    bool exact = method == MMB_UTEST_EXACT || (method == MMB_UTEST_AUTO && na <= 20 && nb <= 20);
    if (na == 0 || nb == 0 || (exact && n > 200))
        return -1;
    ranked *r = malloc(n * sizeof *r);
    uint32_t *rank2 = malloc(n * sizeof *rank2);
    if (!r || !rank2) {
        free(r);
        free(rank2);
        return -1;
    }
    for (size_t i = 0; i < na; i++)
        r[i] = (ranked){a[i], true};
    for (size_t i = 0; i < nb; i++)
        r[na + i] = (ranked){b[i], false};
    qsort(r, n, sizeof *r, cmp_ranked);
    uint64_t w2 = 0; /* doubled rank sum of a */
    double ties = 0; /* sum of t^3 - t over tie groups */
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && r[j + 1].value == r[i].value)
            j++;
        uint32_t twice = (uint32_t)(i + 1 + j + 1); /* ranks i+1 .. j+1 share their mean */
        for (size_t k = i; k <= j; k++) {
            rank2[k] = twice;
            if (r[k].from_a)
                w2 += twice;
        }
        double t = (double)(j - i + 1);
        ties += t * t * t - t;
        i = j + 1;
    }
    free(r);
    double fa = (double)na, fb = (double)nb, fn = (double)n;
    out->u = (double)w2 / 2 - fa * (fa + 1) / 2;
    out->exact = exact;
    int status = 0;
    if (exact) {
        status = exact_p(rank2, n, na, w2, &out->p);
    } else {
        double var = fa * fb / 12 * ((fn + 1) - ties / (fn * (fn - 1)));
        double u = fmax(out->u, fa * fb - out->u);
        out->p = var > 0 ? fmin(1, erfc((u - fa * fb / 2 - 0.5) / sqrt(var) / sqrt(2))) : 1;
    }
    free(rank2);
    return status;
}

/* ---- results files ------------------------------------------------------------------------- */

/* One metric's values over a cell's repetitions. `name` is borrowed from the JSON. */
typedef struct series {
    const char *name;
    double *values;
    size_t count, cap;
} series;

typedef struct cell {
    const char *name;     /* mmbench.cell, else the entry's name */
    const char *workload; /* mmbench.workload, or NULL */
    json_t *mm;           /* the first repetition's mmbench object, or NULL */
    size_t repetitions, failed;
    const char *failure; /* the first failed repetition's error_message */
    series *metrics;
    size_t nmetrics, cap;
    bool matched;
} cell;

typedef struct results {
    const char *path;
    json_t *root;
    cell *cells;
    size_t ncells, cap;
} results;

#define bad_input mmb_usage_error

static cell *find_cell(results *res, const char *name) {
    /* Repetitions of a cell are adjacent in a run's output: try the last cell first. */
    if (res->ncells && strcmp(res->cells[res->ncells - 1].name, name) == 0)
        return &res->cells[res->ncells - 1];
    for (size_t i = 0; i < res->ncells; i++)
        if (strcmp(res->cells[i].name, name) == 0)
            return &res->cells[i];
    return NULL;
}

static void add_value(cell *c, const char *name, double v) {
    series *s = NULL;
    for (size_t i = 0; i < c->nmetrics && !s; i++)
        if (strcmp(c->metrics[i].name, name) == 0)
            s = &c->metrics[i];
    if (!s) {
        if (c->nmetrics == c->cap) {
            c->cap = c->cap ? 2 * c->cap : 32;
            c->metrics = mmb_xrealloc(c->metrics, c->cap * sizeof *c->metrics);
        }
        s = &c->metrics[c->nmetrics++];
        *s = (series){.name = name};
    }
    if (s->count == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 16;
        s->values = mmb_xrealloc(s->values, s->cap * sizeof *s->values);
    }
    s->values[s->count++] = v;
}

static int time_unit_ns(const char *unit, double *ns) {
    static const struct {
        const char *name;
        double ns;
    } units[] = {{"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(unit, units[i].name) == 0) {
            *ns = units[i].ns;
            return 0;
        }
    return -1;
}

/* Adds one iteration entry (a repetition) to its cell. */
static int add_entry(results *res, json_t *b, size_t index) {
    char where[4200];
    snprintf(where, sizeof where, "%s: benchmarks[%zu]", res->path, index);
    if (!json_is_object(b))
        return bad_input(where, NULL, "not an object");
    json_t *mm = json_object_get(b, "mmbench");
    const char *name = mmb_results_cell(b);
    if (!name)
        name = json_string_value(json_object_get(b, "name"));
    if (!name)
        return bad_input(where, NULL, "no mmbench.cell and no name");
    cell *c = find_cell(res, name);
    if (!c) {
        if (res->ncells == res->cap) {
            res->cap = res->cap ? 2 * res->cap : 64;
            res->cells = mmb_xrealloc(res->cells, res->cap * sizeof *res->cells);
        }
        c = &res->cells[res->ncells++];
        *c = (cell){.name = name, .mm = mm};
        c->workload = json_string_value(json_object_get(mm, "workload"));
    }
    c->repetitions++;
    if (json_is_true(json_object_get(b, "error_occurred"))) {
        if (!c->failed++)
            c->failure = json_string_value(json_object_get(b, "error_message"));
        return EXIT_OK;
    }
    double unit_ns = 1; /* Google Benchmark's default unit is ns */
    const char *unit = json_string_value(json_object_get(b, "time_unit"));
    if (unit && time_unit_ns(unit, &unit_ns) != 0)
        return bad_input(where, NULL, "unknown time_unit '%s' (expected ns, us, ms or s)", unit);
    const char *key;
    json_t *v;
    json_object_foreach(b, key, v) {
        if (!json_is_number(v) || mmb_metric_is_bookkeeping(key))
            continue;
        bool is_time = strcmp(key, "real_time") == 0 || strcmp(key, "cpu_time") == 0;
        add_value(c, key, json_number_value(v) * (is_time ? unit_ns : 1));
    }
    return EXIT_OK;
}

static int load_results(const char *path, results *res) {
    memset(res, 0, sizeof *res);
    res->path = path;
    const char *hint = "expected the JSON that mmbench run --out writes";
    if (mmb_results_load(NULL, path, hint, &res->root) != EXIT_OK)
        return EXIT_USAGE;
    json_t *benchmarks = mmb_results_benchmarks(res->root);
    if (json_array_size(benchmarks) == 0)
        return bad_input(path, hint, "no benchmarks (a non-empty \"benchmarks\" array)");
    size_t i;
    json_t *b;
    json_array_foreach(benchmarks, i, b) {
        if (!mmb_results_is_iteration(b, true))
            continue; /* aggregates: the medians and tests here work from the repetitions */
        int status = add_entry(res, b, i);
        if (status != EXIT_OK)
            return status;
    }
    if (res->ncells == 0)
        return bad_input(path, "run without --benchmark_report_aggregates_only",
                         "no iteration entries (only aggregates)");
    return EXIT_OK;
}

static void free_results(results *res) {
    for (size_t i = 0; i < res->ncells; i++) {
        for (size_t k = 0; k < res->cells[i].nmetrics; k++)
            free(res->cells[i].metrics[k].values);
        free(res->cells[i].metrics);
    }
    free(res->cells);
    json_decref(res->root);
}

static const series *find_series(const cell *c, const char *name) {
    for (size_t i = 0; i < c->nmetrics; i++)
        if (strcmp(c->metrics[i].name, name) == 0)
            return &c->metrics[i];
    return NULL;
}

/* ---- metrics and limits -------------------------------------------------------------------- */

/* A metric's row in the registry (metrics.h), and its position there (the report's order). A
 * metric without a row is compared as lower is better, not exact, with a warning. */
static const mmb_metric unregistered = {"", MMB_UNIT_COUNT, MMB_LOWER_IS_BETTER, false, -1, "",
                                        {0}};

static const mmb_metric *kind_of(const char *metric, size_t *order) {
    const mmb_metric *m = mmb_metric_find(metric);
    if (order)
        *order = m ? (size_t)(m - mmb_metrics) : mmb_metric_count;
    return m ? m : &unregistered;
}

/* One line of a thresholds file. */
typedef struct limit_rule {
    char metric[128]; /* a glob */
    char where[256];  /* a glob on the workload or the cell name; empty: everywhere */
    bool off;
    double percent; /* how much worse the metric may get */
    const char *file;
    unsigned line;
    bool used;
    int klass;          /* CLASS_*: a rule for every exact or every timed metric; 0: by name */
    bool defaults_line; /* the line `defaults`: the registry's limits, expanded where it stands */
} limit_rule;

enum { CLASS_EXACT = 1, CLASS_TIMED = 2 };

typedef struct limits {
    limit_rule *rules;
    size_t count, cap;
} limits;

/* The default limits, in the thresholds file's own format (and shown as such by --help): the
 * registry's rows that have one. The caller frees the text. */
static char *default_limits(void) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    for (size_t i = 0; i < mmb_metric_count; i++)
        if (mmb_metrics[i].limit_percent >= 0)
            fprintf(f, "  %-28s +%g%%\n", mmb_metrics[i].name, mmb_metrics[i].limit_percent);
    return fclose(f) == 0 ? text : NULL;
}

/* The registry's metrics of one kind after `lead`, comma separated and wrapped, for --help. */
static void print_metric_names(const char *lead, bool exact, int better) {
    size_t col = (size_t)printf("%s", lead);
    bool first = true;
    for (size_t i = 0; i < mmb_metric_count; i++) {
        if (exact ? !mmb_metrics[i].exact : (int)mmb_metrics[i].better != better)
            continue;
        bool wrap = !first && col + 2 + strlen(mmb_metrics[i].name) > 92;
        printf("%s", first ? " " : wrap ? ",\n  " : ", ");
        col = wrap ? 2 : col + (first ? 1 : 2);
        col += (size_t)printf("%s", mmb_metrics[i].name);
        first = false;
    }
    printf(".\n");
}

static bool valid_pattern(const char *s) {
    if (!*s)
        return false;
    for (; *s; s++)
        if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') && !(*s >= '0' && *s <= '9') &&
            !strchr("_-./*?[]=,+", *s))
            return false;
    return true;
}

/* Parses one line (without its newline) into `r`; returns NULL, or what is wrong. */
static const char *parse_limit_line(char *text, limit_rule *r, bool *blank) {
    char *hash = strchr(text, '#');
    if (hash)
        *hash = '\0';
    char *tok[3] = {NULL, NULL, NULL};
    int ntok = 0;
    for (char *save = NULL, *t = strtok_r(text, " \t\r", &save); t;
         t = strtok_r(NULL, " \t\r", &save))
        tok[ntok < 3 ? ntok++ : 2] = t;
    *blank = ntok == 0;
    if (ntok == 0)
        return NULL;
    static char what[512];
    if (ntok == 1 && strcmp(tok[0], "defaults") == 0) {
        r->defaults_line = true;
        return NULL;
    }
    if (ntok == 1)
        return "no limit after the metric (expected METRIC[@WHERE] +PERCENT or METRIC[@WHERE] off)";
    if (ntok == 3)
        return "more than two words (expected METRIC[@WHERE] +PERCENT or METRIC[@WHERE] off)";
    char *at = strchr(tok[0], '@');
    if (at)
        *at = '\0';
    if (strcmp(tok[0], ":exact") == 0 || strcmp(tok[0], ":timed") == 0) {
        r->klass = tok[0][1] == 'e' ? CLASS_EXACT : CLASS_TIMED;
        tok[0] = "*";
    } else if (tok[0][0] == ':') {
        snprintf(what, sizeof what, "unknown class '%.60s' (expected :exact or :timed)", tok[0]);
        return what;
    }
    if (!*tok[0])
        return "no metric name before '@'";
    if (at && !at[1])
        return "no workload or cell after '@'";
    if (at && strchr(at + 1, '@'))
        return "more than one '@'";
    if (!valid_pattern(tok[0]) || strlen(tok[0]) >= sizeof r->metric) {
        snprintf(what, sizeof what, "bad metric name '%.100s' (letters, digits, _ and globs)",
                 tok[0]);
        return what;
    }
    if (at && (!valid_pattern(at + 1) || strlen(at + 1) >= sizeof r->where)) {
        snprintf(what, sizeof what, "bad workload or cell '%.100s'", at + 1);
        return what;
    }
    snprintf(r->metric, sizeof r->metric, "%s", tok[0]);
    snprintf(r->where, sizeof r->where, "%s", at ? at + 1 : "");
    if (strcmp(tok[1], "off") == 0) {
        r->off = true;
        return NULL;
    }
    if (tok[1][0] != '+') {
        snprintf(what, sizeof what,
                 "limit '%.60s' needs a '+': +PERCENT is how much worse the metric may get",
                 tok[1]);
        return what;
    }
    char *end;
    errno = 0;
    double pct = strtod(tok[1] + 1, &end);
    if (end == tok[1] + 1 || (*end && strcmp(end, "%") != 0) || errno || !isfinite(pct) ||
        pct < 0 || tok[1][1] == '-' || tok[1][1] == '+') {
        snprintf(what, sizeof what, "bad limit '%.60s' (expected +PERCENT, e.g. +5%%)", tok[1]);
        return what;
    }
    r->percent = pct;
    return NULL;
}

static void add_rule(limits *out, const limit_rule *r) {
    if (out->count == out->cap) {
        out->cap = out->cap ? 2 * out->cap : 32;
        out->rules = mmb_xrealloc(out->rules, out->cap * sizeof *out->rules);
    }
    out->rules[out->count++] = *r;
}

/* The line `defaults`: one rule per registry row with a default limit, as if written there
 * (marked used: a default that matches nothing is not the file's mistake). */
static void add_default_rules(limits *out, const char *file, unsigned line) {
    for (size_t i = 0; i < mmb_metric_count; i++) {
        if (mmb_metrics[i].limit_percent < 0)
            continue;
        limit_rule r = {
            .file = file, .line = line, .used = true, .percent = mmb_metrics[i].limit_percent};
        snprintf(r.metric, sizeof r.metric, "%s", mmb_metrics[i].name);
        add_rule(out, &r);
    }
}

/* Reads limits from `text` (NUL-terminated, modified); `file` names it in errors. */
static int parse_limits(char *text, const char *file, limits *out) {
    unsigned line = 0;
    for (char *next = text; next;) {
        char *s = next;
        next = strchr(s, '\n');
        if (next)
            *next++ = '\0';
        line++;
        limit_rule r = {.file = file, .line = line};
        bool blank;
        const char *what = parse_limit_line(s, &r, &blank);
        if (what) {
            char where[4200];
            snprintf(where, sizeof where, "%s:%u", file, line);
            return bad_input(where, "mmbench compare --help shows the format", "%s", what);
        }
        if (blank)
            continue;
        if (r.defaults_line) {
            add_default_rules(out, file, line);
            continue;
        }
        add_rule(out, &r);
    }
    return EXIT_OK;
}

static int read_limits_file(const char *path, limits *out) {
    FILE *f = fopen(path, "r");
    if (!f)
        return bad_input(path, NULL, "cannot open: %s", strerror(errno));
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (int ch; (ch = fgetc(f)) != EOF;) {
        if (len + 2 > cap) {
            cap = cap ? 2 * cap : 4096;
            text = mmb_xrealloc(text, cap);
        }
        text[len++] = (char)ch;
    }
    bool failed = ferror(f);
    fclose(f);
    if (failed) {
        free(text);
        return bad_input(path, NULL, "cannot read: %s", strerror(errno));
    }
    if (!text)
        text = mmb_xrealloc(NULL, 1);
    text[len] = '\0';
    if (strlen(text) != len) {
        free(text);
        return bad_input(path, NULL, "not a text file (it holds a NUL byte)");
    }
    int status = parse_limits(text, path, out);
    free(text);
    return status;
}

/* The rule for a metric of a cell: one naming a workload or cell beats one that does not; among
 * equals the later line wins. NULL: no limit. */
static limit_rule *limit_for(limits *l, const char *metric, const cell *c) {
    limit_rule *best = NULL;
    for (size_t i = 0; i < l->count; i++) {
        limit_rule *r = &l->rules[i];
        if (fnmatch(r->metric, metric, 0) != 0)
            continue;
        if (r->klass && (kind_of(metric, NULL)->exact ? CLASS_EXACT : CLASS_TIMED) != r->klass)
            continue;
        if (r->where[0] && fnmatch(r->where, c->name, 0) != 0 &&
            (!c->workload || fnmatch(r->where, c->workload, 0) != 0))
            continue;
        r->used = true;
        if (!best || r->where[0] || !best->where[0])
            best = r;
    }
    return best && !best->off ? best : NULL;
}

/* ---- comparing ----------------------------------------------------------------------------- */

typedef enum verdict {
    V_SAME,          /* medians equal */
    V_NOISE,         /* within its limit, or not significant */
    V_CHANGED,       /* no limit; a significant (or exact) change */
    V_IMPROVED,      /* better than its limit, significantly (or exactly) */
    V_OVER_UNTESTED, /* worse than its limit; too few repetitions for a U test */
    V_OVER_NOT_SIG,  /* worse than its limit; p >= alpha */
    V_REGRESSION,    /* worse than its limit; p < alpha (or exact) */
    V_FAILED,        /* the cell failed in NEW */
} verdict;

typedef struct row {
    const cell *base, *next;
    const char *metric;
    double base_median, next_median;
    double change; /* (new - base) / |base|; +-INFINITY when base is 0 and new is not */
    bool exact, tested;
    double p;
    const limit_rule *limit;
    verdict v;
    size_t order; /* for sorting: metric kind, then name */
} row;

typedef struct report {
    results *base, *next;
    limits *lim;
    double alpha;
    row *rows;
    size_t nrows, cap;
    char **warnings;
    size_t nwarnings, wcap;
    size_t cells_compared, untested_cells;
    size_t metrics_compared;
    size_t missing_cells;   /* cells of BASE not in NEW */
    size_t missing_metrics; /* metrics with a limit in a compared cell of BASE, not in NEW */
    bool allow_missing;
} report;

static void warn(report *rep, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void warn(report *rep, const char *fmt, ...) {
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (rep->nwarnings == rep->wcap) {
        rep->wcap = rep->wcap ? 2 * rep->wcap : 16;
        rep->warnings = mmb_xrealloc(rep->warnings, rep->wcap * sizeof *rep->warnings);
    }
    size_t len = strlen(buf) + 1;
    rep->warnings[rep->nwarnings] = memcpy(mmb_xrealloc(NULL, len), buf, len);
    rep->nwarnings++;
}

static row *add_row(report *rep) {
    if (rep->nrows == rep->cap) {
        rep->cap = rep->cap ? 2 * rep->cap : 64;
        rep->rows = mmb_xrealloc(rep->rows, rep->cap * sizeof *rep->rows);
    }
    row *r = &rep->rows[rep->nrows++];
    memset(r, 0, sizeof *r);
    return r;
}

/* Every value of a series is finite (a JSON number), so mmb_median's skipping never applies. */
static double median_of(const series *s) {
    double *v = mmb_xrealloc(NULL, s->count * sizeof *v);
    memcpy(v, s->values, s->count * sizeof *v);
    double m = mmb_median(v, s->count);
    free(v);
    return m;
}

static bool varies(const series *s, double *lo, double *hi) {
    *lo = *hi = s->values[0];
    for (size_t i = 1; i < s->count; i++) {
        *lo = fmin(*lo, s->values[i]);
        *hi = fmax(*hi, s->values[i]);
    }
    return *lo != *hi;
}

static char *json_text(json_t *v) {
    char *s = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    return s ? s : strdup("(absent)");
}

/* Warns where two values of the same key differ; both absent is no difference. */
static void compare_field(report *rep, const char *what, json_t *a, json_t *b) {
    if ((!a && !b) || (a && b && json_equal(a, b)))
        return;
    char *ta = json_text(a), *tb = json_text(b);
    warn(rep, "%s not the same: BASE %s, NEW %s", what, ta ? ta : "?", tb ? tb : "?");
    free(ta);
    free(tb);
}

/* A plug-in's hash is its build: each plug-in of BASE (by name) should be the same file in NEW. */
static void compare_plugins(report *rep, json_t *ma, json_t *mb) {
    size_t i, k;
    json_t *pa, *pb;
    json_array_foreach(json_object_get(ma, "plugins"), i, pa) {
        const char *name = json_string_value(json_object_get(pa, "name"));
        const char *ha = json_string_value(json_object_get(pa, "fnv1a64"));
        const char *hb = NULL;
        json_array_foreach(json_object_get(mb, "plugins"), k, pb) {
            const char *other = json_string_value(json_object_get(pb, "name"));
            if (name && other && strcmp(name, other) == 0)
                hb = json_string_value(json_object_get(pb, "fnv1a64"));
        }
        if (!hb)
            warn(rep, "plug-in %s only in BASE", name ? name : "?");
        else if (!ha || strcmp(ha, hb) != 0)
            warn(rep, "plug-in %s not the same build: BASE fnv1a64 %s, NEW %s", name ? name : "?",
                 ha ? ha : "?", hb);
    }
    json_array_foreach(json_object_get(mb, "plugins"), k, pb) {
        const char *name = json_string_value(json_object_get(pb, "name"));
        bool found = false;
        json_array_foreach(json_object_get(ma, "plugins"), i, pa) {
            const char *other = json_string_value(json_object_get(pa, "name"));
            found |= name && other && strcmp(name, other) == 0;
        }
        if (!found)
            warn(rep, "plug-in %s only in NEW", name ? name : "?");
    }
}

static void compare_contexts(report *rep) {
    json_t *ca = json_object_get(rep->base->root, "context");
    json_t *cb = json_object_get(rep->next->root, "context");
    static const char *const top[] = {"host_name", "num_cpus"};
    for (size_t i = 0; i < sizeof top / sizeof top[0]; i++)
        compare_field(rep, top[i], json_object_get(ca, top[i]), json_object_get(cb, top[i]));
    static const char *const ours[] = {"build_type", "sanitizers", "cpu_model"};
    json_t *ma = json_object_get(ca, "mmbench"), *mb = json_object_get(cb, "mmbench");
    for (size_t i = 0; i < sizeof ours / sizeof ours[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "mmbench.%s", ours[i]);
        compare_field(rep, what, json_object_get(ma, ours[i]), json_object_get(mb, ours[i]));
    }
    compare_plugins(rep, ma, mb);
}

/* A cell of the same name must have run the same way. */
static void compare_cell_setup(report *rep, const cell *a, const cell *b) {
    /* manager_version: an external manager's library (absent for bundled ones and in results
     * written before external managers). */
    static const char *const keys[] = {"workload", "manager", "manager_version", "scale", "params",
                                       "options",  "seed",    "verify"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char what[600];
        snprintf(what, sizeof what, "cell %s: %s", a->name, keys[i]);
        compare_field(rep, what, json_object_get(a->mm, keys[i]), json_object_get(b->mm, keys[i]));
    }
    /* Results written before the headline pauses counted every kind have no pauses.all: their
     * pause_p99_ns and pause_max_ns are collections only. */
    json_t *pa = json_object_get(a->mm, "pauses"), *pb = json_object_get(b->mm, "pauses");
    if (pa && pb && !json_object_get(pa, "all") != !json_object_get(pb, "all"))
        warn(rep,
             "cell %s: pause_p99_ns and pause_max_ns count collections only in %s (written before "
             "they counted every pause): not like for like",
             a->name, json_object_get(pa, "all") ? "NEW" : "BASE");
}

static void compare_metric(report *rep, const cell *a, const cell *b, const series *sa,
                           const series *sb) {
    size_t order = 0;
    const mmb_metric *kind = kind_of(sa->name, &order);
    bool first = true;
    for (size_t i = 0; i < rep->nrows && first; i++)
        first = strcmp(rep->rows[i].metric, sa->name) != 0;
    if (kind == &unregistered && first)
        warn(rep,
             "metric %s has no row in the metric registry (harness/core/metrics.c): compared as "
             "lower "
             "is better, not exact",
             sa->name);
    row *r = add_row(rep);
    r->base = a;
    r->next = b;
    r->metric = sa->name;
    r->order = order;
    r->exact = kind->exact;
    r->base_median = median_of(sa);
    r->next_median = median_of(sb);
    double d = r->next_median - r->base_median;
    r->change = d == 0 ? 0 : r->base_median != 0 ? d / fabs(r->base_median) : copysign(INFINITY, d);
    r->limit = limit_for(rep->lim, sa->name, a);
    if (kind->exact) {
        double lo, hi;
        if (varies(sa, &lo, &hi))
            warn(rep,
                 "cell %s: %s varies across repetitions in BASE (%.17g to %.17g): it is meant "
                 "to be deterministic",
                 a->name, sa->name, lo, hi);
        if (varies(sb, &lo, &hi))
            warn(rep,
                 "cell %s: %s varies across repetitions in NEW (%.17g to %.17g): it is meant "
                 "to be deterministic",
                 b->name, sb->name, lo, hi);
    } else if (sa->count >= 3 && sb->count >= 3) {
        mmb_utest_result u;
        if (mmb_utest(sa->values, sa->count, sb->values, sb->count, MMB_UTEST_AUTO, &u) == 0) {
            r->tested = true;
            r->p = u.p;
        }
    }
    bool significant = r->exact ? r->change != 0 : r->tested && r->p < rep->alpha;
    double worse = kind->better == MMB_HIGHER_IS_BETTER  ? -r->change
                   : kind->better == MMB_LOWER_IS_BETTER ? r->change
                                                         : fabs(r->change);
    if (r->change == 0)
        r->v = V_SAME;
    else if (!r->limit)
        r->v = significant ? V_CHANGED : V_NOISE;
    else if (worse * 100 > r->limit->percent)
        r->v = significant               ? V_REGRESSION
               : !r->exact && !r->tested ? V_OVER_UNTESTED
                                         : V_OVER_NOT_SIG;
    else if (-worse * 100 > r->limit->percent && significant)
        r->v = V_IMPROVED;
    else
        r->v = V_NOISE;
}

static void compare_cells(report *rep) {
    for (size_t i = 0; i < rep->base->ncells; i++) {
        cell *a = &rep->base->cells[i];
        cell *b = find_cell(rep->next, a->name);
        if (!b)
            continue;
        a->matched = b->matched = true;
        rep->cells_compared++;
        compare_cell_setup(rep, a, b);
        if (a->failed)
            warn(rep, "cell %s: %zu of %zu repetitions failed in BASE: %s", a->name, a->failed,
                 a->repetitions, a->failure ? a->failure : "(no error_message)");
        if (b->failed) {
            row *r = add_row(rep);
            r->base = a;
            r->next = b;
            r->metric = "(the cell)";
            r->v = V_FAILED;
        }
        if (a->failed == a->repetitions || b->failed == b->repetitions)
            continue; /* nothing measured on one side; said above */
        bool untested = false;
        for (size_t k = 0; k < a->nmetrics; k++) {
            const series *sb = find_series(b, a->metrics[k].name);
            if (!sb) {
                bool gated = limit_for(rep->lim, a->metrics[k].name, a) != NULL;
                rep->missing_metrics += gated;
                warn(rep, "cell %s: metric %s only in BASE%s", a->name, a->metrics[k].name,
                     gated ? ": missing from NEW, and it has a limit" : "");
                continue;
            }
            compare_metric(rep, a, b, &a->metrics[k], sb);
            rep->metrics_compared++;
            untested |=
                !kind_of(sb->name, NULL)->exact && (a->metrics[k].count < 3 || sb->count < 3);
        }
        for (size_t k = 0; k < b->nmetrics; k++)
            if (!find_series(a, b->metrics[k].name))
                warn(rep, "cell %s: metric %s only in NEW", b->name, b->metrics[k].name);
        rep->untested_cells += untested;
    }
    for (size_t i = 0; i < rep->base->ncells; i++)
        if (!rep->base->cells[i].matched) {
            rep->missing_cells++;
            warn(rep, "cell %s only in BASE: not compared", rep->base->cells[i].name);
        }
    for (size_t i = 0; i < rep->next->ncells; i++)
        if (!rep->next->cells[i].matched)
            warn(rep, "cell %s only in NEW: not compared", rep->next->cells[i].name);
}

/* ---- output -------------------------------------------------------------------------------- */

static void fmt_value(const char *metric, double v, char *buf, size_t n) {
    static const mmb_format_style style = {{{4, true}, {4, true}, {4, true}, {4, true}}, "", false};
    const mmb_metric *m = mmb_metric_find(metric); /* else the name's unit suffix */
    size_t len = strlen(metric);
    bool ns = m ? m->unit == MMB_UNIT_NS : len > 3 && strcmp(metric + len - 3, "_ns") == 0;
    bool bytes = m ? m->unit == MMB_UNIT_BYTES : len > 6 && strcmp(metric + len - 6, "_bytes") == 0;
    if (ns)
        mmb_format_ns(v, &style, buf, n);
    else if (bytes && fabs(v) >= 1024)
        mmb_format_bytes(v, &style, buf, n);
    else if (v == floor(v) && fabs(v) < 1e7)
        snprintf(buf, n, "%.0f", v);
    else
        snprintf(buf, n, "%.4g", v);
}

static void fmt_change(const row *r, char *buf, size_t n) {
    if (r->v == V_FAILED)
        snprintf(buf, n, "-");
    else if (isinf(r->change))
        snprintf(buf, n, "%s", r->change > 0 ? "from 0" : "from 0 (down)");
    else if (fabs(r->change) < 1e-3)
        snprintf(buf, n, "%+.2g%%", r->change * 100); /* a counter's +1 must not read +0.0% */
    else
        snprintf(buf, n, "%+.1f%%", r->change * 100);
}

static void fmt_limit(const row *r, char *buf, size_t n) {
    if (r->limit)
        snprintf(buf, n, "+%g%%", r->limit->percent);
    else
        snprintf(buf, n, "-");
}

static void fmt_p(const row *r, bool md, char *buf, size_t n) {
    if (r->v == V_FAILED)
        snprintf(buf, n, "-");
    else if (r->exact)
        snprintf(buf, n, "exact");
    else if (!r->tested)
        snprintf(buf, n, "%s", md ? "not enough repetitions for a U test" : "n<3");
    else if (r->p < 1e-4)
        snprintf(buf, n, "%.1e", r->p);
    else
        snprintf(buf, n, "%.4f", r->p);
}

static const char *verdict_text(const row *r, bool md) {
    switch (r->v) {
    case V_FAILED:
        return md ? "**FAILED in NEW**" : "FAILED in NEW";
    case V_REGRESSION:
        return md ? "**REGRESSION**" : "REGRESSION";
    case V_OVER_NOT_SIG:
        return "over limit, not significant";
    case V_OVER_UNTESTED:
        return "over limit, untested";
    case V_IMPROVED:
        return "improved";
    case V_CHANGED:
        return "changed (no limit)";
    case V_NOISE:
    case V_SAME:
        break;
    }
    return "";
}

static const char *revision(const results *res) {
    const char *s = json_string_value(json_object_get(
        json_object_get(json_object_get(res->root, "context"), "mmbench"), "git_revision"));
    return s ? s : "unknown";
}

typedef struct tally {
    size_t regressions, over_not_sig, over_untested, improved, changed, within;
} tally;

static tally count_rows(const report *rep) {
    tally t = {0};
    for (size_t i = 0; i < rep->nrows; i++)
        switch (rep->rows[i].v) {
        case V_FAILED:
        case V_REGRESSION:
            t.regressions++;
            break;
        case V_OVER_NOT_SIG:
            t.over_not_sig++;
            break;
        case V_OVER_UNTESTED:
            t.over_untested++;
            break;
        case V_IMPROVED:
            t.improved++;
            break;
        case V_CHANGED:
            t.changed++;
            break;
        case V_NOISE:
        case V_SAME:
            t.within++;
            break;
        }
    return t;
}

/* Markdown table cells: '|' and newlines would break the row. */
static void md_cell(const char *s) {
    for (; *s; s++)
        if (*s == '|')
            fputs("\\|", stdout);
        else if (*s == '\n' || *s == '\r')
            fputc(' ', stdout);
        else
            fputc(*s, stdout);
}

/* The gate's holes: a comparison that checked nothing fails whatever its rows say, and so does
 * one where NEW lacks cells of BASE, or metrics that BASE gates, unless --allow-missing. */
static bool checked_nothing(const report *rep) {
    /* Cells that failed in NEW are regressions already, not "nothing compared". */
    return rep->cells_compared == 0 ||
           (rep->metrics_compared == 0 && count_rows(rep).regressions == 0);
}

static const char *nothing_reason(const report *rep) {
    return rep->cells_compared == 0
               ? "nothing compared: BASE and NEW have no cell in common (mmbench.cell, else name)"
               : "nothing compared: the cells in common have no metric measured on both sides";
}

static bool missing_fails(const report *rep) {
    return !rep->allow_missing && (rep->missing_cells || rep->missing_metrics);
}

/* "2 cells of BASE", "1 metric with a limit", or both. */
static void missing_text(const report *rep, char *buf, size_t n) {
    int len = 0;
    buf[0] = '\0';
    if (rep->missing_cells)
        len = snprintf(buf, n, "%zu cell%s of BASE", rep->missing_cells,
                       rep->missing_cells == 1 ? "" : "s");
    if (rep->missing_metrics && len >= 0 && (size_t)len < n)
        snprintf(buf + len, n - (size_t)len, "%s%zu metric%s with a limit", len ? " and " : "",
                 rep->missing_metrics, rep->missing_metrics == 1 ? "" : "s");
}

static void print_summary(const report *rep, const tally *t, bool md) {
    size_t only_base = 0, only_new = 0;
    for (size_t i = 0; i < rep->base->ncells; i++)
        only_base += !rep->base->cells[i].matched;
    for (size_t i = 0; i < rep->next->ncells; i++)
        only_new += !rep->next->cells[i].matched;
    printf("%s%zu regression%s%s, %zu over limit but not significant, %zu over limit but "
           "untested, %zu improved, %zu changed without a limit, %zu within limits or unchanged; "
           "cells: %zu compared, %zu only in BASE, %zu only in NEW; %zu warning%s; alpha %g\n",
           md ? "**" : "summary: ", t->regressions, t->regressions == 1 ? "" : "s", md ? "**" : "",
           t->over_not_sig, t->over_untested, t->improved, t->changed, t->within,
           rep->cells_compared, only_base, only_new, rep->nwarnings, rep->nwarnings == 1 ? "" : "s",
           rep->alpha);
    if (rep->untested_cells)
        printf("%s%zu cell%s had fewer than 3 repetitions in BASE or NEW: not enough repetitions "
               "for a U test, so none of their statistical metrics can count as a regression\n",
               md ? "\n" : "note: ", rep->untested_cells, rep->untested_cells == 1 ? "" : "s");
    if (checked_nothing(rep)) {
        printf("%s%s%s\n", md ? "\n**FAILED:** " : "FAILED: ", nothing_reason(rep), md ? "." : "");
    } else if (missing_fails(rep)) {
        char what[128];
        missing_text(rep, what, sizeof what);
        printf("%sNEW lacks %s (--allow-missing accepts a deliberate subset):\n",
               md ? "\n**FAILED:** " : "FAILED: ", what);
        for (size_t i = 0; i < rep->base->ncells; i++)
            if (!rep->base->cells[i].matched) {
                printf(md ? "- missing: `" : "  missing: ");
                if (md)
                    md_cell(rep->base->cells[i].name);
                else
                    fputs(rep->base->cells[i].name, stdout);
                printf(md ? "`\n" : "\n");
            }
        for (size_t i = 0; i < rep->nwarnings; i++)
            if (strstr(rep->warnings[i], ": missing from NEW, and it has a limit"))
                printf("%s%s\n", md ? "- " : "  ", rep->warnings[i]);
    }
}

/* A row's cells as both tables print them. */
typedef struct cells {
    char b[32], n[32], c[32], l[32], p[64];
} cells;

static void format_cells(const row *r, bool md, cells *k) {
    snprintf(k->b, sizeof k->b, "-");
    snprintf(k->n, sizeof k->n, "-");
    if (r->v != V_FAILED) {
        fmt_value(r->metric, r->base_median, k->b, sizeof k->b);
        fmt_value(r->metric, r->next_median, k->n, sizeof k->n);
    }
    fmt_change(r, k->c, sizeof k->c);
    fmt_limit(r, k->l, sizeof k->l);
    fmt_p(r, md, k->p, sizeof k->p);
}

static void print_text(const report *rep) {
    printf("mmbench compare: BASE %s (git %s) vs NEW %s (git %s)\n", rep->base->path,
           revision(rep->base), rep->next->path, revision(rep->next));
    for (size_t i = 0; i < rep->nwarnings; i++)
        printf("warning: %s\n", rep->warnings[i]);
    int wc = 4, wm = 6;
    for (size_t i = 0; i < rep->nrows; i++) {
        const row *r = &rep->rows[i];
        if (r->v == V_SAME)
            continue;
        wc = (int)fmax(wc, fmin(60, (double)strlen(r->base->name)));
        wm = (int)fmax(wm, fmin(40, (double)strlen(r->metric)));
    }
    size_t shown = 0;
    for (size_t i = 0; i < rep->nrows; i++)
        shown += rep->rows[i].v != V_SAME;
    if (shown)
        printf("\n%-*s  %-*s %11s %11s %9s %6s %8s  %s\n", wc, "cell", wm, "metric", "base", "new",
               "change", "limit", "p", "verdict");
    else
        printf("\nno metric changed\n");
    for (size_t i = 0; i < rep->nrows; i++) {
        const row *r = &rep->rows[i];
        if (r->v == V_SAME)
            continue;
        cells k;
        format_cells(r, false, &k);
        printf("%-*s  %-*s %11s %11s %9s %6s %8s  %s", wc, r->base->name, wm, r->metric, k.b, k.n,
               k.c, k.l, k.p, verdict_text(r, false));
        if (r->v == V_FAILED)
            printf(": %s", r->next->failure ? r->next->failure : "(no error_message)");
        printf("\n");
    }
    printf("\n");
    tally t = count_rows(rep);
    print_summary(rep, &t, false);
}

static int cmp_severity(const void *x, const void *y) {
    const row *a = *(const row *const *)x, *b = *(const row *const *)y;
    if (a->v != b->v)
        return (int)b->v - (int)a->v;
    return (a > b) - (a < b); /* the comparison's own order */
}

static void print_md(const report *rep) {
    printf("### mmbench compare: `%s` → `%s`\n\n", revision(rep->base), revision(rep->next));
    printf("BASE `%s`, NEW `%s`; medians over repetitions, two-sided Mann-Whitney U test, "
           "alpha %g.\n\n",
           rep->base->path, rep->next->path, rep->alpha);
    for (size_t i = 0; i < rep->nwarnings; i++) {
        printf("- **warning:** ");
        md_cell(rep->warnings[i]);
        printf("\n");
    }
    if (rep->nwarnings)
        printf("\n");
    const row **shown = mmb_xrealloc(NULL, rep->nrows * sizeof *shown);
    size_t nshown = 0;
    for (size_t i = 0; i < rep->nrows; i++)
        if (rep->rows[i].v >= V_CHANGED)
            shown[nshown++] = &rep->rows[i];
    qsort(shown, nshown, sizeof *shown, cmp_severity);
    if (nshown) {
        printf("| cell | metric | base | new | change | limit | p | verdict |\n");
        printf("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |\n");
    } else {
        printf("No metric changed beyond its limit or significantly.\n");
    }
    for (size_t i = 0; i < nshown; i++) {
        const row *r = shown[i];
        cells k;
        format_cells(r, true, &k);
        printf("| `");
        md_cell(r->base->name);
        printf("` | %s | %s | %s | %s | %s | %s | %s", r->metric, k.b, k.n, k.c, k.l, k.p,
               verdict_text(r, true));
        if (r->v == V_FAILED) {
            printf(": ");
            md_cell(r->next->failure ? r->next->failure : "(no error_message)");
        }
        printf(" |\n");
    }
    free(shown);
    printf("\n");
    tally t = count_rows(rep);
    print_summary(rep, &t, true);
}

/* ---- the command --------------------------------------------------------------------------- */

static const char compare_help_head[] =
    "usage: mmbench compare BASE.json NEW.json [--thresholds FILE] [--alpha A] [--format text|md]\n"
    "                       [--allow-missing]\n"
    "\n"
    "Compares two results files (mmbench run --out, or Google Benchmark JSON with repetitions).\n"
    "Cells are matched by name (mmbench.cell, else name). For each metric both have (real_time,\n"
    "cpu_time, every numeric counter): the medians over the repetitions, the relative change, and\n"
    "a two-sided Mann-Whitney U test over the repetitions (exact up to 20 a side, else normal).\n"
    "Each metric's unit, direction, exactness and default limit come from the metric registry\n"
    "(harness/core/metrics.c); a metric without a row is compared as lower is better, with a "
    "warning.\n"
    "\n";

static const char compare_help_limits[] =
    "\n"
    "Thresholds file: one limit a line; '#' starts a comment; blank lines are ignored.\n"
    "  METRIC[@WHERE] +PERCENT[%]   METRIC may get at most PERCENT worse\n"
    "  METRIC[@WHERE] off           no limit\n"
    "  defaults                     the registry's limits (below), as if written here\n"
    "  e.g.  real_time@server +15%   pause_*@rings/cpython/* off   increments +0%\n"
    "METRIC and WHERE may be globs; WHERE matches the workload or the cell name. METRIC may\n"
    "also be :exact or :timed, every metric of that class (e.g. ':timed off'). A line with\n"
    "@WHERE beats one without; otherwise the later line wins. Worse is up, except for the\n"
    "metrics where higher is better, where it is down. Without a file, and for `defaults`:\n";

static const char compare_help_tail[] =
    "\n"
    "A regression is a metric worse than its limit with p < alpha (needs at least 3 repetitions\n"
    "a side, and 4 before p can fall below 0.05; 9 is a good number), or, for an exact\n"
    "counter, worse at all. Cells of BASE missing from NEW, and metrics with a limit missing\n"
    "from a compared cell, fail the comparison (listed) unless --allow-missing; so does a\n"
    "comparison with no cell or no metric in common, always. Cells only in NEW, and different\n"
    "host_name, num_cpus, build_type, sanitizers, cpu_model, or a cell's params, options, scale\n"
    "or seed, are reported as warnings; a different git revision is expected, and shown.\n"
    "\n"
    "Exit status: 0 no regression, 1 a regression, a cell that failed in NEW, a cell or gated\n"
    "metric of BASE missing from NEW, or nothing compared; 2 bad usage or bad input.\n";

static const char *const compare_formats[] = {"text", "md", NULL};
enum { OPT_THRESHOLDS, OPT_ALPHA, OPT_FORMAT, OPT_ALLOW_MISSING };
static const mmb_flag compare_flags[] = {
    [OPT_THRESHOLDS] = {"thresholds", MMB_FLAG_TEXT, "FILE", 0, 0, NULL,
                        "limits; replaces the defaults below", 0},
    [OPT_ALPHA] = {"alpha", MMB_FLAG_TEXT, "A", 0, 0, NULL,
                   "significance level, 0 < A < 1 (default 0.05)", 0},
    [OPT_FORMAT] = {"format", MMB_FLAG_CHOICE, "F", 0, 0, compare_formats,
                    "text (default), or md: Markdown for a pull-request comment", 0},
    [OPT_ALLOW_MISSING] = {"allow-missing", MMB_FLAG_SWITCH, NULL, 0, 0, NULL,
                           "accept a NEW that lacks cells of BASE (or metrics with a limit):\n"
                           "a deliberate subset; a comparison of nothing still fails",
                           0},
    {NULL, 0, NULL, 0, 0, NULL, NULL, 0},
};

typedef struct compare_options {
    const char *thresholds;
    double alpha;
    bool md, allow_missing;
} compare_options;

static int compare_flag(void *ctx, const mmb_flag_arg *a) {
    compare_options *o = ctx;
    char *end;
    switch (a->index) {
    case OPT_THRESHOLDS:
        o->thresholds = a->text;
        break;
    case OPT_ALPHA:
        o->alpha = strtod(a->text, &end);
        if (end == a->text || *end || !(o->alpha > 0 && o->alpha < 1))
            return bad_input("compare", "mmbench compare --help",
                             "--alpha: bad value '%s' (expected 0 < A < 1)", a->text);
        break;
    case OPT_FORMAT:
        o->md = a->choice == 1;
        break;
    case OPT_ALLOW_MISSING:
        o->allow_missing = true;
        break;
    }
    return EXIT_OK;
}

static void print_help(void) {
    char *defaults = default_limits();
    fputs(compare_help_head, stdout);
    mmb_flags_print_help(stdout, compare_flags, 0);
    fputs(compare_help_limits, stdout);
    fputs(defaults ? defaults : "", stdout);
    print_metric_names("Higher is better:", false, MMB_HIGHER_IS_BETTER);
    print_metric_names("Exact (deterministic counters: any change is real, judged "
                       "without a test):",
                       true, 0);
    fputs(compare_help_tail, stdout);
    free(defaults);
}

int mmb_compare_main(int argc, char **argv) {
    const char *hint = "mmbench compare --help";
    compare_options o = {.alpha = 0.05};
    int first = 0;
    int parsed = mmb_flags_parse("compare", compare_flags, 0, argc, argv, compare_flag, &o, &first);
    if (parsed == MMB_FLAGS_HELP) {
        print_help();
        return EXIT_OK;
    }
    if (parsed != EXIT_OK)
        return parsed;
    const char *thresholds = o.thresholds;
    double alpha = o.alpha;
    bool md = o.md, allow_missing = o.allow_missing;
    if (argc - first != 2)
        return bad_input("compare", hint, "expected BASE.json and NEW.json, got %d file%s",
                         argc - first, argc - first == 1 ? "" : "s");
    limits lim = {0};
    char *defaults = thresholds ? NULL : default_limits();
    if (!thresholds && !defaults) {
        fprintf(stderr, "mmbench: error: compare: out of memory\n");
        return EXIT_FAILED;
    }
    int status = thresholds ? read_limits_file(thresholds, &lim)
                            : parse_limits(defaults, "(default limits)", &lim);
    free(defaults);
    results base = {0}, next = {0};
    if (status == EXIT_OK)
        status = load_results(argv[first], &base);
    if (status == EXIT_OK)
        status = load_results(argv[first + 1], &next);
    if (status == EXIT_OK) {
        report rep = {.base = &base,
                      .next = &next,
                      .lim = &lim,
                      .alpha = alpha,
                      .allow_missing = allow_missing};
        compare_contexts(&rep);
        compare_cells(&rep);
        for (size_t i = 0; thresholds && i < lim.count; i++)
            if (!lim.rules[i].used)
                warn(&rep, "%s:%u: '%s%s%s' matches no metric of a compared cell", thresholds,
                     lim.rules[i].line, lim.rules[i].metric, lim.rules[i].where[0] ? "@" : "",
                     lim.rules[i].where);
        if (md)
            print_md(&rep);
        else
            print_text(&rep);
        fflush(stdout);
        status = count_rows(&rep).regressions ? EXIT_FAILED : EXIT_OK;
        if (checked_nothing(&rep)) {
            mmb_usage_error("compare",
                            "compare a run with the same matrix, written by mmbench run --out",
                            "%s vs %s: %s", base.path, next.path, nothing_reason(&rep));
            status = EXIT_FAILED;
        } else if (missing_fails(&rep)) {
            char what[128];
            missing_text(&rep, what, sizeof what);
            mmb_usage_error("compare", "--allow-missing accepts a deliberate subset",
                            "%s: %s missing (BASE is %s; listed on standard output)", next.path,
                            what, base.path);
            status = EXIT_FAILED;
        }
        for (size_t i = 0; i < rep.nwarnings; i++)
            free(rep.warnings[i]);
        free(rep.warnings);
        free(rep.rows);
    }
    free_results(&base);
    free_results(&next);
    free(lim.rules);
    return status;
}

int mmb_compare_parse_thresholds(char *text, const char *file) {
    limits lim = {0};
    int status = parse_limits(text, file, &lim);
    free(lim.rules);
    return status;
}
