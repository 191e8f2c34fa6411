/* The oracle on managers and cases the CLI tests do not reach: frozen objects, and a plain
 * refcounter that frees children before their parent (correct) or leaves a parent pointing at a
 * freed child (caught). */
#include "manager.h"
#include "oracle.h"
#include "test.h"

static mmb_heap *open_verified(const mmb_manager *m) {
    mmb_heap_config cfg;
    mmb_config_defaults(m, &cfg);
    mmb_oracle_options opt = {.fill_payload = true};
    mmb_heap *h = NULL;
    char err[256];
    ASSERT_EQ(mmb_oracle_create(m, &cfg, &opt, &h, err, sizeof err), 0);
    return h;
}

static void close_ok(mmb_heap *h) {
    char msg[600];
    int status = mmb_oracle_close(h, msg, sizeof msg);
    if (status)
        fprintf(stderr, "%s\n", msg);
    ASSERT_EQ(status, 0);
}

/* Garbage frozen by cpython keeps what it points at: not a leak. */
TEST(oracle_frozen_garbage_keeps_its_referents) {
    mmb_heap *h = open_verified(mmb_manager_find("cpython"));
    mmb_obj *a = mmb_alloc(h, 2, 0);
    mmb_store(h, a, 0, a);
    h->manager->freeze(h);
    mmb_obj *b = mmb_alloc(h, 0, 8);
    mmb_store(h, a, 1, b);
    mmb_decref(h, b);
    mmb_decref(h, a);
    mmb_collect(h);
    if (mmb_oracle_failed(h))
        fprintf(stderr, "%s\n", mmb_oracle_failure(h));
    ASSERT_TRUE(!mmb_oracle_failed(h));
    close_ok(h);
}

/* A minimal refcounter whose release frees children first, CPython-deallocator style
 * (recursive: test-only, shallow graphs). With `leak_parent` it forgets to free the parent. */
typedef struct cf_heap {
    mmb_heap base;
    mmb_heap_config cfg;
    mmb_stats stats;
    int leak_parent;
} cf_heap;

typedef struct cf_header {
    uint64_t refcount;
} cf_header;

static mmb_manager childfirst;

static size_t cf_bytes(mmb_obj *o) {
    return sizeof(cf_header) + mmb_obj_bytes(o->nslots, o->payload_bytes);
}

static void cf_release(cf_heap *h, mmb_obj *o, int depth) {
    for (uint32_t i = 0; i < o->nslots; i++) {
        mmb_obj *c = o->slots[i];
        if (c && --((cf_header *)c - 1)->refcount == 0)
            cf_release(h, c, depth + 1);
    }
    if (h->leak_parent && depth == 0)
        return;
    h->stats.live_objects--;
    h->cfg.allocator.free(h->cfg.allocator.ctx, (cf_header *)o - 1, cf_bytes(o));
}

static mmb_obj *cf_alloc(mmb_heap *heap, uint32_t nslots, uint32_t payload) {
    cf_heap *h = (cf_heap *)heap;
    cf_header *r =
        h->cfg.allocator.alloc(h->cfg.allocator.ctx, sizeof *r + mmb_obj_bytes(nslots, payload));
    r->refcount = 1;
    mmb_obj *o = (mmb_obj *)(r + 1);
    o->nslots = nslots;
    o->payload_bytes = payload;
    memset(o->slots, 0, nslots * sizeof(mmb_obj *));
    h->stats.live_objects++;
    return o;
}

static void cf_incref(mmb_heap *heap, mmb_obj *o) {
    (void)heap;
    ((cf_header *)o - 1)->refcount++;
}

static void cf_decref(mmb_heap *heap, mmb_obj *o) {
    if (--((cf_header *)o - 1)->refcount == 0)
        cf_release((cf_heap *)heap, o, 0);
}

static void cf_store(mmb_heap *heap, mmb_obj *o, uint32_t slot, mmb_obj *v) {
    if (v)
        cf_incref(heap, v);
    mmb_obj *old = o->slots[slot];
    o->slots[slot] = v;
    if (old)
        cf_decref(heap, old);
}

static void cf_collect(mmb_heap *heap) {
    (void)heap;
}

static void cf_stats(mmb_heap *heap, mmb_stats *out) {
    *out = ((cf_heap *)heap)->stats;
}

static void cf_destroy(mmb_heap *heap) {
    cf_heap *h = (cf_heap *)heap;
    h->cfg.allocator.free(h->cfg.allocator.ctx, h, sizeof *h);
}

static int leak_parent_flag;

static int cf_create(const mmb_heap_config *cfg, mmb_heap **out, char *err, size_t n) {
    (void)err;
    (void)n;
    cf_heap *h = cfg->allocator.alloc(cfg->allocator.ctx, sizeof *h);
    memset(h, 0, sizeof *h);
    h->base.manager = &childfirst;
    h->cfg = *cfg;
    h->leak_parent = leak_parent_flag;
    *out = &h->base;
    return 0;
}

static mmb_manager childfirst = {
    .name = "childfirst",
    .summary = "test-only",
    .caps = MMB_CAP_REFCOUNT,
    .create = cf_create,
    .destroy = cf_destroy,
    .alloc = cf_alloc,
    .incref = cf_incref,
    .decref = cf_decref,
    .store = cf_store,
    .collect = cf_collect,
    .stats = cf_stats,
};

static void parent_and_child(mmb_heap *h) {
    mmb_obj *a = mmb_alloc(h, 1, 8), *b = mmb_alloc(h, 0, 8);
    mmb_store(h, a, 0, b);
    mmb_decref(h, b);
    mmb_decref(h, a); /* frees b, then (unless leaking) a */
}

TEST(oracle_accepts_child_first_frees) {
    leak_parent_flag = 0;
    mmb_heap *h = open_verified(&childfirst);
    parent_and_child(h);
    if (mmb_oracle_failed(h))
        fprintf(stderr, "%s\n", mmb_oracle_failure(h));
    ASSERT_TRUE(!mmb_oracle_failed(h));
    close_ok(h);
}

TEST(oracle_catches_parent_left_pointing_at_freed_child) {
    leak_parent_flag = 1;
    mmb_heap *h = open_verified(&childfirst);
    parent_and_child(h);
    ASSERT_TRUE(mmb_oracle_failed(h));
    ASSERT_STR_CONTAINS(mmb_oracle_failure(h), "check=safety object=#2 op=5: freed by a manager "
                                               "without cycle collection while object #1");
    char msg[600];
    ASSERT_EQ(mmb_oracle_close(h, msg, sizeof msg), -1);
}
