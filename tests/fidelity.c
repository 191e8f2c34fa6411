/* Recording runs and comparing them, counting frees, the mutators both sides run: fidelity.h.
 * The comparer's own test is at the end (it needs no manager, so it runs everywhere); the
 * fidelity files' comparer tests check it on real runs (fidelity_*_comparer_*). */
#include "fidelity.h"

#include <stdarg.h>

#include "test.h"

const mmb_manager *fid_need(const char *name, const char *packages) {
    const mmb_manager *m = mmb_manager_find(name);
    if (!m)
        SKIP("%s is not built here (needs %s)", name, packages);
    return m;
}

#define FID_FREED_MARK 0xdeadbeefu

void fid_count_free(void *ctx, mmb_obj *o) {
    fid_frees *f = ctx;
    if (f->max_slots)
        ASSERT_TRUE(o->nslots <= f->max_slots);
    if (f->mark) {
        ASSERT_TRUE(o->payload_bytes != FID_FREED_MARK);
        o->payload_bytes = FID_FREED_MARK;
    }
    if (o == f->forbidden)
        f->forbidden_hit = 1;
    f->count++;
}

static void fid_on_event(void *ctx, const mmb_event *e) {
    fid_run *r = ctx;
    if (r->closing || !(r->spec->kinds & (1u << e->kind)))
        return;
    if (r->count == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 1024;
        r->events = realloc(r->events, r->cap * sizeof *r->events);
        ASSERT_TRUE(r->events != NULL);
    }
    r->events[r->count++] =
        (fid_event){e->kind, e->generation, e->objects_freed, e->objects_visited};
    if (e->kind != MMB_EVENT_CASCADE && e->generation >= 0 && e->generation < 3)
        r->by_generation[e->generation]++;
}

mmb_heap *fid_open(const mmb_manager *m, const fid_spec *spec, const char *const *kv, size_t nkv,
                   fid_run *r) {
    memset(r, 0, sizeof *r);
    r->spec = spec;
    mmb_heap_config cfg;
    char err[256];
    if (mmb_options_parse(m, kv, nkv, &cfg, err, sizeof err) != 0) {
        fprintf(stderr, "%s: options: %s\n", m->name, err);
        exit(1);
    }
    cfg.on_event = fid_on_event;
    cfg.event_ctx = r;
    cfg.on_free = fid_count_free;
    cfg.free_ctx = &r->frees;
    mmb_heap *h = NULL;
    if (mmb_heap_create(m, &cfg, &h, err, sizeof err) != 0) {
        fprintf(stderr, "%s: create: %s\n", m->name, err);
        exit(1);
    }
    return h;
}

void fid_record(const mmb_manager *m, const fid_spec *spec, const char *const *kv, size_t nkv,
                fid_program program, const void *arg, fid_run *r) {
    mmb_heap *h = fid_open(m, spec, kv, nkv, r);
    program(h, arg);
    mmb_stats_get(h, &r->stats);
    if (spec->close) {
        r->closing = true;
        mmb_collect(h);
        mmb_stats s;
        mmb_stats_get(h, &s);
        r->live_after = s.live_objects;
    }
    h->manager->destroy(h);
}

void fid_run_free(fid_run *r) {
    free(r->events);
    memset(r, 0, sizeof *r);
}

/* ---- the comparer --------------------------------------------------------------------------- */

/* The differences found so far, the first FID_SHOWN of them written into buf. `used` never
 * passes bytes - 1, however long what vsnprintf would have written. */
enum { FID_SHOWN = 5 };
typedef struct fid_why {
    char *buf;
    size_t bytes, used;
    unsigned diffs;
} fid_why;

static void fid_append(fid_why *w, const char *fmt, ...) {
    if (w->used + 1 >= w->bytes)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(w->buf + w->used, w->bytes - w->used, fmt, ap);
    va_end(ap);
    if (n > 0)
        w->used += (size_t)n < w->bytes - w->used ? (size_t)n : w->bytes - w->used - 1;
}

/* One difference: counted, and written while fewer than FID_SHOWN were. */
#define FID_DIFFER(w, ...)                                                                         \
    do {                                                                                           \
        if ((w)->diffs++ < FID_SHOWN) {                                                            \
            fid_append((w), "%s", (w)->diffs > 1 ? "; " : "");                                     \
            fid_append((w), __VA_ARGS__);                                                          \
        }                                                                                          \
    } while (0)

