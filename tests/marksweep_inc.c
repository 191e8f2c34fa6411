/* marksweep-inc: steps reported as increments, the deletion barrier keeping an edge moved from an
 * unscanned into a scanned object mid-cycle (and a copy without it caught by the oracle), garbage
 * of a cycle reclaimed by a later one, and collect reclaiming everything. */
#include "mmbench/manager.h"
#include "oracle.h"
#include "test.h"

typedef struct events {
    uint64_t count[MMB_EVENT_KIND_COUNT];
    uint64_t visited[MMB_EVENT_KIND_COUNT], freed[MMB_EVENT_KIND_COUNT];
    bool bad; /* an event with freed > visited */
} events;

static void on_event(void *ctx, const mmb_event *e) {
    events *ev = ctx;
    ev->count[e->kind]++;
    ev->visited[e->kind] += e->objects_visited;
    ev->freed[e->kind] += e->objects_freed;
    if (e->objects_freed > e->objects_visited)
        ev->bad = true;
}

static void no_barrier_store(mmb_heap *h, mmb_obj *o, uint32_t slot, mmb_obj *value) {
    (void)h;
    o->slots[slot] = value;
}

/* Small, slow steps, cycles back to back: one unit of work per 160 bytes allocated, so the
 * marker stays near the top of the chain below. */
static mmb_heap *small_steps(const mmb_manager *m, events *ev) {
    const char *kv[] = {"min-bytes=0", "step-objects=1", "stepmul=10", "pause=101"};
    mmb_heap_config cfg;
    char err[256];
    if (mmb_options_parse(mmb_manager_find("marksweep-inc"), kv, 4, &cfg, err, sizeof err))
        return NULL;
    cfg.on_event = on_event;
    cfg.event_ctx = ev;
    mmb_oracle_options opt = {.fill_payload = true};
    mmb_heap *h = NULL;
    if (mmb_oracle_create(m, &cfg, &opt, &h, err, sizeof err))
        return NULL;
    return h;
}

/* R -> n1 -> ... -> n3000 (slot 0), then a collect, so a new cycle starts from the top; then 90
 * times the node at depth 31 is stored into R (overwriting R's edge to n1) and its parent's edge to
 * it cut, with garbage allocated between: steps run between the operations, so the move happens
 * mid-cycle with R marked and the deep part mostly not. Returns whether anything went wrong (the
 * oracle or the exact live counts). */
static bool move_edges(const mmb_manager *m, events *ev) {
    mmb_heap *h = small_steps(m, ev);
    if (!h)
        return true;
    mmb_obj *r = mmb_alloc(h, 1, 0), *prev = r;
    for (int i = 0; i < 3000; i++) {
        mmb_obj *n = mmb_alloc(h, 1, 8);
        mmb_store(h, prev, 0, n);
        if (prev != r)
            mmb_decref(h, prev);
        prev = n;
    }
    mmb_decref(h, prev);
    mmb_collect(h); /* every object white; the next cycle starts within a few allocations */
    bool failed = false;
    for (int round = 0; round < 90 && !failed; round++) {
        mmb_obj *p = mmb_load(h, r, 0);
        mmb_incref(h, p);
        for (int d = 1; d < 30; d++) {
            mmb_obj *next = mmb_load(h, p, 0);
            mmb_incref(h, next);
            mmb_decref(h, p);
            mmb_decref(h, mmb_alloc(h, 0, 32)); /* garbage: steps in between */
            p = next;
        }
        mmb_obj *deep = mmb_load(h, p, 0);
        mmb_incref(h, deep);
        mmb_store(h, r, 0, deep); /* into the scanned object */
        mmb_store(h, p, 0, NULL); /* cut the only other path */
        mmb_decref(h, p);
        mmb_decref(h, deep);
        for (int i = 0; i < 20; i++)
            mmb_decref(h, mmb_alloc(h, 0, 32));
        failed = mmb_oracle_failed(h);
    }
    char msg[600];
    if (!failed) {
        mmb_collect(h);
        mmb_stats st;
        mmb_stats_get(h, &st);
        failed = st.live_objects != 1 + 3000 - 30 * 90; /* R and the chain below the last cut */
        mmb_decref(h, r);
        mmb_collect(h);
        mmb_stats_get(h, &st);
        failed = failed || st.live_objects != 0;
    }
    int status = mmb_oracle_close(h, msg, sizeof msg);
    return failed || status != 0;
}

