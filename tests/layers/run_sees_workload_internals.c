/* Must not compile: the workloads' shared helpers are theirs; the harness sees workload.h. */
#include "workload_internal.h"