/* An event as the spec compares it: "full gen 0 freed 4 visited 9". */
static void fid_event_text(const fid_spec *spec, const fid_event *e, char *buf, size_t bytes) {
    fid_why w = {buf, bytes, 0, 0};
    buf[0] = '\0';
    fid_append(&w, "%s", mmb_event_kind_name(e->kind));
    if (spec->generations)
        fid_append(&w, " gen %d", e->generation);
    fid_append(&w, " freed %" PRIu64, e->freed);
    if (spec->visited)
        fid_append(&w, " visited %" PRIu64, e->visited);
}

static bool fid_event_differs(const fid_spec *spec, const fid_event *x, const fid_event *y) {
    return x->kind != y->kind || x->freed != y->freed ||
           (spec->generations && x->generation != y->generation) ||
           (spec->visited && x->visited != y->visited);
}

int fid_compare(const fid_run *a, const fid_run *b, char *why, size_t why_bytes) {
    const fid_spec *spec = a->spec;
    ASSERT_TRUE(spec == b->spec && why_bytes > 0);
    fid_why w = {why, why_bytes, 0, 0};
    why[0] = '\0';
    if (spec->generations &&
        memcmp(a->by_generation, b->by_generation, sizeof a->by_generation) != 0)
        FID_DIFFER(&w,
                   "collections per generation %" PRIu64 "/%" PRIu64 "/%" PRIu64 " vs %" PRIu64
                   "/%" PRIu64 "/%" PRIu64,
                   a->by_generation[0], a->by_generation[1], a->by_generation[2],
                   b->by_generation[0], b->by_generation[1], b->by_generation[2]);
    size_t n = a->count < b->count ? a->count : b->count;
    for (size_t i = 0; i < n; i++) {
        if (!fid_event_differs(spec, &a->events[i], &b->events[i]))
            continue;
        char x[128], y[128];
        fid_event_text(spec, &a->events[i], x, sizeof x);
        fid_event_text(spec, &b->events[i], y, sizeof y);
        FID_DIFFER(&w, "event %zu: %s vs %s", i + 1, x, y);
    }
    if (a->count != b->count)
        FID_DIFFER(&w, "events: %zu vs %zu", a->count, b->count);
    for (size_t i = 0; i < spec->ncounters; i++) {
        uint64_t x, y;
        memcpy(&x, (const char *)&a->stats + spec->counters[i].offset, sizeof x);
        memcpy(&y, (const char *)&b->stats + spec->counters[i].offset, sizeof y);
        if (x != y)
            FID_DIFFER(&w, "%s: %" PRIu64 " vs %" PRIu64, spec->counters[i].name, x, y);
    }
    if (spec->close && a->live_after != b->live_after)
        FID_DIFFER(&w, "live after a closing collection: %" PRIu64 " vs %" PRIu64, a->live_after,
                   b->live_after);
    if (w.diffs > FID_SHOWN)
        fid_append(&w, "; %u more", w.diffs - FID_SHOWN);
    return w.diffs > 0;
}

/* ---- mutators ------------------------------------------------------------------------------ */

void fid_cycles(mmb_heap *h, uint64_t n, uint32_t payload_bytes) {
    for (uint64_t i = 0; i < n; i++) {
        mmb_obj *a = mmb_alloc(h, 1, payload_bytes), *b = mmb_alloc(h, 1, payload_bytes);
        mmb_store(h, a, 0, b);
        mmb_store(h, b, 0, a);
        mmb_decref(h, a);
        mmb_decref(h, b);
    }
}

void fid_replay(mmb_heap *h, const mmb_trace *t) {
    mmb_obj **objs = calloc(t->objects ? t->objects : 1, sizeof *objs);
    ASSERT_TRUE(objs != NULL);
    ASSERT_EQ(mmb_trace_run(t, h, objs, false), t->count);
    free(objs);
}

