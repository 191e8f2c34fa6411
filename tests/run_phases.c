/* Pauses per run phase (issue 13, §4): the recorder notes each phase a workload marks and puts
 * every event into the histogram of the phase its start falls in; pauses.c gives each phase's
 * window and its MMU at 10 ms over that window alone. Known events fed to a recorder by hand, the
 * phase names against workload.h's, a real tiny run (live-heap marks its phases, churn none) and a
 * replay (no phases). */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mmbench/manager.h"
#include "mmbench_cli.h"
#include "pauses.h"
#include "recorder.h"
#include "test.h"
#include "verify_commands.h"
#include "workload.h"

#define MS 1000000ull
#define T0 1000ull /* the run's start: every time below is T0 + an offset */

static void event(mmb_recorder *r, mmb_event_kind kind, uint64_t at_ns, uint64_t pause_ns) {
    mmb_event e = {kind, kind == MMB_EVENT_YOUNG ? 0 : -1, T0 + at_ns, T0 + at_ns + pause_ns, 10,
                   1};
    mmb_recorder_on_event(r, &e);
}

static json_t *phase_json(json_t *pauses, const char *phase) {
    json_t *p = json_object_get(json_object_get(pauses, "phases"), phase);
    if (!json_is_object(p))
        fprintf(stderr, "pauses.phases.%s is missing\n", phase);
    ASSERT_TRUE(json_is_object(p));
    return p;
}

static double num(json_t *o, const char *key) {
    json_t *v = json_object_get(o, key);
    ASSERT_TRUE(json_is_number(v));
    return json_number_value(v);
}

/* build [2, 100) ms, steady [100, 300) ms, teardown [300, 400] ms, with one pause before the
 * first mark (in no phase) and a 10 ms cascade from 295 ms: steady's by its start, clipped at
 * 300 ms for each window's MMU. Late marks of a phase already passed are ignored. */
