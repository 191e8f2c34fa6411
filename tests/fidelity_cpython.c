/* Fidelity: the bundled `cpython` model against the real CPython 3.11 (`python3.11`, embedded
 * libpython3.11) on the same operations, at CPython's default thresholds and at small ones. Each
 * run records every event (kind, generation, objects freed, objects visited) and the counters at
 * the end; the two must agree exactly: collections per generation, the whole sequence of events,
 * objects freed by refcount and by collections, live objects, and the work counters. Every test
 * skips (77) where python3.11 is not built. Issue 12, section 2; managers/README.md. */
#ifdef MMB_HAVE_PYTHON3_11
/* CPython's own count of each collection, read through gc.callbacks beside the adapter's. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#endif

#include "fidelity.h"
#include "mmbench/manager.h"
#include "stress.h"
#include "test.h"
#include "workload.h"

/* The 10^6 cases under a sanitizer run at 10^5 (the same shapes, a tenth of the time), the
 * workloads at tiny scale only. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define FID_BIG              100000u
#define FID_WORKLOAD_LARGEST MMB_SCALE_TINY
#else
#define FID_BIG              1000000u
#define FID_WORKLOAD_LARGEST MMB_SCALE_SMALL
#endif

/* Every event compared (kind, generation, objects freed and visited), the collections per
 * generation, and these counters after the program (which ends in its own collection). */
static const fid_counter fid_counters[] = {
    FID_COUNTER(objects_allocated),   FID_COUNTER(objects_freed_by_rc),
    FID_COUNTER(objects_freed_by_gc), FID_COUNTER(live_objects),
    FID_COUNTER(collections_full),    FID_COUNTER(collections_young),
    FID_COUNTER(cascades_reported),   FID_COUNTER(increments),
    FID_COUNTER(decrements),          FID_COUNTER(objects_traversed),
};
static const fid_spec fid_cpython = {
    .kinds = 1u << MMB_EVENT_FULL | 1u << MMB_EVENT_YOUNG | 1u << MMB_EVENT_CASCADE,
    .generations = true,
    .visited = true,
    .counters = fid_counters,
    .ncounters = sizeof fid_counters / sizeof fid_counters[0],
};

/* The python3.11 manager, or a skip. */
static const mmb_manager *fid_python(void) {
    return fid_need("python3.11", "libpython3.11-dev");
}

/* Runs `program` on a fresh heap of manager NAME with thresholds T (threshold0/1/2) and, when
 * not NULL, one more option EXTRA. */
static void fid_run_on(const char *name, const int t[3], const char *extra, fid_program program,
                       const void *arg, fid_run *out) {
    const mmb_manager *m = mmb_manager_find(name);
    ASSERT_TRUE(m != NULL);
    char kv[3][40];
    const char *kvp[4];
    for (int i = 0; i < 3; i++) {
        snprintf(kv[i], sizeof kv[i], "threshold%d=%d", i, t[i]);
        kvp[i] = kv[i];
    }
    kvp[3] = extra;
    fid_record(m, &fid_cpython, kvp, extra ? 4 : 3, program, arg, out);
}

/* Runs the program on both managers with the same thresholds, python3.11 both watching its
 * collector and through gc.callbacks, and asserts all three agree. Returns the number of
 * collections, so a case can also check it did collect. */
static uint64_t fid_expect_same(const char *what, const int t[3], fid_program program,
                                const void *arg) {
    fid_python();
    fid_run model, real;
    fid_run_on("cpython", t, NULL, program, arg, &model);
    static const char *const ways[] = {NULL, "callbacks=on"};
    for (size_t w = 0; w < 2; w++) {
        fid_run_on("python3.11", t, ways[w], program, arg, &real);
        char why[256];
        if (fid_compare(&model, &real, why, sizeof why)) {
            fprintf(stderr, "%s at %d/%d/%d: cpython vs python3.11%s%s differ: %s\n", what, t[0],
                    t[1], t[2], ways[w] ? " " : "", ways[w] ? ways[w] : "", why);
            ASSERT_TRUE(0);
        }
        fid_run_free(&real);
    }
    uint64_t collections = model.stats.collections_full + model.stats.collections_young;
    fprintf(stderr,
            "%s at %d/%d/%d: agree: %" PRIu64 " collections (%" PRIu64 "/%" PRIu64 "/%" PRIu64
            "), %zu events, freed %" PRIu64 " by rc and %" PRIu64 " by gc, %" PRIu64 " live\n",
            what, t[0], t[1], t[2], collections, model.by_generation[0], model.by_generation[1],
            model.by_generation[2], model.count, model.stats.objects_freed_by_rc,
            model.stats.objects_freed_by_gc, model.stats.live_objects);
    fid_run_free(&model);
    return collections;
}

