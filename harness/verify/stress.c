/* The stress generator (stress.h). It drives the trace builders, so every trace it makes passes
 * the same validation as a trace read from a file. */
#include "stress.h"

#include <stdlib.h>
#include <string.h>

const char *const mmb_shape_names[MMB_SHAPE_COUNT] = {"mixed", "rings", "chains",
                                                      "scc",   "dag",   "mutate"};

int mmb_shape_parse(const char *name) {
    for (int i = 0; i < MMB_SHAPE_COUNT; i++)
        if (strcmp(name, mmb_shape_names[i]) == 0)
            return i;
    return -1;
}

/* The generator's state: the trace, its budget, a PRNG (splitmix64: tiny, and the same on every
 * platform), and the mutator's references as a multiset of objects (one entry per reference). */
typedef struct gen {
    mmb_trace *t;
    uint64_t budget;
    uint64_t rng;
    uint32_t *pool;
    size_t npool, pool_cap;
    uint64_t next_id;
} gen;

static uint64_t next_u64(gen *g) {
    uint64_t z = (g->rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0. */
static uint32_t below(gen *g, uint32_t n) {
    return (uint32_t)(((next_u64(g) >> 32) * n) >> 32);
}

static bool chance(gen *g, uint32_t percent) {
    return below(g, 100) < percent;
}

static bool room(const gen *g) {
    return g->t->count < g->budget;
}

static void pool_add(gen *g, uint32_t obj) {
    if (g->npool == g->pool_cap) {
        g->pool_cap = g->pool_cap ? 2 * g->pool_cap : 256;
        g->pool = realloc(g->pool, g->pool_cap * sizeof *g->pool);
        if (!g->pool)
            abort();
    }
    g->pool[g->npool++] = obj;
}

/* Each helper appends at most one op, only when the budget has room; they return the object
 * made or taken, or UINT32_MAX when nothing was appended. The builders cannot fail: the
 * generator only names objects it holds. */
#define NONE UINT32_MAX

static uint32_t g_new(gen *g, uint32_t nslots, uint32_t payload) {
    if (!room(g))
        return NONE;
    char err[8];
    mmb_trace_new(g->t, ++g->next_id, nslots, payload, 0, err, sizeof err);
    pool_add(g, g->t->objects - 1);
    return g->t->objects - 1;
}

static void g_set(gen *g, uint32_t a, uint32_t slot, uint32_t b) {
    if (!room(g) || a == NONE || slot >= g->t->obj[a].nslots || g->t->obj[a].held == 0)
        return;
    if (b != NONE && g->t->obj[b].held == 0)
        return;
    char err[8];
    mmb_trace_set(g->t, g->t->obj[a].id, slot, b == NONE ? 0 : g->t->obj[b].id, 0, err, sizeof err);
}

static uint32_t g_get(gen *g, uint32_t a, uint32_t slot) {
    if (!room(g) || a == NONE || slot >= g->t->obj[a].nslots || g->t->obj[a].held == 0)
        return NONE;
    uint32_t v = g->t->slots[g->t->obj[a].slot_base + slot];
    if (!v)
        return NONE;
    char err[8];
    mmb_trace_get(g->t, g->t->obj[a].id, slot, 0, err, sizeof err);
    pool_add(g, v - 1);
    return v - 1;
}

/* Drops the reference at pool position i. */
static void g_drop_at(gen *g, size_t i) {
    if (!room(g) || i >= g->npool)
        return;
    char err[8];
    mmb_trace_drop(g->t, g->t->obj[g->pool[i]].id, 0, err, sizeof err);
    g->pool[i] = g->pool[--g->npool];
}

/* Drops one reference to obj (the most recent one in the pool). */
static void g_drop(gen *g, uint32_t obj) {
    for (size_t i = g->npool; i-- > 0;)
        if (g->pool[i] == obj) {
            g_drop_at(g, i);
            return;
        }
}

static void g_collect(gen *g) {
    if (room(g))
        mmb_trace_collect(g->t, 0);
}

static uint32_t random_held(gen *g) {
    return g->npool ? g->pool[below(g, (uint32_t)g->npool)] : NONE;
}

/* Keeps the live window small and collections occasional, whatever the shape. */
static void housekeeping(gen *g, size_t window) {
    while (g->npool > window && room(g))
        g_drop_at(g, below(g, (uint32_t)g->npool));
    if (chance(g, 3))
        g_collect(g);
}

static void make_ring(gen *g) {
    uint32_t k = chance(g, 50) ? 2 : chance(g, 50) ? 21 : 2 + below(g, 30);
    uint32_t first = g_new(g, 1 + below(g, 2), below(g, 3) * 8), prev = first;
    for (uint32_t i = 1; i < k && room(g); i++) {
        uint32_t n = g_new(g, 1 + below(g, 2), below(g, 3) * 8);
        g_set(g, prev, 0, n);
        if (prev != first)
            g_drop(g, prev);
        prev = n;
    }
    g_set(g, prev, 0, first); /* close the ring */
    if (chance(g, 30))
        g_get(g, first, 0); /* hold a member from inside */
    if (prev != first)
        g_drop(g, prev);
    if (chance(g, 70))
        g_drop(g, first); /* garbage at once, or kept a while in the window */
}

static void make_chain(gen *g) {
    uint32_t len = 2 + below(g, 200);
    uint32_t head = g_new(g, 2, 16), prev = head;
    for (uint32_t i = 1; i < len && room(g); i++) {
        uint32_t n = g_new(g, 2, below(g, 2) * 16);
        g_set(g, prev, 0, n);
        if (prev != head)
            g_drop(g, prev);
        prev = n;
    }
    if (chance(g, 40))
        g_set(g, prev, 1, head); /* a back-edge: the chain becomes one long cycle */
    if (prev != head)
        g_drop(g, prev);
    if (chance(g, 20))
        g_set(g, head, 0, NONE); /* cut it: the rest goes by cascade */
    g_drop(g, head);
}

static void make_scc(gen *g) {
    uint32_t n = 3 + below(g, 60);
    uint32_t *nodes = malloc(n * sizeof *nodes);
    if (!nodes)
        abort();
    for (uint32_t i = 0; i < n; i++)
        nodes[i] = g_new(g, 2 + below(g, 3), below(g, 4) * 4);
    for (uint32_t i = 0; i < n; i++) /* a ring makes it strongly connected */
        g_set(g, nodes[i], 0, nodes[(i + 1) % n]);
    for (uint32_t e = 0; e < n; e++) { /* random extra edges keep it so */
        uint32_t a = nodes[below(g, n)];
        if (a != NONE)
            g_set(g, a, 1 + below(g, g->t->obj[a].nslots - 1), nodes[below(g, n)]);
    }
    uint32_t keep = chance(g, 25) ? nodes[below(g, n)] : NONE;
    for (uint32_t i = 0; i < n; i++)
        if (nodes[i] != keep)
            g_drop(g, nodes[i]);
    free(nodes);
}

static void make_dag(gen *g) {
    /* Edges only from newer to older objects: acyclic, so refcounting alone reclaims it all. */
    uint32_t n = 2 + below(g, 40), made = 0;
    uint32_t *nodes = malloc(n * sizeof *nodes);
    if (!nodes)
        abort();
    for (uint32_t i = 0; i < n; i++) {
        nodes[i] = g_new(g, 3, below(g, 3) * 8);
        if (nodes[i] == NONE)
            break;
        made++;
        for (uint32_t s = 0; s < 3 && i > 0; s++)
            if (chance(g, 60))
                g_set(g, nodes[i], s, nodes[below(g, i)]);
    }
    for (uint32_t i = 0; i < made; i++)
        if (chance(g, 90))
            g_drop(g, nodes[i]);
    free(nodes);
}

/* Garbage between mutations: enough allocation that an incremental collector runs steps. */
static void churn(gen *g, uint32_t n) {
    for (uint32_t i = 0; i < n && room(g); i++)
        g_drop(g, g_new(g, below(g, 2), 8 + below(g, 4) * 16));
}

/* mutate: a root R with a chain from slot 0 (each node: slot 0 the chain, slot 1 spare); then,
 * over many mutations with garbage allocated between them, the mutator walks down to a deep node
 * D (likely unmarked), stores it into a spare slot near R (likely marked), cuts the only other
 * path to it (its parent's slot 0) and drops its references: what a collector without a deletion
 * barrier gets wrong. New nodes are appended at the chain's end to keep it deep. */
static void make_mutate(gen *g) {
    uint32_t len = 16 + below(g, 48);
    uint32_t root = g_new(g, 3, 8), prev = root, depth = 0;
    for (uint32_t i = 0; i < len && room(g); i++, depth++) {
        uint32_t n = g_new(g, 2, below(g, 2) * 8);
        g_set(g, prev, 0, n);
        if (prev != root)
            g_drop(g, prev);
        prev = n;
    }
    if (prev != root)
        g_drop(g, prev);
    for (uint32_t m = 0, moves = 8 + below(g, 24); m < moves && room(g) && depth > 2; m++) {
        churn(g, 2 + below(g, 8));
        uint32_t k = depth / 2 + below(g, depth - depth / 2); /* the parent's depth, >= 1 */
        uint32_t p = g_get(g, root, 0);
        for (uint32_t d = 1; d < k && p != NONE; d++) {
            uint32_t next = g_get(g, p, 0);
            g_drop(g, p);
            p = next;
            if (chance(g, 20))
                churn(g, 1);
        }
        uint32_t deep = p == NONE ? NONE : g_get(g, p, 0);
        if (deep == NONE) {
            if (p != NONE)
                g_drop(g, p);
            break;
        }
        uint32_t near = root;
        uint32_t near_slot = 1 + below(g, 2);
        g_set(g, near, near_slot, deep); /* into a shallow object */
        churn(g, below(g, 3));
        g_set(g, p, 0, NONE); /* cut the only other path */
        g_drop(g, p);
        g_drop(g, deep);
        depth = k; /* R.0 now holds a chain of k nodes ending at p */
        /* Grow the chain back from R: new nodes in front keep it deep. */
        for (uint32_t i = 0, add = below(g, 8); i < add && room(g); i++, depth++) {
            uint32_t n = g_new(g, 2, 8);
            uint32_t first = g_get(g, root, 0);
            g_set(g, n, 0, first);
            g_set(g, root, 0, n);
            if (first != NONE)
                g_drop(g, first);
            g_drop(g, n);
        }
    }
    g_drop(g, root);
}

static void mixed_step(gen *g) {
    uint32_t r = below(g, 100);
    if (r < 30 || g->npool < 2) {
        g_new(g, below(g, 5), below(g, 5) * 8);
    } else if (r < 55) {
        uint32_t a = random_held(g);
        if (g->t->obj[a].nslots)
            g_set(g, a, below(g, g->t->obj[a].nslots), chance(g, 10) ? NONE : random_held(g));
    } else if (r < 68) {
        uint32_t a = random_held(g);
        if (g->t->obj[a].nslots)
            g_get(g, a, below(g, g->t->obj[a].nslots));
    } else if (r < 99) {
        g_drop_at(g, below(g, (uint32_t)g->npool));
    } else {
        g_collect(g);
    }
}

void mmb_stress_generate(mmb_trace *t, uint64_t seed, mmb_shape shape, uint64_t ops) {
    gen g = {.t = t, .budget = t->count + ops, .rng = seed};
    while (room(&g)) {
        switch (shape) {
        case MMB_SHAPE_RINGS:
            make_ring(&g);
            break;
        case MMB_SHAPE_CHAINS:
            make_chain(&g);
            break;
        case MMB_SHAPE_SCC:
            make_scc(&g);
            break;
        case MMB_SHAPE_DAG:
            make_dag(&g);
            break;
        case MMB_SHAPE_MUTATE:
            make_mutate(&g);
            break;
        default:
            for (int i = 0; i < 16; i++)
                mixed_step(&g);
            if (chance(&g, 20)) {
                void (*const builders[])(gen *) = {make_ring, make_chain, make_scc, make_dag};
                builders[below(&g, 4)](&g);
            }
            break;
        }
        housekeeping(&g, shape == MMB_SHAPE_MIXED ? 256 : 32);
    }
    free(g.pool);
}
