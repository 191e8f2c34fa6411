/* Must not compile: run/ sees managers only through the contract (mmbench/manager.h). */
#include "internal.h"
