/* The memory-manager contract: what every bundled or plugged-in manager implements and the only
 * view of a manager that workloads and the harness get. Design notes: managers/README.md. */
#ifndef MMB_MANAGER_H
#define MMB_MANAGER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The contract's ABI version: bumped on any change to the contract's layout (a struct's fields,
 * their order or types, an enum's values, a callback's signature). A plug-in built against one
 * version is refused by an mmbench of another. */
#define MMB_ABI_VERSION 3

/* ---------------------------------------------------------------------------------------------
 * Objects
 *
 * An object is a manager-owned header (before the pointer the mutator sees, of a size only the
 * manager knows) followed by this struct: N pointer slots, then P payload bytes. The mutator
 * reads `nslots`, reads slots through mmb_load (or directly, where a manager has no read
 * barrier), writes slots only through mmb_store, and owns the payload bytes. Managers see the
 * object graph only through slots.
 * ------------------------------------------------------------------------------------------- */
typedef struct mmb_obj {
    uint32_t nslots;        /* number of pointer slots; fixed at allocation */
    uint32_t payload_bytes; /* payload size as allocated; the payload follows the slots */
    struct mmb_obj *slots[];
} mmb_obj;

static inline void *mmb_payload(mmb_obj *o) {
    return (void *)&o->slots[o->nslots];
}

/* Bytes of an object from `nslots` on, not counting the manager's header. */
static inline size_t mmb_obj_bytes(uint32_t nslots, uint32_t payload_bytes) {
    return sizeof(mmb_obj) + (size_t)nslots * sizeof(mmb_obj *) + payload_bytes;
}

/* Largest object a mutator may ask for. A manager must accept payloads up to
 * MMB_MAX_PAYLOAD_BYTES + MMB_PAYLOAD_RESERVE_BYTES: the oracle adds a canary of that size. */
#define MMB_MAX_SLOTS             (1u << 16)
#define MMB_MAX_PAYLOAD_BYTES     (1u << 20)
#define MMB_PAYLOAD_RESERVE_BYTES 8u

/* ---------------------------------------------------------------------------------------------
 * The allocator the harness supplies. Managers get all their memory here: every object is one
 * block of its own, allocated by the manager's alloc and freed when the object is reclaimed;
 * manager-internal buffers (work stacks, root buffers) come from here too. That lets the harness
 * count, poison and verify every block.
 * ------------------------------------------------------------------------------------------- */
typedef struct mmb_allocator {
    const char *name;
    void *ctx;
    /* Returns a block of at least `bytes` bytes, aligned to 16, contents undefined; NULL when out
     * of memory. */
    void *(*alloc)(void *ctx, size_t bytes);
    /* Frees a block from alloc; `bytes` is exactly the size that was asked for. */
    void (*free)(void *ctx, void *block, size_t bytes);
} mmb_allocator;

/* The C library's malloc and free. */
extern const mmb_allocator mmb_allocator_libc;

/* ---------------------------------------------------------------------------------------------
 * Events: every collector pause and every refcount cascade that frees at least
 * `cascade_threshold` objects is reported to the harness while it happens (after it ends).
 * ------------------------------------------------------------------------------------------- */
typedef enum mmb_event_kind {
    MMB_EVENT_FULL = 0,    /* a full collection */
    MMB_EVENT_YOUNG = 1,   /* a young or partial collection (generation in `generation`) */
    MMB_EVENT_CASCADE = 2, /* a refcount cascade: a decrement to zero and what it freed */
    /* One bounded step of an incremental collector (MMB_CAP_INCREMENTAL): part of a cycle that
     * spans many steps, the mutator running between them. `generation` as for MMB_EVENT_YOUNG
     * (-1 where the manager has none); objects_visited counts what this step examined, each
     * object once, and objects_freed what it freed. A cycle's steps are not full collections:
     * only a collect that finishes a cycle at once is MMB_EVENT_FULL. */
    MMB_EVENT_INCREMENT = 3,
} mmb_event_kind;
/* How many event kinds there are: arrays indexed by mmb_event_kind have this many entries. */
#define MMB_EVENT_KIND_COUNT 4

