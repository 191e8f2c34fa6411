/* A manager that corrupts the graph while keeping its counts consistent, for the workloads'
 * self-checks to catch (workloads.c, threaded_workloads.c). */
#ifndef MMB_TEST_CORRUPT_MANAGER_H
#define MMB_TEST_CORRUPT_MANAGER_H

#include "mmbench/manager.h"

/* rc, named "corrupt", but stores go into the next slot where there is one, and every 7th store
 * flips a bit of the target's payload. No memory error happens; only a workload's self-check can
 * notice. Its store count is atomic: behind a lock it may serve several threads. */
mmb_manager mmb_test_corrupt_manager(void);

#endif
