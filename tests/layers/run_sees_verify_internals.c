/* Must not compile: run/ uses verify/'s interface (oracle.h, trace.h), not its internals. */
#include "verify_cli.h"