typedef struct mmb_event {
    mmb_event_kind kind;
    int generation;    /* the oldest generation collected; -1 where not meaningful */
    uint64_t start_ns; /* CLOCK_MONOTONIC */
    uint64_t end_ns;   /* CLOCK_MONOTONIC, >= start_ns */
    /* The objects the collector or cascade examined, each counted once however many times it
     * was read. A collection (full or young) counts every object of the set it collected (each
     * survived or was freed) and every object it freed beyond it, so its survivors are
     * objects_visited - objects_freed; a cascade counts the objects it freed (the children it
     * only decremented are not counted), so objects_visited == objects_freed. The harness's full
     * GC ns per live object (full_ns_per_live_object) divides by those survivors. */
    uint64_t objects_visited;
    uint64_t objects_freed; /* <= objects_visited */
} mmb_event;

typedef void (*mmb_event_fn)(void *ctx, const mmb_event *event);

/* Phases: where the time between operations goes. Managers call the phase hook, when the config
 * has one, at the start and at the end of every collection (MMB_PHASE_COLLECTOR) and of every
 * refcount cascade that frees more than one object (MMB_PHASE_CASCADE); everything else is the
 * mutator's. A cascade set off inside a collection nests inside it: the hook sees begin/end pairs
 * properly nested, on the thread doing the work. The harness reads hardware counters here. */
typedef enum mmb_phase {
    MMB_PHASE_MUTATOR = 0,
    MMB_PHASE_CASCADE = 1,
    MMB_PHASE_COLLECTOR = 2,
} mmb_phase;
/* How many phases there are: arrays indexed by mmb_phase have this many entries. */
#define MMB_PHASE_COUNT 3

typedef void (*mmb_phase_fn)(void *ctx, mmb_phase phase, int begin);

/* Managers with MMB_CAP_OWN_MEMORY: called once for every object the manager reclaims, while its
 * header, slots and payload are still readable (before its memory can be reused), on the thread
 * that reclaims it; destroy reports every object it frees too. */
typedef void (*mmb_free_fn)(void *ctx, mmb_obj *obj);

/* The kind's name, as results files and traces spell it ("full", "young", "cascade",
 * "increment"); "unknown"
 * out of range. Defined here, so the contract's names need no manager library. */
static inline const char *mmb_event_kind_name(mmb_event_kind kind) {
    static const char *const names[MMB_EVENT_KIND_COUNT] = {[MMB_EVENT_FULL] = "full",
                                                            [MMB_EVENT_YOUNG] = "young",
                                                            [MMB_EVENT_CASCADE] = "cascade",
                                                            [MMB_EVENT_INCREMENT] = "increment"};
    unsigned k = (unsigned)kind;
    return k < MMB_EVENT_KIND_COUNT && names[k] ? names[k] : "unknown";
}

/* ---------------------------------------------------------------------------------------------
 * Options: every manager declares its options in a table; the harness parses `key=value`
 * strings against it (mmb_options_parse) and hands the values, in table order, to create.
 * ------------------------------------------------------------------------------------------- */
typedef enum mmb_option_type {
    MMB_OPT_INT,   /* a decimal integer within [min, max] */
    MMB_OPT_BYTES, /* an integer with an optional K, M or G suffix (powers of 1024) */
    MMB_OPT_BOOL,  /* true/false, yes/no, on/off, 1/0 */
} mmb_option_type;

typedef struct mmb_option_spec {
    const char *name;
    mmb_option_type type;
    int64_t default_value;
    int64_t min, max;
    const char *help; /* one line: meaning and unit */
} mmb_option_spec;

#define MMB_MAX_OPTIONS 16

