/* python3.11: the real CPython 3.11 runtime, embedded from Debian's libpython3.11, as a manager:
 * objects are instances of two extension types, reference counted by CPython and collected by
 * its own generational collector (Modules/gcmodule.c). Design notes: managers/README.md. */
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#define PY_SSIZE_T_CLEAN
/* The collector's state (interp->gc: generation counts, thresholds, the long-lived heuristic) is
 * not public; these headers declare it. Their include directory is a system one (an imported
 * target's), so CPython's own code is not held to this project's warnings. */
#define Py_BUILD_CORE 1
#include <Python.h>
#include <internal/pycore_interp.h>

#include "internal.h"

/* What managers/registry.c reads: the running library's version ("3.11.2"). */
const char *mmb_manager_python3_11_version(void);

/* A test hook: the prefix the interpreter starts from, in place of MMB_PY311_PREFIX (the one it
 * was built for), when not NULL. tests/external_failures.c names a temporary directory with a
 * missing or broken standard library; nothing else sets it. */
extern const char *mmb_python3_11_test_prefix;
const char *mmb_python3_11_test_prefix;

/* ---- objects ---------------------------------------------------------------------------------
 *
 * An object is a CPython variable-size object: PyObject_VAR_HEAD, then a link on its heap's list
 * of every object (CPython keeps no list of untracked objects, nor of frozen ones apart from
 * the interpreter's), then the mmb_obj at the fixed offset sizeof(py_head). ob_size counts the
 * bytes after py_head's mmb_obj header: nslots pointers and the payload (tp_itemsize is 1).
 * Objects with slots are of `py_gc_type` (Py_TPFLAGS_HAVE_GC: a PyGC_Head sits before the
 * object, and the collector tracks it for life); objects without are of `py_atom_type`, not GC
 * at all: CPython's untracked non-GC types (int, str), which take no part in collections and do
 * not move generation 0's count. */
typedef struct py_head {
    PyVarObject ob_base; /* PyObject_VAR_HEAD */
    mmb_link link;
} py_head;

static inline mmb_obj *obj_of(PyObject *op) {
    return (mmb_obj *)((char *)op + sizeof(py_head));
}
static inline PyObject *py_of(mmb_obj *o) {
    return (PyObject *)((char *)o - sizeof(py_head));
}
static inline PyObject *py_of_link(mmb_link *l) {
    return (PyObject *)((char *)l - offsetof(py_head, link));
}
static inline Py_ssize_t items_of(uint32_t nslots, uint32_t payload_bytes) {
    return (Py_ssize_t)nslots * (Py_ssize_t)sizeof(mmb_obj *) + (Py_ssize_t)payload_bytes;
}

/* The heap: one at a time per process (the collector is process-wide). */
typedef struct py_heap {
    mmb_heap base;
    mmb_heap_config cfg;
    mmb_stats stats;
    mmb_link objects; /* every object not yet freed, live or garbage */
    /* A decrement to zero outside a collection: the cascade it sets off, timed. */
    bool releasing;
    mmb_cascade cascade;
    bool callbacks; /* option callbacks: collections seen through gc.callbacks */
    /* Between the start and the end of a collection. */
    bool collecting;
    bool destroying;
    uint64_t start_ns;
    uint64_t frees_before, traversals_before, clears_before;
    /* Calls of our tp_dealloc, tp_traverse and tp_clear, ever. */
    uint64_t frees, traversals, clears;
} py_heap;

/* The interpreter and what the adapter keeps of it, process-wide. */
static struct {
    int state; /* 0 not started, 1 up, -1 failed (reason in err) */
    char err[PATH_MAX + 512];
    struct _gc_runtime_state *gc;
    PyObject *collect, *freeze, *set_threshold; /* gc.collect, gc.freeze, gc.set_threshold */
    PyObject *young, *full;                     /* the ints 0 and 2 */
    PyObject *callbacks, *callback;             /* gc.callbacks, the adapter's on_gc */
    py_heap *heap;                              /* the heap now, or NULL */
} rt;

static PyTypeObject py_gc_type, py_atom_type;

MMB_NORETURN static void py_die(const char *what) {
    if (PyErr_Occurred())
        PyErr_Print();
    fprintf(stderr,
            "mmbench: error: python3.11: %s failed (hint: the embedded interpreter is "
            "in a bad state)\n",
            what);
    abort();
}

