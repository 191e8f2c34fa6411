/* Pause statistics (pauses.h). */
#include "pauses.h"

#include <math.h>
#include <stdlib.h>

#include "mmu.h"

const double mmb_mmu_windows_ms[MMB_MMU_WINDOWS] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000};

const char *mmb_pause_phase_name(int phase) {
    static const char *const names[MMB_RECORDER_PHASES] = {"build", "steady", "teardown"};
    return phase >= 0 && phase < MMB_RECORDER_PHASES ? names[phase] : "unknown";
}

/* The end of phase p's window: the next entered phase's start, else the run's end. */
static uint64_t phase_end_ns(const mmb_recorder *r, int p, uint64_t run_ns) {
    for (int q = p + 1; q < MMB_RECORDER_PHASES; q++)
        if (r->phase_entered[q])
            return r->phase_start_ns[q];
    return run_ns;
}

/* Each entered phase's window and its MMU at 10 ms, from the normalised log p[0..np). */
static void phase_stats(const mmb_recorder *r, const mmb_pause *p, size_t np, uint64_t run_ns,
                        mmb_pause_stats *s) {
    s->any_phase = false;
    mmb_pause *slice = np ? malloc(np * sizeof *slice) : NULL;
    for (int k = 0; k < MMB_RECORDER_PHASES; k++) {
        mmb_phase_stats *ph = &s->phases[k];
        *ph = (mmb_phase_stats){.entered = r->phase_entered[k], .mmu_10ms = 1};
        if (!ph->entered)
            continue;
        s->any_phase = true;
        uint64_t start = r->phase_start_ns[k], end = phase_end_ns(r, k, run_ns);
        if (end < start)
            end = start;
        ph->start_ns = start;
        ph->duration_ns = end - start;
        /* The pauses overlapping [start, end), clipped to it and shifted to start at 0. */
        size_t n = 0;
        for (size_t i = 0; i < np && slice && p[i].start_ns < end; i++) {
            if (p[i].end_ns <= start)
                continue;
            uint64_t a = p[i].start_ns > start ? p[i].start_ns : start;
            uint64_t b = p[i].end_ns < end ? p[i].end_ns : end;
            slice[n++] = (mmb_pause){a - start, b - start};
        }
        ph->mmu_10ms = np && !slice ? -1 : mmb_mmu(slice, n, ph->duration_ns, 10000000);
    }
    free(slice);
}

void mmb_pause_stats_compute(mmb_recorder *r, uint64_t run_ns, mmb_pause_stats *s) {
    mmb_hist_init(&s->collections);
    mmb_hist_merge(&s->collections, &r->pauses[MMB_EVENT_FULL]);
    mmb_hist_merge(&s->collections, &r->pauses[MMB_EVENT_YOUNG]);
    mmb_hist_merge(&s->collections, &r->pauses[MMB_EVENT_INCREMENT]);
    mmb_hist_init(&s->all);
    mmb_hist_merge(&s->all, &s->collections);
    mmb_hist_merge(&s->all, &r->pauses[MMB_EVENT_CASCADE]);
    s->longest_kind = -1;
    for (int k = 0; k < MMB_EVENT_KIND_COUNT; k++)
        if (r->pauses[k].count &&
            (s->longest_kind < 0 || r->pauses[k].max > r->pauses[s->longest_kind].max))
            s->longest_kind = k;
    const mmb_hist *full = &r->pauses[MMB_EVENT_FULL];
    s->full_ns_per_live_object =
        full->count && r->full_survivors ? full->sum / (double)r->full_survivors : NAN;
    /* MMU is not monotonic in the window; the bounded MMU (the least MMU of any window at
     * least this long, Sachindran et al.) is, and is what curves usually plot. */
    size_t np = mmb_pauses_normalize(r->log, r->nlog);
    s->mmu_10ms = 1;
    for (size_t i = 0; i < MMB_MMU_WINDOWS; i++) {
        s->mmu[i] = mmb_mmu(r->log, np, run_ns, (uint64_t)(mmb_mmu_windows_ms[i] * 1e6));
        if (mmb_mmu_windows_ms[i] == 10)
            s->mmu_10ms = s->mmu[i];
    }
    for (size_t i = MMB_MMU_WINDOWS; i-- > 0;)
        s->bounded_mmu[i] = i + 1 < MMB_MMU_WINDOWS && s->bounded_mmu[i + 1] < s->mmu[i]
                                ? s->bounded_mmu[i + 1]
                                : s->mmu[i];
    phase_stats(r, r->log, np, run_ns, s);
}

