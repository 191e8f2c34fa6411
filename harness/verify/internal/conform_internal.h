/* What conform's command (conform.c) and its checks (conform_checks.c) share: the level's sizes,
 * the check table, and running a function in a forked child with a timeout. */
#ifndef MMB_CONFORM_INTERNAL_H
#define MMB_CONFORM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmbench/manager.h"
#include "stress.h"
#include "trace.h"

/* What one conform run checks, and how much. */
typedef struct mmb_conform_ctx {
    const mmb_manager *manager;
    uint64_t seed;      /* the first seed; a check's traces use seed, seed + 1, ... */
    unsigned seeds;     /* traces per shape */
    uint64_t ops;       /* operations per trace */
    uint64_t chain;     /* objects in the long chains */
    unsigned threads;   /* threads of the threaded check */
    unsigned timeout_s; /* per check, and per shrinking candidate */
} mmb_conform_ctx;

/* What a check's child reports back, through shared memory (so a crash keeps what was set). */
typedef struct mmb_conform_report {
    bool have_trace;   /* a trace check: seed and shape name the failing trace */
    uint64_t seed;     /* the trace being run (set before it runs) */
    int shape;         /* an mmb_shape */
    char reason[1024]; /* why it failed, when it returned nonzero */
} mmb_conform_report;

/* Runs one trace; 0 when it passes, else nonzero with a one-line reason. */
typedef int (*mmb_conform_trace_fn)(const mmb_conform_ctx *c, const mmb_trace *t, char *reason,
                                    size_t n);

typedef struct mmb_conform_check {
    const char *name;
    /* Whether the check applies to m (NULL: always). */
    bool (*applies)(const mmb_manager *m);
    /* A check that is not over traces: 0 passes, else the reason in r. */
    int (*run)(const mmb_conform_ctx *c, mmb_conform_report *r);
    /* A check over traces: run on c->seeds stress traces of `shape` each. */
    mmb_conform_trace_fn run_trace;
    int shape;
    /* Whether `mmbench replay --verify` reproduces its failures (an oracle check). */
    bool replayable;
} mmb_conform_check;

/* The checks, in the order conform runs them, ended by a row with a NULL name. */
extern const mmb_conform_check mmb_conform_checks[];

/* Runs fn(ctx, report) in a forked child with a timeout. Returns 0 when it returned 0; else 1
 * with report->reason saying why (its reason, a signal, the timeout, or that no child could
 * be started). */
int mmb_conform_forked(int (*fn)(void *ctx, mmb_conform_report *r), void *ctx, unsigned timeout_s,
                       mmb_conform_report *report);

#endif