static size_t block_bytes(PyObject *op) {
    PyTypeObject *t = Py_TYPE(op);
    size_t bytes = _PyObject_VAR_SIZE(t, Py_SIZE(op));
    return t == &py_gc_type ? bytes + sizeof(PyGC_Head) : bytes;
}

/* Every free of one of our objects: reported, counted, unlinked. Called by tp_dealloc with the
 * object's slots as they are (tp_clear may have emptied them) and its memory still CPython's. */
static void note_free(py_heap *h, PyObject *op) {
    mmb_obj *o = obj_of(op);
    if (h->cfg.on_free)
        h->cfg.on_free(h->cfg.free_ctx, o);
    mmb_list_remove(&((py_head *)op)->link);
    h->frees++;
    if (h->destroying)
        return;
    if (h->releasing && !h->collecting) {
        if (h->cascade.freed > 0)
            mmb_cascade_grew(&h->cascade, &h->cfg);
        h->cascade.freed++;
        h->cascade.visited++;
    }
    mmb_stats_freed(&h->stats, block_bytes(op), h->collecting);
}

/* ---- the two types --------------------------------------------------------------------------- */

static int gc_traverse(PyObject *op, visitproc visit, void *arg) {
    rt.heap->traversals++;
    mmb_obj *o = obj_of(op);
    for (uint32_t i = 0; i < o->nslots; i++)
        if (o->slots[i])
            Py_VISIT(py_of(o->slots[i]));
    return 0;
}

/* Clears o's slots in order, each set to NULL before its reference goes (Py_CLEAR), counting
 * each as a decrement. */
static void clear_slots(py_heap *h, mmb_obj *o) {
    for (uint32_t i = 0; i < o->nslots; i++) {
        mmb_obj *child = o->slots[i];
        if (!child)
            continue;
        o->slots[i] = NULL;
        h->stats.decrements++;
        Py_DECREF(py_of(child));
    }
}

/* Called by delete_garbage only, between its Py_INCREF and Py_DECREF of the object: those two
 * are counted here as the model counts them. Slots are cleared in order, each set to NULL
 * before its reference goes (Py_CLEAR). */
static int gc_clear(PyObject *op) {
    py_heap *h = rt.heap;
    h->clears++;
    h->stats.increments++;
    h->stats.decrements++;
    clear_slots(h, obj_of(op));
    return 0;
}

/* Through the trashcan: past 50 nested deallocations CPython defers the rest to a list it
 * empties when the outermost one returns, so a 10^6-long chain stays off the C stack's limit. */
static void gc_release(PyObject *op) {
    py_heap *h = rt.heap;
    note_free(h, op);
    clear_slots(h, obj_of(op));
    PyObject_GC_Del(op);
}

static void gc_dealloc(PyObject *op) {
    PyObject_GC_UnTrack(op);
    /* The macros open and close a block: no semicolons, which clang-format cannot know. */
    /* clang-format off */
    Py_TRASHCAN_BEGIN(op, gc_dealloc)
        gc_release(op);
    Py_TRASHCAN_END
    /* clang-format on */
}

static void atom_dealloc(PyObject *op) {
    note_free(rt.heap, op);
    PyObject_Free(op);
}

static PyTypeObject py_gc_type = {
    /* the type's own object header: PyType_Ready makes it a type */
    .ob_base = {.ob_base = {.ob_refcnt = 1, .ob_type = NULL}, .ob_size = 0},
    .tp_name = "mmbench.object",
    .tp_basicsize = sizeof(py_head) + sizeof(mmb_obj),
    .tp_itemsize = 1,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "an mmbench object with slots",
    .tp_traverse = gc_traverse,
    .tp_clear = gc_clear,
    .tp_dealloc = gc_dealloc,
    .tp_free = PyObject_GC_Del,
};

static PyTypeObject py_atom_type = {
    /* the type's own object header: PyType_Ready makes it a type */
    .ob_base = {.ob_base = {.ob_refcnt = 1, .ob_type = NULL}, .ob_size = 0},
    .tp_name = "mmbench.atom",
    .tp_basicsize = sizeof(py_head) + sizeof(mmb_obj),
    .tp_itemsize = 1,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "an mmbench object without slots (not GC)",
    .tp_dealloc = atom_dealloc,
    .tp_free = PyObject_Free,
};

