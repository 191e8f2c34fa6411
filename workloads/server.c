/* server: an open-loop simulated server for tail latency. Requests are scheduled at a fixed rate
 * (calibrated to about 50% utilisation by default) and each is reported with its scheduled,
 * actual start and end times, so latency from the schedule is corrected for coordinated omission
 * (as wrk2 does). A request builds a small graph (some nodes with back-edges: cyclic garbage),
 * checks it, then reads and updates a long-lived LRU cache of managed entries on a managed
 * doubly linked list, evicting the least recently used; the cache starts full, so the warm-up
 * that calibrates the rate sees the steady state's lookups and evictions. The checksum depends only
 * on what the requests built and read, never on timing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "workload_internal.h"

enum { P_RATE, P_REQUESTS, P_CACHE, P_REQUEST_OBJECTS, P_CYCLIC };

static const mmb_param_spec params[] = {
    {"rate",
     false,
     {0, 0, 0, 0},
     0,
     1e9,
     "requests per second; 0: 50% utilisation, from the mean service time of the warm-up "
     "(at tiny scale 0 means no pacing)"},
    {"requests", true, {2e3, 5e4, 5e5, 5e6}, 1, 1e12, "requests served after the warm-up"},
    {"cache", true, {1e3, 1e5, 1e6, 1e6}, 1, 3e7, "LRU cache capacity (entries)"},
    {"request-objects", true, {20, 20, 20, 20}, 1, 1e6, "objects each request builds"},
    {"cyclic-fraction",
     false,
     {0.2, 0.2, 0.2, 0.2},
     0,
     1,
     "fraction of a request's nodes with a back-edge to their parent (a cycle)"},
    {NULL, false, {0}, 0, 0, NULL},
};

#define WARMUP_REQUESTS 200
#define CHUNK_SLOTS     1024u   /* table slots per chunk object */
#define SPIN_NS         200000u /* waits longer than this sleep first, then spin */

/* Slots of a cache entry (and of the list's sentinel) and of a request node. */
enum { E_PREV, E_NEXT, E_VALUE, E_SLOTS };
enum { N_BACK, N_LEFT, N_RIGHT, N_SLOTS };

/* Payload of every object here: what it belongs to and a second word (key, index, sum). */
typedef struct pair {
    uint64_t a, b;
} pair;

typedef struct server {
    mmb_heap *h;
    mmb_rng rng;
    uint32_t keyspace;  /* keys are 0..keyspace-1; the table has one slot per key */
    uint64_t capacity;  /* entries the cache keeps */
    uint64_t count;     /* entries it holds */
    mmb_obj *table;     /* held: directory of chunks of CHUNK_SLOTS slots, one per key */
    mmb_obj *sentinel;  /* held: the LRU list's head; next = most recent, prev = least */
    uint32_t nodes_len; /* request-objects */
    double cyclic;      /* cyclic-fraction */
    mmb_obj **nodes;    /* the request being built: one mutator reference each */
    uint64_t serial;    /* requests run so far, warm-up included */
    uint64_t checksum;
} server;

static pair read_pair(mmb_obj *o) {
    pair p;
    memcpy(&p, mmb_payload(o), sizeof p);
    return p;
}

static mmb_obj *new_obj(mmb_heap *h, uint32_t nslots, uint64_t a, uint64_t b) {
    mmb_obj *o = mmb_alloc(h, nslots, sizeof(pair));
    if (o) {
        pair p = {a, b};
        memcpy(mmb_payload(o), &p, sizeof p);
    }
    return o;
}

static void wait_until(uint64_t target_ns) {
    uint64_t t = mmb_now_ns();
    if (t + SPIN_NS < target_ns) {
        uint64_t wake = target_ns - SPIN_NS / 2;
        struct timespec ts = {(time_t)(wake / 1000000000u), (long)(wake % 1000000000u)};
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
    }
    while (mmb_now_ns() < target_ns)
        ;
}

/* The table chunk holding `key`'s slot. */
static mmb_obj *table_chunk(server *s, uint32_t key) {
    return mmb_load(s->h, s->table, key / CHUNK_SLOTS);
}

/* Unlinks entry e from the LRU list; the table still holds it. */
static void unlink_entry(server *s, mmb_obj *e) {
    mmb_obj *prev = mmb_load(s->h, e, E_PREV);
    mmb_obj *next = mmb_load(s->h, e, E_NEXT);
    mmb_store(s->h, prev, E_NEXT, next);
    mmb_store(s->h, next, E_PREV, prev);
}

