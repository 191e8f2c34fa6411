/* binary-trees: the GCBench / benchmarks-game shape. A stretch tree of depth d+1, a long-lived
 * tree of depth d kept throughout, and for depths 4, 6, ..., d, 2^(d - depth + 4) short-lived
 * trees, each built bottom-up, counted by an iterative traversal and dropped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload_internal.h"

enum { P_DEPTH };

static const mmb_param_spec params[] = {
    {"depth", true, {8, 14, 18, 21}, 4, 30, "depth of the long-lived tree (a leaf has depth 0)"},
    {NULL, false, {0}, 0, 0, NULL},
};

enum { MIN_DEPTH = 4 };

/* Every node of tree t carries tag(t) with, in the low byte, its height (0 for a leaf) and
 * RIGHT for a right child: a node read back in the wrong tree, at the wrong height or on the wrong
 * side fails the check. */
static uint64_t tree_tag(uint64_t seed, uint64_t tree) {
    mmb_rng r = {seed + tree * 0x9E3779B97F4A7C15ull}; /* element `tree` of seed's stream */
    return mmb_rng_next(&r) & ~(uint64_t)0xFF;
}

enum { RIGHT = 0x80 };

/* Scratch shared by build and check: a stack of depth + 2 entries is enough for both. */
typedef struct scratch {
    mmb_obj **objs;
    uint32_t *heights;
} scratch;

/* Builds a perfect tree of height `depth` bottom-up, in post-order, with no recursion: push a
 * leaf, then while the two top entries have equal heights, join them under a new parent. The
 * heights on the stack strictly decrease from the bottom, so it never holds more than depth + 1
 * entries, and a new node is a right child exactly when the entry below it has its height.
 * Every entry is a mutator reference. Returns the root (one mutator reference), or NULL
 * when an allocation fails, having dropped everything it built. */
static mmb_obj *build_tree(mmb_heap *h, uint32_t depth, uint64_t tag, scratch *s,
                           uint64_t *allocated) {
    size_t sp = 0;
    for (;;) {
        mmb_obj *leaf = mmb_alloc(h, 2, 8);
        if (!leaf)
            goto fail;
        uint64_t v = tag | (sp > 0 && s->heights[sp - 1] == 0 ? RIGHT : 0);
        memcpy(mmb_payload(leaf), &v, sizeof v);
        (*allocated)++;
        s->objs[sp] = leaf;
        s->heights[sp++] = 0;
        while (sp >= 2 && s->heights[sp - 1] == s->heights[sp - 2]) {
            uint32_t height = s->heights[sp - 1] + 1;
            mmb_obj *node = mmb_alloc(h, 2, 8);
            if (!node)
                goto fail;
            mmb_store(h, node, 0, s->objs[sp - 2]);
            mmb_store(h, node, 1, s->objs[sp - 1]);
            mmb_decref(h, s->objs[sp - 2]);
            mmb_decref(h, s->objs[sp - 1]);
            sp -= 2;
            v = tag | height | (sp > 0 && s->heights[sp - 1] == height ? RIGHT : 0);
            memcpy(mmb_payload(node), &v, sizeof v);
            (*allocated)++;
            s->objs[sp] = node;
            s->heights[sp++] = height;
        }
        if (s->heights[sp - 1] == depth)
            return s->objs[0]; /* sp == 1: heights strictly decrease from the bottom */
    }
fail:
    while (sp > 0)
        mmb_decref(h, s->objs[--sp]);
    return NULL;
}

/* Counts the nodes of `root` depth-first with an explicit stack, checking every node's tag,
 * height and side and that exactly the non-leaves have two children. Returns the count, or 0 with a
 * reason in err. */
