/* The churn loop (churn.c), which parallel-churn runs on every worker. */
#ifndef MMB_WORKLOADS_CHURN_H
#define MMB_WORKLOADS_CHURN_H

#include "workload.h"

/* Allocates `objects` small objects (0-4 slots, 0-64 payload bytes) drawn from rng through a
 * window of `window` live ones; a fraction `link` of those with slots points slot 0 at an older
 * live object. Each object's serial (serial_base | its place in the sequence, from 1) is in its
 * payload and read back, with its slot 0's target's, when it leaves the window; both are folded
 * into *checksum. Drops everything before returning. Returns 0, or -1 with a reason in err when
 * a read-back differs (the manager corrupted the heap) or an allocation fails. */
int mmb_churn_window(mmb_heap *h, mmb_rng *rng, uint64_t objects, uint32_t window, double link,
                     uint64_t serial_base, uint64_t *checksum, char *err, size_t n);

#endif
