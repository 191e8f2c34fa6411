/* handoff: producers build small object graphs and pass them through a bounded queue to
 * consumers, which check and drop them: every object is freed by a thread other than the one
 * that allocated it (biased refcounting's slow path). Design: workloads/README.md, "Threaded
 * workloads". */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload_internal.h"

enum { P_THREADS, P_GRAPHS, P_GRAPH_SIZE, P_QUEUE, P_CYCLIC };

static const mmb_param_spec params[] = {
    {MMB_PARAM_THREADS,
     true,
     {2, 2, 2, 2},
     1,
     256,
     "worker threads: T/2 producers, the rest consumers (one thread does both)"},
    {"graphs",
     true,
     {1e3, 4e4, 4e5, 4e6},
     1,
     1e12,
     "graphs handed off in all, split evenly between the producers"},
    {"graph-size", true, {15, 31, 31, 31}, 1, 1 << 16, "objects per graph"},
    {"queue", true, {4, 64, 64, 64}, 1, 1 << 20, "graphs the queue holds before producers wait"},
    {"cyclic-fraction",
     false,
     {0.25, 0.25, 0.25, 0.25},
     0,
     1,
     "fraction of graphs whose non-root nodes each point back at the root with probability 1/2"},
    {NULL, false, {0}, 0, 0, NULL},
};

/* A graph of G nodes is a binary tree in heap order: node k's children are nodes 2k+1 and 2k+2
 * (slots 0 and 1), and slot 2 is null or, in a cyclic graph, maybe the root. Graph g's shape
 * (payload sizes, back pointers) and contents come from element g of the seed's stream, so the
 * consumer regenerates what the producer built and checks every node against it. */
enum { NODE_SLOTS = 3, BACK_SLOT = 2, MAX_WORDS = 4 };

typedef struct plan {
    uint64_t tag;   /* graph g's tag: every payload word derives from it */
    uint8_t *words; /* words[k]: node k's payload, in 8-byte words (1..MAX_WORDS) */
    bool *back;     /* back[k]: node k's slot 2 points at the root */
} plan;

typedef struct item {
    mmb_obj *root; /* the producer's reference, now the consumer's */
    uint64_t graph;
} item;

/* The bounded queue. Its mutex guards only the fields below and is never held across a heap
 * operation or an attach or detach: a thread that blocks on it waits for a few instructions,
 * not for a collection, so it need not detach to take it. Waiting on a condition variable is
 * unbounded, so a thread detaches first. */
typedef struct queue {
    pthread_mutex_t mu;
    pthread_cond_t not_empty, not_full;
    item *ring;
    size_t cap, head, count;
    unsigned producers_left;
    bool abort; /* a worker failed: the others stop */
} queue;

typedef struct crew_state {
    uint64_t seed, graphs;
    uint32_t graph_size;
    double cyclic;
    unsigned threads, producers;
    queue q;
    uint64_t *checksums; /* one per worker, each written only by its worker */
} crew_state;

static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void make_plan(const crew_state *c, uint64_t g, plan *p) {
    mmb_rng r = {c->seed + g * 0x9E3779B97F4A7C15ull};
    mmb_rng rng = {mmb_rng_next(&r)}; /* element g of the seed's stream */
    p->tag = mmb_rng_next(&rng);
    bool cyclic = mmb_rng_unit(&rng) < c->cyclic;
    for (uint32_t k = 0; k < c->graph_size; k++) {
        p->words[k] = (uint8_t)(1 + mmb_rng_below(&rng, MAX_WORDS));
        p->back[k] = cyclic && k > 0 && (mmb_rng_next(&rng) & 1);
    }
}

static uint64_t node_word(const plan *p, uint32_t k, uint32_t w) {
    return mix64(p->tag + (uint64_t)k * MAX_WORDS + w);
}

/* Builds graph g as planned. Returns its root (one mutator reference), or NULL having dropped
 * what it built. `nodes` holds graph_size entries. */
