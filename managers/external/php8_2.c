/* php8.2: the real Zend engine of PHP 8.2 embedded through the embed SAPI (libphp8.2-embed):
 * objects are instances of an internal class whose get_gc hands the engine's own cycle collector
 * (gc_collect_cycles, with its adaptive threshold) the slots. See managers/README.md. */
#include <sys/resource.h>

#include <sapi/embed/php_embed.h>
#include <zend_gc.h>
#include <zend_ini.h>
#include <zend_objects.h>
#include <zend_objects_API.h>

#include "internal.h"

/* ---- objects ---------------------------------------------------------------------------------
 *
 * One emalloc block per object: the zend_object, then the mmb_obj (slots and payload). The class
 * declares no properties, so the zend_object ends where its properties_table begins, as the
 * engine's own zend_object_alloc counts it; the mmb_obj starts there. So mmb_obj* <-> zend_object*
 * is a constant offset, the mutator reads slots as mmb_obj* directly, and the engine sees them
 * as zvals only through get_gc.
 *
 * Invariants outside an operation: every object's GC refcount is the mutator's references plus
 * the slots pointing at it; an object with no slots carries GC_NOT_COLLECTABLE (it can be on no
 * cycle, so a decrement never makes it a root, like the bundled model's acyclic objects); the
 * heap's work list is empty. */
#define HEADER_BYTES offsetof(zend_object, properties_table)

static inline zend_object *zobj(mmb_obj *o) {
    return (zend_object *)((char *)o - HEADER_BYTES);
}
static inline mmb_obj *mobj(zend_object *z) {
    return (mmb_obj *)((char *)z + HEADER_BYTES);
}

typedef struct php_heap {
    mmb_heap base;
    mmb_heap_config cfg;
    mmb_stats stats;
    /* Objects whose last reference a free_obj took over (their count is still one): freed by
     * drain, in LIFO order, so a 10^6-long chain is freed in a loop rather than in 10^6 nested
     * free_obj calls. */
    mmb_stack work;
    bool in_gc; /* inside the engine's gc_collect_cycles */
} php_heap;

/* The engine and its collector are process-wide: one heap at a time. */
static php_heap *current;
static bool engine_up;
static zend_class_entry *mmb_class;
static zend_object_handlers mmb_handlers;
static int (*engine_gc_collect_cycles)(void);
static void (*engine_error_cb)(int type, zend_string *file, const uint32_t line,
                               zend_string *message);

/* ---- freeing ---------------------------------------------------------------------------------
 *
 * A child's reference is dropped as zend_object_release drops one (a decrement to zero frees, a
 * decrement to non-zero makes a possible root, which may run the collector), with two changes
 * that keep the C stack flat. Outside a collection a child whose count would reach zero is not
 * freed inside its parent's free_obj: its reference moves to the work list, and drain frees it
 * after the parent (the engine would recurse: free_obj -> zval_ptr_dtor -> zend_objects_store_del
 * -> free_obj). Inside a collection such a child is garbage (every referrer of it is), and the
 * collector frees every garbage object itself, so the decrement to zero is all it needs. */
static void release_child(php_heap *h, zend_object *c) {
    h->stats.decrements++;
    if (h->in_gc) {
        if (GC_DELREF(c) != 0)
            gc_check_possible_root((zend_refcounted *)c);
    } else if (GC_REFCOUNT(c) == 1) {
        mmb_stack_push(&h->work, mobj(c));
    } else {
        GC_DELREF(c);
        gc_check_possible_root((zend_refcounted *)c);
    }
}

static void mmb_free_obj(zend_object *z) {
    php_heap *h = current;
    mmb_obj *o = mobj(z);
    if (h) {
        if (h->cfg.on_free)
            h->cfg.on_free(h->cfg.free_ctx, o);
        mmb_stats_freed(&h->stats, HEADER_BYTES + mmb_obj_bytes(o->nslots, o->payload_bytes),
                        h->in_gc);
    }
    for (uint32_t i = 0; i < o->nslots; i++) {
        mmb_obj *c = o->slots[i];
        if (!c)
            continue;
        o->slots[i] = NULL;
        if (h)
            release_child(h, zobj(c));
        else
            OBJ_RELEASE(zobj(c)); /* engine shutdown with no heap: nothing left to report */
    }
    zend_object_std_dtor(z);
}