static uint64_t check_tree(mmb_heap *h, mmb_obj *root, uint32_t depth, uint64_t tag, scratch *s,
                           char *err, size_t n) {
    uint64_t count = 0;
    size_t sp = 0;
    s->objs[sp] = root;
    s->heights[sp++] = depth; /* the low byte each entry must carry: its height and side */
    while (sp > 0) {
        mmb_obj *o = s->objs[--sp];
        uint32_t low = s->heights[sp], height = low & ~(uint32_t)RIGHT;
        uint64_t got = mmbw_read_u64(o);
        if (got != (tag | low)) {
            snprintf(err, n,
                     "a %s node at height %u of a depth-%u tree has payload %016llx, not %016llx",
                     low & RIGHT ? "right" : "left", height, depth, (unsigned long long)got,
                     (unsigned long long)(tag | low));
            return 0;
        }
        count++;
        for (uint32_t k = 0; k < 2; k++) {
            mmb_obj *c = mmb_load(h, o, k);
            if ((c != NULL) != (height > 0)) {
                snprintf(err, n, "a node at height %u of a depth-%u tree has %s slot %u", height,
                         depth, c ? "a non-null" : "a null", k);
                return 0;
            }
            if (c) {
                s->objs[sp] = c;
                s->heights[sp++] = (height - 1) | (k ? RIGHT : 0);
            }
        }
    }
    uint64_t expected = (2ull << depth) - 1;
    if (count != expected) {
        snprintf(err, n, "a depth-%u tree has %llu nodes, not %llu", depth,
                 (unsigned long long)count, (unsigned long long)expected);
        return 0;
    }
    return count;
}

static uint64_t mix(uint64_t checksum, uint64_t v) {
    return (checksum ^ v) * 0x100000001B3ull;
}

/* Builds, checks and drops one tree; folds its count into *checksum. */
static int one_tree(mmb_heap *h, uint32_t depth, uint64_t tag, scratch *s, uint64_t *allocated,
                    uint64_t *checksum, char *err, size_t n) {
    mmb_obj *t = build_tree(h, depth, tag, s, allocated);
    if (!t) {
        snprintf(err, n, "allocation failed building a depth-%u tree", depth);
        return -1;
    }
    uint64_t count = check_tree(h, t, depth, tag, s, err, n);
    mmb_decref(h, t);
    if (count == 0)
        return -1;
    *checksum = mix(*checksum, count + tag);
    return 0;
}

static int run(const mmb_workload_env *env, mmb_workload_result *out, char *err, size_t n) {
    mmb_heap *h = env->heap;
    uint32_t depth = (uint32_t)env->params[P_DEPTH];
    scratch s = {malloc((depth + 3) * sizeof *s.objs), malloc((depth + 3) * sizeof *s.heights)};
    if (!s.objs || !s.heights) {
        free(s.objs);
        free(s.heights);
        snprintf(err, n, "out of memory for a stack of %u", depth + 3);
        return -1;
    }
    uint64_t allocated = 0, checksum = 0, tree = 0;
    mmb_workload_phase(env, MMB_RUN_BUILD); /* the stretch tree and the long-lived one */
    int status =
        one_tree(h, depth + 1, tree_tag(env->seed, tree++), &s, &allocated, &checksum, err, n);
    uint64_t long_tag = tree_tag(env->seed, tree++);
    mmb_obj *long_lived = NULL;
    if (status == 0) {
        long_lived = build_tree(h, depth, long_tag, &s, &allocated);
        if (!long_lived) {
            snprintf(err, n, "allocation failed building the long-lived tree of depth %u", depth);
            status = -1;
        }
    }
    mmb_workload_phase(env, MMB_RUN_STEADY); /* the short-lived trees */
    for (uint32_t d = MIN_DEPTH; d <= depth && status == 0; d += 2) {
        uint64_t iterations = 1ull << (depth - d + MIN_DEPTH);
        for (uint64_t i = 0; i < iterations && status == 0; i++)
            status = one_tree(h, d, tree_tag(env->seed, tree++), &s, &allocated, &checksum, err, n);
    }
    mmb_workload_phase(env, MMB_RUN_TEARDOWN);
    if (long_lived) {
        if (status == 0) {
            uint64_t count = check_tree(h, long_lived, depth, long_tag, &s, err, n);
            if (count == 0)
                status = -1;
            checksum = mix(checksum, count + long_tag);
        }
        mmb_decref(h, long_lived);
    }
    free(s.objs);
    free(s.heights);
    return mmbw_result(out, allocated, "objects", checksum, status);
}

const mmb_workload mmb_workload_binary_trees = {
    .name = "binary-trees",
    .family = "many-small",
    .summary = "GCBench / benchmarks-game binary trees: a long-lived tree and many short-lived "
               "ones, built bottom-up and counted",
    .params = params,
    .run = run,
};
