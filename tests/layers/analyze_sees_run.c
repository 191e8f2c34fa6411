/* Must not compile: analyze/ is below run/; run's headers are not its to see. */
#include "counters.h"
