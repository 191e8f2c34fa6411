/* churn: allocate and drop small objects through a small live window, the allocation and
 * refcount fast paths. Each object carries its serial number and, in slot 0, maybe a reference
 * to an older object of the window; both are read back when it leaves the window. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "churn.h"

enum { P_OBJECTS, P_WINDOW, P_LINK };

static const mmb_param_spec params[] = {
    {"objects", true, {2e4, 2e6, 2e7, 2e8}, 1, 1e12, "objects allocated in all"},
    {"window", true, {64, 256, 1024, 1024}, 1, 1 << 24, "objects live at once"},
    {"link-fraction",
     false,
     {0.5, 0.5, 0.5, 0.5},
     0,
     1,
     "fraction of objects with slots that point at an older live object"},
    {NULL, false, {0}, 0, 0, NULL},
};

/* What the window remembers of each entry, to check it against the heap. */
typedef struct entry {
    mmb_obj *obj;
    uint64_t serial;
    uint64_t target_serial; /* serial of what slot 0 points at, or 0 */
    uint32_t payload;
} entry;

static uint64_t read_serial(mmb_obj *o, uint32_t payload) {
    uint64_t v = 0;
    if (payload >= sizeof v)
        memcpy(&v, mmb_payload(o), sizeof v);
    return v;
}

int mmb_churn_window(mmb_heap *h, mmb_rng *rng_io, uint64_t objects, uint32_t window, double link,
                     uint64_t serial_base, uint64_t *checksum, char *err, size_t n) {
    /* Locals, not the callers' objects: the manager calls are opaque, so state reached through
     * a pointer would be stored and reloaded around every one of them. */
    mmb_rng rng = *rng_io;
    uint64_t sum = *checksum;
    entry *win = calloc(window, sizeof *win);
    if (!win) {
        snprintf(err, n, "out of memory for a window of %u", window);
        return -1;
    }
    int status = 0;
    for (uint64_t i = 1; i <= objects + window && status == 0; i++) {
        entry *e = &win[mmb_rng_below(&rng, window)];
        if (e->obj) {
            /* Check what leaves the window: its own serial, and its slot 0's target's. */
            uint64_t got = read_serial(e->obj, e->payload);
            if (e->payload >= 8 && got != e->serial) {
                snprintf(err, n, "object %#llx: payload reads %#llx", (unsigned long long)e->serial,
                         (unsigned long long)got);
                status = -1;
                break;
            }
            if (e->target_serial) {
                mmb_obj *t = mmb_load(h, e->obj, 0);
                if (!t || read_serial(t, 16) != e->target_serial) {
                    snprintf(err, n, "object %#llx: slot 0 no longer points at object %#llx",
                             (unsigned long long)e->serial, (unsigned long long)e->target_serial);
                    status = -1;
                    break;
                }
            }
            sum = sum * 31 + e->serial + e->target_serial;
            mmb_decref(h, e->obj);
            e->obj = NULL;
        }
        if (i > objects)
            continue; /* draining the window */
        uint32_t nslots = mmb_rng_below(&rng, 5);
        uint32_t payload = 8 * mmb_rng_below(&rng, 9);
        mmb_obj *o = mmb_alloc(h, nslots, payload);
        if (!o) {
            snprintf(err, n, "allocation failed");
            status = -1;
            break;
        }
        uint64_t serial = serial_base | i;
        if (payload >= 8)
            memcpy(mmb_payload(o), &serial, sizeof serial);
        *e = (entry){.obj = o, .serial = serial, .payload = payload};
        if (nslots && mmb_rng_unit(&rng) < link) {
            /* Point at another live entry with a readable serial, older by construction. */
            entry *t = &win[mmb_rng_below(&rng, window)];
            if (t->obj && t != e && t->payload >= 16) {
                mmb_store(h, o, 0, t->obj);
                e->target_serial = t->serial;
            }
        }
    }
    for (uint32_t k = 0; k < window; k++)
        if (win[k].obj)
            mmb_decref(h, win[k].obj);
    free(win);
    *rng_io = rng;
    *checksum = sum;
    return status;
}

static int run(const mmb_workload_env *env, mmb_workload_result *out, char *err, size_t n) {
    mmb_rng rng = {env->seed};
    uint64_t objects = (uint64_t)env->params[P_OBJECTS];
    out->checksum = 0;
    int status = mmb_churn_window(env->heap, &rng, objects, (uint32_t)env->params[P_WINDOW],
                                  env->params[P_LINK], 0, &out->checksum, err, n);
    out->work_units = objects;
    out->unit = "objects";
    return status;
}

const mmb_workload mmb_workload_churn = {
    .name = "churn",
    .family = "many-small",
    .summary = "allocate and drop small objects (0-4 slots, 0-64 payload bytes) in a small window",
    .params = params,
    .run = run,
};
