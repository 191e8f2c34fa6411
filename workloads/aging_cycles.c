/* aging-cycles: cycles that live for a lifetime drawn from a distribution, then die as cyclic
 * garbage, so that much of the garbage dies old (the shape behind CPython 3.14.0's memory growth
 * under its incremental collector). Each cycle is a ring of `cycle-size` one-slot nodes; its
 * lifetime, counted in objects allocated after it, is drawn from a mixture of two exponentials:
 * mean `young-mean` (most cycles), or with probability `old-fraction` mean `old-mean`. A live
 * cycle's head sits in a table (a directory of chunk objects) that the mutator holds; when its
 * time comes the table slot is cleared, which leaves the ring a garbage cycle that only a cycle
 * collector reclaims. A min-heap of live cycles by death time (C memory) says which dies next.
 *
 * Every node's payload holds its serial and its cycle's death time; a cycle is walked and checked
 * when it dies, and every cycle still live at the end is checked before the table is dropped.
 * Phases: build until the allocation clock reaches two old means (the population near its
 * steady size), steady from there, teardown for the final check and the drop. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload_internal.h"

enum { P_CYCLES, P_CYCLE_SIZE, P_YOUNG_MEAN, P_OLD_MEAN, P_OLD_FRACTION };

static const mmb_param_spec params[] = {
    {"cycles",
     true,
     {2e3, 5e5, 5e6, 2e7},
     1,
     1e10,
     "cycles made (allocation volume: x cycle-size)"},
    {"cycle-size", true, {4, 4, 4, 4}, 1, 1e6, "objects per cycle (a ring of one-slot nodes)"},
    {"young-mean",
     false,
     {100, 500, 500, 500},
     0,
     1e12,
     "mean lifetime of a young-dying cycle, in objects allocated after it"},
    {"old-mean",
     false,
     {1e3, 1e5, 1e6, 5e6},
     0,
     1e12,
     "mean lifetime of a long-lived cycle, in objects allocated after it"},
    {"old-fraction", false, {0.1, 0.1, 0.1, 0.1}, 0, 1, "fraction of cycles drawn long-lived"},
    {NULL, false, {0}, 0, 0, NULL},
};

/* Cycle heads live in chunk objects of this many slots, the chunks in one directory. */
#define CHUNK_SLOTS 1024u

typedef struct node_payload {
    uint64_t serial; /* unique per node; a cycle's nodes are consecutive from its head's */
    uint64_t death;  /* the allocation clock at which its cycle dies */
} node_payload;

/* A live cycle, keyed by death (ties by serial: the order is the seed's alone). */
typedef struct live_cycle {
    uint64_t death, first;
    uint32_t index; /* its table slot */
} live_cycle;

typedef struct aging {
    mmb_heap *h;
    mmb_obj *dir;
    uint32_t k; /* cycle size */
    live_cycle *heap;
    size_t nheap, cap;
    uint32_t *free_slots; /* table slots to reuse, a stack */
    size_t nfree;
    uint32_t next_slot; /* the first table slot never used */
    uint64_t checksum;
} aging;

static bool before(const live_cycle *a, const live_cycle *b) {
    return a->death < b->death || (a->death == b->death && a->first < b->first);
}

static int heap_push(aging *a, live_cycle c) {
    if (a->nheap == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 1024;
        live_cycle *heap = realloc(a->heap, cap * sizeof *heap);
        uint32_t *free_slots = realloc(a->free_slots, cap * sizeof *free_slots);
        if (heap)
            a->heap = heap;
        if (free_slots)
            a->free_slots = free_slots;
        if (!heap || !free_slots)
            return -1;
        a->cap = cap;
    }
    size_t i = a->nheap++;
    while (i > 0 && before(&c, &a->heap[(i - 1) / 2])) {
        a->heap[i] = a->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    a->heap[i] = c;
    return 0;
}

static live_cycle heap_pop(aging *a) {
    live_cycle top = a->heap[0], last = a->heap[--a->nheap];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= a->nheap)
            break;
        if (c + 1 < a->nheap && before(&a->heap[c + 1], &a->heap[c]))
            c++;
        if (!before(&a->heap[c], &last))
            break;
        a->heap[i] = a->heap[c];
        i = c;
    }
    if (a->nheap)
        a->heap[i] = last;
    return top;
}

/* The chunk of table slot `index`, made when `make` and missing; NULL when missing (or out of
 * memory). */
static mmb_obj *table_chunk(aging *a, uint32_t index, bool make) {
    uint32_t c = index / CHUNK_SLOTS;
    mmb_obj *chunk = mmb_load(a->h, a->dir, c);
    if (!chunk && make) {
        chunk = mmb_alloc(a->h, CHUNK_SLOTS, 0);
        if (chunk) {
            mmb_store(a->h, a->dir, c, chunk);
            mmb_decref(a->h, chunk); /* the directory holds it */
        }
    }
    return chunk;
}

static mmb_obj *new_node(mmb_heap *h, uint64_t serial, uint64_t death) {
    mmb_obj *o = mmb_alloc(h, 1, sizeof(node_payload));
    if (o) {
        node_payload p = {serial, death};
        memcpy(mmb_payload(o), &p, sizeof p);
    }
    return o;
}

