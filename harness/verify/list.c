/* mmbench list (verify_commands.h): the registered managers and workloads. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "alloc_registry.h"
#include "diag.h"
#include "mmbench/manager.h"
#include "plugins.h"
#include "verify_cli.h"
#include "verify_commands.h"
#include "workload.h"

static const char list_help[] =
    "usage: mmbench list [--manager LIST]\n"
    "\n"
    "Lists the managers (capabilities, options with defaults, the common options) and the\n"
    "workloads (family, parameters with their defaults at each scale). External managers (real\n"
    "runtimes) show their library's version; each one not built gets a note naming its Debian\n"
    "packages. --manager lists only those managers (default: all,external; all alone: the\n"
    "bundled ones); a plug-in's are loaded and checked first, and show where they came from.\n";

static void print_caps(unsigned caps) {
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {{MMB_CAP_REFCOUNT, "refcount"},
                 {MMB_CAP_CYCLES, "cycles"},
                 {MMB_CAP_YOUNG, "young"},
                 {MMB_CAP_THREAD_SAFE, "thread-safe"},
                 {MMB_CAP_INCREMENTAL, "incremental"},
                 {MMB_CAP_FINALIZERS, "finalizers"},
                 {MMB_CAP_OWN_MEMORY, "own-memory"},
                 {MMB_CAP_CONSERVATIVE, "conservative"}};
    bool any = false;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (caps & names[i].bit) {
            printf("%s%s", any ? ", " : "", names[i].name);
            any = true;
        }
    printf("%s\n", any ? "" : "-");
}

static void print_option(const mmb_option_spec *o) {
    char def[32];
    if (o->type == MMB_OPT_BOOL)
        snprintf(def, sizeof def, "%s", o->default_value ? "true" : "false");
    else
        snprintf(def, sizeof def, "%" PRId64, o->default_value);
    printf("    %-20s default %-10s %s\n", o->name, def, o->help);
}

/* `notes`: a line for each external manager that was not built. */
static void print_managers(const mmb_manager *const *list, size_t count, bool notes) {
    printf("managers:\n");
    int width = 12; /* the names' column: the longest name's width, at least 12 */
    for (size_t i = 0; i < count; i++)
        if ((int)strlen(list[i]->name) > width)
            width = (int)strlen(list[i]->name);
    for (size_t i = 0; i < count; i++) {
        const mmb_manager *m = list[i];
        printf("  %-*s %s\n", width, m->name, m->summary);
        if (mmb_manager_is_external(m)) {
            const char *v = mmb_manager_version(m);
            printf("    %-20s version %s\n", "external", v && *v ? v : "unknown");
        }
        const mmb_plugin_loaded *p = mmb_plugin_of(m);
        if (p)
            printf("    %-20s %s (%s %s, fnv1a64 %s)\n", "plug-in", p->path, p->plugin->name,
                   p->plugin->version ? p->plugin->version : "-", p->fnv1a64);
        printf("    %-20s ", "capabilities");
        print_caps(m->caps);
        for (const mmb_option_spec *o = m->options; o && o->name; o++)
            print_option(o);
    }
    const char *name, *packages;
    for (size_t i = 0; notes && mmb_manager_missing_at(i, &name, &packages) == 0; i++)
        printf("  %s: not built (needs %s; ci/deps installs it, then reconfigure and rebuild: "
               "cmake --preset release && cmake --build --preset release)\n",
               name, packages);
    printf("common options (every manager):\n");
    for (const mmb_option_spec *o = mmb_common_options; o->name; o++)
        print_option(o);
}

static void print_workloads(void) {
    printf("\nworkloads (families: ");
    for (size_t i = 0; mmb_families[i]; i++)
        printf("%s%s", i ? ", " : "", mmb_families[i]);
    printf("):\n");
    for (size_t i = 0; i < mmb_workload_count(); i++) {
        const mmb_workload *w = mmb_workload_at(i);
        printf("  %-14s %-16s %s\n", w->name, w->family, w->summary);
        for (const mmb_param_spec *ps = w->params; ps && ps->name; ps++) {
            printf("    %-20s", ps->name);
            for (int s = 0; s < MMB_SCALE_COUNT; s++)
                printf(" %s %-8g", mmb_scale_names[s], ps->defaults[s]);
            printf(" %s\n", ps->help);
        }
    }
}

/* The allocators of run's --allocator: each of managers/alloc/list.h, available here or not and
 * why, with how it is attached. */
static void print_allocators(void) {
    static const char *const attach[] = {"builtin", "api", "preload"};
    printf("\nallocators (run --allocator):\n");
    for (size_t i = 0; i < mmb_alloc_count(); i++) {
        const char *why = NULL;
        const mmb_alloc_impl *a = mmb_alloc_impl_at(i, &why);
        if (!a) {
            printf("  %-14s not available here: %s\n", mmb_alloc_name_at(i), why);
            continue;
        }
        const char *library = mmb_alloc_preload_path(a);
        printf("  %-14s %-8s %s\n", a->name, attach[a->attach], a->summary);
        if (library)
            printf("    %-20s %s\n", "library", library);
    }
}

int mmb_list_main(int argc, char **argv) {
    mmb_verify_flags f = {0};
    int operands = argc;
    int status = mmb_verify_flags_parse("list", MMB_VERIFY_LIST, argc, argv, &f, &operands);
    if (status == MMB_FLAGS_HELP) {
        mmb_verify_flags_free(&f);
        fputs(list_help, stdout);
        return EXIT_OK;
    }
    const mmb_manager *list[MMB_VERIFY_MAX_MANAGERS];
    size_t count = 0;
    if (status == EXIT_OK && operands < argc)
        status = mmb_usage_error("list", "mmbench list --help", "unexpected argument '%s'",
                                 argv[operands]);
    const char *spec = f.manager ? f.manager : "all,external";
    if (status == EXIT_OK)
        status = mmb_manager_resolve_cli("list", &spec, 1, list, &count, MMB_VERIFY_MAX_MANAGERS);
    if (status != EXIT_OK) {
        mmb_verify_flags_free(&f);
        return status;
    }
    /* The notes go with the external managers: by default, or when they are asked for. */
    bool notes = !f.manager || strstr(f.manager, "external");
    print_managers(list, count, notes);
    mmb_verify_flags_free(&f);
    print_workloads();
    print_allocators();
    return EXIT_OK;
}
