/* Must not compile: analyze/ reads results JSON only and cannot see a manager's internals. */
#include "internal.h"
