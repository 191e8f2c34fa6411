/* Plug-in managers (plugins.h): loaded with dlopen, every table checked before anything runs,
 * then registered beside the bundled managers. A plug-in is never unloaded: its managers must
 * outlive the registry. Design: include/mmbench/plugin.h. */
#include "plugins.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "mmbench/names.h"

#define MAX_PLUGINS 16

static mmb_plugin_loaded loaded[MAX_PLUGINS];
static size_t nloaded;

/* Formats into err and returns -1: the one failure path of this file. */
__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t err_bytes, const char *fmt,
                                                      ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_bytes, fmt, ap);
    va_end(ap);
    return -1;
}

bool mmb_manager_spec_is_plugin(const char *spec) {
    if (strchr(spec, '/'))
        return true;
    size_t len = strcspn(spec, ":");
    return len >= 3 && strncmp(spec + len - 3, ".so", 3) == 0;
}

static bool name_ok(const char *name) {
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '-' || *c == '_' || *c == '.'))
            return false;
    return true;
}

static bool option_named(const mmb_option_spec *table, size_t before, const char *name) {
    for (size_t i = 0; table && i < before && table[i].name; i++)
        if (strcmp(table[i].name, name) == 0)
            return true;
    return false;
}

static int check_options(const mmb_manager *m, char *err, size_t err_bytes) {
    size_t count = 0;
    for (const mmb_option_spec *o = m->options; o && o->name; o++, count++) {
        if (count == MMB_MAX_OPTIONS)
            return fail(err, err_bytes, "manager '%s' has more than %d options", m->name,
                        MMB_MAX_OPTIONS);
        const char *what = NULL;
        if (!*o->name)
            what = "has an empty name";
        else if (option_named(m->options, count, o->name))
            what = "is declared twice";
        else if (option_named(mmb_common_options, SIZE_MAX, o->name))
            what = "has the name of a common option";
        else if (!o->help)
            what = "has no help line";
        else if (o->type != MMB_OPT_INT && o->type != MMB_OPT_BYTES && o->type != MMB_OPT_BOOL)
            what = "has an unknown type";
        else if (o->type == MMB_OPT_BOOL && o->default_value != 0 && o->default_value != 1)
            what = "is a bool whose default is neither 0 nor 1";
        else if (o->type != MMB_OPT_BOOL && o->min > o->max)
            what = "has min > max";
        else if (o->type != MMB_OPT_BOOL &&
                 (o->default_value < o->min || o->default_value > o->max))
            what = "has its default outside its own [min, max]";
        if (what)
            return fail(err, err_bytes, "manager '%s': option '%s' %s", m->name, o->name, what);
    }
    return 0;
}

int mmb_manager_check(const mmb_manager *m, char *err, size_t err_bytes) {
    if (!m)
        return fail(err, err_bytes, "a manager table is NULL");
    if (!m->name || !*m->name)
        return fail(err, err_bytes, "a manager has no name");
    if (!name_ok(m->name))
        return fail(err, err_bytes,
                    "manager name '%s' has characters other than letters, digits, '-', '_', '.'",
                    m->name);
    static const struct {
        size_t offset;
        const char *name;
    } required[] = {
        {offsetof(mmb_manager, create), "create"},   {offsetof(mmb_manager, destroy), "destroy"},
        {offsetof(mmb_manager, alloc), "alloc"},     {offsetof(mmb_manager, incref), "incref"},
        {offsetof(mmb_manager, decref), "decref"},   {offsetof(mmb_manager, store), "store"},
        {offsetof(mmb_manager, collect), "collect"}, {offsetof(mmb_manager, stats), "stats"},
    };
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        void (*op)(void);
        memcpy(&op, (const char *)m + required[i].offset, sizeof op);
        if (!op)
            return fail(err, err_bytes, "manager '%s' has no %s operation (it is required)",
                        m->name, required[i].name);
    }
    if (!m->summary)
        return fail(err, err_bytes, "manager '%s' has no summary line", m->name);
    if (!m->collect_young != !(m->caps & MMB_CAP_YOUNG))
        return fail(err, err_bytes,
                    "manager '%s': collect_young is %s but MMB_CAP_YOUNG is %s (both or neither)",
                    m->name, m->collect_young ? "set" : "NULL",
                    (m->caps & MMB_CAP_YOUNG) ? "claimed" : "not claimed");
    if (!m->thread_attach != !m->thread_detach)
        return fail(err, err_bytes, "manager '%s' has only one of thread_attach and thread_detach",
                    m->name);
    if (m->thread_attach && !(m->caps & MMB_CAP_THREAD_SAFE))
        return fail(err, err_bytes,
                    "manager '%s' has thread_attach but does not claim MMB_CAP_THREAD_SAFE",
                    m->name);
    return check_options(m, err, err_bytes);
}