static mmb_obj *build_graph(mmb_heap *h, const crew_state *c, const plan *p, mmb_obj **nodes) {
    uint32_t size = c->graph_size;
    for (uint32_t k = 0; k < size; k++) {
        nodes[k] = mmb_alloc(h, NODE_SLOTS, p->words[k] * 8u);
        if (!nodes[k]) {
            while (k > 0)
                mmb_decref(h, nodes[--k]);
            return NULL;
        }
        uint64_t *payload = mmb_payload(nodes[k]);
        for (uint32_t w = 0; w < p->words[k]; w++) {
            uint64_t v = node_word(p, k, w);
            memcpy(payload + w, &v, sizeof v);
        }
    }
    for (uint32_t k = 1; k < size; k++) {
        mmb_store(h, nodes[(k - 1) / 2], (k - 1) % 2, nodes[k]);
        if (p->back[k])
            mmb_store(h, nodes[k], BACK_SLOT, nodes[0]);
    }
    for (uint32_t k = 1; k < size; k++)
        mmb_decref(h, nodes[k]); /* each is held by its parent's slot now */
    return nodes[0];
}

/* Walks graph g from its root with an explicit stack (`stack` holds graph_size entries, `ks`
 * their node numbers) and checks every node against the plan. Node numbers only grow along
 * child slots, so the walk ends after graph_size nodes whatever the heap holds. Returns 0 and
 * the graph's checksum, or -1 with a reason. */
static int check_graph(mmb_heap *h, const crew_state *c, const plan *p, uint64_t g, mmb_obj *root,
                       mmb_obj **stack, uint32_t *ks, uint64_t *checksum, char *err, size_t n) {
    uint32_t size = c->graph_size, sp = 0;
    uint64_t sum = p->tag;
    stack[sp] = root;
    ks[sp++] = 0;
    while (sp > 0) {
        mmb_obj *o = stack[--sp];
        uint32_t k = ks[sp];
        if (o->nslots != NODE_SLOTS) {
            snprintf(err, n, "graph %llu node %u: %u slots, not %u", (unsigned long long)g, k,
                     o->nslots, NODE_SLOTS);
            return -1;
        }
        if (o->payload_bytes < p->words[k] * 8u) {
            snprintf(err, n, "graph %llu node %u: %u payload bytes, fewer than %u",
                     (unsigned long long)g, k, o->payload_bytes, p->words[k] * 8u);
            return -1;
        }
        const uint64_t *payload = mmb_payload(o);
        for (uint32_t w = 0; w < p->words[k]; w++) {
            uint64_t v;
            memcpy(&v, payload + w, sizeof v);
            if (v != node_word(p, k, w)) {
                snprintf(err, n, "graph %llu node %u: payload word %u reads %016llx, not %016llx",
                         (unsigned long long)g, k, w, (unsigned long long)v,
                         (unsigned long long)node_word(p, k, w));
                return -1;
            }
            sum += v;
        }
        for (uint32_t s = 0; s < 2; s++) {
            uint64_t kid = 2 * (uint64_t)k + 1 + s;
            mmb_obj *child = mmb_load(h, o, s);
            if ((child != NULL) != (kid < size)) {
                snprintf(err, n, "graph %llu node %u: slot %u is %s", (unsigned long long)g, k, s,
                         child ? "not null" : "null");
                return -1;
            }
            if (child) {
                stack[sp] = child;
                ks[sp++] = (uint32_t)kid;
            }
        }
        if (mmb_load(h, o, BACK_SLOT) != (p->back[k] ? root : NULL)) {
            snprintf(err, n, "graph %llu node %u: slot %u %s", (unsigned long long)g, k, BACK_SLOT,
                     p->back[k] ? "does not point at the root" : "is not null");
            return -1;
        }
        sum += (uint64_t)p->back[k] << 7;
    }
    *checksum += mix64(sum ^ g);
    return 0;
}

/* ---- the queue ------------------------------------------------------------------------------ */

/* Waits on `cond` until `ready` holds or the crew aborts, detached meanwhile. Called and
 * returns with q->mu held; drops it around the detach and the attach, which may wait for a
 * collection. */