void fid_run_workload(mmb_heap *h, const void *workload) {
    const fid_workload *fw = workload;
    const mmb_workload *w = fw->w;
    ASSERT_TRUE(w != NULL);
    mmb_workload_env env = {.seed = fw->seed};
    const char *kv[1];
    size_t nkv = 0;
    for (size_t i = 0; w->params && w->params[i].name; i++)
        if (strcmp(w->params[i].name, MMB_PARAM_THREADS) == 0)
            kv[nkv++] = "threads=1";
    char err[512];
    ASSERT_EQ(mmb_params_parse(w, fw->scale, kv, nkv, &env, err, sizeof err), 0);
    env.heap = h;
    mmb_workload_result r = {0};
    if (w->run(&env, &r, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", w->name, err);
        exit(1);
    }
}

/* The comparer on runs made by hand (no manager needed): what it says, in order, and never more
 * than the buffer holds, down to one byte (the first difference alone is longer than most). */
TEST(fidelity_comparer_says_what_differs_within_its_buffer) {
    static const fid_counter counters[] = {FID_COUNTER(live_objects)};
    static const fid_spec spec = {.kinds = 1u << MMB_EVENT_FULL | 1u << MMB_EVENT_YOUNG,
                                  .close = true,
                                  .generations = true,
                                  .visited = true,
                                  .counters = counters,
                                  .ncounters = 1};
    fid_event ea[] = {{MMB_EVENT_YOUNG, 0, 1, 2}, {MMB_EVENT_FULL, 2, 3, 4}};
    fid_event eb[] = {
        {MMB_EVENT_YOUNG, 0, 1, 2}, {MMB_EVENT_YOUNG, 1, 3, 5}, {MMB_EVENT_FULL, 2, 0, 0}};
    fid_run a = {.spec = &spec, .events = ea, .count = 2, .by_generation = {1, 0, 1}};
    fid_run b = {.spec = &spec, .events = eb, .count = 3, .by_generation = {1, 1, 1}};
    char why[512];
    ASSERT_EQ(fid_compare(&a, &a, why, sizeof why), 0);
    ASSERT_STR_EQ(why, "");
    ASSERT_EQ(fid_compare(&a, &b, why, sizeof why), 1);
    ASSERT_STR_EQ(why, "collections per generation 1/0/1 vs 1/1/1; event 2: full gen 2 freed 3 "
                       "visited 4 vs young gen 1 freed 3 visited 5; events: 2 vs 3");
    a.stats.live_objects = 7;
    a.live_after = 1;
    b.count = 2;
    ea[0].freed = 9;
    ASSERT_EQ(fid_compare(&a, &b, why, sizeof why), 1);
    ASSERT_STR_EQ(why, "collections per generation 1/0/1 vs 1/1/1; event 1: young gen 0 freed 9 "
                       "visited 2 vs young gen 0 freed 1 visited 2; event 2: full gen 2 freed 3 "
                       "visited 4 vs young gen 1 freed 3 visited 5; live_objects: 7 vs 0; live "
                       "after a closing collection: 1 vs 0");
    ea[1].generation = 1;
    ea[1].visited = 5;
    ea[1].kind = MMB_EVENT_YOUNG;
    a.by_generation[1] = 1;
    ASSERT_EQ(fid_compare(&a, &b, why, sizeof why), 1);
    ASSERT_STR_EQ(why, "event 1: young gen 0 freed 9 visited 2 vs young gen 0 freed 1 visited 2; "
                       "live_objects: 7 vs 0; live after a closing collection: 1 vs 0");
    for (size_t bytes = 1; bytes <= sizeof why; bytes++) {
        memset(why, 'x', sizeof why);
        ASSERT_EQ(fid_compare(&a, &b, why, bytes), 1);
        ASSERT_TRUE(strlen(why) < bytes);
        if (bytes < sizeof why)
            ASSERT_TRUE(why[bytes] == 'x');
    }
    /* Past FID_SHOWN differences, the rest are counted. */
    fid_event many_a[8], many_b[8];
    for (int i = 0; i < 8; i++) {
        many_a[i] = (fid_event){MMB_EVENT_FULL, 2, (uint64_t)i, 0};
        many_b[i] = (fid_event){MMB_EVENT_FULL, 2, (uint64_t)i + 1, 0};
    }
    fid_run c = {.spec = &spec, .events = many_a, .count = 8};
    fid_run d = {.spec = &spec, .events = many_b, .count = 8};
    ASSERT_EQ(fid_compare(&c, &d, why, sizeof why), 1);
    ASSERT_STR_CONTAINS(why, "; event 5: full gen 2 freed 4 visited 0 vs full gen 2 freed 5 "
                             "visited 0; 3 more");
    ASSERT_TRUE(strstr(why, "event 6") == NULL);
}
