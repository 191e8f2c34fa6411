/* The monotonic clock every layer times with (managers' pauses, workloads' request schedules,
 * the harness's cells): one definition, so all of them read the same clock. */
#ifndef MMBENCH_CLOCK_H
#define MMBENCH_CLOCK_H

#include <stdint.h>
#include <time.h>

#ifndef CLOCK_MONOTONIC
/* clock_gettime is POSIX: build with -D_POSIX_C_SOURCE=200809L (mmbench::sdk and mmbench-sdk.pc
 * add it). */
#error "mmbench/clock.h needs _POSIX_C_SOURCE >= 199309L for CLOCK_MONOTONIC"
#endif

/* CLOCK_MONOTONIC in nanoseconds. */
static inline uint64_t mmb_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
