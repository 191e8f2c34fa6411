/* `mmbench calibrate`: what measuring costs on this machine - a clock read, recording one pause
 * event, recording one request latency - as medians over repetitions of a million each. */
#include "calibrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "diag.h"
#include "mmbench/clock.h"
#include "recorder.h"
#include "stats.h"

#define REPS 15
#define N    1000000

static volatile uint64_t sink;

/* Nanoseconds per operation: median, min and max over REPS runs of N. */
static void measure(const char *what, int kind, mmb_recorder *r) {
    double ns[REPS];
    for (int rep = 0; rep < REPS; rep++) {
        mmb_recorder_start(r, 0);
        uint64_t t0 = mmb_now_ns(), acc = 0;
        for (uint64_t i = 0; i < N; i++) {
            /* Durations spread over many buckets, as real pauses are. */
            uint64_t d = 100 + ((i * 2654435761u) & 0xFFFFF);
            if (kind == 0) {
                acc += mmb_now_ns();
            } else if (kind == 1) {
                mmb_event ev = {MMB_EVENT_YOUNG, 0, i * 2000000, i * 2000000 + d, 10, 10};
                mmb_recorder_on_event(r, &ev);
            } else {
                mmb_recorder_on_request(r, i * 1000, i * 1000 + 7, i * 1000 + d);
            }
        }
        sink = acc;
        ns[rep] = (double)(mmb_now_ns() - t0) / N;
    }
    double lo = ns[0], hi = ns[0];
    for (int rep = 1; rep < REPS; rep++) {
        lo = ns[rep] < lo ? ns[rep] : lo;
        hi = ns[rep] > hi ? ns[rep] : hi;
    }
    printf("%-36s %8.1f ns median   (min %.1f, max %.1f; %d runs of %d)\n", what,
           mmb_median(ns, REPS), lo, hi, REPS, N);
}

static const char calibrate_help[] =
    "usage: mmbench calibrate\n"
    "\n"
    "Measures what mmbench's own instrumentation costs on this machine: a CLOCK_MONOTONIC read,\n"
    "recording one pause event (histogram + pause log), and recording one request latency\n"
    "(two histograms). Medians over 15 runs of a million.\n";

/* calibrate takes no flags: the table has only --help (which mmb_flags_parse adds). */
static const mmb_flag calibrate_flags[] = {
    {NULL, 0, NULL, 0, 0, NULL, NULL, 0},
};

static int no_flag(void *ctx, const mmb_flag_arg *a) {
    (void)ctx;
    (void)a;
    return EXIT_OK;
}

int mmb_calibrate_main(int argc, char **argv) {
    int status = mmb_flags_parse_command("calibrate", calibrate_help, calibrate_flags, argc, argv,
                                         no_flag, NULL);
    if (status != EXIT_OK)
        return status == MMB_FLAGS_HELP ? EXIT_OK : status;
    mmb_recorder *r = mmb_recorder_new();
    if (!r)
        return mmb_error(EXIT_FAILED, "calibrate", NULL, "out of memory");
    measure("clock_gettime(CLOCK_MONOTONIC)", 0, r);
    measure("record one pause event", 1, r);
    measure("record one request latency", 2, r);
    mmb_recorder_free(r);
    return EXIT_OK;
}
