/* Must compile: the control case, analyze/ with what it may see (its own headers and core/). */
#include "metrics.h"
#include "table.h"

int mmb_layer_probe(void);
int mmb_layer_probe(void) {
    return mmb_metric_find("pause_max_ns") != 0;
}