/* The slots as the collector wants them, a zval table; NULL slots left out. */
static HashTable *mmb_get_gc(zend_object *z, zval **table, int *n) {
    mmb_obj *o = mobj(z);
    zend_get_gc_buffer *buf = zend_get_gc_buffer_create();
    for (uint32_t i = 0; i < o->nslots; i++)
        if (o->slots[i])
            zend_get_gc_buffer_add_obj(buf, zobj(o->slots[i]));
    zend_get_gc_buffer_use(buf, table, n);
    return NULL;
}

/* Frees what the work list holds, and what that frees in turn. */
static void drain(php_heap *h) {
    while (!mmb_stack_empty(&h->work)) {
        zend_object *z = zobj(mmb_stack_pop(&h->work));
        if (GC_DELREF(z) == 0)
            zend_objects_store_del(z);
        else
            gc_check_possible_root((zend_refcounted *)z);
    }
}

/* The mutator's or a slot's reference to z goes: OBJ_RELEASE, then the frees it deferred, timed
 * and reported as a cascade as the bundled managers do (the clock read once a second object is
 * due). */
static MMB_NOINLINE void cascade(php_heap *h, zend_object *z) {
    mmb_cascade c;
    mmb_cascade_begin(&c, &h->cfg);
    uint64_t freed = h->stats.objects_freed_by_rc;
    zend_objects_store_del(z);
    if (!mmb_stack_empty(&h->work))
        mmb_cascade_grew(&c, &h->cfg);
    drain(h);
    c.freed = c.visited = h->stats.objects_freed_by_rc - freed;
    if (mmb_cascade_end(&c, &h->cfg))
        h->stats.cascades_reported++;
}

static void release(php_heap *h, zend_object *z) {
    h->stats.decrements++;
    if (GC_DELREF(z) == 0) {
        cascade(h, z);
    } else {
        gc_check_possible_root((zend_refcounted *)z);
        drain(h); /* a collection the root set off may have freed a candidate's last referrer */
    }
}

/* Zend/zend_gc.c's constants (PHP 7.3 to 8.2), not in the installed headers. */
#define GC_THRESHOLD_DEFAULT 10001
#define GC_THRESHOLD_STEP    10000
#define GC_THRESHOLD_TRIGGER 100

/* The highest threshold reset_collector brings back to the default (its cost grows with the
 * square of it: managers/README.md, php8.2); a test may lower it (mmb_php8_2_test_reset_max,
 * 0: this bound). */
#define RESET_MAX 1000000
extern uint32_t mmb_php8_2_test_reset_max;
uint32_t mmb_php8_2_test_reset_max;

/* ---- collections -----------------------------------------------------------------------------
 *
 * Every run goes through the engine's gc_collect_cycles pointer, the automatic ones
 * (gc_possible_root_when_full, which then moves the threshold by the count this returns) and
 * the mutator's collect alike: the wrapper times each as a full collection. A call that finds
 * the root buffer empty is no run (zend_gc_status.runs does not move) and reports nothing. */
static bool resetting; /* reset_collector is at work: runs are answered without running */
static void reset_take_out(void);

static int gc_wrapper(void) {
    php_heap *h = current;
    if (resetting) {
        reset_take_out();
        return GC_THRESHOLD_TRIGGER;
    }
    if (!h || h->in_gc)
        return engine_gc_collect_cycles();
    zend_gc_status before, after;
    zend_gc_get_status(&before);
    uint64_t start_ns = mmb_collect_begin(&h->cfg);
    uint64_t freed = h->stats.objects_freed_by_gc;
    h->in_gc = true;
    int count = engine_gc_collect_cycles();
    h->in_gc = false;
    zend_gc_get_status(&after);
    freed = h->stats.objects_freed_by_gc - freed;
    uint32_t runs = after.runs - before.runs;
    h->stats.collections_full += runs;
    if (runs)
        mmb_collect_end(&h->cfg, MMB_EVENT_FULL, -1, start_ns, after.collected - before.collected,
                        freed);
    else if (h->cfg.on_phase)
        h->cfg.on_phase(h->cfg.phase_ctx, MMB_PHASE_COLLECTOR, 0);
    return count;
}