/* 64-bit FNV-1a of the file's bytes, as 16 hex digits. */
static int hash_file(const char *path, char hex[17], char *err, size_t err_bytes) {
    FILE *in = fopen(path, "rb");
    if (!in)
        return fail(err, err_bytes, "%s: cannot open: %s", path, strerror(errno));
    uint64_t h = 0xcbf29ce484222325ull;
    unsigned char buf[65536];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, in)) > 0)
        for (size_t i = 0; i < got; i++)
            h = (h ^ buf[i]) * 0x100000001b3ull;
    bool bad = ferror(in);
    fclose(in);
    if (bad)
        return fail(err, err_bytes, "%s: cannot read", path);
    snprintf(hex, 17, "%016llx", (unsigned long long)h);
    return 0;
}

/* Every manager of the plug-in checked, against each other and the registry, before any is
 * registered. */
static int check_plugin(const char *path, const mmb_plugin *p, char *err, size_t err_bytes) {
    if (p->abi_version != MMB_ABI_VERSION)
        return fail(err, err_bytes,
                    "%s: built for ABI version %d, this mmbench has ABI version %d (hint: rebuild "
                    "it against this mmbench's SDK)",
                    path, p->abi_version, MMB_ABI_VERSION);
    if (!p->name || !p->managers || p->count == 0)
        return fail(err, err_bytes, "%s: the plug-in has %s", path,
                    !p->name ? "no name" : "no managers");
    char why[512];
    for (size_t i = 0; i < p->count; i++) {
        const mmb_manager *m = p->managers[i];
        if (mmb_manager_check(m, why, sizeof why) != 0)
            return fail(err, err_bytes, "%s: %s", path, why);
        for (size_t k = 0; k < i; k++)
            if (strcmp(p->managers[k]->name, m->name) == 0)
                return fail(err, err_bytes, "%s: two managers are named '%s'", path, m->name);
        if (mmb_manager_find(m->name))
            return fail(err, err_bytes,
                        "%s: manager '%s' has the name of a registered manager (hint: rename it)",
                        path, m->name);
    }
    return 0;
}

/* Loads (or finds already loaded) the plug-in at path. */
static const mmb_plugin_loaded *load(const char *path, char *err, size_t err_bytes) {
    char abs[PATH_MAX];
    if (!realpath(path, abs))
        return fail(err, err_bytes, "%s: cannot open: %s", path, strerror(errno)), NULL;
    for (size_t i = 0; i < nloaded; i++)
        if (strcmp(loaded[i].path, abs) == 0)
            return &loaded[i];
    if (nloaded == MAX_PLUGINS)
        return fail(err, err_bytes, "%s: more than %d plug-ins", path, MAX_PLUGINS), NULL;
    mmb_plugin_loaded l = {0};
    if (hash_file(abs, l.fnv1a64, err, err_bytes) != 0)
        return NULL;
    void *handle = dlopen(abs, RTLD_NOW | RTLD_LOCAL);
    if (!handle)
        return fail(err, err_bytes, "%s: cannot load as a shared library: %s", path, dlerror()),
               NULL;
    const mmb_plugin *(*entry)(int);
    void *sym = dlsym(handle, MMB_PLUGIN_SYMBOL);
    memcpy(&entry, &sym, sizeof entry);
    if (!entry) {
        dlclose(handle);
        return fail(err, err_bytes, "%s: not an mmbench plug-in (no symbol %s)", path,
                    MMB_PLUGIN_SYMBOL),
               NULL;
    }
    l.plugin = entry(MMB_ABI_VERSION);
    if (!l.plugin) {
        dlclose(handle);
        return fail(err, err_bytes, "%s: %s(%d) returned NULL: it cannot serve ABI version %d",
                    path, MMB_PLUGIN_SYMBOL, MMB_ABI_VERSION, MMB_ABI_VERSION),
               NULL;
    }
    if (check_plugin(path, l.plugin, err, err_bytes) != 0) {
        dlclose(handle);
        return NULL;
    }
    for (size_t i = 0; i < l.plugin->count; i++)
        if (mmb_manager_register(l.plugin->managers[i]) != 0)
            return fail(err, err_bytes, "%s: the registry is full", path), NULL;
    l.path = strdup(abs);
    if (!l.path)
        mmb_out_of_memory(strlen(abs) + 1);
    loaded[nloaded] = l;
    return &loaded[nloaded++];
}

