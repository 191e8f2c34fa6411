/* giant-scc: one strongly connected component of `nodes` objects (a ring plus random extra
 * edges), held in full, checked by a traversal from one node, then dropped at once so that the
 * whole component becomes garbage together and is freed by one collection. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload_internal.h"

enum { P_NODES, P_EXTRA };

static const mmb_param_spec params[] = {
    {"nodes", true, {2e3, 1e5, 1e6, 3e6}, 1, 1e9, "objects in the component"},
    {"extra-edges",
     false,
     {2, 2, 2, 2},
     0,
     64,
     "random edges per node besides the ring's (a fraction is the chance of one more)"},
    {NULL, false, {0}, 0, 0, NULL},
};

/* The graph is a function of the seed, so the check can recompute any node's edges: slot 0 of
 * node i points at node i + 1 (mod nodes); slot k >= 1 holds an edge when k <= floor(extra), or
 * with probability extra - floor(extra) for the last slot, to a uniformly drawn node. */
typedef struct graph {
    uint64_t seed;
    uint32_t nodes;
    uint32_t nslots; /* 1 + ceil(extra) */
    uint32_t whole;  /* floor(extra) */
    double fraction; /* extra - floor(extra) */
} graph;

/* Slot k's target of node i, or UINT32_MAX where that slot is empty. */
static uint32_t target(const graph *g, uint32_t i, uint32_t k) {
    if (k == 0)
        return i + 1 == g->nodes ? 0 : i + 1;
    mmb_rng r = {g->seed + ((uint64_t)i * g->nslots + k) * 0x9E3779B97F4A7C15ull};
    if (k > g->whole && !(mmb_rng_unit(&r) < g->fraction))
        return UINT32_MAX;
    return mmb_rng_below(&r, g->nodes);
}

/* Visits every node reachable from node 0 depth-first with an explicit stack, checking each
 * node's serial and every slot against target(); all nodes must be reached. Returns 0, or -1
 * with a reason in err. */
static int check(mmb_heap *h, const graph *g, mmb_obj *start, mmb_obj **stack, uint8_t *seen,
                 uint64_t *checksum, char *err, size_t n) {
    uint64_t reached = 1, sum = 0;
    size_t sp = 0;
    memset(seen, 0, g->nodes);
    seen[0] = 1;
    stack[sp++] = start;
    while (sp > 0) {
        mmb_obj *o = stack[--sp];
        uint64_t serial = mmbw_read_u64(o);
        if (serial >= g->nodes || o->nslots != g->nslots) {
            snprintf(err, n, "a node reads serial %llu with %u slots (nodes %u, slots %u)",
                     (unsigned long long)serial, o->nslots, g->nodes, g->nslots);
            return -1;
        }
        sum = (sum ^ (serial + 1)) * 0x100000001B3ull;
        for (uint32_t k = 0; k < g->nslots; k++) {
            uint32_t expected = target(g, (uint32_t)serial, k);
            mmb_obj *c = mmb_load(h, o, k);
            uint64_t got = c ? mmbw_read_u64(c) : UINT32_MAX;
            if (got != expected) {
                snprintf(err, n, "slot %u of node %llu points at node %lld, not %lld", k,
                         (unsigned long long)serial, got == UINT32_MAX ? -1 : (long long)got,
                         expected == UINT32_MAX ? -1 : (long long)expected);
                return -1;
            }
            if (c && !seen[got]) {
                seen[got] = 1;
                reached++;
                stack[sp++] = c;
            }
        }
    }
    if (reached != g->nodes) {
        snprintf(err, n, "a traversal from node 0 reaches %llu of %u nodes",
                 (unsigned long long)reached, g->nodes);
        return -1;
    }
    *checksum = sum;
    return 0;
}

static int run(const mmb_workload_env *env, mmb_workload_result *out, char *err, size_t n) {
    mmb_heap *h = env->heap;
    double extra = env->params[P_EXTRA];
    graph g = {.seed = env->seed,
               .nodes = (uint32_t)env->params[P_NODES],
               .nslots = 1 + (uint32_t)ceil(extra),
               .whole = (uint32_t)floor(extra),
               .fraction = extra - floor(extra)};
    /* Every node is a mutator reference until the end: stores go only into held objects. */
    mmb_obj **nodes = malloc((size_t)g.nodes * sizeof *nodes);
    mmb_obj **stack = malloc((size_t)g.nodes * sizeof *stack); /* a node is pushed at most once */
    uint8_t *seen = malloc(g.nodes);
    if (!nodes || !stack || !seen) {
        free(nodes);
        free(stack);
        free(seen);
        snprintf(err, n, "out of memory for the bookkeeping of %u nodes", g.nodes);
        return -1;
    }
    int status = 0;
    uint32_t built = 0;
    for (; built < g.nodes; built++) {
        mmb_obj *o = mmb_alloc(h, g.nslots, 8);
        if (!o) {
            snprintf(err, n, "allocation failed at node %u", built);
            status = -1;
            break;
        }
        uint64_t serial = built;
        memcpy(mmb_payload(o), &serial, sizeof serial);
        nodes[built] = o;
    }
    for (uint32_t i = 0; i < g.nodes && status == 0; i++) {
        for (uint32_t k = 0; k < g.nslots; k++) {
            uint32_t t = target(&g, i, k);
            if (t != UINT32_MAX)
                mmb_store(h, nodes[i], k, nodes[t]);
        }
    }
    uint64_t checksum = 0;
    if (status == 0)
        status = check(h, &g, nodes[0], stack, seen, &checksum, err, n);
    for (uint32_t i = 0; i < built; i++)
        mmb_decref(h, nodes[i]);
    if (status == 0)
        mmb_collect(h); /* the whole component is garbage now: one collection frees it */
    free(nodes);
    free(stack);
    free(seen);
    return mmbw_result(out, built, "objects", checksum, status);
}

const mmb_workload mmb_workload_giant_scc = {
    .name = "giant-scc",
    .family = "cycle-heavy",
    .summary = "one strongly connected component (a ring plus random extra edges), checked, then "
               "dropped at once and collected",
    .params = params,
    .run = run,
};