/* ---- the engine's errors ----------------------------------------------------------------------
 *
 * The engine stays up between calls with no bailout address: a fatal error, which the engine
 * would answer by a bailout ("Bailed out without a bailout address!", exit 255) after printing
 * "PHP Fatal error: ..." (to stdout, with display_errors on), ends the process here with one line
 * instead. One saying the memory manager is out of memory (an engine whose memory limit raises
 * it through here: Debian's 8.2.36 delays it and returns NULL from femalloc instead, new_object)
 * goes to mmb_allocator_out_of_memory, whose handler (the harness's) names the cell and the
 * memory limit; any other is a bug of the adapter's, and aborts. The rest (warnings, notices)
 * goes on to the engine's handler, which with display_errors and log_errors off prints nothing. */
static void *emalloc_block(void *ctx, size_t bytes) {
    (void)ctx;
    return emalloc(bytes);
}
static void efree_block(void *ctx, void *block, size_t bytes) {
    (void)ctx;
    (void)bytes;
    efree(block);
}
/* The engine's allocator as mmb_allocator_out_of_memory names it; nothing allocates through it. */
static const mmb_allocator php_emalloc = {"php8.2 emalloc", NULL, emalloc_block, efree_block};

/* Zend/zend_alloc.c's two messages for an allocation the memory manager cannot make. */
static bool out_of_memory(const char *msg, size_t *bytes) {
    if (strncmp(msg, "Out of memory", 13) != 0 && strncmp(msg, "Allowed memory size", 19) != 0)
        return false;
    const char *tried = strstr(msg, "tried to allocate ");
    *bytes = tried ? (size_t)strtoull(tried + 18, NULL, 10) : 0;
    return true;
}

static void error_cb(int type, zend_string *file, const uint32_t line, zend_string *message) {
    if (!(type & E_FATAL_ERRORS)) {
        engine_error_cb(type, file, line, message);
        return;
    }
    const char *msg = message ? ZSTR_VAL(message) : "(no message)";
    size_t bytes;
    if (out_of_memory(msg, &bytes))
        mmb_allocator_out_of_memory(&php_emalloc, bytes);
    fflush(stdout);
    fprintf(stderr,
            "mmbench: error: php8.2: the engine raised a fatal error (type %d): %.*s (hint: a bug "
            "in the adapter, managers/external/php8_2.c)\n",
            type & E_ALL, (int)strcspn(msg, "\n"), msg);
    abort();
}

/* Sets a PHP_INI_SYSTEM entry at run time. */
static void ini_set(const char *name, const char *value) {
    zend_string *key = zend_string_init(name, strlen(name), 0);
    zend_alter_ini_entry_chars(key, value, strlen(value), PHP_INI_SYSTEM, PHP_INI_STAGE_RUNTIME);
    zend_string_release(key);
}

/* ---- the engine ------------------------------------------------------------------------------ */

/* A new object of our class, outside any heap's counts. */
static zend_object *new_object(uint32_t nslots, uint32_t payload_bytes) {
    size_t bytes = HEADER_BYTES + mmb_obj_bytes(nslots, payload_bytes);
#if defined(ZEND_HAS_OOM)
    /* This engine's memory manager can fail an allocation (femalloc: NULL) where emalloc would
     * print "mmap() failed" and "Out of memory" and exit, or panic at its hard limit. */
    zend_object *z = femalloc(bytes, 1);
    if (!z)
        mmb_allocator_out_of_memory(&php_emalloc, bytes);
#else
    zend_object *z = emalloc(bytes);
#endif
    zend_object_std_init(z, mmb_class);
    z->handlers = &mmb_handlers;
    if (nslots == 0)
        GC_ADD_FLAGS(z, GC_NOT_COLLECTABLE);
    mmb_obj *o = mobj(z);
    o->nslots = nslots;
    o->payload_bytes = payload_bytes;
    memset(o->slots, 0, nslots * sizeof(mmb_obj *));
    return z;
}