static const int fid_default[3] = {700, 10, 10};
static const int fid_small[3] = {50, 3, 3};
static const int fid_tiny[3] = {10, 2, 2};

/* ---- the programs -------------------------------------------------------------------------- */

static void prog_trace(mmb_heap *h, const void *arg) {
    fid_replay(h, arg);
    mmb_collect(h);
}

/* n two-object cycles, each made and dropped; then one full collection. */
static void prog_cycles(mmb_heap *h, const void *arg) {
    fid_cycles(h, *(const uint32_t *)arg, 0);
    mmb_collect(h);
}

/* A live heap of n nodes built by prepending (slot 0: the previous node), every eighth node's
 * slot 1 pointed forward by the node five before it (a six-node cycle), every eighth an atom in
 * slot 1; the mutator holds the last eight. Then dropped: the cascade from the head stops at the
 * first cycle, and the full collection frees the rest. */
static void prog_live_heap(mmb_heap *h, const void *arg) {
    uint32_t n = *(const uint32_t *)arg;
    enum { W = 8 };
    mmb_obj *window[W] = {0};
    for (uint32_t i = 0; i < n; i++) {
        mmb_obj *x = mmb_alloc(h, 2, 16);
        if (i > 0)
            mmb_store(h, x, 0, window[(i - 1) % W]);
        if (i % 8 == 7)
            mmb_store(h, window[(i - 5) % W], 1, x);
        if (i % 8 == 4) {
            mmb_obj *atom = mmb_alloc(h, 0, 8);
            mmb_store(h, x, 1, atom);
            mmb_decref(h, atom);
        }
        if (window[i % W])
            mmb_decref(h, window[i % W]);
        window[i % W] = x;
    }
    for (uint32_t i = n; i-- > (n > W ? n - W : 0);)
        mmb_decref(h, window[i % W]);
    mmb_collect(h);
}

/* Cycles made and dropped, some kept (on a list the mutator holds), a young collection every
 * 3000; half-way, a full collection first if `full_first`, then everything frozen if `freeze`;
 * at the end the list dropped and a full collection. */
typedef struct fid_young {
    uint32_t n;
    bool full_first, freeze;
} fid_young;

static void prog_young_freeze(mmb_heap *h, const void *arg) {
    const fid_young *y = arg;
    mmb_obj *kept = mmb_alloc(h, 1, 0);
    for (uint32_t i = 0; i < y->n; i++) {
        mmb_obj *a = mmb_alloc(h, 2, 0), *b = mmb_alloc(h, 1, 0);
        mmb_store(h, a, 0, b);
        mmb_store(h, b, 0, a);
        if (i % 100 == 0) {
            mmb_store(h, a, 1, kept->slots[0]);
            mmb_store(h, kept, 0, a);
        }
        mmb_decref(h, a);
        mmb_decref(h, b);
        if (i % 3000 == 2999)
            h->manager->collect_young(h);
        if (i == y->n / 2 && y->full_first)
            mmb_collect(h);
        if (i == y->n / 2 && y->freeze)
            h->manager->freeze(h);
    }
    mmb_decref(h, kept);
    mmb_collect(h);
}

/* A registered workload at `scale`, seed 42, one worker where it has workers; then a full
 * collection. */
static void prog_workload(mmb_heap *h, const void *arg) {
    fid_run_workload(h, arg);
    mmb_collect(h);
}

/* ---- the cases ------------------------------------------------------------------------------ */

/* Every stress shape, three seeds each, 20,000 operations. */
static void fid_stress(const int t[3]) {
    for (int shape = 0; shape < MMB_SHAPE_COUNT; shape++) {
        for (uint64_t seed = 1; seed <= 3; seed++) {
            mmb_trace tr;
            mmb_trace_init(&tr);
            mmb_stress_generate(&tr, seed, (mmb_shape)shape, 20000);
            char what[64];
            snprintf(what, sizeof what, "stress %s seed %" PRIu64, mmb_shape_names[shape], seed);
            fid_expect_same(what, t, prog_trace, &tr);
            mmb_trace_free(&tr);
        }
    }
}

TEST(fidelity_cpython_stress) {
    fid_stress(fid_default);
}

TEST(fidelity_cpython_stress_small_thresholds) {
    fid_stress(fid_small);
    fid_stress(fid_tiny);
}

