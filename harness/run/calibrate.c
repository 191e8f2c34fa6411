/* `mmbench calibrate`: what measuring costs on this machine - a clock read, recording one pause
 * event, recording one request latency - as medians over repetitions of a million each. */
#include "diag.h"
#include "mmbench/clock.h"
#include "calibrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "recorder.h"

#define REPS 15
#define N    1000000

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

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
    qsort(ns, REPS, sizeof ns[0], cmp_double);
    printf("%-36s %8.1f ns median   (min %.1f, max %.1f; %d runs of %d)\n", what, ns[REPS / 2],
           ns[0], ns[REPS - 1], REPS, N);
}

static const char calibrate_help[] =
    "usage: mmbench calibrate\n"
    "\n"
    "Measures what mmbench's own instrumentation costs on this machine: a CLOCK_MONOTONIC read,\n"
    "recording one pause event (histogram + pause log), and recording one request latency\n"
    "(two histograms). Medians over 15 runs of a million.\n";

int mmb_calibrate_main(int argc, char **argv) {
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(calibrate_help, stdout);
        return 0;
    }
    if (argc > 1) {
        fprintf(stderr,
                "mmbench: error: calibrate: unexpected argument '%s' (hint: mmbench "
                "calibrate --help)\n",
                argv[1]);
        return 2;
    }
    mmb_recorder *r = mmb_recorder_new();
    if (!r) {
        fprintf(stderr, "mmbench: error: calibrate: out of memory\n");
        return 1;
    }
    measure("clock_gettime(CLOCK_MONOTONIC)", 0, r);
    measure("record one pause event", 1, r);
    measure("record one request latency", 2, r);
    mmb_recorder_free(r);
    return 0;
}
