/* Managers named on the command line: a registered name, "all", "external", or a plug-in (a shared
 * library exporting mmbench_plugin, include/mmbench/plugin.h) loaded, checked and registered here.
 * Used by every command that takes --manager (run, replay, stress, list, conform). */
#ifndef MMB_PLUGINS_H
#define MMB_PLUGINS_H

#include <stdbool.h>
#include <stddef.h>

#include "mmbench/plugin.h"

/* A plug-in loaded by this process. */
typedef struct mmb_plugin_loaded {
    const char *path; /* absolute, symbolic links resolved */
    char fnv1a64[17]; /* 64-bit FNV-1a of the file's bytes, 16 lower-case hex digits */
    const mmb_plugin *plugin;
} mmb_plugin_loaded;

/* Whether a --manager spec names a plug-in: it holds a '/' or its path (before any ":NAME") ends
 * in ".so". */
bool mmb_manager_spec_is_plugin(const char *spec);

/* Resolves one --manager spec, appending to out[*n..max): a registered name gives it, "all" every
 * registered manager but the external ones, "external" the external ones that were built, PATH
 * every manager of the plug-in at PATH and PATH:NAME its manager NAME.
 * A plug-in is loaded (dlopen RTLD_NOW | RTLD_LOCAL) and checked whole before any of its managers
 * is registered (mmb_manager_register), so later lookups by name find them; loading the same file
 * again reuses it. Returns 0, or -1 with one line in err saying what is wrong (unknown names with
 * a hint listing the registered ones). */
int mmb_manager_resolve(const char *spec, const mmb_manager **out, size_t *n, size_t max, char *err,
                        size_t err_bytes);
/* What mmb_manager_resolve returns for the name of an external manager that was not built (err:
 * "NAME is not built here: it needs PACKAGES (hint: MMB_NOT_BUILT_HINT)"). */
#define MMB_RESOLVE_NOT_BUILT (-2)

/* How an external manager that was not built gets built: its packages are looked for when the
 * build is configured (pkg-config, find_library), so after installing them the build must be
 * configured again; a plain `cmake --build` would not look. */
#define MMB_NOT_BUILT_HINT                                                                         \
    "run ci/deps as root, then reconfigure and rebuild: cmake --preset release && cmake --build "  \
    "--preset release"

/* The --manager flags of a command, as every command resolves them: each spec a comma-separated
 * list of names, plug-ins, `all` (the bundled managers, and any registered at run time: every
 * manager but the external ones) and `external` (the external managers that were built), each
 * of those two adding a manager at most once. Sets out[0..*n). Returns EXIT_OK, or EXIT_USAGE
 * after printing the one error line, "mmbench: error: CMD: ...": an unbuilt external manager
 * named is "mmbench: error: CMD: --manager: NAME is not built here: it needs PACKAGES (hint:
 * ...)", and `external` alone when none was built "mmbench: error: CMD: --manager: no external
 * manager is built here: NAME needs PACKAGES, ... (hint: ...)". */
int mmb_manager_resolve_cli(const char *cmd, const char *const *specs, size_t nspecs,
                            const mmb_manager **out, size_t *n, size_t max);

/* Checks a manager's table as a plug-in's is checked: a name (letters, digits, '-', '_', '.'), a
 * summary, the required operations (create, destroy, alloc, incref, decref, store, collect,
 * stats), collect_young exactly when MMB_CAP_YOUNG, thread_attach/thread_detach both or neither
 * and only with MMB_CAP_THREAD_SAFE, at most MMB_MAX_OPTIONS options, each named once (the common
 * options' names included), with a help line, min <= max and its default in [min, max]. Returns
 * 0, or -1 with one line in err. Does not check the name against the registry. */
int mmb_manager_check(const mmb_manager *m, char *err, size_t err_bytes);

/* The plug-ins loaded so far, in load order. */
size_t mmb_plugin_count(void);
const mmb_plugin_loaded *mmb_plugin_at(size_t index);
/* The plug-in m came from; NULL for a bundled (or test-registered) manager. */
const mmb_plugin_loaded *mmb_plugin_of(const mmb_manager *m);

#endif