static void wait_detached(mmb_heap *h, queue *q, pthread_cond_t *cond,
                          bool (*ready)(const queue *)) {
    pthread_mutex_unlock(&q->mu);
    mmb_thread_detach(h);
    pthread_mutex_lock(&q->mu);
    while (!ready(q) && !q->abort)
        pthread_cond_wait(cond, &q->mu);
    pthread_mutex_unlock(&q->mu);
    mmb_thread_attach(h);
    pthread_mutex_lock(&q->mu);
}

static bool has_room(const queue *q) {
    return q->count < q->cap;
}

static bool has_item_or_done(const queue *q) {
    return q->count > 0 || q->producers_left == 0;
}

/* Puts it on the queue, waiting (detached) while the queue is full when `wait` is set. Returns
 * false, keeping the item, when the queue is full and `wait` is not set, or the crew aborted. */
static bool push(mmb_heap *h, queue *q, item it, bool wait) {
    pthread_mutex_lock(&q->mu);
    while (!has_room(q) && !q->abort && wait)
        wait_detached(h, q, &q->not_full, has_room);
    bool ok = has_room(q) && !q->abort;
    if (ok) {
        q->ring[(q->head + q->count++) % q->cap] = it;
        pthread_cond_signal(&q->not_empty);
    }
    pthread_mutex_unlock(&q->mu);
    return ok;
}

/* Takes an item, waiting (detached) while the queue is empty and producers remain when `wait`
 * is set. Returns false when there is none to take or the crew aborted. */
static bool pop(mmb_heap *h, queue *q, item *it, bool wait) {
    pthread_mutex_lock(&q->mu);
    while (!has_item_or_done(q) && !q->abort && wait)
        wait_detached(h, q, &q->not_empty, has_item_or_done);
    bool ok = q->count > 0 && !q->abort;
    if (ok) {
        *it = q->ring[q->head];
        q->head = (q->head + 1) % q->cap;
        q->count--;
        pthread_cond_signal(&q->not_full);
    }
    pthread_mutex_unlock(&q->mu);
    return ok;
}

static void producer_done(queue *q) {
    pthread_mutex_lock(&q->mu);
    if (--q->producers_left == 0)
        pthread_cond_broadcast(&q->not_empty);
    pthread_mutex_unlock(&q->mu);
}

static void abort_crew(queue *q) {
    pthread_mutex_lock(&q->mu);
    q->abort = true;
    pthread_cond_broadcast(&q->not_empty);
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->mu);
}

/* ---- workers -------------------------------------------------------------------------------- */

typedef struct scratch {
    plan p;
    mmb_obj **objs;
    uint32_t *ks;
} scratch;

static int scratch_init(scratch *s, uint32_t size) {
    s->p.words = malloc(size);
    s->p.back = malloc(size * sizeof *s->p.back);
    s->objs = malloc(size * sizeof *s->objs);
    s->ks = malloc(size * sizeof *s->ks);
    return s->p.words && s->p.back && s->objs && s->ks ? 0 : -1;
}

static void scratch_free(scratch *s) {
    free(s->p.words);
    free(s->p.back);
    free(s->objs);
    free(s->ks);
}

static int produce(mmb_heap *h, crew_state *c, uint64_t g, scratch *s, item *it, char *err,
                   size_t n) {
    make_plan(c, g, &s->p);
    it->graph = g;
    it->root = build_graph(h, c, &s->p, s->objs);
    if (!it->root) {
        snprintf(err, n, "allocation failed building graph %llu", (unsigned long long)g);
        return -1;
    }
    return 0;
}

/* Checks and drops a graph handed over; counts its objects in *units. */
static int consume(mmb_heap *h, crew_state *c, item it, scratch *s, uint64_t *checksum,
                   uint64_t *units, char *err, size_t n) {
    make_plan(c, it.graph, &s->p);
    int status = check_graph(h, c, &s->p, it.graph, it.root, s->objs, s->ks, checksum, err, n);
    mmb_decref(h, it.root); /* frees the graph here, or leaves its cycles to a collection */
    if (status == 0)
        *units += c->graph_size;
    return status;
}

