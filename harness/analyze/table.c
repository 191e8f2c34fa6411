/* run's console tables (table.h), printed from results JSON: by run after its cells, and by merge
 * after joining shards. Values are medians over a cell's repetitions (stats.h). */
#include "table.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "format.h"
#include "metrics.h"
#include "results.h"
#include "stats.h"

static void fmt_ns(double ns, char *buf, size_t n) {
    static const mmb_format_style style = {
        {{0, false}, {1, false}, {1, false}, {2, false}}, "", false};
    if (!(ns > 0)) /* also NAN: no repetition measured it */
        snprintf(buf, n, "-");
    else
        mmb_format_ns(ns, &style, buf, n);
}

static const char *title(const char *metric) {
    return mmb_metric_find(metric)->title;
}

double mmb_table_cell_median(json_t *benchmarks, const char *cell_name, const char *key) {
    double v[64];
    int n = 0;
    size_t i;
    json_t *b;
    json_array_foreach(benchmarks, i, b) {
        const char *name = mmb_results_cell(b);
        if (!name || strcmp(name, cell_name) != 0 || !mmb_results_is_iteration(b, false) ||
            json_is_true(json_object_get(b, "error_occurred")) || n == 64)
            continue;
        v[n++] = json_number_value(json_object_get(b, key));
    }
    return n ? mmb_median(v, n) : NAN;
}

/* The threaded cells: total and per-thread rates, and scaling against one thread. */
void mmb_table_print_threads(json_t *benchmarks) {
    bool header = false;
    const char *last = NULL;
    size_t i;
    json_t *b;
    json_array_foreach(benchmarks, i, b) {
        json_t *mm = json_object_get(b, "mmbench");
        const char *name = mmb_results_cell(b);
        json_t *th = json_object_get(mm, "threads");
        if (!name || !th || (last && strcmp(last, name) == 0) ||
            !json_object_get(json_object_get(mm, "params"), "threads"))
            continue;
        last = name;
        if (!header) {
            printf("\n%-60s %7s %11s %13s %8s %10s\n", "threaded cell", "threads", "units/s",
                   "units/s/thread", "speedup", "efficiency");
            header = true;
        }
        json_t *sc = json_object_get(mm, "scaling");
        char sp[16] = "-", ef[16] = "-";
        if (sc) {
            snprintf(sp, sizeof sp, "%.2fx", json_number_value(json_object_get(sc, "speedup")));
            snprintf(ef, sizeof ef, "%.0f%%",
                     100 * json_number_value(json_object_get(sc, "efficiency")));
        }
        printf("%-60s %7lld %11.4g %13.4g %8s %10s\n", name,
               (long long)json_integer_value(json_object_get(th, "count")),
               mmb_table_cell_median(benchmarks, name, "work_units_per_second"),
               mmb_table_cell_median(benchmarks, name, "per_thread_units_per_second"), sp, ef);
    }
}

/* One row per cell: medians over its repetitions. */
void mmb_table_print(json_t *benchmarks) {
    int width = 44; /* the cell column fits the longest name */
    size_t k;
    json_t *e;
    json_array_foreach(benchmarks, k, e) {
        const char *nm = json_string_value(json_object_get(json_object_get(e, "mmbench"), "cell"));
        if (nm && (int)strlen(nm) > width)
            width = (int)strlen(nm);
    }
    /* Pauses are every pause the mutator saw; "longest" is the kind of the median max pause. */
    /* Titles from the registry where they fit the columns; the short ones are this table's. */
    printf("%-*s %9s %11s %9s %9s %-7s %7s %8s %8s %7s\n", width, "cell (workload/manager/scale)",
           title("real_time"), "units/s", title("pause_p99_ns"), title("pause_max_ns"), "longest",
           "MMU10ms", title("peak_rss_bytes"), "GCs", "status");
    size_t i = 0;
    while (i < json_array_size(benchmarks)) {
        json_t *first = json_array_get(benchmarks, i);
        const char *cell_name =
            json_string_value(json_object_get(json_object_get(first, "mmbench"), "cell"));
        double t[64], rate[64], p99[64], mx[64], mmu[64], rss[64], gcs[64];
        const char *kind[64];
        int n = 0;
        bool error = false;
        for (; i < json_array_size(benchmarks); i++) {
            json_t *b = json_array_get(benchmarks, i);
            json_t *mm = json_object_get(b, "mmbench");
            const char *cn = mmb_results_cell(b);
            if (!cn || !cell_name || strcmp(cn, cell_name) != 0)
                break;
            error |= json_is_true(json_object_get(b, "error_occurred"));
            if (!mmb_results_is_iteration(b, false) || n == 64 ||
                json_is_true(json_object_get(b, "error_occurred")))
                continue;
            t[n] = json_number_value(json_object_get(b, "real_time"));
            rate[n] = json_number_value(json_object_get(b, "work_units_per_second"));
            p99[n] = json_number_value(json_object_get(b, "pause_p99_ns"));
            mx[n] = json_number_value(json_object_get(b, "pause_max_ns"));
            kind[n] =
                json_string_value(json_object_get(json_object_get(mm, "pauses"), "longest_kind"));
            mmu[n] = json_number_value(json_object_get(b, "mmu_10ms"));
            rss[n] = json_number_value(json_object_get(b, "peak_rss_bytes"));
            gcs[n] = json_number_value(json_object_get(b, "collections_full")) +
                     json_number_value(json_object_get(b, "collections_young"));
            n++;
        }
        if (!cell_name) {
            i++;
            continue;
        }
        char a[16], b2[16], c2[16];
        const char *longest = mmb_pause_kind_at_median(mx, kind, n);
        fmt_ns(mmb_median(t, n) * 1e6, a, sizeof a);
        fmt_ns(mmb_median(p99, n), b2, sizeof b2);
        fmt_ns(mmb_median(mx, n), c2, sizeof c2);
        printf("%-*s %9s %11.4g %9s %9s %-7s %7.3f %7.1fM %8.0f %7s\n", width, cell_name, a,
               mmb_median(rate, n), b2, c2, longest ? longest : "-", mmb_median(mmu, n),
               mmb_median(rss, n) / 1048576.0, mmb_median(gcs, n), error ? "FAILED" : "ok");
    }
}
