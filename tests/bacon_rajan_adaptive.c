/* bacon-rajan's adaptive mode (PHP's policy) where a collection starts inside a refcount cascade
 * and leaves the candidate that set it off with no reference: the cascade under way must free it,
 * under the oracle, and count it as freed by refcount. */
#include "mmbench/manager.h"
#include "oracle.h"
#include "test.h"

/* Under the oracle, buffer=2, adaptive=on:
 *   A <-> B, a garbage cycle once the mutator drops both, with A -> s; R -> s, held.
 *   Dropping R starts a cascade: R is freed, s survives it (A still points at it) and becomes
 *   a candidate while the buffer holds A and B: full, so PHP's policy collects mid-cascade.
 *   The collection frees A and B, which leaves s (pinned by the collector's caller) with no
 *   reference but the pin: s must go with the cascade, not before it ends nor never. */
TEST(bacon_rajan_adaptive_candidate_freed_by_the_collection_it_started) {
    const mmb_manager *m = mmb_manager_find("bacon-rajan");
    ASSERT_TRUE(m != NULL);
    const char *kv[] = {"buffer=2", "adaptive=on"};
    mmb_heap_config cfg;
    char err[256];
    ASSERT_EQ(mmb_options_parse(m, kv, 2, &cfg, err, sizeof err), 0);
    mmb_oracle_options opt = {.fill_payload = true};
    mmb_heap *h = NULL;
    ASSERT_EQ(mmb_oracle_create(m, &cfg, &opt, &h, err, sizeof err), 0);

    mmb_obj *a = mmb_alloc(h, 2, 0), *b = mmb_alloc(h, 1, 0), *s = mmb_alloc(h, 1, 0);
    mmb_obj *r = mmb_alloc(h, 1, 0);
    mmb_store(h, a, 0, b);
    mmb_store(h, b, 0, a);
    mmb_store(h, a, 1, s);
    mmb_store(h, r, 0, s);
    mmb_decref(h, s); /* s: a candidate, then cleared by the collection below (it is live) */
    mmb_collect(h);
    mmb_stats st;
    mmb_stats_get(h, &st);
    ASSERT_EQ(st.collections_full, 1);
    ASSERT_EQ(st.objects_freed, 0);
    mmb_decref(h, a); /* A and B: candidates, the buffer at its threshold of 2 */
    mmb_decref(h, b);
    mmb_stats_get(h, &st);
    ASSERT_EQ(st.collections_full, 1);
    mmb_decref(h, r);
    ASSERT_TRUE(!mmb_oracle_failed(h));
    mmb_stats_get(h, &st);
    ASSERT_EQ(st.collections_full, 2);
    ASSERT_EQ(st.objects_freed_by_gc, 2); /* A and B */
    ASSERT_EQ(st.objects_freed_by_rc, 2); /* R, and s with R's cascade */
    ASSERT_EQ(st.live_objects, 0);
    char msg[600];
    int status = mmb_oracle_close(h, msg, sizeof msg);
    if (status)
        fprintf(stderr, "%s\n", msg);
    ASSERT_EQ(status, 0);
}