/* Capability flags. */
enum {
    MMB_CAP_CYCLES = 1u << 0,      /* a full collection reclaims every unreachable object */
    MMB_CAP_THREAD_SAFE = 1u << 1, /* may be used from several threads at once */
    /* collects in bounded increments, each reported as an MMB_EVENT_INCREMENT event; collect
     * still finishes a whole cycle before it returns */
    MMB_CAP_INCREMENTAL = 1u << 2,
    MMB_CAP_FINALIZERS = 1u << 3, /* runs finalizers */
    MMB_CAP_YOUNG = 1u << 4,      /* has a young or partial collection (collect_young) */
    MMB_CAP_REFCOUNT = 1u << 5,   /* frees objects when their reference count drops to zero */
    /* Objects live in the runtime's own memory (an embedded interpreter's allocator, a tracing
     * collector's heap), not in blocks of config->allocator: the manager reports each object it
     * reclaims through config->on_free instead, so the oracle can check safety and completeness,
     * but cannot poison or quarantine freed blocks. */
    MMB_CAP_OWN_MEMORY = 1u << 6,
    /* May retain unreachable objects (conservative scanning of stacks or registers): a full
     * collection reclaims cycles, but completeness is not guaranteed for every object. */
    MMB_CAP_CONSERVATIVE = 1u << 7,
};

/* Everything create needs. `options` holds one value per entry of the manager's option table,
 * in table order (defaults filled in). */
typedef struct mmb_heap_config {
    mmb_allocator allocator;
    mmb_event_fn on_event; /* NULL: no events, and no clock reads for them */
    void *event_ctx;
    uint64_t cascade_threshold; /* report cascades freeing at least this many objects (>= 1) */
    mmb_phase_fn on_phase;      /* NULL: no phase hooks */
    void *phase_ctx;
    int64_t options[MMB_MAX_OPTIONS];
    mmb_free_fn on_free; /* NULL: not wanted; see MMB_CAP_OWN_MEMORY */
    void *free_ctx;
} mmb_heap_config;

/* Counters every manager keeps. The work counters (increments ... objects_traversed) depend only
 * on the sequence of operations, never on timing: identical from run to run for a seed. */
typedef struct mmb_stats {
    uint64_t objects_allocated;
    uint64_t objects_freed;
    uint64_t objects_freed_by_rc; /* freed by a decrement to zero outside any collection */
    uint64_t objects_freed_by_gc; /* freed by a collection, including cascades it set off */
    uint64_t live_objects;        /* allocated, not yet freed */
    uint64_t live_bytes;          /* bytes of the live objects' blocks, headers included */
    uint64_t header_bytes;        /* bytes of manager header per object */
    uint64_t collections_full;
    uint64_t collections_young;
    uint64_t cascades_reported; /* cascades at or above cascade_threshold */
    uint64_t increments;        /* reference-count increments (incl. root-table adds) */
    uint64_t decrements;        /* reference-count decrements (incl. root-table removals) */
    uint64_t objects_traversed; /* objects whose slots a collector examined */
} mmb_stats;

typedef struct mmb_heap mmb_heap;

/* A manager: its metadata and operations. A bundled manager is one `const mmb_manager` defined in
 * one file under managers/ and one MMB_MANAGER line in managers/list.h. Every operation takes a
 * heap from this manager's create; objects passed in must be live objects of that heap that the
 * mutator holds a reference to, unless stated otherwise.
 *
 * Threads. A manager without MMB_CAP_THREAD_SAFE is used by one thread at a time (handing the
 * heap over with the happens-before of a thread start or join is fine). A thread-safe manager is
 * used by any number of threads at once, under these rules:
 * - create attaches the calling thread. Every other thread calls thread_attach before its first
 *   operation on the heap and thread_detach after its last (before it ends); destroy is called by
 *   an attached thread when no other thread is attached. A thread attaches to a heap at most once
 *   at a time. A thread may be attached to several heaps, of one manager or several.
 * - The bundled thread-safe managers check these rules on their slow paths: destroy while another
 *   thread is attached, a second attach, a detach without attach and a thread that ends attached
 *   each stop the process with one `mmbench: error:` line (abort), rather than a use after free or
 *   a collection that waits for ever.
 * - A collection may stop the world: it waits until every other attached thread has entered an
 *   operation (or attach, or detach), and holds it there; a thread waiting inside an operation on
 *   another heap counts as held. So an attached thread must reach its next operation in bounded
 *   time: a thread about to block (on a queue, a lock, a join) detaches first and attaches again
 *   afterwards. The event and phase hooks must not call into another heap.
 * - References belong to the program, not to threads: a thread may hand an object it holds a
 *   reference to to another thread (through its own synchronisation, which must order the two),
 *   and the receiver then releases it. Slots are read and written by any thread, but a slot
 *   written by one thread while another reads or writes it is the program's data race.
 * - stats sums over threads; exact only while no other thread is attached. */