/* Links entry e (held by the table or the mutator) in as the most recently used. */
static void push_front(server *s, mmb_obj *e) {
    mmb_obj *first = mmb_load(s->h, s->sentinel, E_NEXT);
    mmb_store(s->h, e, E_PREV, s->sentinel);
    mmb_store(s->h, e, E_NEXT, first);
    mmb_store(s->h, first, E_PREV, e);
    mmb_store(s->h, s->sentinel, E_NEXT, e);
}

static int evict_lru(server *s, char *err, size_t n) {
    mmb_obj *lru = mmb_load(s->h, s->sentinel, E_PREV);
    if (lru == s->sentinel) {
        snprintf(err, n, "the LRU list is empty with %llu entries counted",
                 (unsigned long long)s->count);
        return -1;
    }
    uint64_t key = read_pair(lru).a;
    mmb_obj *chunk = key < s->keyspace ? table_chunk(s, (uint32_t)key) : NULL;
    if (!chunk || mmb_load(s->h, chunk, (uint32_t)(key % CHUNK_SLOTS)) != lru) {
        snprintf(err, n, "the least recently used entry (key %llu) is not in the table",
                 (unsigned long long)key);
        return -1;
    }
    unlink_entry(s, lru);
    mmb_store(s->h, lru, E_PREV, NULL);
    mmb_store(s->h, lru, E_NEXT, NULL);
    mmb_store(s->h, chunk, (uint32_t)(key % CHUNK_SLOTS), NULL); /* frees it, or leaves garbage */
    s->count--;
    return 0;
}

/* Builds the request's graph: node j is child (j-1)%2 of node (j-1)/2, and with probability
 * cyclic points back at its parent. The mutator holds every node. Returns the number built. */
static uint32_t build_graph(server *s, uint64_t req) {
    uint32_t j = 0;
    for (; j < s->nodes_len; j++) {
        mmb_obj *o = new_obj(s->h, N_SLOTS, req, j);
        if (!o)
            break;
        s->nodes[j] = o;
        if (j == 0)
            continue;
        mmb_obj *parent = s->nodes[(j - 1) / 2];
        mmb_store(s->h, parent, N_LEFT + (j - 1) % 2, o);
        if (mmb_rng_unit(&s->rng) < s->cyclic)
            mmb_store(s->h, o, N_BACK, parent);
    }
    return j;
}

/* Reads the graph back from the root; returns a checksum term, or 0 with a reason in err. */
static uint64_t check_graph(server *s, uint64_t req, char *err, size_t n) {
    uint64_t sum = 1;
    for (uint32_t j = 0; j < s->nodes_len; j++) {
        mmb_obj *o =
            j == 0 ? s->nodes[0] : mmb_load(s->h, s->nodes[(j - 1) / 2], N_LEFT + (j - 1) % 2);
        pair p = o ? read_pair(o) : (pair){0, 0};
        if (o != s->nodes[j] || p.a != req || p.b != j) {
            snprintf(err, n, "request %llu: node %u reads (%llu, %llu)", (unsigned long long)req, j,
                     (unsigned long long)p.a, (unsigned long long)p.b);
            return 0;
        }
        mmb_obj *back = mmb_load(s->h, o, N_BACK);
        if (back && (j == 0 || back != s->nodes[(j - 1) / 2])) {
            snprintf(err, n, "request %llu: node %u's back-edge is not its parent",
                     (unsigned long long)req, j);
            return 0;
        }
        sum = sum * 31 + p.a + p.b * 2 + (back ? 1 : 0);
    }
    return sum;
}

/* One request: build and check a graph, look up a key, update or fill the cache, drop the
 * graph. */