/* threads=1: the one worker fills the queue, then empties it, until every graph is through. */
static int solo(mmb_heap *h, crew_state *c, scratch *s, uint64_t *checksum, uint64_t *units,
                char *err, size_t n) {
    item it;
    for (uint64_t g = 0; g <= c->graphs; g++) {
        if (g == c->graphs || !has_room(&c->q))
            while (pop(h, &c->q, &it, false))
                if (consume(h, c, it, s, checksum, units, err, n) != 0)
                    return -1;
        if (g == c->graphs)
            break;
        if (produce(h, c, g, s, &it, err, n) != 0)
            return -1;
        push(h, &c->q, it, false); /* there is room: this thread alone fills the queue */
    }
    return 0;
}

static int worker(const mmb_workload_env *env, unsigned index, void *arg, uint64_t *work_units,
                  char *err, size_t n) {
    crew_state *c = arg;
    mmb_heap *h = env->heap;
    scratch s;
    uint64_t checksum = 0, units = 0;
    int status = 0;
    if (scratch_init(&s, c->graph_size) != 0) {
        snprintf(err, n, "out of memory for graphs of %u", c->graph_size);
        status = -1;
    } else if (c->threads == 1) {
        status = solo(h, c, &s, &checksum, &units, err, n);
    } else if (index < c->producers) {
        /* Producer p makes graphs p, p + P, p + 2P, ... */
        for (uint64_t g = index; g < c->graphs && status == 0; g += c->producers) {
            item it;
            status = produce(h, c, g, &s, &it, err, n);
            if (status == 0 && !push(h, &c->q, it, true)) {
                mmb_decref(h, it.root); /* the crew aborted: nobody will take it */
                break;
            }
        }
    } else {
        item it;
        while (status == 0 && pop(h, &c->q, &it, true))
            status = consume(h, c, it, &s, &checksum, &units, err, n);
    }
    if (status != 0)
        abort_crew(&c->q);
    if (c->threads > 1 && index < c->producers)
        producer_done(&c->q);
    scratch_free(&s);
    c->checksums[index] = checksum;
    *work_units += units;
    return status;
}

static int run(const mmb_workload_env *env, mmb_workload_result *out, char *err, size_t n) {
    crew_state c = {
        .seed = env->seed,
        .graphs = (uint64_t)env->params[P_GRAPHS],
        .graph_size = (uint32_t)env->params[P_GRAPH_SIZE],
        .cyclic = env->params[P_CYCLIC],
        .threads = (unsigned)env->params[P_THREADS],
    };
    c.producers = c.threads / 2 > 0 ? c.threads / 2 : 1;
    c.q.cap = (size_t)env->params[P_QUEUE];
    c.q.producers_left = c.producers;
    c.q.ring = calloc(c.q.cap, sizeof *c.q.ring);
    c.checksums = calloc(c.threads, sizeof *c.checksums);
    if (!c.q.ring || !c.checksums) {
        free(c.q.ring);
        free(c.checksums);
        snprintf(err, n, "out of memory for a queue of %zu", c.q.cap);
        return -1;
    }
    pthread_mutex_init(&c.q.mu, NULL);
    pthread_cond_init(&c.q.not_empty, NULL);
    pthread_cond_init(&c.q.not_full, NULL);
    uint64_t units = 0;
    int status = mmb_run_threads(env, c.threads, worker, &c, &units, err, n);
    /* After an abort, graphs may be left on the queue: they are the program's, dropped here. */
    for (; c.q.count > 0; c.q.count--, c.q.head = (c.q.head + 1) % c.q.cap)
        mmb_decref(env->heap, c.q.ring[c.q.head].root);
    uint64_t checksum = 0;
    for (unsigned i = 0; i < c.threads; i++)
        checksum += c.checksums[i]; /* a sum: the same whichever consumer took which graph */
    pthread_cond_destroy(&c.q.not_full);
    pthread_cond_destroy(&c.q.not_empty);
    pthread_mutex_destroy(&c.q.mu);
    free(c.q.ring);
    free(c.checksums);
    return mmbw_result(out, units, "objects", checksum, status);
}

const mmb_workload mmb_workload_handoff = {
    .name = "handoff",
    .family = "threaded",
    .summary = "producers pass small graphs (trees, some with back pointers to the root) "
               "through a bounded queue to consumers that check and drop them",
    .params = params,
    .run = run,
};