/* ---- collections ------------------------------------------------------------------------------
 *
 * Two ways to see them, one per heap (option `callbacks`):
 *
 * Watching (the default). A collection starts only inside a GC allocation (_PyObject_GC_Link:
 * generation 0's count goes up and exceeds threshold0, automatic collection enabled and none
 * running) or a gc.collect() call. Those are the adapter's own calls, so it begins the event
 * before the call when the collector's state says one will start, and ends it after; the
 * generation that ran and CPython's `collected` come from the collector's per-generation
 * statistics (interp->gc.generation_stats). The pause includes that one allocation or the call.
 *
 * gc.callbacks. CPython 3.11 calls each callback with ("start", info) before and ("stop", info)
 * after every collection: a new str and an info dict {generation, collected, uncollectable} per
 * call (the arguments go on the C stack: with METH_FASTCALL no tuple is made). That is a few
 * hundred instructions a call while the dict freelist has a dict, a few thousand after a full
 * collection has emptied it; then the dict is a fresh GC allocation, so each "stop" after a full
 * collection adds one to generation 0's count, which would move every later automatic
 * collection by one allocation (checked by hand: gc.get_count() is (1, 0, 0) after gc.collect()
 * with a callback installed, (0, 0, 0) without).
 *
 * Either way, without callbacks generation 0's count is 0 when a collection ends (the collection
 * reset it; frees cannot take it below 0): the adapter sets it to 0 at the end of each, which
 * undoes what any callback's allocations added (its own, or another's in gc.callbacks). */

static void collection_start(py_heap *h) {
    h->collecting = true;
    h->frees_before = h->frees;
    h->traversals_before = h->traversals;
    h->clears_before = h->clears;
    h->start_ns = mmb_collect_begin(&h->cfg);
}

/* `collected` is CPython's count: the objects it found unreachable, not those their clearing
 * freed besides (untracked atoms and older objects only garbage held). CPython traverses each
 * examined object once (subtract_refs), each survivor once more (move_unreachable) and each
 * unreachable one once more (handle_resurrected_objects' subtract_refs): twice the examined
 * objects in all, with no finalizers or weak references to resurrect anything. The model
 * traverses the examined objects, the survivors and each object delete_garbage clears, so its
 * objects_traversed is ours less `collected` plus our tp_clear calls; the event's visited is
 * its survivors plus freed, as the model's. */
static void collection_stop(py_heap *h, int generation, uint64_t collected) {
    rt.gc->generations[0].count = 0;
    uint64_t freed = h->frees - h->frees_before;
    uint64_t traversals = h->traversals - h->traversals_before;
    uint64_t clears = h->clears - h->clears_before;
    uint64_t examined = traversals / 2;
    uint64_t survivors = examined > collected ? examined - collected : 0;
    h->stats.objects_traversed += (traversals > collected ? traversals - collected : 0) + clears;
    h->collecting = false;
    if (generation == NUM_GENERATIONS - 1) {
        h->stats.collections_full++;
        mmb_collect_end(&h->cfg, MMB_EVENT_FULL, generation, h->start_ns, survivors + freed, freed);
    } else {
        h->stats.collections_young++;
        mmb_collect_end(&h->cfg, MMB_EVENT_YOUNG, generation, h->start_ns, survivors + freed,
                        freed);
    }
}

/* ---- watching -------------------------------------------------------------------------------- */

/* The collector's per-generation counts of collections and of objects collected. */
typedef struct gc_ledger {
    Py_ssize_t collections[NUM_GENERATIONS], collected[NUM_GENERATIONS];
} gc_ledger;

static void ledger_read(gc_ledger *l) {
    for (int i = 0; i < NUM_GENERATIONS; i++) {
        l->collections[i] = rt.gc->generation_stats[i].collections;
        l->collected[i] = rt.gc->generation_stats[i].collected;
    }
}

/* Whether the next GC allocation starts a collection: _PyObject_GC_Link's condition (no Python
 * error is ever pending here). */
static bool next_gc_alloc_collects(void) {
    const struct _gc_runtime_state *gc = rt.gc;
    return gc->generations[0].threshold && gc->enabled && !gc->collecting &&
           gc->generations[0].count + 1 > gc->generations[0].threshold;
}