TEST(fidelity_cpython_cycles_1e5) {
    const uint32_t n = 100000;
    ASSERT_TRUE(fid_expect_same("1e5 two-object cycles", fid_default, prog_cycles, &n) > 0);
    ASSERT_TRUE(fid_expect_same("1e5 two-object cycles", fid_small, prog_cycles, &n) > 0);
    ASSERT_TRUE(fid_expect_same("1e5 two-object cycles", fid_tiny, prog_cycles, &n) > 0);
}

TEST(fidelity_cpython_cycles_1e6) {
    const uint32_t n = FID_BIG;
    ASSERT_TRUE(fid_expect_same("1e6 two-object cycles", fid_default, prog_cycles, &n) > 0);
    ASSERT_TRUE(fid_expect_same("1e6 two-object cycles", fid_small, prog_cycles, &n) > 0);
    ASSERT_TRUE(fid_expect_same("1e6 two-object cycles", fid_tiny, prog_cycles, &n) > 0);
}

TEST(fidelity_cpython_live_heap_1e6) {
    const uint32_t n = FID_BIG;
    ASSERT_TRUE(fid_expect_same("1e6-object live heap", fid_default, prog_live_heap, &n) > 0);
    ASSERT_TRUE(fid_expect_same("1e6-object live heap", fid_small, prog_live_heap, &n) > 0);
    ASSERT_TRUE(fid_expect_same("1e6-object live heap", fid_tiny, prog_live_heap, &n) > 0);
}

TEST(fidelity_cpython_young_collections) {
    const fid_young y = {30000, false, false};
    ASSERT_TRUE(fid_expect_same("young collections", fid_default, prog_young_freeze, &y) > 0);
    ASSERT_TRUE(fid_expect_same("young collections", fid_tiny, prog_young_freeze, &y) > 0);
}

/* Frozen right after a full collection, when every generation's count is 0 on both sides. */
TEST(fidelity_cpython_freeze_after_full) {
    const fid_young y = {30000, true, true};
    ASSERT_TRUE(fid_expect_same("a freeze after a full collection", fid_default, prog_young_freeze,
                                &y) > 0);
    ASSERT_TRUE(
        fid_expect_same("a freeze after a full collection", fid_tiny, prog_young_freeze, &y) > 0);
}

/* Every registered workload, at tiny and small scale (tiny under sanitizers): the harness's own
 * mutators, threaded ones with one worker. */
TEST(fidelity_cpython_workloads) {
    fid_python();
    for (size_t i = 0; i < mmb_workload_count(); i++) {
        for (int scale = MMB_SCALE_TINY; scale <= FID_WORKLOAD_LARGEST; scale++) {
            fid_workload fw = {mmb_workload_at(i), (mmb_scale)scale, 42};
            char what[64];
            snprintf(what, sizeof what, "workload %s %s", fw.w->name, mmb_scale_names[scale]);
            fid_expect_same(what, fid_default, prog_workload, &fw);
        }
    }
}

/* The comparer is a checker: one allocation's difference in threshold0 on one side moves the
 * collections, and it says so. */
TEST(fidelity_cpython_comparer_catches_a_difference) {
    fid_python();
    const uint32_t n = 100000;
    const int off_by_one[3] = {701, 10, 10};
    fid_run model, real;
    fid_run_on("cpython", fid_default, NULL, prog_cycles, &n, &model);
    fid_run_on("python3.11", off_by_one, NULL, prog_cycles, &n, &real);
    char why[256] = "";
    ASSERT_EQ(fid_compare(&model, &real, why, sizeof why), 1);
    ASSERT_STR_CONTAINS(why, "collections per generation ");
    fid_run_free(&real);
    /* ... and the same thresholds on both sides agree, until one event's freed is off by one. */
    fid_run_on("cpython", fid_default, NULL, prog_cycles, &n, &real);
    ASSERT_EQ(fid_compare(&model, &real, why, sizeof why), 0);
    ASSERT_TRUE(real.count > 2);
    real.events[real.count / 2].freed++;
    ASSERT_EQ(fid_compare(&model, &real, why, sizeof why), 1);
    ASSERT_STR_CONTAINS(why, "freed");
    fid_run_free(&model);
    fid_run_free(&real);
}

/* ---- CPython's own count, and the adapter's other promises ----------------------------------- */

#ifdef MMB_HAVE_PYTHON3_11
static uint64_t py_collected_total, py_stops;

static PyObject *fid_on_gc(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs == 2 && PyUnicode_CompareWithASCIIString(args[0], "stop") == 0) {
        PyObject *v = PyDict_GetItemString(args[1], "collected");
        py_collected_total += v ? (uint64_t)PyLong_AsLong(v) : 0;
        py_stops++;
    }
    Py_RETURN_NONE;
}

