/* cpython-inc (managers/cpython_inc.c): its pauses are increments, a garbage cycle that reached
 * the old generation waits for the increments to reach it, and collect() takes everything. The
 * counts follow from 3.14.0's work_to_do rule; each test says how. */
#include "mmbench/manager.h"
#include "test.h"

typedef struct kinds {
    uint64_t count[MMB_EVENT_KIND_COUNT];
} kinds;

static void count_kind(void *ctx, const mmb_event *e) {
    ((kinds *)ctx)->count[e->kind]++;
}

static mmb_heap *make2(const char *threshold0, const char *scale, kinds *k) {
    const mmb_manager *m = mmb_manager_find("cpython-inc");
    if (!m)
        return NULL;
    const char *kv[] = {threshold0, scale};
    mmb_heap_config cfg;
    char err[256];
    if (mmb_options_parse(m, kv, 2, &cfg, err, sizeof err) != 0)
        return NULL;
    cfg.on_event = count_kind;
    cfg.event_ctx = k;
    mmb_heap *h = NULL;
    return mmb_heap_create(m, &cfg, &h, err, sizeof err) == 0 ? h : NULL;
}

static mmb_heap *make(const char *threshold0, kinds *k) {
    return make2(threshold0, "increment-scale=100", k);
}

/* A garbage cycle a <-> b that survived one increment (so it is old, in the visited space). */
static void old_garbage_cycle(mmb_heap *h) {
    mmb_obj *a = mmb_alloc(h, 1, 0), *b = mmb_alloc(h, 1, 0);
    mmb_store(h, a, 0, b);
    mmb_store(h, b, 0, a);
    h->manager->collect_young(h);
    mmb_decref(h, a);
    mmb_decref(h, b);
}

/* threshold0=5: the 6th tracked allocation, then every 6th (the count restarts at 0 with the
 * new object not yet counted), is an increment; no increment is a full collection, collect is. */
TEST(cpython_inc_increments_are_increment_events) {
    kinds k = {{0}};
    mmb_heap *h = make("threshold0=5", &k);
    ASSERT_TRUE(h != NULL);
    mmb_obj *held[36];
    for (int i = 0; i < 36; i++)
        held[i] = mmb_alloc(h, 1, 0);
    ASSERT_EQ(k.count[MMB_EVENT_INCREMENT], 6);
    ASSERT_EQ(k.count[MMB_EVENT_FULL], 0);
    ASSERT_EQ(k.count[MMB_EVENT_YOUNG], 0);
    mmb_collect(h);
    ASSERT_EQ(k.count[MMB_EVENT_FULL], 1);
    ASSERT_EQ(k.count[MMB_EVENT_INCREMENT], 6);
    mmb_stats st;
    mmb_stats_get(h, &st);
    ASSERT_EQ(st.collections_young, 6);
    ASSERT_EQ(st.collections_full, 1);
    for (int i = 0; i < 36; i++)
        mmb_decref(h, held[i]);
    h->manager->destroy(h);
}

/* An old garbage cycle is not freed by the increment that made it old: it is then in the visited
 * space, and that increment (its mark finding no roots to mark) flips the spaces. The cycle is
 * freed by the next increment, the first with work_to_do (11 new objects, the heap too small for
 * a heap fraction) above the young generation's 10: with threshold0=10 and held one-slot
 * objects allocated one by one, at the 11th allocation, one increment after the cycle's. */
#define CYCLE_FREED_AT    11
#define INCREMENTS_BEFORE 1
TEST(cpython_inc_old_cycle_waits_for_the_increments) {
    kinds k = {{0}};
    mmb_heap *h = make("threshold0=10", &k);
    ASSERT_TRUE(h != NULL);
    old_garbage_cycle(h);
    mmb_obj *held[100];
    int freed_at = -1;
    uint64_t increments_then = 0;
    for (int i = 0; i < 100; i++) {
        held[i] = mmb_alloc(h, 1, 0);
        mmb_stats st;
        mmb_stats_get(h, &st);
        if (freed_at < 0 && st.objects_freed_by_gc == 2) {
            freed_at = i + 1;
            increments_then = k.count[MMB_EVENT_INCREMENT] - 1; /* less old_garbage_cycle's */
        }
    }
    ASSERT_EQ(freed_at, CYCLE_FREED_AT);
    ASSERT_EQ(increments_then, INCREMENTS_BEFORE);
    mmb_stats st;
    mmb_stats_get(h, &st);
    ASSERT_EQ(st.objects_freed, 2);
    ASSERT_EQ(st.live_objects, 100);
    for (int i = 0; i < 100; i++)
        mmb_decref(h, held[i]);
    h->manager->destroy(h);
}

/* With no automatic increments, old garbage stays until collect(), which frees all of it. */
TEST(cpython_inc_collect_reclaims_everything) {
    kinds k = {{0}};
    mmb_heap *h = make("threshold0=0", &k);
    ASSERT_TRUE(h != NULL);
    for (int i = 0; i < 5; i++)
        old_garbage_cycle(h);
    mmb_stats st;
    mmb_stats_get(h, &st);
    ASSERT_EQ(st.live_objects, 10);
    ASSERT_EQ(st.objects_freed, 0);
    mmb_collect(h);
    mmb_stats_get(h, &st);
    ASSERT_EQ(st.live_objects, 0);
    ASSERT_EQ(st.objects_freed_by_gc, 10);
    ASSERT_EQ(k.count[MMB_EVENT_FULL], 1);
    ASSERT_EQ(k.count[MMB_EVENT_INCREMENT], 5);
    h->manager->destroy(h);
}

/* Every old object is scanned within one cycle of increments: 20 garbage cycles made old one
 * increment apart, each with a held object beside it. With increment-scale=1000 (work_to_do ten
 * times 3.14.0's, more than this whole heap) each collect phase empties the pending space in one
 * increment, so a cycle is freed at most two pauses after it became old (one to flip it into the
 * pending space, one to take it): 36 objects go while the cycles are made, the last two cycles
 * (4 objects) with the first automatic increment after. */
#define ALL_FREED_AFTER 1
TEST(cpython_inc_one_cycle_of_increments_covers_the_old_generation) {
    kinds k = {{0}};
    mmb_heap *h = make2("threshold0=10", "increment-scale=1000", &k);
    ASSERT_TRUE(h != NULL);
    mmb_obj *held[220];
    int n = 0;
    for (int i = 0; i < 20; i++) {
        held[n++] = mmb_alloc(h, 1, 0);
        old_garbage_cycle(h);
    }
    mmb_stats setup;
    mmb_stats_get(h, &setup);
    ASSERT_EQ(setup.objects_freed_by_gc, 36);
    uint64_t start = k.count[MMB_EVENT_INCREMENT];
    uint64_t all_freed_at = 0;
    while (n < 220) {
        held[n++] = mmb_alloc(h, 1, 0);
        mmb_stats st;
        mmb_stats_get(h, &st);
        if (!all_freed_at && st.objects_freed_by_gc == 40)
            all_freed_at = k.count[MMB_EVENT_INCREMENT] - start;
    }
    ASSERT_EQ(all_freed_at, ALL_FREED_AFTER);
    mmb_stats st;
    mmb_stats_get(h, &st);
    ASSERT_EQ(st.objects_freed, 40);
    ASSERT_EQ(st.live_objects, 220);
    for (int i = 0; i < n; i++)
        mmb_decref(h, held[i]);
    h->manager->destroy(h);
}
