/* deep-chain: a `length`-long singly linked list, built by appending or by prepending, freed by
 * one cascade; then built again with a back-edge from tail to head, so that only a cycle collector
 * can free it. Exercises iterative traversal in every manager: no C stack survives 10^7 frames.
 * Bacon-Rajan's O(n^2 / buffer) prepend case is documented in managers/README.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

enum { P_LENGTH, P_BUILD };

static const mmb_param_spec params[] = {
    {"length", true, {1e4, 1e6, 1e7, 1e7}, 1, 1e10, "nodes in the list"},
    {"build",
     true,
     {0, 0, 0, 0},
     0,
     1,
     "0: append while holding head and tail; 1: prepend, dropping the old head each time"},
    {NULL, false, {0}, 0, 0, NULL},
};

/* Node `serial`'s payload: element `serial` of the seed's splitmix stream, so a node read back
 * out of place fails the check. */
static uint64_t tag(uint64_t seed, uint64_t serial) {
    mmb_rng r = {seed + serial * 0x9E3779B97F4A7C15ull};
    return mmb_rng_next(&r);
}

static mmb_obj *new_node(mmb_heap *h, uint64_t seed, uint64_t serial) {
    mmb_obj *o = mmb_alloc(h, 1, 8);
    if (o) {
        uint64_t v = tag(seed, serial);
        memcpy(mmb_payload(o), &v, sizeof v);
    }
    return o;
}

/* Builds nodes first .. first + length - 1, in that order; with `cyclic`, the tail's slot then
 * points back at the head. Appending holds the head and the tail (so every store is into an
 * object the mutator holds) and walks from the head in serial order; prepending holds the new
 * head and the first node (the tail) and walks in reverse. Returns the head (one mutator
 * reference), or NULL when an allocation fails, having dropped what it built. */
static mmb_obj *build(mmb_heap *h, uint64_t seed, uint64_t first, uint64_t length, bool prepend,
                      bool cyclic) {
    mmb_obj *head = new_node(h, seed, first);
    if (!head)
        return NULL;
    mmb_obj *tail = head;
    mmb_incref(h, tail);
    for (uint64_t i = 1; i < length; i++) {
        mmb_obj *o = new_node(h, seed, first + i);
        if (!o) {
            mmb_decref(h, tail);
            mmb_decref(h, head);
            return NULL;
        }
        if (prepend) {
            mmb_store(h, o, 0, head);
            mmb_decref(h, head);
            head = o;
        } else {
            mmb_store(h, tail, 0, o);
            mmb_decref(h, tail);
            tail = o;
        }
    }
    if (cyclic)
        mmb_store(h, tail, 0, head);
    mmb_decref(h, tail);
    return head;
}

/* Walks the list from the head iteratively, checking every node's tag and the length, and that
 * the tail's slot is the head (cyclic) or null. Returns 0, or -1 with a reason in err. */
static int check(mmb_heap *h, mmb_obj *head, uint64_t seed, uint64_t first, uint64_t length,
                 bool prepend, bool cyclic, uint64_t *checksum, char *err, size_t n) {
    const char *what = cyclic ? "cyclic" : "acyclic";
    mmb_obj *o = head;
    for (uint64_t k = 0; k < length; k++) {
        if (!o) {
            snprintf(err, n, "the %s list ends after %llu of %llu nodes", what,
                     (unsigned long long)k, (unsigned long long)length);
            return -1;
        }
        uint64_t serial = prepend ? first + length - 1 - k : first + k;
        uint64_t expected = tag(seed, serial), got;
        memcpy(&got, mmb_payload(o), sizeof got);
        if (o->nslots != 1 || got != expected) {
            snprintf(err, n, "node %llu of the %s list reads %016llx, not node %llu's %016llx",
                     (unsigned long long)k, what, (unsigned long long)got,
                     (unsigned long long)serial, (unsigned long long)expected);
            return -1;
        }
        *checksum = (*checksum ^ expected) * 0x100000001B3ull;
        o = mmb_load(h, o, 0);
    }
    if (o != (cyclic ? head : NULL)) {
        snprintf(err, n, "the tail of the %s list points at %s", what,
                 o ? "another node, not the head" : "nothing, not the head");
        return -1;
    }
    return 0;
}

static int run(const mmb_workload_env *env, mmb_workload_result *out, char *err, size_t n) {
    mmb_heap *h = env->heap;
    uint64_t length = (uint64_t)env->params[P_LENGTH];
    bool prepend = env->params[P_BUILD] != 0;
    uint64_t checksum = 0;
    out->work_units = 0;
    out->unit = "objects";
    /* First half: acyclic, freed by the cascade from the head's last reference. */
    mmb_obj *head = build(h, env->seed, 1, length, prepend, false);
    if (!head) {
        snprintf(err, n, "allocation failed building the acyclic list");
        return -1;
    }
    out->work_units += length;
    int status = check(h, head, env->seed, 1, length, prepend, false, &checksum, err, n);
    mmb_decref(h, head);
    if (status != 0)
        return status;
    /* Second half: the back-edge keeps every node's count above zero after the drop. The
     * collection here is what frees it, inside run() so that its cost is measured; rc has no
     * cycle collection and leaks the list, as expected. */
    head = build(h, env->seed, length + 1, length, prepend, true);
    if (!head) {
        snprintf(err, n, "allocation failed building the cyclic list");
        return -1;
    }
    out->work_units += length;
    status = check(h, head, env->seed, length + 1, length, prepend, true, &checksum, err, n);
    mmb_decref(h, head);
    mmb_collect(h);
    out->checksum = checksum;
    return status;
}

const mmb_workload mmb_workload_deep_chain = {
    .name = "deep-chain",
    .family = "cycle-heavy",
    .summary = "a long list freed by cascade, then the same list closed into a cycle and freed by "
               "one collection",
    .params = params,
    .run = run,
};
