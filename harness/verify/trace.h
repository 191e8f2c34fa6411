/* Traces: the text format that `mmbench replay` reads and `mmbench stress --emit` writes, parsed
 * and validated into a compact operation array before anything runs. Format: README.md. */
#ifndef MMB_TRACE_H
#define MMB_TRACE_H

#include <stdbool.h>
#include <stdio.h>

#include "mmbench/manager.h"
#include "map.h"

typedef enum mmb_op_kind {
    MMB_OP_NEW,     /* a = object, slot = nslots, b = payload bytes */
    MMB_OP_SET,     /* a.slot = b, b = object + 1, or 0 for null */
    MMB_OP_GET,     /* the mutator takes a reference to a.slot (b = that object + 1) */
    MMB_OP_DROP,    /* the mutator drops a reference to a */
    MMB_OP_COLLECT, /* a full collection */
} mmb_op_kind;

/* Objects are numbered densely from 0 in order of their `new`. 12 bytes: a 10^7-operation trace
 * is 120 MB of these. */
typedef struct mmb_op {
    uint32_t a;
    uint32_t kind_slot; /* kind << 24 | slot (slots and NSLOTS are below 2^24) */
    uint32_t b;
} mmb_op;

static inline mmb_op_kind mmb_op_kind_of(const mmb_op *op) {
    return (mmb_op_kind)(op->kind_slot >> 24);
}
static inline uint32_t mmb_op_slot(const mmb_op *op) {
    return op->kind_slot & 0xFFFFFF;
}

typedef struct mmb_trace_obj {
    uint64_t id;        /* the trace's ID */
    uint64_t slot_base; /* index of the first slot in `slots` */
    uint32_t held;      /* the mutator's references */
    uint32_t nslots;
    uint32_t born_line; /* line of its `new` */
    uint32_t unused;
} mmb_trace_obj;

/* A trace and the mutator's view of the graph after its last operation (the shadow): which
 * objects it holds, and what each slot holds. The shadow is what validation checks against. */
typedef struct mmb_trace {
    mmb_op *ops;
    uint32_t *lines; /* source line of each op (0 when generated) */
    size_t count, cap;

    mmb_trace_obj *obj; /* per object, in order of `new` */
    uint32_t objects, objects_cap;
    uint32_t *slots; /* object + 1, or 0 for null */
    uint64_t slots_used, slots_cap;
    /* Trace ID -> object + 1: IDs below direct_cap in a plain array (traces usually number
     * objects densely), the rest in a hash map. */
    uint32_t *direct;
    uint64_t direct_cap;
    mmb_map id_index;
    /* The heap the objects made so far would need, counted as MMB_TRACE_HEAP_BYTES each, and the
     * cap mmb_trace_new holds it to (0: none; the reader sets it from its limits). */
    uint64_t heap_bytes, max_heap_bytes;
} mmb_trace;

/* What a trace may ask for, checked while it is read, before anything is allocated for it: a
 * valid trace of 0.7 MB can name tens of GB of objects, and a device or pipe can go on forever.
 * Crossing a cap is bad input (the line where it is crossed, exit 2), not an out-of-memory kill. */
typedef struct mmb_trace_limits {
    /* The sum of MMB_TRACE_HEAP_BYTES over every `new`, freed or not (an upper bound on the
     * heap a replay needs, and what the reader's own shadow of the slots grows with). */
    uint64_t max_heap_bytes;
    /* The input's size. A regular file larger than this is refused before it is read; a pipe
     * or device is read up to this many bytes. */
    uint64_t max_trace_bytes;
} mmb_trace_limits;

#define MMB_TRACE_DEFAULT_MAX_HEAP_BYTES  (1ull << 30)
#define MMB_TRACE_DEFAULT_MAX_TRACE_BYTES (1ull << 30)
/* A line (without its newline) is at most this long, comment included: the longest operation is
 * under 60 bytes, and /dev/zero or an endless line ends here instead of filling memory. */
#define MMB_TRACE_MAX_LINE_BYTES 4096
/* What one object counts against max_heap_bytes: a header (the largest a bundled manager
 * uses), a pointer per slot, and its payload. */
#define MMB_TRACE_HEAP_BYTES(nslots, payload) (32 + 8 * (uint64_t)(nslots) + (uint64_t)(payload))

void mmb_trace_init(mmb_trace *t);
void mmb_trace_free(mmb_trace *t);

/* Builders: each validates against the shadow (and mmb_trace_new against max_heap_bytes),
 * appends one op and updates the shadow; on bad input returns -1 with a reason in err and
 * changes nothing. `line` is recorded for messages. */
int mmb_trace_new(mmb_trace *t, uint64_t id, uint64_t nslots, uint64_t payload, uint32_t line,
                  char *err, size_t err_bytes);
int mmb_trace_set(mmb_trace *t, uint64_t a, uint64_t slot, uint64_t b /* 0: null */, uint32_t line,
                  char *err, size_t err_bytes);
int mmb_trace_get(mmb_trace *t, uint64_t a, uint64_t slot, uint32_t line, char *err,
                  size_t err_bytes);
int mmb_trace_drop(mmb_trace *t, uint64_t a, uint32_t line, char *err, size_t err_bytes);
void mmb_trace_collect(mmb_trace *t, uint32_t line);

/* Reads and validates a whole trace file under `limits` (NULL: the defaults above). On bad input
 * returns -1 with "FILE:LINE: what is wrong" (or "FILE: what", for a file that cannot be read
 * or is over max_trace_bytes) in err; the text is raw input, to be printed through mmb_error. */
int mmb_trace_read(mmb_trace *t, const char *path, const mmb_trace_limits *limits, char *err,
                   size_t err_bytes);

/* The same over len bytes at buf (need not be NUL-terminated) that came from `name`: the
 * reader's second half, and what a fuzzer drives. Input past max_trace_bytes is refused at the
 * line where the cap is crossed. */
int mmb_trace_parse(mmb_trace *t, const char *name, const char *buf, size_t len,
                    const mmb_trace_limits *limits, char *err, size_t err_bytes);

/* Writes the trace in the text format. Returns -1 on a write error (errno set). */
int mmb_trace_write(const mmb_trace *t, FILE *out);

/* Runs every op against the heap. `objs` has room for t->objects pointers. When `oracle` is
 * true the heap is an oracle heap (oracle.h) and the run stops at the first violation; returns
 * the index of the op that failed, or t->count when all ran. */
size_t mmb_trace_run(const mmb_trace *t, mmb_heap *heap, mmb_obj **objs, bool oracle);

#endif