typedef struct mmb_manager {
    const char *name;
    const char *summary;            /* one line for `mmbench list` */
    unsigned caps;                  /* MMB_CAP_* */
    const mmb_option_spec *options; /* table ended by an entry with name NULL; may be NULL */

    /* Creates an empty heap. Returns 0 and sets *out, or returns -1 and writes a one-line reason
     * to err (err_bytes long). `config` is copied; it need not outlive the call. */
    int (*create)(const mmb_heap_config *config, mmb_heap **out, char *err, size_t err_bytes);

    /* Frees every object, live or garbage, and the heap itself, without reporting events. */
    void (*destroy)(mmb_heap *heap);

    /* Allocates an object with `nslots` null slots and `payload_bytes` uninitialised payload
     * bytes (nslots <= MMB_MAX_SLOTS,
     * payload_bytes <= MMB_MAX_PAYLOAD_BYTES + MMB_PAYLOAD_RESERVE_BYTES). The mutator holds
     * one reference to the result. May run a collection first. NULL only when the allocator
     * returns NULL. */
    mmb_obj *(*alloc)(mmb_heap *heap, uint32_t nslots, uint32_t payload_bytes);

    /* The mutator takes one more reference to `obj` (a tracing manager counts it in a root
     * table). */
    void (*incref)(mmb_heap *heap, mmb_obj *obj);

    /* The mutator releases one of its references to `obj`; obj may be freed before this
     * returns, and so may everything only it kept alive. May run a collection. */
    void (*decref)(mmb_heap *heap, mmb_obj *obj);

    /* Stores `value` (NULL, or a live object the mutator holds) into slot `slot` < obj->nslots,
     * with whatever write barrier the manager needs. The slot takes its own reference to value;
     * the mutator keeps its own. The previous value loses the slot's reference and may be freed
     * before this returns, as may anything else: store may run a collection. */
    void (*store)(mmb_heap *heap, mmb_obj *obj, uint32_t slot, mmb_obj *value);

    /* Returns slot `slot` < obj->nslots of obj, through any read barrier. The mutator gets no
     * reference: it must incref the result before anything can free it. NULL here means the
     * manager has no read barrier and mmb_load reads the slot directly. */
    mmb_obj *(*load)(mmb_heap *heap, mmb_obj *obj, uint32_t slot);

    /* A full collection: every garbage object the manager can reclaim is freed before it returns
     * (for a manager with MMB_CAP_CYCLES: every object unreachable from the mutator's
     * references). */
    void (*collect)(mmb_heap *heap);

    /* A young or partial collection. NULL where the manager has none. */
    void (*collect_young)(mmb_heap *heap);

    /* Moves every live object out of reach of all later collections (as CPython's gc.freeze());
     * they may still be freed by refcounting. NULL where the manager has no such thing. */
    void (*freeze)(mmb_heap *heap);

    /* Fills *out. Cheap: O(1), or O(threads) for a thread-safe manager. */
    void (*stats)(mmb_heap *heap, mmb_stats *out);

    /* Thread-safe managers only (NULL for others): the calling thread starts or stops using the
     * heap; see "Threads" above. attach may wait for a collection in progress to end. */
    void (*thread_attach)(mmb_heap *heap);
    void (*thread_detach)(mmb_heap *heap);
} mmb_manager;

/* Every heap starts with this, so the inline calls below can find the operations. */
struct mmb_heap {
    const mmb_manager *manager;
};