/* Ends the event begun before a call that was to collect once: the generation whose count of
 * collections moved. Anything else means the adapter misreads CPython: no event is better than
 * a wrong one, so that stops the process. */
static void watch_end(py_heap *h, const gc_ledger *before) {
    gc_ledger after;
    ledger_read(&after);
    int generation = -1, ran = 0;
    for (int i = 0; i < NUM_GENERATIONS; i++) {
        Py_ssize_t n = after.collections[i] - before->collections[i];
        if (n != 0) {
            generation = i;
            ran += (int)n;
        }
    }
    if (ran != 1) {
        fprintf(stderr,
                "mmbench: error: python3.11: %d collections ran where the adapter expected one "
                "(hint: this CPython's collector does not start collections as 3.11's does)\n",
                ran);
        abort();
    }
    Py_ssize_t collected = after.collected[generation] - before->collected[generation];
    collection_stop(h, generation, collected > 0 ? (uint64_t)collected : 0);
}

/* ---- gc.callbacks ---------------------------------------------------------------------------- */

static long info_long(PyObject *info, const char *key) {
    PyObject *v = PyDict_GetItemString(info, key);
    return v ? PyLong_AsLong(v) : 0;
}

static PyObject *on_gc(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    py_heap *h = rt.heap;
    if (!h || !h->callbacks || h->destroying || nargs != 2 || !PyUnicode_Check(args[0]) ||
        !PyDict_Check(args[1]))
        Py_RETURN_NONE;
    if (PyUnicode_CompareWithASCIIString(args[0], "start") == 0) {
        collection_start(h);
    } else if (h->collecting) {
        long gen = info_long(args[1], "generation");
        long collected = info_long(args[1], "collected");
        collection_stop(h, (int)gen, collected > 0 ? (uint64_t)collected : 0);
    }
    Py_RETURN_NONE;
}

static PyMethodDef on_gc_def = {"mmbench_on_gc", (PyCFunction)(void (*)(void))on_gc, METH_FASTCALL,
                                "reports collections to mmbench"};

/* Puts the adapter's callback in gc.callbacks, or takes it out: CPython pays for the calls
 * whenever the list is not empty. */
static void callbacks_set(bool on) {
    Py_ssize_t n = PyList_GET_SIZE(rt.callbacks), at = -1;
    for (Py_ssize_t i = 0; i < n; i++)
        if (PyList_GET_ITEM(rt.callbacks, i) == rt.callback)
            at = i;
    if (on && at < 0 && PyList_Append(rt.callbacks, rt.callback) < 0)
        py_die("gc.callbacks.append");
    if (!on && at >= 0 && PySequence_DelItem(rt.callbacks, at) < 0)
        py_die("del gc.callbacks[i]");
}

/* ---- the interpreter ------------------------------------------------------------------------- */

static PyObject *gc_attr(PyObject *gc, const char *name) {
    PyObject *v = PyObject_GetAttrString(gc, name);
    if (!v)
        py_die(name);
    return v;
}

/* Py_InitializeFromConfig with fd 2 on /dev/null: a CPython that fails to start prints its path
 * configuration (some twenty lines) and the exception before it returns the status, which is
 * all the adapter reports. Anything it would print on success goes too (an isolated start with
 * no site prints nothing). */
static PyStatus init_quietly(const PyConfig *config) {
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    bool hidden = saved >= 0 && null >= 0 && dup2(null, STDERR_FILENO) >= 0;
    if (null >= 0)
        close(null);
    PyStatus st = Py_InitializeFromConfig(config);
    if (hidden) {
        fflush(stderr);
        dup2(saved, STDERR_FILENO);
    }
    if (saved >= 0)
        close(saved);
    return st;
}

/* Sets the interpreter's home, program name and executable to PREFIX's: with program_name an
 * absolute path CPython never searches PATH for itself (where a pyenv shim may come first). */
static PyStatus config_paths(PyConfig *config, const char *prefix) {
    char exe[PATH_MAX];
    snprintf(exe, sizeof exe, "%s/bin/python3.11", prefix);
    PyStatus st = PyConfig_SetBytesString(config, &config->home, prefix);
    if (!PyStatus_Exception(st))
        st = PyConfig_SetBytesString(config, &config->program_name, exe);
    if (!PyStatus_Exception(st))
        st = PyConfig_SetBytesString(config, &config->executable, exe);
    return st;
}

