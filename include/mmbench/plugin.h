/* A plug-in: a shared library exporting mmbench_plugin, which returns its managers. */
#ifndef MMBENCH_PLUGIN_H
#define MMBENCH_PLUGIN_H
#include <stddef.h>
#include "mmbench/manager.h"
typedef struct mmb_plugin {
    int abi_version;     /* MMB_ABI_VERSION the plug-in was built against */
    const char *name;    /* the plug-in's name */
    const char *version; /* its own version string, or NULL */
    const mmb_manager *const *managers;
    size_t count;
} mmb_plugin;
#define MMB_PLUGIN_SYMBOL "mmbench_plugin"
/* Returns the plug-in's managers for the harness's ABI version; NULL when it cannot serve it. */
const mmb_plugin *mmbench_plugin(int abi_version);
#endif