static int serve(server *s, char *err, size_t n) {
    uint64_t req = ++s->serial;
    uint32_t built = build_graph(s, req);
    uint64_t sum = 0;
    int status = 0;
    if (built < s->nodes_len) {
        snprintf(err, n, "allocation failed");
        status = -1;
    } else {
        sum = check_graph(s, req, err, n);
        if (sum == 0)
            status = -1;
    }
    /* Keys skewed toward 0: P(key = k) falls off as log(keyspace / k). */
    uint32_t key = mmb_rng_below(&s->rng, 1 + mmb_rng_below(&s->rng, s->keyspace));
    bool update = mmb_rng_unit(&s->rng) < 0.5;
    mmb_obj *chunk = status == 0 ? table_chunk(s, key) : NULL;
    uint32_t slot = key % CHUNK_SLOTS;
    if (status == 0 && !chunk) {
        snprintf(err, n, "request %llu: the table chunk of key %u is missing",
                 (unsigned long long)req, key);
        status = -1;
    }
    mmb_obj *e = status == 0 ? mmb_load(s->h, chunk, slot) : NULL;
    uint64_t term = 0;
    if (e) { /* a hit: read the cached value, make it most recent, maybe replace it */
        mmb_obj *v = mmb_load(s->h, e, E_VALUE);
        pair ep = read_pair(e);
        pair vp = v ? read_pair(v) : (pair){0, 0};
        if (ep.a != key || !v || vp.a == 0 || vp.a >= req) {
            snprintf(err, n,
                     "request %llu: cache entry of key %u reads key %llu, value (%llu, "
                     "%llu)",
                     (unsigned long long)req, key, (unsigned long long)ep.a,
                     (unsigned long long)vp.a, (unsigned long long)vp.b);
            status = -1;
        } else {
            term = vp.a * 3 + vp.b;
            if (mmb_load(s->h, s->sentinel, E_NEXT) != e) {
                unlink_entry(s, e);
                push_front(s, e);
            }
        }
    } else if (status == 0) { /* a miss: a new entry, most recent */
        e = new_obj(s->h, E_SLOTS, key, req);
        if (!e) {
            snprintf(err, n, "allocation failed");
            status = -1;
        } else {
            push_front(s, e);
            mmb_store(s->h, chunk, slot, e);
            mmb_decref(s->h, e);
            s->count++;
            update = true;
            term = key;
        }
    }
    if (status == 0 && update) {
        mmb_obj *v = new_obj(s->h, 0, req, sum);
        if (!v) {
            snprintf(err, n, "allocation failed");
            status = -1;
        } else {
            mmb_store(s->h, e, E_VALUE, v);
            mmb_decref(s->h, v);
        }
    }
    if (status == 0 && s->count > s->capacity)
        status = evict_lru(s, err, n);
    for (uint32_t j = 0; j < built; j++)
        mmb_decref(s->h, s->nodes[j]);
    s->checksum = s->checksum * 31 + sum + term * 2 + (update ? 1 : 0);
    return status;
}

/* Walks the LRU list: every entry's prev is the one before it and the table holds it under its
 * key; the list holds exactly `count` entries. Adds to the checksum. */
static int check_cache(server *s, char *err, size_t n) {
    mmb_obj *prev = s->sentinel;
    uint64_t seen = 0;
    for (mmb_obj *e = mmb_load(s->h, s->sentinel, E_NEXT); e != s->sentinel; seen++) {
        if (!e || seen >= s->count || mmb_load(s->h, e, E_PREV) != prev) {
            snprintf(err, n, "LRU list: entry %llu of %llu is missing or not linked back",
                     (unsigned long long)seen, (unsigned long long)s->count);
            return -1;
        }
        uint64_t key = read_pair(e).a;
        if (key >= s->keyspace ||
            mmb_load(s->h, table_chunk(s, (uint32_t)key), (uint32_t)(key % CHUNK_SLOTS)) != e) {
            snprintf(err, n, "LRU list: entry %llu (key %llu) is not in the table",
                     (unsigned long long)seen, (unsigned long long)key);
            return -1;
        }
        s->checksum = s->checksum * 31 + key;
        prev = e;
        e = mmb_load(s->h, e, E_NEXT);
    }
    if (seen != s->count || mmb_load(s->h, s->sentinel, E_PREV) != prev) {
        snprintf(err, n, "LRU list: %llu entries, %llu counted", (unsigned long long)seen,
                 (unsigned long long)s->count);
        return -1;
    }
    return 0;
}

/* The table (a directory of chunks) and the list's sentinel, pointing at itself. */
static int create_cache(server *s, char *err, size_t n) {
    uint32_t nchunks = (s->keyspace + CHUNK_SLOTS - 1) / CHUNK_SLOTS;
    s->table = mmb_alloc(s->h, nchunks, 0);
    s->sentinel = new_obj(s->h, E_SLOTS, UINT64_MAX, 0);
    if (!s->table || !s->sentinel) {
        snprintf(err, n, "allocation failed");
        return -1;
    }
    mmb_store(s->h, s->sentinel, E_PREV, s->sentinel);
    mmb_store(s->h, s->sentinel, E_NEXT, s->sentinel);
    for (uint32_t c = 0; c < nchunks; c++) {
        uint32_t len = s->keyspace - c * CHUNK_SLOTS;
        mmb_obj *chunk = mmb_alloc(s->h, len < CHUNK_SLOTS ? len : CHUNK_SLOTS, 0);
        if (!chunk) {
            snprintf(err, n, "allocation failed");
            return -1;
        }
        mmb_store(s->h, s->table, c, chunk);
        mmb_decref(s->h, chunk);
    }
    return 0;
}

