/* conform's checks (internal/conform.h): the oracle over stress traces, the threaded oracle, long
 * chains, option bounds, collect_young and freeze, events and phases, and stats. Each runs in a
 * forked child of conform (conform.c); a trace check says which trace it was running, so conform
 * can write it and shrink it. */
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conform_internal.h"
#include "diag.h"
#include "mmbench/clock.h"
#include "oracle.h"
#include "recorder.h"
#include "verify_run.h"

/* ---- the oracle over traces ----------------------------------------------------------------- */

/* A heap of the manager under the oracle (payloads filled), or NULL with the reason. */
static mmb_heap *oracle_open(const mmb_conform_ctx *c, const mmb_heap_config *cfg, char *reason,
                             size_t n) {
    mmb_oracle_options oopt = {.fill_payload = true};
    mmb_heap *h;
    char err[512];
    if (mmb_oracle_create(c->manager, cfg, &oopt, &h, err, sizeof err) != 0) {
        snprintf(reason, n, "create failed: %s", err);
        return NULL;
    }
    return h;
}

/* Closes an oracle heap: 0, or 1 with the oracle's first violation in reason. */
static int oracle_close(mmb_heap *h, char *reason, size_t n) {
    char msg[512];
    if (mmb_oracle_close(h, msg, sizeof msg) == 0)
        return 0;
    snprintf(reason, n, "%s", msg);
    return 1;
}

/* The trace as `mmbench replay` runs it (under the oracle when `verify`), then a final full
 * collection, with the manager's default options. EXIT_OK or EXIT_FAILED, r filled. */
static int replay_trace(const mmb_conform_ctx *c, const mmb_trace *t, bool verify,
                        mmb_trace_result *r) {
    mmb_heap_config cfg;
    mmb_config_defaults(c->manager, &cfg);
    mmb_recorder *rec = mmb_recorder_new();
    int status = mmb_verify_run_trace(c->manager, cfg, t, verify, "the trace", rec, r);
    mmb_recorder_free(rec);
    return status;
}

/* The trace as `mmbench replay --verify` runs it. */
static int oracle_trace(const mmb_conform_ctx *c, const mmb_trace *t, char *reason, size_t n) {
    mmb_trace_result r;
    int status = replay_trace(c, t, true, &r);
    if (status != EXIT_OK)
        snprintf(reason, n, "%s", r.failure);
    return status != EXIT_OK;
}

/* ---- collect_young and freeze ------------------------------------------------------------- */

static bool young_or_freeze(const mmb_manager *m) {
    return (m->caps & MMB_CAP_YOUNG) || m->collect_young || m->freeze;
}

/* The trace under the oracle in ten parts, collect_young after each, freeze after the fifth (each
 * where the manager has it), then a full collection. manager.h: collect_young is NULL where the
 * manager has none, so MMB_CAP_YOUNG and collect_young go together. */
static int young_trace(const mmb_conform_ctx *c, const mmb_trace *t, char *reason, size_t n) {
    const mmb_manager *m = c->manager;
    if ((m->caps & MMB_CAP_YOUNG) && !m->collect_young) {
        snprintf(reason, n, "claims MMB_CAP_YOUNG but its collect_young is NULL");
        return 1;
    }
    if (!(m->caps & MMB_CAP_YOUNG) && m->collect_young) {
        snprintf(reason, n, "has collect_young but does not claim MMB_CAP_YOUNG");
        return 1;
    }
    mmb_heap_config cfg;
    mmb_config_defaults(m, &cfg);
    mmb_heap *h = oracle_open(c, &cfg, reason, n);
    if (!h)
        return 1;
    mmb_obj **objs = mmb_xcalloc(t->objects ? t->objects : 1, sizeof *objs);
    size_t part = t->count / 10 + 1;
    for (size_t at = 0, k = 0; at < t->count && !mmb_oracle_failed(h); at += part, k++) {
        mmb_trace view = *t;
        view.ops = t->ops + at;
        view.lines = t->lines + at;
        view.count = at + part < t->count ? part : t->count - at;
        if (mmb_trace_run(&view, h, objs, true) < view.count || mmb_oracle_failed(h))
            break;
        if (h->manager->collect_young)
            h->manager->collect_young(h);
        if (k == 4 && h->manager->freeze)
            h->manager->freeze(h);
    }
    if (!mmb_oracle_failed(h))
        mmb_collect(h);
    free(objs);
    return oracle_close(h, reason, n);
}

