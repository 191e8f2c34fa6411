/* Helpers shared by the bundled workloads; the harness never includes this (workload.h is the
 * contract it sees). */
#ifndef MMB_WORKLOAD_INTERNAL_H
#define MMB_WORKLOAD_INTERNAL_H

#include <string.h>

#include "workload.h"

/* The first 8 payload bytes of o, where most workloads keep a serial (payload_bytes >= 8). */
static inline uint64_t mmbw_read_u64(mmb_obj *o) {
    uint64_t v;
    memcpy(&v, mmb_payload(o), sizeof v);
    return v;
}

/* A run's result: work_units of `unit` (what throughput counts) and the self-check's checksum.
 * Returns status, so that a run ends `return mmbw_result(out, ..., status);`. */
static inline int mmbw_result(mmb_workload_result *out, uint64_t work_units, const char *unit,
                              uint64_t checksum, int status) {
    out->work_units = work_units;
    out->unit = unit;
    out->checksum = checksum;
    return status;
}

#endif