TEST(phase_pauses_from_known_events) {
    mmb_recorder *r = mmb_recorder_new();
    ASSERT_TRUE(r != NULL);
    mmb_recorder_phase(r, MMB_RUN_BUILD, T0); /* not recording yet: ignored */
    ASSERT_TRUE(!r->phase_entered[MMB_RUN_BUILD]);
    mmb_recorder_start(r, T0);
    event(r, MMB_EVENT_FULL, 1 * MS, 1 * MS); /* before any mark */
    mmb_recorder_phase(r, MMB_RUN_BUILD, T0 + 2 * MS);
    event(r, MMB_EVENT_FULL, 10 * MS, 5 * MS);
    mmb_recorder_phase(r, MMB_RUN_STEADY, T0 + 100 * MS);
    mmb_recorder_phase(r, MMB_RUN_BUILD, T0 + 150 * MS); /* out of order: ignored */
    mmb_recorder_phase(r, 7, T0 + 160 * MS);             /* out of range: ignored */
    event(r, MMB_EVENT_YOUNG, 150 * MS, 2500000);
    event(r, MMB_EVENT_INCREMENT, 200 * MS, 1 * MS);
    event(r, MMB_EVENT_CASCADE, 295 * MS, 10 * MS);
    mmb_recorder_phase(r, MMB_RUN_TEARDOWN, T0 + 300 * MS);
    event(r, MMB_EVENT_CASCADE, 350 * MS, 7500000);
    mmb_recorder_phase(r, MMB_RUN_STEADY, T0 + 360 * MS); /* passed: ignored */
    ASSERT_EQ(mmb_recorder_phase_at(r, 1 * MS), -1);
    ASSERT_EQ(mmb_recorder_phase_at(r, 2 * MS), MMB_RUN_BUILD);
    ASSERT_EQ(mmb_recorder_phase_at(r, 299 * MS), MMB_RUN_STEADY);
    ASSERT_EQ(mmb_recorder_phase_at(r, 360 * MS), MMB_RUN_TEARDOWN);

    static mmb_pause_stats s; /* large (histograms) */
    mmb_pause_stats_compute(r, 400 * MS, &s);
    ASSERT_EQ(s.all.count, 6);
    ASSERT_TRUE(s.mmu_10ms == 0); /* the whole run's worst window is the 10 ms cascade */
    ASSERT_TRUE(s.any_phase);
    const mmb_hist *b = &r->phase_pauses[MMB_RUN_BUILD], *st = &r->phase_pauses[MMB_RUN_STEADY],
                   *td = &r->phase_pauses[MMB_RUN_TEARDOWN];
    ASSERT_EQ(b->count, 1);
    ASSERT_EQ(b->max, 5 * MS);
    ASSERT_EQ(st->count, 3);
    ASSERT_EQ(st->max, 10 * MS);
    ASSERT_EQ(st->min, 1 * MS);
    ASSERT_EQ(td->count, 1);
    ASSERT_EQ(td->max, 7500000);
    const mmb_phase_stats *pb = &s.phases[MMB_RUN_BUILD], *ps = &s.phases[MMB_RUN_STEADY],
                          *pt = &s.phases[MMB_RUN_TEARDOWN];
    ASSERT_EQ(pb->start_ns, 2 * MS);
    ASSERT_EQ(pb->duration_ns, 98 * MS);
    ASSERT_EQ(ps->start_ns, 100 * MS);
    ASSERT_EQ(ps->duration_ns, 200 * MS);
    ASSERT_EQ(pt->start_ns, 300 * MS);
    ASSERT_EQ(pt->duration_ns, 100 * MS);
    ASSERT_TRUE(pb->mmu_10ms == 0.5);  /* 5 ms in 10 */
    ASSERT_TRUE(ps->mmu_10ms == 0.5);  /* the cascade's 5 ms before 300 ms */
    ASSERT_TRUE(pt->mmu_10ms == 0.25); /* 7.5 ms; the cascade's 5 ms after 300 ms is less */

    json_t *p = mmb_pause_stats_json(r, &s);
    json_t *js = phase_json(p, "steady");
    ASSERT_EQ(num(js, "count"), 3);
    ASSERT_EQ(num(js, "max_ns"), 10 * MS);
    ASSERT_EQ(num(js, "start_ns"), 100 * MS);
    ASSERT_EQ(num(js, "duration_ns"), 200 * MS);
    ASSERT_TRUE(num(js, "mmu_10ms") == 0.5);
    ASSERT_TRUE(num(js, "p99_ns") == mmb_hist_percentile(st, 99));
    ASSERT_EQ(num(phase_json(p, "build"), "count"), 1);
    ASSERT_TRUE(num(phase_json(p, "teardown"), "mmu_10ms") == 0.25);
    ASSERT_EQ(json_object_size(json_object_get(p, "phases")), 3);
    json_decref(p);

    /* No mark: no "phases"; a steady mark alone: steady only, to the run's end. */
    mmb_recorder_start(r, T0);
    event(r, MMB_EVENT_FULL, 1 * MS, 1 * MS);
    mmb_pause_stats_compute(r, 50 * MS, &s);
    ASSERT_TRUE(!s.any_phase);
    p = mmb_pause_stats_json(r, &s);
    ASSERT_TRUE(json_object_get(p, "phases") == NULL);
    json_decref(p);
    mmb_recorder_phase(r, MMB_RUN_STEADY, T0 + 10 * MS);
    event(r, MMB_EVENT_FULL, 20 * MS, 2500000);
    mmb_pause_stats_compute(r, 50 * MS, &s);
    ASSERT_EQ(r->phase_pauses[MMB_RUN_STEADY].count, 1);
    ASSERT_EQ(s.phases[MMB_RUN_STEADY].duration_ns, 40 * MS);
    ASSERT_TRUE(s.phases[MMB_RUN_STEADY].mmu_10ms == 0.75);
    p = mmb_pause_stats_json(r, &s);
    ASSERT_EQ(json_object_size(json_object_get(p, "phases")), 1);
    ASSERT_EQ(num(phase_json(p, "steady"), "count"), 1);
    json_decref(p);
    mmb_recorder_free(r);
}

/* The recorder's names are workload.h's. */
TEST(phase_names_are_the_workload_contracts) {
    for (int p = 0; p < MMB_RUN_PHASE_COUNT; p++)
        ASSERT_STR_EQ(mmb_pause_phase_name(p), mmb_run_phase_name((mmb_run_phase)p));
    ASSERT_STR_EQ(mmb_pause_phase_name(MMB_RUN_PHASE_COUNT), "unknown");
}

static json_t *details(json_t *b) {
    return json_object_get(b, "mmbench");
}