/* Fills the cache to capacity with keys capacity-1 down to 0 (the most requested last, so most
 * recent), as request 1, so that the warm-up and the measured requests see a full cache. */
static int prefill_cache(server *s, char *err, size_t n) {
    uint64_t req = ++s->serial;
    for (uint64_t k = s->capacity; k-- > 0;) {
        uint32_t key = (uint32_t)k;
        mmb_obj *e = new_obj(s->h, E_SLOTS, key, req);
        mmb_obj *v = e ? new_obj(s->h, 0, req, key) : NULL;
        if (!v) {
            if (e)
                mmb_decref(s->h, e);
            snprintf(err, n, "allocation failed");
            return -1;
        }
        push_front(s, e);
        mmb_store(s->h, e, E_VALUE, v);
        mmb_store(s->h, table_chunk(s, key), key % CHUNK_SLOTS, e);
        mmb_decref(s->h, v);
        mmb_decref(s->h, e);
        s->count++;
    }
    return 0;
}

static int run(const mmb_workload_env *env, mmb_workload_result *out, char *err, size_t n) {
    double rate = env->params[P_RATE];
    uint64_t requests = (uint64_t)env->params[P_REQUESTS];
    server s = {
        .h = env->heap,
        .rng = {env->seed},
        .capacity = (uint64_t)env->params[P_CACHE],
        .keyspace = (uint32_t)(2 * env->params[P_CACHE]),
        .nodes_len = (uint32_t)env->params[P_REQUEST_OBJECTS],
        .cyclic = env->params[P_CYCLIC],
    };
    s.nodes = malloc(s.nodes_len * sizeof *s.nodes);
    if (!s.nodes) {
        snprintf(err, n, "out of memory for %u request nodes", s.nodes_len);
        return -1;
    }
    mmb_workload_phase(env, MMB_RUN_BUILD); /* the cache, its prefill and the warm-up */
    int status = create_cache(&s, err, n);
    if (status == 0)
        status = prefill_cache(&s, err, n);

    /* Warm-up: the same requests, unpaced and unreported; they time the service for rate 0.
     * A fifth of the run (at least WARMUP_REQUESTS) so that the mean includes the collector's
     * share: a few hundred requests may see no collection at all, and a rate calibrated on them
     * overloads every manager whose collections are rare but long. */
    uint64_t warmup = requests / 5 > WARMUP_REQUESTS ? requests / 5 : WARMUP_REQUESTS;
    uint64_t warm_start_ns = mmb_now_ns();
    for (uint64_t i = 0; i < warmup && status == 0; i++)
        status = serve(&s, err, n);
    uint64_t warm_ns = mmb_now_ns() - warm_start_ns;
    bool paced = rate > 0 || env->scale != MMB_SCALE_TINY;
    if (rate <= 0) {
        double mean_ns = (double)(warm_ns ? warm_ns : 1) / (double)warmup;
        rate = 0.5e9 / mean_ns;
    }
    double period_ns = 1e9 / rate;
    if (paced) { /* the load it ran at, and what calibrating it (rate 0) saw */
        out->metrics[0].name = "server_offered_requests_per_second";
        out->metrics[0].value = rate;
        out->metrics[1].name = "server_warmup_service_ns";
        out->metrics[1].value = (double)warm_ns / (double)warmup;
        out->nmetrics = 2;
    }

    mmb_workload_phase(env, MMB_RUN_STEADY); /* the measured requests */
    uint64_t t0_ns = mmb_now_ns();
    for (uint64_t i = 0; i < requests && status == 0; i++) {
        uint64_t scheduled_ns = t0_ns + (uint64_t)((double)i * period_ns);
        uint64_t start_ns = mmb_now_ns();
        if (paced && start_ns < scheduled_ns) {
            wait_until(scheduled_ns);
            start_ns = mmb_now_ns();
        } else if (!paced) {
            scheduled_ns = start_ns;
        }
        status = serve(&s, err, n);
        uint64_t end_ns = mmb_now_ns();
        if (env->on_request)
            env->on_request(env->request_ctx, scheduled_ns, start_ns, end_ns);
    }
    mmb_workload_phase(env, MMB_RUN_TEARDOWN);
    if (status == 0)
        status = check_cache(&s, err, n);
    if (s.table)
        mmb_decref(s.h, s.table);
    if (s.sentinel)
        mmb_decref(s.h, s.sentinel);
    free(s.nodes);
    return mmbw_result(out, requests, "requests", s.checksum, status);
}

const mmb_workload mmb_workload_server = {
    .name = "server",
    .family = "pause-sensitive",
    .summary = "open-loop server: paced requests build small graphs and use a managed LRU cache",
    .params = params,
    .run = run,
};