/* The collector's state is process-wide, and its threshold survives even a request restart: a
 * heap after one whose runs raised it would start elsewhere. So every heap starts from the
 * engine's start state, reached through the engine's own rules. Candidates are added until the
 * root buffer is full; the one that meets it makes gc_possible_root_when_full run the collector,
 * which the wrapper answers, while resetting, by taking those candidates out of the buffer and
 * returning GC_THRESHOLD_TRIGGER, as a run that freed that many and emptied the buffer would; so
 * gc_adjust_threshold lowers the threshold by a step. Again until it is back at its default; the
 * candidates then go by refcount, and a run with no roots compacts the buffer (first_unused back
 * to 1), so the heap's first run comes when its own 10001st candidate arrives. Each step costs a
 * buffer's worth of candidates: O(threshold^2 / 10^4) in all, no runs counted, and threshold + 1
 * objects; so above RESET_MAX (5 x 10^7 candidates, 10^6 objects) create refuses instead (the
 * engine's gc_globals, which a store could reset at once, are static in Zend/zend_gc.c:
 * libphp8.2.so exports no symbol for them). */
static zend_object **reset_objs;
static size_t reset_count;

static void reset_take_out(void) {
    for (size_t i = 0; i < reset_count; i++)
        GC_REMOVE_FROM_BUFFER(reset_objs[i]);
    engine_gc_collect_cycles(); /* no roots: no run, only the compaction */
}

static int reset_collector(char *err, size_t err_bytes) {
    zend_gc_status st;
    zend_gc_get_status(&st);
    uint32_t max = mmb_php8_2_test_reset_max ? mmb_php8_2_test_reset_max : RESET_MAX;
    if (st.threshold > max) {
        snprintf(err, err_bytes,
                 "the engine's collector threshold is %u after the last heap, above the %u this "
                 "adapter brings back to %d (hint: run each php8.2 heap in a fresh process)",
                 st.threshold, max, GC_THRESHOLD_DEFAULT);
        return -1;
    }
    if (st.threshold > GC_THRESHOLD_DEFAULT) {
        reset_count = st.threshold + 1;
        reset_objs = mmb_alloc_or_die(&mmb_allocator_libc, reset_count * sizeof *reset_objs);
        for (size_t i = 0; i < reset_count; i++)
            reset_objs[i] = new_object(1, 0);
        resetting = true;
        for (size_t i = 0; st.threshold > GC_THRESHOLD_DEFAULT; i++) {
            zend_object *z = reset_objs[i % reset_count];
            GC_ADDREF(z);
            OBJ_RELEASE(z); /* a decrement to non-zero: a candidate, unless buffered already */
            zend_gc_get_status(&st);
        }
        resetting = false;
        for (size_t i = 0; i < reset_count; i++)
            OBJ_RELEASE(reset_objs[i]);
        mmb_allocator_libc.free(mmb_allocator_libc.ctx, reset_objs,
                                reset_count * sizeof *reset_objs);
        reset_objs = NULL;
        reset_count = 0;
    }
    engine_gc_collect_cycles();
    return 0;
}

static void engine_stop(void) {
    /* A heap still alive at exit is left to the process's end: the engine's shutdown would free
     * its objects with no heap to report them to. */
    if (!engine_up || current)
        return;
    gc_collect_cycles = engine_gc_collect_cycles;
    zend_error_cb = engine_error_cb;
    php_embed_shutdown();
    engine_up = false;
}

/* The engine's memory limit for a heap. None (-1) as a rule: objects are the engine's blocks, and
 * the embed SAPI's 128M would end a large heap. Under an address-space limit (ulimit -v) the
 * memory manager's mmap would fail first, and the engine then prints "mmap() failed" and "Out of
 * memory" and exits; so there the limit is what the engine holds now plus three quarters of the
 * space left, which an object's allocation meets first (one line: error_cb, new_object). */