static int resolve_plugin(const char *spec, const mmb_manager **out, size_t *n, size_t max,
                          char *err, size_t err_bytes) {
    char path[PATH_MAX];
    const char *colon = strrchr(spec, ':');
    const char *name = colon && !strchr(colon, '/') ? colon + 1 : NULL;
    size_t len = name ? (size_t)(colon - spec) : strlen(spec);
    if (len >= sizeof path)
        return fail(err, err_bytes, "%.64s...: path too long", spec);
    memcpy(path, spec, len);
    path[len] = '\0';
    const mmb_plugin_loaded *l = load(path, err, err_bytes);
    if (!l)
        return -1;
    size_t before = *n;
    for (size_t i = 0; i < l->plugin->count; i++) {
        const mmb_manager *m = l->plugin->managers[i];
        if (name && strcmp(m->name, name) != 0)
            continue;
        if (*n == max)
            return fail(err, err_bytes, "more than %zu managers", max);
        out[(*n)++] = m;
    }
    if (*n == before) {
        char names[512] = "";
        size_t used = 0;
        for (size_t i = 0; i < l->plugin->count; i++)
            mmb_names_append(names, sizeof names, &used, l->plugin->managers[i]->name);
        return fail(err, err_bytes, "%s has no manager '%s' (hint: it has: %s)", path, name, names);
    }
    return 0;
}

/* Appends every registered manager that is (external) or is not (!external) an external one,
 * each once. */
static void add_group(bool external, const mmb_manager **out, size_t *n, size_t max) {
    for (size_t i = 0; i < mmb_manager_count() && *n < max; i++) {
        const mmb_manager *m = mmb_manager_at(i);
        bool dup = false;
        for (size_t k = 0; k < *n && !dup; k++)
            dup = out[k] == m;
        if (!dup && !mmb_manager_is_external(m) == !external)
            out[(*n)++] = m;
    }
}

int mmb_manager_resolve(const char *spec, const mmb_manager **out, size_t *n, size_t max, char *err,
                        size_t err_bytes) {
    if (mmb_manager_spec_is_plugin(spec))
        return resolve_plugin(spec, out, n, max, err, err_bytes);
    if (strcmp(spec, "all") == 0 || strcmp(spec, "external") == 0) {
        add_group(strcmp(spec, "external") == 0, out, n, max);
        return 0;
    }
    const mmb_manager *m = mmb_manager_find(spec);
    const char *missing, *packages;
    for (size_t i = 0; !m && mmb_manager_missing_at(i, &missing, &packages) == 0; i++)
        if (strcmp(missing, spec) == 0) {
            fail(err, err_bytes, "%s is not built here: it needs %s (hint: " MMB_NOT_BUILT_HINT ")",
                 spec, packages);
            return MMB_RESOLVE_NOT_BUILT;
        }
    if (!m) {
        char names[1024];
        mmb_manager_names(names, sizeof names);
        return fail(err, err_bytes, "unknown manager '%s' (hint: one of: %s, or all, external)",
                    spec, names);
    }
    if (*n == max)
        return fail(err, err_bytes, "more than %zu managers", max);
    out[(*n)++] = m;
    return 0;
}

size_t mmb_plugin_count(void) {
    return nloaded;
}

const mmb_plugin_loaded *mmb_plugin_at(size_t index) {
    return index < nloaded ? &loaded[index] : NULL;
}

const mmb_plugin_loaded *mmb_plugin_of(const mmb_manager *m) {
    for (size_t i = 0; i < nloaded; i++)
        for (size_t k = 0; k < loaded[i].plugin->count; k++)
            if (loaded[i].plugin->managers[k] == m)
                return &loaded[i];
    return NULL;
}

/* The missing external managers as "NAME needs PACKAGES, ...". */
static void missing_list(char *buf, size_t bytes) {
    const char *name, *packages;
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; mmb_manager_missing_at(i, &name, &packages) == 0 && used < bytes; i++) {
        int w = snprintf(buf + used, bytes - used, "%s%s needs %s", i ? ", " : "", name, packages);
        used += w > 0 ? (size_t)w : 0;
    }
}

int mmb_manager_resolve_cli(const char *cmd, const char *const *specs, size_t nspecs,
                            const mmb_manager **out, size_t *n, size_t max) {
    char err[2048], piece[PATH_MAX + 256];
    bool external = false;
    *n = 0;
    for (size_t i = 0; i < nspecs; i++) {
        for (const char *p = specs[i];;) {
            size_t len = strcspn(p, ",");
            if (len == 0 || len >= sizeof piece)
                return mmb_usage_error(cmd, NULL, "--manager: %s name in '%s'",
                                       len ? "a too long" : "an empty", specs[i]);
            memcpy(piece, p, len);
            piece[len] = '\0';
            external |= strcmp(piece, "external") == 0;
            int got = mmb_manager_resolve(piece, out, n, max, err, sizeof err);
            if (got == MMB_RESOLVE_NOT_BUILT)
                return mmb_usage_error(cmd, NULL, "--manager: %s", err);
            if (got != 0)
                return mmb_usage_error(cmd, NULL, "%s", err);
            if (!p[len])
                break;
            p += len + 1;
        }
    }
    if (*n == 0 && external) {
        missing_list(err, sizeof err);
        return mmb_usage_error(cmd, MMB_NOT_BUILT_HINT,
                               "--manager: no external manager is built here: %s", err);
    }
    return EXIT_OK;
}