static inline mmb_obj *mmb_alloc(mmb_heap *h, uint32_t nslots, uint32_t payload_bytes) {
    return h->manager->alloc(h, nslots, payload_bytes);
}
static inline void mmb_incref(mmb_heap *h, mmb_obj *o) {
    h->manager->incref(h, o);
}
static inline void mmb_decref(mmb_heap *h, mmb_obj *o) {
    h->manager->decref(h, o);
}
static inline void mmb_store(mmb_heap *h, mmb_obj *o, uint32_t slot, mmb_obj *value) {
    h->manager->store(h, o, slot, value);
}
static inline mmb_obj *mmb_load(mmb_heap *h, mmb_obj *o, uint32_t slot) {
    return h->manager->load ? h->manager->load(h, o, slot) : o->slots[slot];
}
static inline void mmb_collect(mmb_heap *h) {
    h->manager->collect(h);
}
static inline void mmb_stats_get(mmb_heap *h, mmb_stats *out) {
    h->manager->stats(h, out);
}
/* No-ops for a manager without threads. */
static inline void mmb_thread_attach(mmb_heap *h) {
    if (h->manager->thread_attach)
        h->manager->thread_attach(h);
}
static inline void mmb_thread_detach(mmb_heap *h) {
    if (h->manager->thread_detach)
        h->manager->thread_detach(h);
}

/* Creates a heap of manager m (m->create), pointed at m's table: a manager that reuses another's
 * create (a plug-in wrapping a bundled manager, a test's broken one) gets its own operations.
 * Returns what create returns. */
int mmb_heap_create(const mmb_manager *m, const mmb_heap_config *config, mmb_heap **out, char *err,
                    size_t err_bytes);

/* What happens when an allocation a manager cannot do without fails (BYTES asked for): FN, which
 * does not return, is called instead of the managers' own line and abort. The harness sets it
 * to name what was running (the cell) and the memory limit in force. NULL restores the default. */
typedef void (*mmb_out_of_memory_fn)(size_t bytes);
void mmb_set_out_of_memory_handler(mmb_out_of_memory_fn fn);

/* ---------------------------------------------------------------------------------------------
 * The registry and options.
 * ------------------------------------------------------------------------------------------- */

/* The bundled managers, in managers/list.h order, then the external ones that were built
 * (managers/external/list.h), then any added with mmb_manager_register. */
size_t mmb_manager_count(void);
const mmb_manager *mmb_manager_at(size_t index);
/* NULL when no manager has that name. */
const mmb_manager *mmb_manager_find(const char *name);
/* Adds a manager (a plug-in, or a test's deliberately broken one). Returns -1 when the name is
 * taken or the registry is full. `m` must outlive the registry. */
int mmb_manager_register(const mmb_manager *m);
/* Writes the registered names, comma separated, into buf. */
void mmb_manager_names(char *buf, size_t bytes);

/* External managers: adapters to real runtimes and collectors (an embedded CPython, Boehm GC,
 * PHP's Zend engine), each built only when its Debian package was present at configure time.
 * Whether m is one of those that were built. */
int mmb_manager_is_external(const mmb_manager *m);
/* The library's version as the running process has it ("3.11.2", "8.2.2"), for an external
 * manager; NULL for any other. */
const char *mmb_manager_version(const mmb_manager *m);
/* The external managers that were not built: their names and the Debian packages they need.
 * Returns 0 and sets *name and *packages for index < the count, -1 past it. */
int mmb_manager_missing_at(size_t index, const char **name, const char **packages);

/* Options every manager accepts, handled by the harness rather than the manager. */
extern const mmb_option_spec mmb_common_options[];

/* Parses `key=value` strings against the manager's table and the common options. On success
 * returns 0 and fills config->options (defaults for keys not given) and the common fields of
 * config. On failure returns -1 and writes a one-line reason naming the key and what is valid. */
int mmb_options_parse(const mmb_manager *m, const char *const *kv, size_t count,
                      mmb_heap_config *config, char *err, size_t err_bytes);

/* A config with the libc allocator, no events, default options and cascade threshold. */
void mmb_config_defaults(const mmb_manager *m, mmb_heap_config *config);

#ifdef __cplusplus
}
#endif

#endif