static PyMethodDef fid_on_gc_def = {"fidelity_on_gc", (PyCFunction)(void (*)(void))fid_on_gc,
                                    METH_FASTCALL, "counts CPython's collected"};

/* After the adapter's own callback (the interpreter is up once a heap was created). */
static void fid_install_callback(void) {
    PyObject *gc = PyImport_ImportModule("gc");
    ASSERT_TRUE(gc != NULL);
    PyObject *callbacks = PyObject_GetAttrString(gc, "callbacks");
    PyObject *cb = PyCFunction_New(&fid_on_gc_def, NULL);
    ASSERT_TRUE(callbacks && cb && PyList_Append(callbacks, cb) == 0);
    Py_DECREF(cb);
    Py_DECREF(callbacks);
    Py_DECREF(gc);
}

/* k cycles of two objects, each cycle holding an atom; dropped, one full collection, automatic
 * collection off. */
static void prog_cycles_with_atoms(mmb_heap *h, const void *arg) {
    uint32_t k = *(const uint32_t *)arg;
    for (uint32_t i = 0; i < k; i++) {
        mmb_obj *a = mmb_alloc(h, 2, 0), *b = mmb_alloc(h, 1, 0), *atom = mmb_alloc(h, 0, 8);
        mmb_store(h, a, 0, b);
        mmb_store(h, b, 0, a);
        mmb_store(h, a, 1, atom);
        mmb_decref(h, atom);
        mmb_decref(h, a);
        mmb_decref(h, b);
    }
    mmb_collect(h);
}
#endif

/* CPython's "collected" is the unreachable set it found: the atoms the cycles held, freed by the
 * cascades their clearing sets off, are not in it. The model's and the adapter's objects freed
 * count them. */
TEST(fidelity_cpython_collected_leaves_out_cascades) {
    fid_python();
#ifndef MMB_HAVE_PYTHON3_11
    SKIP("built without the Python headers");
#else
    const uint32_t k = 1000;
    const int off[3] = {0, 10, 10};
    fid_run model, real;
    fid_run_on("cpython", off, NULL, prog_cycles_with_atoms, &k, &model);
    /* The interpreter is up once a python3.11 heap was made: a first, empty one. */
    fid_run_on("python3.11", off, NULL, prog_cycles_with_atoms, &(uint32_t){0}, &real);
    fid_run_free(&real);
    fid_install_callback();
    static const char *const ways[] = {NULL, "callbacks=on"};
    for (size_t w = 0; w < 2; w++) {
        py_collected_total = py_stops = 0;
        fid_run_on("python3.11", off, ways[w], prog_cycles_with_atoms, &k, &real);
        char why[256];
        if (fid_compare(&model, &real, why, sizeof why))
            fprintf(stderr, "differ: %s\n", why);
        ASSERT_EQ(fid_compare(&model, &real, why, sizeof why), 0);
        /* create's collection and destroy's are CPython's too, with nothing of ours to collect. */
        ASSERT_EQ(real.count, 1);
        ASSERT_EQ(real.events[0].freed, 3 * k);
        ASSERT_EQ(model.events[0].freed, 3 * k);
        ASSERT_EQ(py_stops, 3);
        ASSERT_EQ(py_collected_total, 2 * k);
        ASSERT_EQ(real.stats.objects_freed_by_gc - py_collected_total, k);
        fid_run_free(&real);
    }
    fid_run_free(&model);
    /* Another callback in gc.callbacks (this test's, from now on) allocates for every call: the
     * adapter undoes that too, at the end of each collection. */
    const uint32_t n = 100000;
    ASSERT_TRUE(fid_expect_same("1e5 two-object cycles beside another callback", fid_tiny,
                                prog_cycles, &n) > 0);
#endif
}

#ifdef MMB_HAVE_PYTHON3_11
/* gc.get_count()'s generations 1 and 2. */
static void fid_py_counts(int *gen1, int *gen2) {
    PyObject *gc = PyImport_ImportModule("gc");
    ASSERT_TRUE(gc != NULL);
    PyObject *get_count = PyObject_GetAttrString(gc, "get_count");
    PyObject *t = get_count ? PyObject_CallNoArgs(get_count) : NULL;
    int gen0 = 0;
    ASSERT_TRUE(t && PyArg_ParseTuple(t, "iii", &gen0, gen1, gen2));
    Py_DECREF(t);
    Py_DECREF(get_count);
    Py_DECREF(gc);
}
#endif

