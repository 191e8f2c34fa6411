/* Must compile: the control case, run/ with the contract, workloads, measure and verify. */
#include "mmbench/manager.h"
#include "oracle.h"
#include "recorder.h"
#include "workload.h"

int mmb_layer_probe(void);
int mmb_layer_probe(void) {
    return MMB_EVENT_KIND_COUNT;
}
