/* What every manager and the harness call (mmbench/sdk.h, mmbench/manager.h): the libc
 * allocator, option parsing, heap creation, event names and reporting, work stacks, out of memory.
 * No manager is named here: the registry over them all is registry.c. See managers/README.md. */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "internal.h"
#include "mmbench/names.h"

/* ---- the libc allocator --------------------------------------------------------------------- */

static void *libc_alloc(void *ctx, size_t bytes) {
    (void)ctx;
    return malloc(bytes);
}

static void libc_free(void *ctx, void *block, size_t bytes) {
    (void)ctx;
    (void)bytes;
    free(block);
}

const mmb_allocator mmb_allocator_libc = {"libc", NULL, libc_alloc, libc_free};

/* ---- options -------------------------------------------------------------------------------- */

const mmb_option_spec mmb_common_options[] = {
    {"cascade-threshold", MMB_OPT_INT, 1000, 1, INT64_MAX,
     "report refcount cascades that free at least this many objects (objects)"},
    {NULL, MMB_OPT_INT, 0, 0, 0, NULL},
};

static size_t spec_count(const mmb_option_spec *spec) {
    size_t n = 0;
    while (spec && spec[n].name)
        n++;
    return n;
}

void mmb_config_defaults(const mmb_manager *m, mmb_heap_config *config) {
    memset(config, 0, sizeof *config);
    config->allocator = mmb_allocator_libc;
    config->cascade_threshold = (uint64_t)mmb_common_options[0].default_value;
    for (size_t i = 0; i < spec_count(m->options) && i < MMB_MAX_OPTIONS; i++)
        config->options[i] = m->options[i].default_value;
}

static int parse_value(const mmb_option_spec *o, const char *text, int64_t *out) {
    if (o->type == MMB_OPT_BOOL) {
        static const char *const yes[] = {"true", "yes", "on", "1"};
        static const char *const no[] = {"false", "no", "off", "0"};
        for (size_t i = 0; i < 4; i++) {
            if (strcasecmp(text, yes[i]) == 0)
                return *out = 1, 0;
            if (strcasecmp(text, no[i]) == 0)
                return *out = 0, 0;
        }
        return -1;
    }
    if (*text == '\0' || !(*text == '-' || (*text >= '0' && *text <= '9')))
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno)
        return -1;
    if (o->type == MMB_OPT_BYTES && *end) {
        int shift = *end == 'K' || *end == 'k'   ? 10
                    : *end == 'M' || *end == 'm' ? 20
                    : *end == 'G' || *end == 'g' ? 30
                                                 : -1;
        if (shift < 0 || end[1] != '\0' || v > (INT64_MAX >> shift) || v < 0)
            return -1;
        v <<= shift;
        end++;
    }
    if (*end)
        return -1;
    if (v < o->min || v > o->max)
        return -1;
    *out = v;
    return 0;
}

static void describe_valid(const mmb_option_spec *o, char *buf, size_t bytes) {
    if (o->type == MMB_OPT_BOOL)
        snprintf(buf, bytes, "true or false");
    else if (o->max == INT64_MAX)
        snprintf(buf, bytes, "an integer >= %" PRId64 "%s", o->min,
                 o->type == MMB_OPT_BYTES ? ", optionally with K, M or G" : "");
    else
        snprintf(buf, bytes, "an integer in %" PRId64 "..%" PRId64 "%s", o->min, o->max,
                 o->type == MMB_OPT_BYTES ? ", optionally with K, M or G" : "");
}

static void list_keys(const mmb_manager *m, char *buf, size_t bytes) {
    size_t used = 0;
    buf[0] = '\0';
    const mmb_option_spec *tables[2] = {mmb_common_options, m->options};
    for (int t = 0; t < 2; t++)
        for (size_t i = 0; i < spec_count(tables[t]); i++)
            mmb_names_append(buf, bytes, &used, tables[t][i].name);
}

/* Applies one key=value to config; 0 applied, 1 no such key, -1 bad value (reason in err). */
static int apply_option(const mmb_manager *m, const char *item, size_t len, mmb_heap_config *config,
                        char *err, size_t err_bytes);

/* MMBENCH_OPTIONS: "key=value ..." defaults for every manager that has the key (keys it lacks are
 * skipped), applied before the command line's. It changes what a manager does without changing
 * a run's cell names: how the regression gate injects extra work to show it is caught. */
static int apply_env_options(const mmb_manager *m, mmb_heap_config *config, char *err,
                             size_t err_bytes) {
    const char *env = getenv("MMBENCH_OPTIONS");
    for (const char *p = env; p && *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t len = strcspn(p, " ,");
        if (len && apply_option(m, p, len, config, err, err_bytes) < 0) {
            size_t n = strlen(err);
            snprintf(err + n, err_bytes - n, " (from MMBENCH_OPTIONS)");
            return -1;
        }
        p += len;
    }
    return 0;
}

int mmb_options_parse(const mmb_manager *m, const char *const *kv, size_t count,
                      mmb_heap_config *config, char *err, size_t err_bytes) {
    mmb_config_defaults(m, config);
    if (apply_env_options(m, config, err, err_bytes) != 0)
        return -1;
    for (size_t k = 0; k < count; k++) {
        const char *eq = strchr(kv[k], '=');
        if (!eq || eq == kv[k]) {
            snprintf(err, err_bytes, "option '%s' is not KEY=VALUE", kv[k]);
            return -1;
        }
        int r = apply_option(m, kv[k], strlen(kv[k]), config, err, err_bytes);
        if (r < 0)
            return -1;
        if (r == 1) {
            char keys[512];
            list_keys(m, keys, sizeof keys);
            snprintf(err, err_bytes, "manager '%s' has no option '%.*s' (valid: %s)", m->name,
                     (int)(eq - kv[k]), kv[k], keys);
            return -1;
        }
    }
    return 0;
}