static void limit_memory(void) {
    char value[32] = "-1";
    struct rlimit rl;
    unsigned long pages;
    FILE *f;
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        (f = fopen("/proc/self/statm", "r")) != NULL) {
        if (fscanf(f, "%lu", &pages) == 1) {
            uint64_t mapped = (uint64_t)pages * (uint64_t)sysconf(_SC_PAGESIZE);
            uint64_t left = rl.rlim_cur > mapped ? (uint64_t)rl.rlim_cur - mapped : 0;
            snprintf(value, sizeof value, "%" PRIu64,
                     (uint64_t)zend_memory_usage(1) + left / 4 * 3);
        }
        fclose(f);
    }
    ini_set("memory_limit", value);
}

/* PHP_EMBED_START_BLOCK's body without its zend_first_try: the engine stays up between calls,
 * with no bailout address (a fatal error ends the process: error_cb above). */
static int engine_start(char *err, size_t err_bytes) {
    static char arg0[] = "mmbench";
    static char *argv[] = {arg0, NULL};
    /* No php.ini and no conf.d (php -n): the engine alone, not whatever extensions (opcache,
     * ...) this machine's PHP configuration loads. */
    php_embed_module.php_ini_ignore = 1;
    if (php_embed_init(1, argv) != SUCCESS) {
        snprintf(err, err_bytes, "php_embed_init failed (hint: is libphp8.2-embed installed?)");
        return -1;
    }
    /* The embed SAPI displays errors on stdout (mmbench's tables and --format json): off, and
     * none logged; error_cb takes the fatal ones. The memory limit: limit_memory, each heap. */
    ini_set("display_errors", "0");
    ini_set("display_startup_errors", "0");
    ini_set("log_errors", "0");
    engine_error_cb = zend_error_cb;
    zend_error_cb = error_cb;

    /* An internal class is registered by a module's startup, which EG(current_module) names; the
     * engine's own "core" module stands in for one here. */
    zend_class_entry ce;
    INIT_CLASS_ENTRY(ce, "MmbenchObject", NULL);
    EG(current_module) = zend_hash_str_find_ptr(&module_registry, "core", sizeof "core" - 1);
    if (!EG(current_module)) {
        snprintf(err, err_bytes, "the engine has no core module (hint: a PHP 8.2 embed library?)");
        return -1;
    }
    mmb_class = zend_register_internal_class(&ce);
    EG(current_module) = NULL;
    mmb_class->ce_flags |= ZEND_ACC_FINAL;
    memcpy(&mmb_handlers, &std_object_handlers, sizeof mmb_handlers);
    mmb_handlers.offset = 0;
    mmb_handlers.free_obj = mmb_free_obj;
    mmb_handlers.get_gc = mmb_get_gc;
    mmb_handlers.clone_obj = NULL;

    gc_enable(1);
    engine_gc_collect_cycles = gc_collect_cycles;
    gc_collect_cycles = gc_wrapper;
    engine_up = true;
    atexit(engine_stop);
    return 0;
}

/* ---- the operations -------------------------------------------------------------------------- */

static mmb_obj *php_alloc(mmb_heap *heap, uint32_t nslots, uint32_t payload_bytes) {
    php_heap *h = (php_heap *)heap;
    zend_object *z = new_object(nslots, payload_bytes);
    h->stats.objects_allocated++;
    h->stats.live_objects++;
    h->stats.live_bytes += HEADER_BYTES + mmb_obj_bytes(nslots, payload_bytes);
    return mobj(z);
}

static void php_incref(mmb_heap *heap, mmb_obj *o) {
    ((php_heap *)heap)->stats.increments++;
    GC_ADDREF(zobj(o));
}

static void php_decref(mmb_heap *heap, mmb_obj *o) {
    release((php_heap *)heap, zobj(o));
}

/* The slot's new reference first, then the old value's goes (which may free it, and may run the
 * collector), as zend_assign_to_variable does. */
