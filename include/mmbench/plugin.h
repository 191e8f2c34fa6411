/* The plug-in entry point: a shared library that serves managers to mmbench exports one function,
 * mmbench_plugin, found by name (MMB_PLUGIN_SYMBOL). Design notes: managers/README.md. */
#ifndef MMB_PLUGIN_H
#define MMB_PLUGIN_H

#include <stddef.h>

#include "mmbench/manager.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a plug-in serves: its managers, valid for as long as the library stays loaded. */
typedef struct mmb_plugin {
    int abi_version;                    /* MMB_ABI_VERSION the plug-in was built against */
    const char *name;                   /* the plug-in's name, for messages */
    const char *version;                /* the plug-in's own version string; NULL when none */
    const mmb_manager *const *managers; /* `count` managers, each with its option table */
    size_t count;
} mmb_plugin;

/* The name mmbench looks up with dlsym. */
#define MMB_PLUGIN_SYMBOL "mmbench_plugin"

/* The entry point: returns the plug-in's managers for `abi_version` (mmbench's MMB_ABI_VERSION),
 * or NULL when it cannot serve that ABI. */
const mmb_plugin *mmbench_plugin(int abi_version);

#ifdef __cplusplus
}
#endif

#endif
