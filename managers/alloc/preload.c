/* The preloaded allocators' shared part (preload.h). */
#include "preload.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *mmb_preload_check(const char *name, const char *symbol, const char *soname, char *err,
                        size_t err_bytes) {
    const char *preload = getenv("LD_PRELOAD");
    void *entry = dlsym(RTLD_DEFAULT, symbol);
    if (!entry) {
        snprintf(err, err_bytes,
                 "%s is not in use in this process: %s() is not found (LD_PRELOAD=%s); the "
                 "cell would have measured glibc's malloc",
                 name, symbol, preload ? preload : "(unset)");
        return NULL;
    }
    Dl_info info;
    void *m = dlsym(RTLD_DEFAULT, "malloc");
    if (!m || !dladdr(m, &info) || !info.dli_fname || !strstr(info.dli_fname, soname)) {
        snprintf(err, err_bytes,
                 "%s is loaded but malloc comes from %s, not %s; the cell would have measured "
                 "another malloc",
                 name, m && info.dli_fname ? info.dli_fname : "(unknown)", soname);
        return NULL;
    }
    return entry;
}
