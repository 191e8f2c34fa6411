/* The monotonic clock every layer times with (managers' pauses, workloads' request schedules,
 * the harness's cells): one definition, so all of them read the same clock. */
#ifndef MMBENCH_CLOCK_H
#define MMBENCH_CLOCK_H

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC in nanoseconds. */
static inline uint64_t mmb_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
