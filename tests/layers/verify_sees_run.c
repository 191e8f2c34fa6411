/* Must not compile: verify/ is below run/ (run --verify uses the oracle, not the other way). */
#include "run.h"