TEST(marksweep_inc_moved_edge_survives_and_steps_are_increments) {
    const mmb_manager *m = mmb_manager_find("marksweep-inc");
    ASSERT_TRUE(m != NULL);
    ASSERT_TRUE(m->caps & MMB_CAP_INCREMENTAL);
    events ev = {0};
    ASSERT_TRUE(!move_edges(m, &ev));
    ASSERT_TRUE(!ev.bad);
    ASSERT_TRUE(ev.count[MMB_EVENT_INCREMENT] > 1000); /* every few allocations a step */
    ASSERT_EQ(ev.count[MMB_EVENT_FULL], 3);            /* only the three collects */
    ASSERT_EQ(ev.count[MMB_EVENT_YOUNG], 0);
    ASSERT_EQ(ev.count[MMB_EVENT_CASCADE], 0);
}

TEST(marksweep_inc_without_its_barrier_is_caught) {
    mmb_manager broken = *mmb_manager_find("marksweep-inc");
    broken.name = "test-nobarrier";
    broken.store = no_barrier_store;
    events ev = {0};
    ASSERT_TRUE(move_edges(&broken, &ev));
}

/* Exact counts with no automatic cycle (min-bytes high): collect frees exactly the garbage,
 * cycles included, reports one FULL event whose survivors are the live objects. */
TEST(marksweep_inc_collect_reclaims_everything) {
    const mmb_manager *m = mmb_manager_find("marksweep-inc");
    const char *kv[] = {"min-bytes=1G"};
    mmb_heap_config cfg;
    char err[256];
    ASSERT_EQ(mmb_options_parse(m, kv, 1, &cfg, err, sizeof err), 0);
    events ev = {0};
    cfg.on_event = on_event;
    cfg.event_ctx = &ev;
    mmb_heap *h = NULL;
    ASSERT_EQ(mmb_heap_create(m, &cfg, &h, err, sizeof err), 0);
    mmb_obj *keep = mmb_alloc(h, 1, 0);
    for (int i = 0; i < 100; i++) { /* 100 garbage 2-cycles and one kept chain of 100 */
        mmb_obj *a = mmb_alloc(h, 1, 0), *b = mmb_alloc(h, 1, 0);
        mmb_store(h, a, 0, b);
        mmb_store(h, b, 0, a);
        mmb_decref(h, a);
        mmb_decref(h, b);
        mmb_obj *c = mmb_alloc(h, 1, 0);
        mmb_store(h, c, 0, mmb_load(h, keep, 0));
        mmb_store(h, keep, 0, c);
        mmb_decref(h, c);
    }
    ASSERT_EQ(ev.count[MMB_EVENT_INCREMENT], 0);
    mmb_collect(h);
    mmb_stats st;
    mmb_stats_get(h, &st);
    ASSERT_EQ(ev.count[MMB_EVENT_FULL], 1);
    ASSERT_EQ(ev.freed[MMB_EVENT_FULL], 200);
    ASSERT_EQ(ev.visited[MMB_EVENT_FULL], 301);
    ASSERT_EQ(st.live_objects, 101);
    ASSERT_EQ(st.objects_traversed, 101);
    ASSERT_EQ(st.collections_full, 1);
    mmb_decref(h, keep);
    mmb_collect(h);
    mmb_stats_get(h, &st);
    ASSERT_EQ(st.live_objects, 0);
    ASSERT_EQ(ev.freed[MMB_EVENT_FULL], 301);
    m->destroy(h);
}

/* Garbage made while a cycle runs (born black, or surviving the sweep) is reclaimed by a later
 * cycle without any collect: the heap stays bounded, every free is an increment's. */
TEST(marksweep_inc_garbage_of_a_cycle_reclaimed_by_the_next) {
    const mmb_manager *m = mmb_manager_find("marksweep-inc");
    const char *kv[] = {"min-bytes=0", "step-objects=4", "stepmul=100", "pause=150"};
    mmb_heap_config cfg;
    char err[256];
    ASSERT_EQ(mmb_options_parse(m, kv, 4, &cfg, err, sizeof err), 0);
    events ev = {0};
    cfg.on_event = on_event;
    cfg.event_ctx = &ev;
    mmb_heap *h = NULL;
    ASSERT_EQ(mmb_heap_create(m, &cfg, &h, err, sizeof err), 0);
    mmb_obj *keep = mmb_alloc(h, 100, 0);
    for (uint32_t i = 0; i < 100; i++) {
        mmb_obj *c = mmb_alloc(h, 1, 0);
        mmb_store(h, keep, i, c);
        mmb_decref(h, c);
    }
    for (int i = 0; i < 100000; i++)
        mmb_decref(h, mmb_alloc(h, 1, 16));
    mmb_stats st;
    mmb_stats_get(h, &st);
    ASSERT_EQ(ev.count[MMB_EVENT_FULL], 0);
    ASSERT_TRUE(st.objects_freed > 99000);
    ASSERT_EQ(st.objects_freed, ev.freed[MMB_EVENT_INCREMENT]);
    ASSERT_TRUE(st.live_objects < 1000);
    mmb_collect(h);
    mmb_stats_get(h, &st);
    ASSERT_EQ(st.live_objects, 101);
    m->destroy(h);
}
