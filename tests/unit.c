/* Unit tests: the map, option parsing, and each manager (one CTest each) on 10^7-long chains
 * (freed by cascade and by collection: nothing may recurse on the C stack). */
#include "mmbench/manager.h"
#include "map.h"
#include "test.h"

#define CHAIN_LENGTH 10000000u

/* Every manager on its default options: building a chain by appending (holding the head) must
 * stay linear for each of them, and freeing it must not recurse. */
static mmb_heap *open_heap(const mmb_manager *m) {
    mmb_heap_config cfg;
    char err[256];
    mmb_config_defaults(m, &cfg);
    mmb_heap *h = NULL;
    ASSERT_EQ(mmb_heap_create(m, &cfg, &h, err, sizeof err), 0);
    return h;
}

/* Builds head -> ... -> tail, each object holding the next in slot 0; the mutator holds only the
 * head and the tail. */
static mmb_obj *build_chain(mmb_heap *h, uint32_t length, mmb_obj **tail) {
    mmb_obj *head = mmb_alloc(h, 2, 0), *prev = head;
    ASSERT_TRUE(head != NULL);
    for (uint32_t i = 1; i < length; i++) {
        mmb_obj *n = mmb_alloc(h, 2, 0);
        ASSERT_TRUE(n != NULL);
        mmb_store(h, prev, 0, n);
        if (prev != head)
            mmb_decref(h, prev);
        prev = n;
    }
    *tail = prev; /* still held by the mutator */
    return head;
}

static void chain_by_cascade(const mmb_manager *m) {
    mmb_heap *h = open_heap(m);
    mmb_obj *tail, *head = build_chain(h, CHAIN_LENGTH, &tail);
    mmb_decref(h, tail);
    mmb_decref(h, head);
    mmb_stats s;
    mmb_stats_get(h, &s);
    ASSERT_EQ(s.objects_allocated, CHAIN_LENGTH);
    if (m->caps & MMB_CAP_REFCOUNT) {
        ASSERT_EQ(s.live_objects, 0); /* gone at the drop, collection or not */
    } else {
        mmb_collect(h);
        mmb_stats_get(h, &s);
        ASSERT_EQ(s.live_objects, 0);
    }
    m->destroy(h);
}

static void chain_by_collection(const mmb_manager *m) {
    if (!(m->caps & MMB_CAP_CYCLES))
        SKIP("%s does not reclaim cycles", m->name);
    mmb_heap *h = open_heap(m);
    mmb_obj *tail, *head = build_chain(h, CHAIN_LENGTH, &tail);
    mmb_store(h, tail, 1, head); /* a back-edge: one cycle 10^7 long */
    mmb_decref(h, tail);
    mmb_decref(h, head);
    mmb_stats s;
    mmb_stats_get(h, &s);
    ASSERT_TRUE(s.live_objects > 0 || !(m->caps & MMB_CAP_REFCOUNT) || s.collections_full > 0);
    mmb_collect(h);
    mmb_stats_get(h, &s);
    ASSERT_EQ(s.live_objects, 0);
    ASSERT_EQ(s.objects_freed, CHAIN_LENGTH);
    m->destroy(h);
}

TEST_EACH(chain_1e7_cascade, "unit.chain_1e7_cascade.{manager}", 600, "unit") {
    chain_by_cascade(mmb_test_manager(mmb_test_arg));
}

TEST_EACH(chain_1e7_collection, "unit.chain_1e7_collection.{manager}", 600, "unit") {
    chain_by_collection(mmb_test_manager(mmb_test_arg));
}

/* Each manager: a held object survives collections with its slots; an unheld ring goes at the
 * next full collection exactly when the manager reclaims cycles. */
