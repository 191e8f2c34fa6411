/* rings: rings of k one-slot nodes made and dropped one at a time, as pyperformance's gc_collect
 * benchmark does; a fraction is closed into a cycle (only a cycle collector reclaims those), the
 * rest are chains that refcounting frees. Each node carries its serial; a ring is walked and its
 * serials checked before it is dropped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload_internal.h"

enum { P_RING_SIZE, P_RINGS, P_CYCLIC };

static const mmb_param_spec params[] = {
    {"ring-size", true, {2, 2, 2, 2}, 1, 1 << 24, "nodes per ring"},
    {"rings", true, {2e3, 1e6, 5e6, 2e7}, 1, 1e12, "rings made and dropped"},
    {"cyclic-fraction",
     false,
     {1, 1, 1, 1},
     0,
     1,
     "fraction of rings closed into a cycle; the rest are chains freed by refcounting"},
    {NULL, false, {0}, 0, 0, NULL},
};

/* Walks the ring from head: k nodes with serials first..first+k-1, then head again (cyclic) or
 * NULL (a chain). Adds the serials to *sum. */
static int check_ring(mmb_heap *h, mmb_obj *head, uint64_t k, uint64_t first, bool cyclic,
                      uint64_t *sum, char *err, size_t n) {
    mmb_obj *cur = head;
    for (uint64_t j = 0; j < k; j++) {
        if (!cur) {
            snprintf(err, n, "ring of object %llu: ends after %llu of %llu nodes",
                     (unsigned long long)first, (unsigned long long)j, (unsigned long long)k);
            return -1;
        }
        uint64_t got = mmbw_read_u64(cur);
        if (got != first + j) {
            snprintf(err, n, "ring of object %llu: node %llu reads serial %llu, expected %llu",
                     (unsigned long long)first, (unsigned long long)j, (unsigned long long)got,
                     (unsigned long long)(first + j));
            return -1;
        }
        *sum += got;
        cur = mmb_load(h, cur, 0);
    }
    if (cur != (cyclic ? head : NULL)) {
        snprintf(err, n, "ring of object %llu: last node's slot 0 %s", (unsigned long long)first,
                 cyclic ? "does not point back at the first" : "is not null");
        return -1;
    }
    return 0;
}

static int run(const mmb_workload_env *env, mmb_workload_result *out, char *err, size_t n) {
    mmb_heap *h = env->heap;
    uint64_t k = (uint64_t)env->params[P_RING_SIZE];
    uint64_t rings = (uint64_t)env->params[P_RINGS];
    double cyclic_fraction = env->params[P_CYCLIC];
    mmb_rng rng = {env->seed};
    uint64_t serial = 1, checksum = 0;
    int status = 0;
    for (uint64_t r = 0; r < rings && status == 0; r++) {
        bool cyclic = mmb_rng_unit(&rng) < cyclic_fraction;
        uint64_t first = serial;
        /* The mutator holds head and, once there is one, the last node. */
        mmb_obj *head = mmb_alloc(h, 1, sizeof serial);
        if (!head) {
            snprintf(err, n, "allocation failed");
            return -1;
        }
        memcpy(mmb_payload(head), &serial, sizeof serial);
        serial++;
        mmb_obj *last = head;
        for (uint64_t j = 1; j < k; j++) {
            mmb_obj *node = mmb_alloc(h, 1, sizeof serial);
            if (!node) {
                snprintf(err, n, "allocation failed");
                status = -1;
                break;
            }
            memcpy(mmb_payload(node), &serial, sizeof serial);
            serial++;
            mmb_store(h, last, 0, node);
            if (last != head)
                mmb_decref(h, last);
            last = node;
        }
        uint64_t sum = 0;
        if (status == 0) {
            if (cyclic)
                mmb_store(h, last, 0, head);
            status = check_ring(h, head, k, first, cyclic, &sum, err, n);
        }
        checksum = checksum * 31 + sum * 2 + (cyclic ? 1 : 0);
        if (last != head)
            mmb_decref(h, last);
        mmb_decref(h, head);
    }
    return mmbw_result(out, rings * k, "objects", checksum, status);
}

const mmb_workload mmb_workload_rings = {
    .name = "rings",
    .family = "cycle-heavy",
    .summary = "rings of ring-size nodes made and dropped, most closed into cycles (gc_collect)",
    .params = params,
    .run = run,
};