/* ---- events and phases -------------------------------------------------------------------- */

typedef struct event_check {
    uint64_t start_ns, cascade_threshold;
    char error[512];
} event_check;

static _Thread_local int phase_stack[64];
static _Thread_local int phase_depth;

static void event_fail(event_check *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void event_fail(event_check *e, const char *fmt, ...) {
    if (e->error[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->error, sizeof e->error, fmt, ap);
    va_end(ap);
}

static void check_event(void *ctx, const mmb_event *ev) {
    event_check *e = ctx;
    uint64_t now = mmb_now_ns();
    if ((unsigned)ev->kind >= MMB_EVENT_KIND_COUNT)
        event_fail(e, "an event of kind %d (out of range)", (int)ev->kind);
    else if (ev->start_ns > ev->end_ns)
        event_fail(e, "an event starts at %" PRIu64 " ns, after its end at %" PRIu64 " ns",
                   ev->start_ns, ev->end_ns);
    else if (ev->start_ns < e->start_ns || ev->end_ns > now)
        event_fail(e, "an event's times %" PRIu64 "..%" PRIu64 " ns are not within the trace",
                   ev->start_ns, ev->end_ns);
    else if (ev->kind == MMB_EVENT_CASCADE && ev->objects_freed < e->cascade_threshold)
        event_fail(e, "a cascade event freed %" PRIu64 " objects, below the threshold %" PRIu64,
                   ev->objects_freed, e->cascade_threshold);
    else if (ev->generation < -1)
        event_fail(e, "an event's generation is %d", ev->generation);
}

static void check_phase(void *ctx, mmb_phase phase, int begin) {
    event_check *e = ctx;
    if (phase != MMB_PHASE_CASCADE && phase != MMB_PHASE_COLLECTOR)
        event_fail(e, "a phase hook for phase %d (managers report cascade and collector)",
                   (int)phase);
    else if (begin && phase_depth == (int)(sizeof phase_stack / sizeof phase_stack[0]))
        event_fail(e, "phases nested %d deep", phase_depth);
    else if (begin)
        phase_stack[phase_depth++] = phase;
    else if (phase_depth == 0 || phase_stack[phase_depth - 1] != (int)phase)
        event_fail(e, "phase %d ends, but the phase begun last is %d", (int)phase,
                   phase_depth ? phase_stack[phase_depth - 1] : -1);
    else
        phase_depth--;
}

/* The trace under the oracle, on a heap whose event and phase hooks check every call (every
 * cascade reported). */
static int events_trace(const mmb_conform_ctx *c, const mmb_trace *t, char *reason, size_t n) {
    event_check e = {.start_ns = mmb_now_ns(), .cascade_threshold = 1};
    mmb_heap_config cfg;
    mmb_config_defaults(c->manager, &cfg);
    cfg.on_event = check_event;
    cfg.event_ctx = &e;
    cfg.cascade_threshold = e.cascade_threshold;
    cfg.on_phase = check_phase;
    cfg.phase_ctx = &e;
    phase_depth = 0;
    mmb_heap *h = oracle_open(c, &cfg, reason, n);
    if (!h)
        return 1;
    mmb_obj **objs = mmb_xcalloc(t->objects ? t->objects : 1, sizeof *objs);
    size_t done = mmb_trace_run(t, h, objs, true);
    if (done == t->count && !mmb_oracle_failed(h))
        mmb_collect(h);
    free(objs);
    if (oracle_close(h, reason, n))
        return 1;
    if (!e.error[0] && phase_depth)
        event_fail(&e, "%d phases begun and never ended", phase_depth);
    snprintf(reason, n, "%s", e.error);
    return e.error[0] != '\0';
}

/* ---- stats -------------------------------------------------------------------------------- */

/* The objects that should be live after the trace and a full collection, from its shadow: with
 * MMB_CAP_CYCLES those reachable from the mutator's references; with plain reference counting
 * those whose count never reaches zero (counts from references and slots, peeled as a cascade
 * would); UINT64_MAX when the manager claims neither. */
static uint64_t expected_live(const mmb_manager *m, const mmb_trace *t) {
    if (!(m->caps & (MMB_CAP_CYCLES | MMB_CAP_REFCOUNT)))
        return UINT64_MAX;
    bool cycles = m->caps & MMB_CAP_CYCLES;
    uint64_t *count = mmb_xcalloc(t->objects ? t->objects : 1, sizeof *count);
    uint32_t *stack = mmb_xcalloc(t->objects ? t->objects : 1, sizeof *stack);
    size_t top = 0;
    for (uint32_t i = 0; i < t->objects; i++) {
        count[i] += t->obj[i].held;
        for (uint32_t s = 0; !cycles && s < t->obj[i].nslots; s++)
            if (t->slots[t->obj[i].slot_base + s])
                count[t->slots[t->obj[i].slot_base + s] - 1]++;
    }
    /* cycles: count[i] becomes 1 for reachable objects (marking); else the survivors' counts. */
    uint64_t gone = 0;
    for (uint32_t i = 0; i < t->objects; i++)
        if (cycles ? count[i] > 0 : count[i] == 0)
            stack[top++] = i;
    if (cycles)
        for (size_t k = 0; k < top; k++)
            count[stack[k]] = UINT64_MAX; /* marked */
    while (top) {
        const mmb_trace_obj *o = &t->obj[stack[--top]];
        gone++;
        for (uint32_t s = 0; s < o->nslots; s++) {
            uint32_t to = t->slots[o->slot_base + s];
            if (!to)
                continue;
            if (cycles && count[to - 1] != UINT64_MAX) {
                count[to - 1] = UINT64_MAX;
                stack[top++] = to - 1;
            } else if (!cycles && --count[to - 1] == 0) {
                stack[top++] = to - 1;
            }
        }
    }
    free(count);
    free(stack);
    return cycles ? gone : t->objects - gone;
}

/* MMB_CAP_CONSERVATIVE: a full collection may keep unreachable objects (the oracle counts them
 * as retained), so live counts after one are lower bounds. */
static bool conservative(const mmb_manager *m) {
    return m->caps & MMB_CAP_CONSERVATIVE;
}

/* The trace and a full collection (as replay --verify runs them); the counters must
 * agree with the trace: every object counted once, freed + live = allocated, live as expected
 * (at least as expected for a conservative manager). */
static int stats_trace(const mmb_conform_ctx *c, const mmb_trace *t, char *reason, size_t n) {
    mmb_trace_result r;
    int status = replay_trace(c, t, true, &r);
    const mmb_stats *s = &r.stats;
    uint64_t live = expected_live(c->manager, t);
    if (status != EXIT_OK)
        snprintf(reason, n, "%s", r.failure);
    else if (s->objects_allocated != t->objects)
        snprintf(reason, n, "objects_allocated is %" PRIu64 ", the trace allocated %" PRIu32,
                 s->objects_allocated, t->objects);
    else if (s->objects_freed + s->live_objects != s->objects_allocated)
        snprintf(reason, n,
                 "objects_freed %" PRIu64 " + live_objects %" PRIu64
                 " is not objects_allocated %" PRIu64,
                 s->objects_freed, s->live_objects, s->objects_allocated);
    else if (s->objects_freed_by_rc + s->objects_freed_by_gc != s->objects_freed)
        snprintf(reason, n,
                 "objects_freed_by_rc %" PRIu64 " + objects_freed_by_gc %" PRIu64
                 " is not objects_freed %" PRIu64,
                 s->objects_freed_by_rc, s->objects_freed_by_gc, s->objects_freed);
    else if (live != UINT64_MAX && s->live_objects < live)
        snprintf(reason, n,
                 "live_objects is %" PRIu64
                 " after the final collection; the trace leaves %" PRIu64,
                 s->live_objects, live);
    else if (live != UINT64_MAX && s->live_objects != live && !conservative(c->manager))
        snprintf(reason, n,
                 "live_objects is %" PRIu64
                 " after the final collection; the trace leaves %" PRIu64,
                 s->live_objects, live);
    else
        return 0;
    return 1;
}

/* ---- the threaded oracle ------------------------------------------------------------------ */

typedef struct worker {
    pthread_t thread;
    mmb_heap *heap;
    pthread_barrier_t *start;
    mmb_trace trace;
    bool failed;
} worker;

/* Waits for the others before attaching (a thread blocked while attached could hold up a
 * collection for ever), so that the traces overlap. */
static void *worker_main(void *arg) {
    worker *w = arg;
    pthread_barrier_wait(w->start);
    mmb_thread_attach(w->heap);
    mmb_obj **objs = mmb_xcalloc(w->trace.objects ? w->trace.objects : 1, sizeof *objs);
    w->failed = mmb_trace_run(&w->trace, w->heap, objs, true) < w->trace.count;
    free(objs);
    mmb_thread_detach(w->heap);
    return NULL;
}

static bool thread_safe(const mmb_manager *m) {
    return m->caps & MMB_CAP_THREAD_SAFE;
}

/* c->threads threads on one oracle heap, each its own stress trace of 2 x c->ops operations
 * (collections included, one shape each), then a full collection by the heap's creator with no
 * other thread attached. */
static int threads_check(const mmb_conform_ctx *c, mmb_conform_report *r) {
    mmb_heap_config cfg;
    mmb_config_defaults(c->manager, &cfg);
    mmb_heap *h = oracle_open(c, &cfg, r->reason, sizeof r->reason);
    if (!h)
        return 1;
    worker w[16];
    unsigned nw = c->threads < 16 ? c->threads : 16;
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, nw);
    for (unsigned i = 0; i < nw; i++) {
        w[i].heap = h;
        w[i].start = &start;
        mmb_trace_init(&w[i].trace);
        mmb_stress_generate(&w[i].trace, c->seed + 1000 + i, (mmb_shape)(i % MMB_SHAPE_COUNT),
                            2 * c->ops);
    }
    mmb_thread_detach(h); /* joining blocks: the creator stays out while they run */
    for (unsigned i = 0; i < nw; i++)
        if (pthread_create(&w[i].thread, NULL, worker_main, &w[i]) != 0) {
            /* The started ones wait at the barrier; this child's exit ends them. */
            snprintf(r->reason, sizeof r->reason, "cannot start thread %u of %u", i + 1, nw);
            return 1;
        }
    unsigned stopped_early = 0;
    for (unsigned i = 0; i < nw; i++) {
        pthread_join(w[i].thread, NULL);
        stopped_early += w[i].failed;
        mmb_trace_free(&w[i].trace);
    }
    pthread_barrier_destroy(&start);
    mmb_thread_attach(h);
    /* A trace stops early only when the oracle has found something; otherwise say so. */
    if (stopped_early && !mmb_oracle_failed(h)) {
        snprintf(r->reason, sizeof r->reason,
                 "%u of %u threads stopped before the end of their traces, with no violation "
                 "found",
                 stopped_early, nw);
        return 1;
    }
    if (!mmb_oracle_failed(h))
        mmb_collect(h);
    return oracle_close(h, r->reason, sizeof r->reason);
}

/* ---- long chains -------------------------------------------------------------------------- */

static bool refcounts(const mmb_manager *m) {
    return m->caps & MMB_CAP_REFCOUNT;
}

static bool collects_cycles(const mmb_manager *m) {
    return m->caps & MMB_CAP_CYCLES;
}

/* Whether the oracle (when the heap is under one) has found a violation: the mutator stops. */
static bool stopped(mmb_heap *h, bool oracle) {
    return oracle && mmb_oracle_failed(h);
}

/* A chain of `length` objects, each in the slot of the one before; `ring`: the last points back
 * to the first. The mutator drops the first, then a full collection runs when `collect`; every
 * object must be gone, without a recursion deep enough to overflow the stack. */
static int chain_run(const mmb_conform_ctx *c, mmb_conform_report *r, bool ring, bool collect,
                     uint64_t length, bool oracle) {
    mmb_heap_config cfg;
    mmb_config_defaults(c->manager, &cfg);
    mmb_heap *h = NULL;
    char err[512];
    if (oracle)
        h = oracle_open(c, &cfg, r->reason, sizeof r->reason);
    else if (mmb_heap_create(c->manager, &cfg, &h, err, sizeof err) != 0)
        snprintf(r->reason, sizeof r->reason, "create failed: %s", err);
    if (!h)
        return 1;
    mmb_obj *head = mmb_alloc(h, 1, 0), *prev = head;
    for (uint64_t i = 1; head && prev && i < length && !stopped(h, oracle); i++) {
        mmb_obj *o = mmb_alloc(h, 1, 0);
        if (o)
            mmb_store(h, prev, 0, o);
        if (prev != head)
            mmb_decref(h, prev);
        prev = o;
    }
    if (!stopped(h, oracle) && (!head || !prev)) {
        snprintf(r->reason, sizeof r->reason, "allocation failed building the chain");
        return 1;
    }
    if (ring && !stopped(h, oracle))
        mmb_store(h, prev, 0, head);
    if (prev != head && !stopped(h, oracle))
        mmb_decref(h, prev);
    if (!stopped(h, oracle))
        mmb_decref(h, head);
    if (collect && !stopped(h, oracle))
        mmb_collect(h);
    mmb_stats s;
    mmb_stats_get(h, &s);
    if (oracle && oracle_close(h, r->reason, sizeof r->reason))
        return 1;
    if (!oracle)
        c->manager->destroy(h);
    /* A conservative collector may keep the whole chain through one stale word on a stack. */
    if (s.live_objects != 0 && !(collect && conservative(c->manager))) {
        snprintf(r->reason, sizeof r->reason,
                 "%" PRIu64 " of a chain's %" PRIu64 " objects are still live", s.live_objects,
                 length);
        return 1;
    }
    return 0;
}

/* A short chain under the oracle (a manager that frees too early stops there), then c->chain
 * objects on a plain heap (the oracle's shadow would cost more than the chain). */
static int chain_check(const mmb_conform_ctx *c, mmb_conform_report *r, bool ring, bool collect) {
    return chain_run(c, r, ring, collect, 1000, true) ||
           chain_run(c, r, ring, collect, c->chain, false);
}

static int chain_cascade(const mmb_conform_ctx *c, mmb_conform_report *r) {
    return chain_check(c, r, false, false);
}

static int chain_collect(const mmb_conform_ctx *c, mmb_conform_report *r) {
    return chain_check(c, r, true, true);
}

/* ---- option bounds ------------------------------------------------------------------------ */

/* Parses NAME=VALUE alone; 0 when accepted with option i set to want (when `check`). */
static int try_option(const mmb_manager *m, size_t i, const char *value, bool accept, int64_t want,
                      mmb_conform_report *r) {
    char kv[256], err[512];
    snprintf(kv, sizeof kv, "%s=%s", m->options[i].name, value);
    const char *list[1] = {kv};
    mmb_heap_config cfg;
    memset(&cfg, 0, sizeof cfg);
    int got = mmb_options_parse(m, list, 1, &cfg, err, sizeof err);
    if (accept && got != 0)
        snprintf(r->reason, sizeof r->reason, "%s rejected, but it is declared valid: %s", kv, err);
    else if (accept && cfg.options[i] != want)
        snprintf(r->reason, sizeof r->reason, "%s accepted as %" PRId64, kv, cfg.options[i]);
    else if (!accept && got == 0)
        snprintf(r->reason, sizeof r->reason, "%s accepted, outside its declared bounds", kv);
    else
        return 0;
    return 1;
}

/* One option: min, max and the default accepted; min - 1 and max + 1 refused where they fit. */
static int option_bounds(const mmb_manager *m, size_t i, mmb_conform_report *r) {
    const mmb_option_spec *o = &m->options[i];
    char v[32];
    if (o->type == MMB_OPT_BOOL)
        return try_option(m, i, "true", true, 1, r) || try_option(m, i, "false", true, 0, r) ||
               try_option(m, i, "maybe", false, 0, r);
    if (o->default_value < o->min || o->default_value > o->max) {
        snprintf(r->reason, sizeof r->reason,
                 "option %s: default %" PRId64 " outside its bounds %" PRId64 "..%" PRId64, o->name,
                 o->default_value, o->min, o->max);
        return 1;
    }
    int64_t ok[3] = {o->min, o->max, o->default_value};
    for (int k = 0; k < 3; k++) {
        snprintf(v, sizeof v, "%" PRId64, ok[k]);
        if (try_option(m, i, v, true, ok[k], r))
            return 1;
    }
    snprintf(v, sizeof v, "%" PRId64, o->min - (o->min > INT64_MIN));
    if (o->min > INT64_MIN && try_option(m, i, v, false, 0, r))
        return 1;
    snprintf(v, sizeof v, "%" PRId64, o->max + (o->max < INT64_MAX));
    return o->max < INT64_MAX && try_option(m, i, v, false, 0, r);
}

static int options_check(const mmb_conform_ctx *c, mmb_conform_report *r) {
    for (size_t i = 0; c->manager->options && c->manager->options[i].name; i++)
        if (option_bounds(c->manager, i, r))
            return 1;
    return 0;
}

/* ---- the table ---------------------------------------------------------------------------- */

const mmb_conform_check mmb_conform_checks[] = {
    {"oracle-mixed", NULL, NULL, oracle_trace, MMB_SHAPE_MIXED, true},
    {"oracle-rings", NULL, NULL, oracle_trace, MMB_SHAPE_RINGS, true},
    {"oracle-chains", NULL, NULL, oracle_trace, MMB_SHAPE_CHAINS, true},
    {"oracle-scc", NULL, NULL, oracle_trace, MMB_SHAPE_SCC, true},
    {"oracle-dag", NULL, NULL, oracle_trace, MMB_SHAPE_DAG, true},
    {"oracle-mutate", NULL, NULL, oracle_trace, MMB_SHAPE_MUTATE, true},
    {"threads", thread_safe, threads_check, NULL, 0, false},
    {"long-chain-cascade", refcounts, chain_cascade, NULL, 0, false},
    {"long-chain-collect", collects_cycles, chain_collect, NULL, 0, false},
    {"options", NULL, options_check, NULL, 0, false},
    {"young-freeze", young_or_freeze, NULL, young_trace, MMB_SHAPE_MIXED, false},
    {"events", NULL, NULL, events_trace, MMB_SHAPE_MIXED, false},
    {"stats", NULL, NULL, stats_trace, MMB_SHAPE_MIXED, false},
    {NULL, NULL, NULL, NULL, 0, false},
};