/* Makes a ring of k nodes, serials first.., and puts its head in a table slot. */
static int make_cycle(aging *a, uint64_t first, uint64_t death, char *err, size_t n) {
    uint32_t index = a->nfree ? a->free_slots[--a->nfree] : a->next_slot++;
    mmb_obj *chunk = table_chunk(a, index, true);
    mmb_obj *head = chunk ? new_node(a->h, first, death) : NULL;
    if (!head) {
        snprintf(err, n, "allocation failed");
        return -1;
    }
    mmb_obj *last = head; /* the mutator holds head and, once there is one, the last node */
    for (uint32_t j = 1; j < a->k; j++) {
        mmb_obj *node = new_node(a->h, first + j, death);
        if (!node) {
            if (last != head)
                mmb_decref(a->h, last);
            mmb_decref(a->h, head);
            snprintf(err, n, "allocation failed");
            return -1;
        }
        mmb_store(a->h, last, 0, node);
        if (last != head)
            mmb_decref(a->h, last);
        last = node;
    }
    mmb_store(a->h, last, 0, head);
    if (last != head)
        mmb_decref(a->h, last);
    mmb_store(a->h, chunk, index % CHUNK_SLOTS, head);
    mmb_decref(a->h, head);
    if (heap_push(a, (live_cycle){death, first, index}) != 0) {
        snprintf(err, n, "out of memory for the queue of %zu live cycles", a->nheap);
        return -1;
    }
    return 0;
}

/* Walks live cycle c from its table slot: k nodes with serials c->first.. and c's death, then
 * its head again. Adds it to the checksum; 0, or -1 with a reason in err. */
static int check_cycle(aging *a, const live_cycle *c, char *err, size_t n) {
    mmb_obj *chunk = table_chunk(a, c->index, false);
    mmb_obj *head = chunk ? mmb_load(a->h, chunk, c->index % CHUNK_SLOTS) : NULL;
    mmb_obj *cur = head;
    uint64_t sum = 0;
    for (uint32_t j = 0; j < a->k; j++) {
        node_payload p = {0, 0};
        if (cur)
            memcpy(&p, mmb_payload(cur), sizeof p);
        if (p.serial != c->first + j || p.death != c->death) {
            snprintf(err, n,
                     "cycle of object %llu (table slot %u): node %u reads serial %llu, death "
                     "%llu; expected %llu, %llu",
                     (unsigned long long)c->first, c->index, j, (unsigned long long)p.serial,
                     (unsigned long long)p.death, (unsigned long long)(c->first + j),
                     (unsigned long long)c->death);
            return -1;
        }
        sum += p.serial;
        cur = mmb_load(a->h, cur, 0);
    }
    if (cur != head) {
        snprintf(err, n, "cycle of object %llu: its last node does not point back at its head",
                 (unsigned long long)c->first);
        return -1;
    }
    a->checksum = a->checksum * 31 + sum * 2 + c->death;
    return 0;
}

/* The cycles dead by `clock`: each checked, then cut from the table (a garbage cycle now). */
static int retire(aging *a, uint64_t clock, char *err, size_t n) {
    while (a->nheap && a->heap[0].death <= clock) {
        live_cycle c = heap_pop(a);
        if (check_cycle(a, &c, err, n) != 0)
            return -1;
        mmb_store(a->h, table_chunk(a, c.index, false), c.index % CHUNK_SLOTS, NULL);
        a->free_slots[a->nfree++] = c.index; /* room: free_slots has the heap's capacity */
    }
    return 0;
}

/* A lifetime in objects allocated: exponential with the young or the old mean. */
static uint64_t lifetime(mmb_rng *rng, const double *p) {
    bool old = mmb_rng_unit(rng) < p[P_OLD_FRACTION];
    double mean = p[old ? P_OLD_MEAN : P_YOUNG_MEAN];
    return (uint64_t)(-mean * log1p(-mmb_rng_unit(rng)));
}

static int run(const mmb_workload_env *env, mmb_workload_result *out, char *err, size_t n) {
    uint64_t cycles = (uint64_t)env->params[P_CYCLES];
    aging a = {.h = env->heap, .k = (uint32_t)env->params[P_CYCLE_SIZE]};
    mmb_rng rng = {env->seed};
    uint64_t build_until = (uint64_t)(2 * env->params[P_OLD_MEAN]);
    uint64_t clock = 0, serial = 1, made = 0; /* clock: objects allocated so far */
    int status = 0;
    mmb_workload_phase(env, MMB_RUN_BUILD);
    uint64_t nchunks = (cycles + CHUNK_SLOTS - 1) / CHUNK_SLOTS; /* at most `cycles` live */
    a.dir = nchunks <= MMB_MAX_SLOTS ? mmb_alloc(a.h, (uint32_t)nchunks, 0) : NULL;
    if (!a.dir) {
        snprintf(err, n, "cannot make a table of %llu chunks", (unsigned long long)nchunks);
        return -1;
    }
    bool steady = false;
    for (; made < cycles && status == 0; made++) {
        if (!steady && clock >= build_until) {
            mmb_workload_phase(env, MMB_RUN_STEADY);
            steady = true;
        }
        status = retire(&a, clock, err, n);
        if (status != 0)
            break;
        uint64_t death = clock + a.k + lifetime(&rng, env->params);
        status = make_cycle(&a, serial, death, err, n);
        serial += a.k;
        clock += a.k;
    }
    mmb_workload_phase(env, MMB_RUN_TEARDOWN);
    /* The survivors, in the heap's order (the seed's alone), then the table dropped. */
    for (size_t i = 0; i < a.nheap && status == 0; i++)
        status = check_cycle(&a, &a.heap[i], err, n);
    mmb_decref(a.h, a.dir);
    free(a.heap);
    free(a.free_slots);
    return mmbw_result(out, made * a.k, "objects", a.checksum, status);
}

const mmb_workload mmb_workload_aging_cycles = {
    .name = "aging-cycles",
    .family = "cycle-heavy",
    .summary = "cycles that die after a drawn lifetime (most young, a tail old): cyclic garbage "
               "that dies old",
    .params = params,
    .run = run,
};
