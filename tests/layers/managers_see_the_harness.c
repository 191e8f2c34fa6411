/* Must not compile: a manager never includes the harness. */
#include "diag.h"