/* A tiny run: live-heap marks build, steady and teardown; churn marks none. live-heap's windows
 * tile the run from the build mark to its end, every pause lands in a phase (build is marked
 * before the first allocation), and the steady metrics are emitted; churn has neither. */
TEST_MMBENCH(steady_metrics_in_a_run, "run", 300, "run") {
    json_t *root = mmb_test_run_json("--manager marksweep,cpython --workload live-heap,churn "
                                     "--scale tiny --repetitions 1");
    size_t i, marked = 0, unmarked = 0;
    json_t *b;
    json_array_foreach(json_object_get(root, "benchmarks"), i, b) {
        json_t *d = details(b), *pauses = json_object_get(d, "pauses");
        const char *w = json_string_value(json_object_get(d, "workload"));
        if (strcmp(w, "churn") == 0) {
            ASSERT_TRUE(json_object_get(pauses, "phases") == NULL);
            ASSERT_TRUE(json_object_get(b, "steady_pause_max_ns") == NULL);
            ASSERT_TRUE(json_object_get(b, "teardown_pause_max_ns") == NULL);
            unmarked++;
            continue;
        }
        static const char *const metrics[] = {"steady_pause_p99_ns", "steady_pause_max_ns",
                                              "steady_mmu_10ms", "teardown_pause_max_ns"};
        for (size_t k = 0; k < sizeof metrics / sizeof metrics[0]; k++)
            ASSERT_TRUE(json_is_number(json_object_get(b, metrics[k])));
        json_t *pb = phase_json(pauses, "build"), *ps = phase_json(pauses, "steady"),
               *pt = phase_json(pauses, "teardown");
        ASSERT_EQ(num(pb, "start_ns") + num(pb, "duration_ns"), num(ps, "start_ns"));
        ASSERT_EQ(num(ps, "start_ns") + num(ps, "duration_ns"), num(pt, "start_ns"));
        ASSERT_EQ(num(pt, "start_ns") + num(pt, "duration_ns"), num(d, "run_ns"));
        ASSERT_EQ(num(pb, "count") + num(ps, "count") + num(pt, "count"),
                  num(json_object_get(pauses, "all"), "count"));
        ASSERT_EQ(num(b, "steady_pause_max_ns"), num(ps, "max_ns"));
        ASSERT_EQ(num(b, "teardown_pause_max_ns"), num(pt, "max_ns"));
        ASSERT_TRUE(num(b, "steady_mmu_10ms") == num(ps, "mmu_10ms"));
        double mmu = num(ps, "mmu_10ms");
        ASSERT_TRUE(mmu >= 0 && mmu <= 1);
        /* cpython collects its young generation on allocation counts: steady has collections */
        if (strcmp(json_string_value(json_object_get(d, "manager")), "cpython") == 0)
            ASSERT_TRUE(num(ps, "count") >= 1);
        marked++;
    }
    ASSERT_EQ(marked, 2);
    ASSERT_EQ(unmarked, 2);
    json_decref(root);
}

/* replay uses the same recorder and marks no phase: its pauses have no "phases". */
TEST(replay_has_no_phases) {
    char trace[] = "/tmp/mmb-phases-trace-XXXXXX", out[] = "/tmp/mmb-phases-out-XXXXXX";
    mmb_test_temp_file(trace);
    mmb_test_temp_file(out);
    FILE *f = fopen(trace, "w");
    ASSERT_TRUE(f != NULL);
    fputs("new 1 1 0\nset 1 0 1\ndrop 1\ncollect\n", f);
    fclose(f);
    char *argv[] = {"replay", "--manager", "cpython", trace, NULL};
    fflush(stdout);
    FILE *o = freopen(out, "w", stdout);
    ASSERT_TRUE(o != NULL);
    int status = mmb_replay_main(4, argv);
    fflush(stdout);
    json_error_t err;
    json_t *root = json_loads(mmb_test_slurp(out), 0, &err);
    ASSERT_EQ(status, 0);
    ASSERT_TRUE(json_is_object(root));
    json_t *pauses = json_object_get(root, "pauses");
    ASSERT_EQ(num(json_object_get(pauses, "full"), "count"), 2); /* and the final one */
    ASSERT_TRUE(json_object_get(pauses, "phases") == NULL);
    json_decref(root);
    unlink(trace);
    unlink(out);
}