/* Py_Initialize once per process, isolated (no environment variables, no site, no signal
 * handlers) and with its home the prefix it was built for, so no other Python on PATH (pyenv's)
 * lends it a standard library. Its standard library is checked first (the encodings package,
 * which the start imports): a missing one is one line, not CPython's path dump. Never
 * finalized: the next heap reuses it. */
static int py_start(char *err, size_t err_bytes) {
    if (rt.state == 0) {
        rt.state = -1;
        const char *prefix =
            mmb_python3_11_test_prefix ? mmb_python3_11_test_prefix : MMB_PY311_PREFIX;
        char encodings[PATH_MAX];
        snprintf(encodings, sizeof encodings, "%s/lib/python3.11/encodings", prefix);
        struct stat sb;
        if (stat(encodings, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
            snprintf(rt.err, sizeof rt.err,
                     "cannot start the embedded CPython: %s: missing (hint: reinstall "
                     "libpython3.11-minimal, which holds its standard library)",
                     encodings);
            snprintf(err, err_bytes, "%s", rt.err);
            return -1;
        }
        PyPreConfig pre;
        PyPreConfig_InitIsolatedConfig(&pre);
#if defined(__SANITIZE_ADDRESS__)
        /* Every Python block from malloc: AddressSanitizer then sees the objects' memory. */
        pre.allocator = PYMEM_ALLOCATOR_MALLOC;
#endif
        PyStatus st = Py_PreInitialize(&pre);
        PyConfig config;
        PyConfig_InitIsolatedConfig(&config);
        config.site_import = 0;
        if (!PyStatus_Exception(st))
            st = config_paths(&config, prefix);
        if (!PyStatus_Exception(st))
            st = init_quietly(&config);
        PyConfig_Clear(&config);
        if (PyStatus_Exception(st)) {
            snprintf(rt.err, sizeof rt.err,
                     "cannot start the embedded CPython: %s%s%s (hint: its standard library "
                     "under %s/lib/python3.11 is incomplete: reinstall libpython3.11-minimal)",
                     st.func ? st.func : "", st.func ? ": " : "",
                     st.err_msg ? st.err_msg : "no reason given", prefix);
            snprintf(err, err_bytes, "%s", rt.err);
            return -1;
        }
        if (PyType_Ready(&py_gc_type) < 0 || PyType_Ready(&py_atom_type) < 0)
            py_die("PyType_Ready");
        PyObject *gc = PyImport_ImportModule("gc");
        if (!gc)
            py_die("import gc");
        rt.collect = gc_attr(gc, "collect");
        rt.freeze = gc_attr(gc, "freeze");
        rt.set_threshold = gc_attr(gc, "set_threshold");
        rt.callbacks = gc_attr(gc, "callbacks");
        if (!PyList_Check(rt.callbacks))
            py_die("reading gc.callbacks (a list)");
        rt.callback = PyCFunction_New(&on_gc_def, NULL);
        if (!rt.callback)
            py_die("PyCFunction_New");
        Py_DECREF(gc);
        rt.young = PyLong_FromLong(0);
        rt.full = PyLong_FromLong(NUM_GENERATIONS - 1);
        if (!rt.young || !rt.full)
            py_die("PyLong_FromLong");
        rt.gc = &PyInterpreterState_Get()->gc;
        rt.state = 1;
    }
    if (rt.state < 0) {
        snprintf(err, err_bytes, "%s", rt.err);
        return -1;
    }
    return 0;
}

static void py_gc_collect(PyObject *generation) {
    PyObject *r = PyObject_Vectorcall(rt.collect, &generation, 1, NULL);
    if (!r)
        py_die("gc.collect");
    Py_DECREF(r);
}

static void py_gc_freeze(void) {
    PyObject *r = PyObject_CallNoArgs(rt.freeze);
    if (!r)
        py_die("gc.freeze");
    Py_DECREF(r);
}

/* ---- operations ------------------------------------------------------------------------------ */

/* A GC allocation that starts a collection, watched (option callbacks off). */
static MMB_NOINLINE PyObject *gc_alloc_collecting(py_heap *h, Py_ssize_t items) {
    gc_ledger before;
    ledger_read(&before);
    collection_start(h);
    PyObject *op = (PyObject *)_PyObject_GC_NewVar(&py_gc_type, items);
    gc_ledger after;
    ledger_read(&after);
    if (!op && memcmp(&after, &before, sizeof after) == 0) {
        /* Out of memory before the allocation was counted: no collection ran. */
        h->collecting = false;
        if (h->cfg.on_phase)
            h->cfg.on_phase(h->cfg.phase_ctx, MMB_PHASE_COLLECTOR, 0);
        return NULL;
    }
    watch_end(h, &before);
    return op;
}

static mmb_obj *py_alloc(mmb_heap *heap, uint32_t nslots, uint32_t payload_bytes) {
    py_heap *h = (py_heap *)heap;
    Py_ssize_t items = items_of(nslots, payload_bytes);
    /* As any GC allocation: generation 0's count goes up first, and may start a collection,
     * which cannot see this object (it is not tracked yet). */
    PyObject *op;
    if (!nslots)
        op = (PyObject *)_PyObject_NewVar(&py_atom_type, items);
    else if (!h->callbacks && next_gc_alloc_collects())
        op = gc_alloc_collecting(h, items);
    else
        op = (PyObject *)_PyObject_GC_NewVar(&py_gc_type, items);
    if (!op) {
        PyErr_Clear();
        return NULL;
    }
    mmb_list_append(&h->objects, &((py_head *)op)->link);
    mmb_obj *o = mmb_obj_init(obj_of(op), nslots, payload_bytes, &h->stats, block_bytes(op));
    if (nslots)
        PyObject_GC_Track(op);
    return o;
}

static void py_incref(mmb_heap *heap, mmb_obj *o) {
    ((py_heap *)heap)->stats.increments++;
    Py_INCREF(py_of(o));
}

/* The last reference goes: the cascade of frees it sets off, timed as the model times one. */
static MMB_NOINLINE void release(py_heap *h, PyObject *op) {
    mmb_cascade_begin(&h->cascade, &h->cfg);
    h->releasing = true;
    Py_DECREF(op);
    h->releasing = false;
    if (mmb_cascade_end(&h->cascade, &h->cfg))
        h->stats.cascades_reported++;
}

static void py_decref(mmb_heap *heap, mmb_obj *o) {
    py_heap *h = (py_heap *)heap;
    PyObject *op = py_of(o);
    h->stats.decrements++;
    if (Py_REFCNT(op) > 1)
        Py_DECREF(op);
    else
        release(h, op);
}

static void py_store(mmb_heap *heap, mmb_obj *o, uint32_t slot, mmb_obj *value) {
    mmb_rc_store(heap, o, slot, value, py_incref, py_decref);
}

/* gc.collect(GENERATION) on the heap: watched, or seen by the callback. */
static void heap_collect(py_heap *h, PyObject *generation) {
    if (h->callbacks) {
        py_gc_collect(generation);
        return;
    }
    gc_ledger before;
    ledger_read(&before);
    collection_start(h);
    py_gc_collect(generation);
    watch_end(h, &before);
}

static void py_collect(mmb_heap *heap) {
    heap_collect((py_heap *)heap, rt.full);
}

static void py_collect_young(mmb_heap *heap) {
    heap_collect((py_heap *)heap, rt.young);
}

static void py_freeze(mmb_heap *heap) {
    (void)heap;
    py_gc_freeze();
}

static void py_stats(mmb_heap *heap, mmb_stats *out) {
    *out = ((py_heap *)heap)->stats;
}

/* Frees every object, live or garbage: each pinned by one more reference, then every slot
 * cleared (which frees nothing, all being pinned), then each dropped to zero by itself. */
static void py_destroy(mmb_heap *heap) {
    py_heap *h = (py_heap *)heap;
    h->destroying = true;
    for (mmb_link *l = h->objects.next; l != &h->objects; l = l->next)
        Py_INCREF(py_of_link(l));
    for (mmb_link *l = h->objects.next; l != &h->objects; l = l->next) {
        mmb_obj *o = obj_of(py_of_link(l));
        for (uint32_t i = 0; i < o->nslots; i++) {
            mmb_obj *child = o->slots[i];
            o->slots[i] = NULL;
            if (child)
                Py_DECREF(py_of(child));
        }
    }
    while (!mmb_list_empty(&h->objects)) {
        PyObject *op = py_of_link(h->objects.next);
        Py_SET_REFCNT(op, 1);
        Py_DECREF(op);
    }
    py_gc_collect(rt.full);
    rt.heap = NULL;
    h->cfg.allocator.free(h->cfg.allocator.ctx, h, sizeof *h);
}

static int py_create(const mmb_heap_config *cfg, mmb_heap **out, char *err, size_t err_bytes);

/* In table order, so options[i] of the config is generation i's threshold (CPython keeps them in
 * an int), options[3] the way collections are seen. */
static const mmb_option_spec py_options[] = {
    {"threshold0", MMB_OPT_INT, 700, 0, INT_MAX,
     "collect generation 0 when GC allocations minus deallocations exceed this (objects; 0 "
     "disables automatic collection): gc.set_threshold"},
    {"threshold1", MMB_OPT_INT, 10, 0, INT_MAX,
     "collect generation 1 when generation 0 has been collected more than this many times since "
     "(collections)"},
    {"threshold2", MMB_OPT_INT, 10, 0, INT_MAX,
     "collect generation 2 when generation 1 has been collected more than this many times since, "
     "and objects new to it are at least a quarter of the long-lived ones (collections)"},
    {"callbacks", MMB_OPT_BOOL, 0, 0, 1,
     "see collections through gc.callbacks (a str and a dict per call, two calls per "
     "collection) instead of watching the collector around the calls that start them"},
    {NULL, MMB_OPT_INT, 0, 0, 0, NULL},
};

const mmb_manager mmb_manager_python3_11 = {
    .name = "python3.11",
    .summary = "the real CPython 3.11 collector (embedded libpython3.11); memory is CPython's "
               "(pymalloc, then malloc), not the harness allocator",
    .caps = MMB_CAP_REFCOUNT | MMB_CAP_CYCLES | MMB_CAP_YOUNG | MMB_CAP_OWN_MEMORY,
    .options = py_options,
    .create = py_create,
    .destroy = py_destroy,
    .alloc = py_alloc,
    .incref = py_incref,
    .decref = py_decref,
    .store = py_store,
    .load = NULL,
    .collect = py_collect,
    .collect_young = py_collect_young,
    .freeze = py_freeze,
    .stats = py_stats,
};

/* A heap starts as the model's does: every object the interpreter made so far collected or
 * frozen (gc.freeze: the permanent generation, which no collection examines), the thresholds
 * set, every generation's count and the long-lived heuristic's two counts at 0. */
static int py_create(const mmb_heap_config *cfg, mmb_heap **out, char *err, size_t err_bytes) {
    if (rt.heap) {
        snprintf(err, err_bytes,
                 "a python3.11 heap exists already in this process (CPython's collector is "
                 "process-wide: destroy it first)");
        return -1;
    }
    if (py_start(err, err_bytes) < 0)
        return -1;
    py_heap *h = mmb_heap_new(cfg, sizeof *h, &mmb_manager_python3_11, err, err_bytes);
    if (!h)
        return -1;
    h->cfg = *cfg;
    h->callbacks = cfg->options[3] != 0;
    callbacks_set(h->callbacks);
    mmb_list_init(&h->objects);
    h->stats.header_bytes = sizeof(PyGC_Head) + sizeof(py_head);
    PyObject *r = PyObject_CallFunction(rt.set_threshold, "iii", (int)cfg->options[0],
                                        (int)cfg->options[1], (int)cfg->options[2]);
    if (!r)
        py_die("gc.set_threshold");
    Py_DECREF(r);
    py_gc_collect(rt.full);
    py_gc_freeze();
    for (int i = 0; i < NUM_GENERATIONS; i++)
        rt.gc->generations[i].count = 0;
    rt.gc->long_lived_total = 0;
    rt.gc->long_lived_pending = 0;
    rt.heap = h;
    *out = &h->base;
    return 0;
}

const char *mmb_manager_python3_11_version(void) {
    static char version[32];
    const char *v = Py_GetVersion();
    size_t n = strcspn(v, " ");
    if (n >= sizeof version)
        n = sizeof version - 1;
    memcpy(version, v, n);
    version[n] = '\0';
    return version;
}