/* Found by these tests and fixed in the model: CPython 3.11's gc.freeze() sets every
 * generation's count to 0 (the model once reset only generation 0's, so the first collection
 * after a freeze that followed young collections was of generation 1 in the model and 0 in
 * CPython). Checked on both sides: CPython's counts around a freeze, and the model and CPython
 * agreeing on the collections after it. */
TEST(fidelity_cpython_freeze_resets_every_count) {
    const mmb_manager *m = fid_python();
#ifndef MMB_HAVE_PYTHON3_11
    (void)m;
    SKIP("built without the Python headers");
#else
    mmb_heap_config cfg;
    mmb_config_defaults(m, &cfg);
    mmb_heap *h = NULL;
    char err[256];
    ASSERT_EQ(mmb_heap_create(m, &cfg, &h, err, sizeof err), 0);
    for (int i = 0; i < 5; i++)
        h->manager->collect_young(h);
    int gen1 = -1, gen2 = -1;
    fid_py_counts(&gen1, &gen2);
    ASSERT_EQ(gen1, 5);
    ASSERT_EQ(gen2, 0);
    h->manager->freeze(h);
    fid_py_counts(&gen1, &gen2);
    ASSERT_EQ(gen1, 0);
    ASSERT_EQ(gen2, 0);
    m->destroy(h);

    const fid_young y = {30000, false, true};
    fid_run model, real;
    fid_run_on("cpython", fid_default, NULL, prog_young_freeze, &y, &model);
    fid_run_on("python3.11", fid_default, NULL, prog_young_freeze, &y, &real);
    char why[256];
    ASSERT_EQ(fid_compare(&model, &real, why, sizeof why), 0);
    fid_run_free(&model);
    fid_run_free(&real);
#endif
}

/* The collector is process-wide: a second heap at once is refused with a reason; after destroy
 * a new one works. */
TEST(python3_11_one_heap_at_a_time) {
    const mmb_manager *m = fid_python();
    mmb_heap_config cfg;
    mmb_config_defaults(m, &cfg);
    mmb_heap *a = NULL, *b = NULL;
    char err[256] = "";
    ASSERT_EQ(mmb_heap_create(m, &cfg, &a, err, sizeof err), 0);
    ASSERT_EQ(mmb_heap_create(m, &cfg, &b, err, sizeof err), -1);
    ASSERT_STR_CONTAINS(err, "a python3.11 heap exists already in this process");
    ASSERT_TRUE(strchr(err, '\n') == NULL);
    m->destroy(a);
    ASSERT_EQ(mmb_heap_create(m, &cfg, &b, err, sizeof err), 0);
    mmb_obj *o = mmb_alloc(b, 1, 8);
    mmb_store(b, o, 0, o);
    mmb_decref(b, o);
    m->destroy(b); /* a garbage cycle: destroy frees it */
    const char *v = mmb_manager_version(m);
    ASSERT_TRUE(v != NULL);
    ASSERT_TRUE(strncmp(v, "3.11.", 5) == 0);
    ASSERT_TRUE(mmb_manager_is_external(m));
}

/* Every object reaches on_free once, destroy's included, with its slots still readable. */
TEST(python3_11_reports_every_free) {
    const mmb_manager *m = fid_python();
    mmb_heap_config cfg;
    mmb_config_defaults(m, &cfg);
    fid_frees freed = {.max_slots = 4};
    cfg.on_free = fid_count_free;
    cfg.free_ctx = &freed;
    mmb_heap *h = NULL;
    char err[256];
    ASSERT_EQ(mmb_heap_create(m, &cfg, &h, err, sizeof err), 0);
    mmb_obj *held = mmb_alloc(h, 4, 0);
    for (uint32_t i = 0; i < 1000; i++) {
        mmb_obj *a = mmb_alloc(h, 1, 0), *atom = mmb_alloc(h, 0, 32);
        mmb_store(h, a, 0, atom);
        mmb_store(h, held, i % 4, a);
        mmb_decref(h, atom);
        mmb_decref(h, a);
    }
    mmb_obj *garbage = mmb_alloc(h, 2, 0);
    mmb_store(h, garbage, 0, garbage);
    mmb_decref(h, garbage);
    mmb_stats st;
    mmb_stats_get(h, &st);
    ASSERT_EQ(st.objects_allocated, 2002);
    ASSERT_EQ(st.live_objects, 1 + 4 * 2 + 1);
    ASSERT_EQ(freed.count, st.objects_freed);
    ASSERT_EQ(st.header_bytes, 56);
    m->destroy(h);
    ASSERT_EQ(freed.count, 2002);
}
