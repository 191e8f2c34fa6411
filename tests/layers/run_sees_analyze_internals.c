/* Must not compile: run/ uses analyze/'s interface (table.h, results.h), not report's model. */
#include "report_model.h"