TEST_EACH(managers_basic_semantics, "unit.managers_basic_semantics.{manager}", 600, "unit") {
    const mmb_manager *m = mmb_test_manager(mmb_test_arg);
    mmb_heap_config cfg;
    mmb_config_defaults(m, &cfg);
    mmb_heap *h;
    char err[256];
    ASSERT_EQ(mmb_heap_create(m, &cfg, &h, err, sizeof err), 0);
    mmb_obj *keep = mmb_alloc(h, 1, 4), *child = mmb_alloc(h, 0, 0);
    mmb_store(h, keep, 0, child);
    mmb_decref(h, child);
    mmb_obj *a = mmb_alloc(h, 1, 0), *b = mmb_alloc(h, 1, 0);
    mmb_store(h, a, 0, b);
    mmb_store(h, b, 0, a);
    mmb_decref(h, a);
    mmb_decref(h, b);
    mmb_collect(h);
    mmb_stats s;
    mmb_stats_get(h, &s);
    ASSERT_EQ(s.live_objects, (m->caps & MMB_CAP_CYCLES) ? 2 : 4);
    ASSERT_TRUE(mmb_load(h, keep, 0) == child);
    ASSERT_EQ(keep->nslots, 1);
    mmb_decref(h, keep);
    mmb_collect(h);
    mmb_stats_get(h, &s);
    ASSERT_EQ(s.live_objects, (m->caps & MMB_CAP_CYCLES) ? 0 : 2);
    m->destroy(h);
}

TEST(options_parse_and_reject) {
    const mmb_manager *m = mmb_manager_find("cpython");
    ASSERT_TRUE(m != NULL);
    mmb_heap_config cfg;
    char err[512];
    const char *good[] = {"threshold0=100", "cascade-threshold=5"};
    ASSERT_EQ(mmb_options_parse(m, good, 2, &cfg, err, sizeof err), 0);
    ASSERT_EQ(cfg.options[0], 100);
    ASSERT_EQ(cfg.cascade_threshold, 5);
    const char *unknown[] = {"thresold0=1"};
    ASSERT_EQ(mmb_options_parse(m, unknown, 1, &cfg, err, sizeof err), -1);
    ASSERT_STR_CONTAINS(err, "no option 'thresold0'");
    ASSERT_STR_CONTAINS(err, "threshold0");
    const char *bad[] = {"threshold0=abc"};
    ASSERT_EQ(mmb_options_parse(m, bad, 1, &cfg, err, sizeof err), -1);
    ASSERT_STR_CONTAINS(err, "bad value 'abc'");
    const char *noeq[] = {"threshold0"};
    ASSERT_EQ(mmb_options_parse(m, noeq, 1, &cfg, err, sizeof err), -1);
    ASSERT_STR_CONTAINS(err, "KEY=VALUE");
    const mmb_manager *ms = mmb_manager_find("marksweep");
    ASSERT_TRUE(ms != NULL);
    const char *bytes[] = {"min-bytes=2M"};
    ASSERT_EQ(mmb_options_parse(ms, bytes, 1, &cfg, err, sizeof err), 0);
    int found = 0;
    for (int i = 0; ms->options[i].name; i++)
        if (strcmp(ms->options[i].name, "min-bytes") == 0) {
            ASSERT_EQ(cfg.options[i], 2 << 20);
            found = 1;
        }
    ASSERT_TRUE(found);
}

TEST(map_put_get_remove) {
    mmb_map m;
    mmb_map_init(&m);
    const uint64_t n = 100000;
    for (uint64_t k = 1; k <= n; k++)
        mmb_map_put(&m, k * 7919, k);
    ASSERT_EQ(m.count, n);
    for (uint64_t k = 1; k <= n; k += 2)
        ASSERT_TRUE(mmb_map_remove(&m, k * 7919));
    ASSERT_TRUE(!mmb_map_remove(&m, 3));
    for (uint64_t k = 1; k <= n; k++) {
        uint64_t v = 0;
        bool present = mmb_map_get(&m, k * 7919, &v);
        ASSERT_EQ(present, k % 2 == 0);
        if (present)
            ASSERT_EQ(v, k);
    }
    ASSERT_EQ(m.count, n / 2);
    mmb_map_free(&m);
}
