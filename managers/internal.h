/* The bundled managers' view of the helpers they share: the public SDK (mmbench/sdk.h), the same
 * header a plug-in built outside the tree includes, so that nothing a bundled manager relies on
 * is out of a plug-in's reach. Nothing is private here today; what only bundled managers may
 * share goes below the include. See managers/README.md. */
#ifndef MMB_MANAGERS_INTERNAL_H
#define MMB_MANAGERS_INTERNAL_H

#include <stdio.h>

#include "mmbench/sdk.h"

#endif