json_t *mmb_hist_json(const mmb_hist *h, bool with_buckets) {
    json_t *o = json_pack("{sIsfsfsfsfsfsfsIsI}", "count", (json_int_t)h->count, "mean_ns",
                          mmb_hist_mean(h), "p50_ns", mmb_hist_percentile(h, 50), "p90_ns",
                          mmb_hist_percentile(h, 90), "p99_ns", mmb_hist_percentile(h, 99),
                          "p99_9_ns", mmb_hist_percentile(h, 99.9), "total_ns", h->sum, "max_ns",
                          (json_int_t)(h->count ? h->max : 0), "min_ns",
                          (json_int_t)(h->count ? h->min : 0));
    if (with_buckets) {
        /* Sparse: [bucket low bound ns, count] for every non-empty bucket. */
        json_t *b = json_array();
        for (unsigned i = 0; i < MMB_HIST_BUCKETS; i++)
            if (h->counts[i]) {
                uint64_t low, width;
                mmb_hist_bucket(i, &low, &width);
                json_array_append_new(b,
                                      json_pack("[II]", (json_int_t)low, (json_int_t)h->counts[i]));
            }
        json_object_set_new(o, "buckets", b);
    }
    return o;
}

json_t *mmb_pause_stats_json(const mmb_recorder *r, const mmb_pause_stats *s) {
    json_t *pauses = json_object();
    for (int k = 0; k < MMB_EVENT_KIND_COUNT; k++)
        json_object_set_new(pauses, mmb_event_kind_name((mmb_event_kind)k),
                            mmb_hist_json(&r->pauses[k], true));
    json_object_set_new(pauses, "collections", mmb_hist_json(&s->collections, false));
    json_object_set_new(pauses, "all", mmb_hist_json(&s->all, false));
    json_object_set_new(pauses, "longest_kind",
                        s->longest_kind < 0
                            ? json_null()
                            : json_string(mmb_event_kind_name((mmb_event_kind)s->longest_kind)));
    json_object_set_new(pauses, "full_survivors", json_integer((json_int_t)r->full_survivors));
    if (isfinite(s->full_ns_per_live_object))
        json_object_set_new(pauses, "full_ns_per_live_object",
                            json_real(s->full_ns_per_live_object));
    if (s->any_phase) {
        json_t *phases = json_object();
        for (int k = 0; k < MMB_RECORDER_PHASES; k++) {
            const mmb_phase_stats *ph = &s->phases[k];
            if (!ph->entered)
                continue;
            json_t *o = mmb_hist_json(&r->phase_pauses[k], false);
            json_object_set_new(o, "start_ns", json_integer((json_int_t)ph->start_ns));
            json_object_set_new(o, "duration_ns", json_integer((json_int_t)ph->duration_ns));
            json_object_set_new(o, "mmu_10ms", json_real(ph->mmu_10ms));
            json_object_set_new(phases, mmb_pause_phase_name(k), o);
        }
        json_object_set_new(pauses, "phases", phases);
    }
    return pauses;
}

json_t *mmb_mmu_json(const mmb_pause_stats *s) {
    json_t *mmu = json_array();
    for (size_t i = 0; i < MMB_MMU_WINDOWS; i++)
        json_array_append_new(mmu,
                              json_pack("{sfsfsf}", "window_ms", mmb_mmu_windows_ms[i],
                                        "utilization", s->mmu[i], "bounded", s->bounded_mmu[i]));
    return mmu;
}
