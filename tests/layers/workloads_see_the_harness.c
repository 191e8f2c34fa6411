/* Must not compile: a workload sees the manager contract and workload.h, never the harness. */
#include "recorder.h"