static void php_store(mmb_heap *heap, mmb_obj *o, uint32_t slot, mmb_obj *value) {
    php_heap *h = (php_heap *)heap;
    if (value) {
        h->stats.increments++;
        GC_ADDREF(zobj(value));
    }
    mmb_obj *old = mmb_slot_swap(o, slot, value);
    if (old)
        release(h, zobj(old));
}

static void php_collect(mmb_heap *heap) {
    gc_collect_cycles();
    drain((php_heap *)heap);
}

static void php_stats(mmb_heap *heap, mmb_stats *out) {
    *out = ((php_heap *)heap)->stats;
}

/* Every object of ours in the engine's object store, live or garbage: pinned (so no count reaches
 * zero while slots are cleared), its slots cleared, then freed through the store, each reported
 * by free_obj. The root buffer loses them as they go, so the next heap starts with no roots. */
static void php_destroy(mmb_heap *heap) {
    php_heap *h = (php_heap *)heap;
    zend_objects_store *store = &EG(objects_store);
    for (int pass = 0; pass < 3; pass++) {
        for (uint32_t i = 1; i < store->top; i++) {
            zend_object *z = store->object_buckets[i];
            if (!IS_OBJ_VALID(z) || z->handlers != &mmb_handlers)
                continue;
            mmb_obj *o = mobj(z);
            if (pass == 0) {
                GC_ADDREF(z);
            } else if (pass == 1) {
                for (uint32_t s = 0; s < o->nslots; s++) {
                    if (o->slots[s])
                        GC_DELREF(zobj(o->slots[s]));
                    o->slots[s] = NULL;
                }
            } else {
                GC_SET_REFCOUNT(z, 0);
                zend_objects_store_del(z);
            }
        }
    }
    mmb_stack_release(&h->work);
    current = NULL;
    h->cfg.allocator.free(h->cfg.allocator.ctx, h, sizeof *h);
}

static int php_create(const mmb_heap_config *cfg, mmb_heap **out, char *err, size_t err_bytes);

const mmb_manager mmb_manager_php8_2 = {
    .name = "php8.2",
    .summary = "PHP 8.2's Zend engine (embed SAPI): refcounts and its own Bacon-Rajan collector",
    .caps = MMB_CAP_REFCOUNT | MMB_CAP_CYCLES | MMB_CAP_OWN_MEMORY,
    .options = NULL,
    .create = php_create,
    .destroy = php_destroy,
    .alloc = php_alloc,
    .incref = php_incref,
    .decref = php_decref,
    .store = php_store,
    .load = NULL,
    .collect = php_collect,
    .collect_young = NULL,
    .freeze = NULL,
    .stats = php_stats,
};

const char *mmb_manager_php8_2_version(void);
/* The version of the library this process runs: its standard module's, which is PHP_VERSION as
 * libphp8.2.so was built (not as these headers say). The library exports no version string that
 * is readable before the engine starts, so this starts it where no heap has yet; NULL
 * ("unknown") where it cannot start. */
const char *mmb_manager_php8_2_version(void) {
    char err[256];
    if (!engine_up && engine_start(err, sizeof err) != 0)
        return NULL;
    return zend_get_module_version("standard");
}

static int php_create(const mmb_heap_config *cfg, mmb_heap **out, char *err, size_t err_bytes) {
    if (current) {
        snprintf(err, err_bytes,
                 "one php8.2 heap at a time per process: the Zend engine's collector is "
                 "process-wide (destroy the other heap first)");
        return -1;
    }
    if (!engine_up && engine_start(err, err_bytes) != 0)
        return -1;
    if (reset_collector(err, err_bytes) != 0)
        return -1;
    limit_memory();
    php_heap *h = mmb_heap_new(cfg, sizeof *h, &mmb_manager_php8_2, err, err_bytes);
    if (!h)
        return -1;
    h->cfg = *cfg;
    h->stats.header_bytes = HEADER_BYTES;
    mmb_stack_init(&h->work, &h->cfg.allocator);
    current = h;
    *out = &h->base;
    return 0;
}