static int apply_option(const mmb_manager *m, const char *item, size_t len, mmb_heap_config *config,
                        char *err, size_t err_bytes) {
    const char *eq = memchr(item, '=', len);
    if (!eq || eq == item)
        return 1;
    size_t key_len = (size_t)(eq - item);
    char value[64];
    size_t value_len = len - key_len - 1;
    if (value_len >= sizeof value)
        value_len = sizeof value - 1;
    memcpy(value, eq + 1, value_len);
    value[value_len] = '\0';
    const mmb_option_spec *tables[2] = {mmb_common_options, m->options};
    for (int t = 0; t < 2; t++)
        for (size_t i = 0; i < spec_count(tables[t]); i++) {
            const mmb_option_spec *o = &tables[t][i];
            if (strlen(o->name) != key_len || strncmp(o->name, item, key_len) != 0)
                continue;
            int64_t v;
            if (parse_value(o, value, &v) != 0) {
                char valid[128];
                describe_valid(o, valid, sizeof valid);
                snprintf(err, err_bytes,
                         "option '%s' of manager '%s': bad value '%s' (expected %s)", o->name,
                         m->name, value, valid);
                return -1;
            }
            if (t == 0)
                config->cascade_threshold = (uint64_t)v;
            else
                config->options[i] = v;
            return 0;
        }
    return 1;
}

/* ---- events and helpers --------------------------------------------------------------------- */

static _Atomic(mmb_out_of_memory_fn) out_of_memory_handler;

void mmb_set_out_of_memory_handler(mmb_out_of_memory_fn fn) {
    atomic_store(&out_of_memory_handler, fn);
}

void mmb_allocator_out_of_memory(const mmb_allocator *a, size_t bytes) {
    mmb_out_of_memory_fn fn = atomic_load(&out_of_memory_handler);
    if (fn)
        fn(bytes);
    fprintf(stderr, "mmbench: error: allocator '%s': out of memory allocating %zu bytes\n", a->name,
            bytes);
    abort();
}

void *mmb_alloc_or_die(const mmb_allocator *a, size_t bytes) {
    void *p = a->alloc(a->ctx, bytes);
    if (!p)
        mmb_allocator_out_of_memory(a, bytes);
    return p;
}

int mmb_heap_create(const mmb_manager *m, const mmb_heap_config *config, mmb_heap **out, char *err,
                    size_t err_bytes) {
    int status = m->create(config, out, err, err_bytes);
    if (status == 0)
        (*out)->manager = m;
    return status;
}

void *mmb_heap_new(const mmb_heap_config *cfg, size_t bytes, const mmb_manager *m, char *err,
                   size_t err_bytes) {
    mmb_heap *h = cfg->allocator.alloc(cfg->allocator.ctx, bytes);
    if (!h) {
        snprintf(err, err_bytes, "out of memory creating a %s heap", m->name);
        return NULL;
    }
    memset(h, 0, bytes);
    h->manager = m;
    return h;
}

void mmb_stack_init(mmb_stack *s, const mmb_allocator *a) {
    s->items = s->inline_items;
    s->top = 0;
    s->cap = MMB_STACK_INLINE;
    s->allocator = a;
}

void mmb_stack_grow(mmb_stack *s) {
    size_t cap = s->cap * 2;
    mmb_obj **items = mmb_alloc_or_die(s->allocator, cap * sizeof *items);
    memcpy(items, s->items, s->top * sizeof *items);
    if (s->items != s->inline_items)
        s->allocator->free(s->allocator->ctx, s->items, s->cap * sizeof *items);
    s->items = items;
    s->cap = cap;
}

void mmb_stack_release(mmb_stack *s) {
    if (s->items != s->inline_items)
        s->allocator->free(s->allocator->ctx, s->items, s->cap * sizeof *s->items);
    mmb_stack_init(s, s->allocator);
}

static void report_event(const mmb_heap_config *cfg, mmb_event_kind kind, int generation,
                         uint64_t start_ns, uint64_t visited, uint64_t freed) {
    if (!cfg->on_event)
        return;
    mmb_event ev = {kind, generation, start_ns, mmb_now_ns(), visited, freed};
    if (ev.end_ns < ev.start_ns)
        ev.end_ns = ev.start_ns;
    cfg->on_event(cfg->event_ctx, &ev);
}

void mmb_collect_end(const mmb_heap_config *cfg, mmb_event_kind kind, int generation,
                     uint64_t start_ns, uint64_t visited, uint64_t freed) {
    if (cfg->on_phase)
        cfg->on_phase(cfg->phase_ctx, MMB_PHASE_COLLECTOR, 0);
    report_event(cfg, kind, generation, start_ns, visited, freed);
}

bool mmb_cascade_end(mmb_cascade *c, const mmb_heap_config *cfg) {
    if (c->phase)
        cfg->on_phase(cfg->phase_ctx, MMB_PHASE_CASCADE, 0);
    if (!cfg->on_event || c->freed < cfg->cascade_threshold)
        return false;
    report_event(cfg, MMB_EVENT_CASCADE, -1, c->start_ns, c->visited, c->freed);
    return true;
}
