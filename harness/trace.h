/* Traces: the text format that `mmbench replay` reads and `mmbench stress --emit` writes, parsed
 * and validated into a compact operation array before anything runs. Format: README.md. */
#ifndef MMB_TRACE_H
#define MMB_TRACE_H

#include <stdbool.h>
#include <stdio.h>

#include "manager.h"
#include "map.h"

typedef enum mmb_op_kind {
    MMB_OP_NEW,     /* a = object, slot = nslots, b = payload bytes */
    MMB_OP_SET,     /* a.slot = b, b = object + 1, or 0 for null */
    MMB_OP_GET,     /* the mutator takes a reference to a.slot (b = that object + 1) */
    MMB_OP_DROP,    /* the mutator drops a reference to a */
    MMB_OP_COLLECT, /* a full collection */
} mmb_op_kind;

/* Objects are numbered densely from 0 in order of their `new`; `ids` maps back to the trace's. */
typedef struct mmb_op {
    uint32_t kind;
    uint32_t a, slot, b;
} mmb_op;

/* A trace and the mutator's view of the graph after its last operation (the shadow): which
 * objects it holds, and what each slot holds. The shadow is what validation checks against. */
typedef struct mmb_trace {
    mmb_op *ops;
    uint32_t *lines; /* source line of each op (0 when generated) */
    size_t count, cap;

    uint64_t *ids;       /* trace ID of each object */
    uint32_t *held;      /* mutator references to each object */
    uint32_t *nslots;    /* slots of each object */
    uint64_t *slot_base; /* index of each object's first slot in `slots` */
    uint32_t *slots;     /* object + 1, or 0 for null */
    uint32_t *born_line; /* line of each object's `new` */
    uint32_t objects, objects_cap;
    uint64_t slots_used, slots_cap;
    mmb_map id_index; /* trace ID -> object */
} mmb_trace;

void mmb_trace_init(mmb_trace *t);
void mmb_trace_free(mmb_trace *t);

/* Builders: each validates against the shadow, appends one op and updates the shadow; on bad
 * input returns -1 with a reason in err and changes nothing. `line` is recorded for messages. */
int mmb_trace_new(mmb_trace *t, uint64_t id, uint64_t nslots, uint64_t payload, uint32_t line,
                  char *err, size_t err_bytes);
int mmb_trace_set(mmb_trace *t, uint64_t a, uint64_t slot, uint64_t b /* 0: null */,
                  uint32_t line, char *err, size_t err_bytes);
int mmb_trace_get(mmb_trace *t, uint64_t a, uint64_t slot, uint32_t line, char *err,
                  size_t err_bytes);
int mmb_trace_drop(mmb_trace *t, uint64_t a, uint32_t line, char *err, size_t err_bytes);
void mmb_trace_collect(mmb_trace *t, uint32_t line);

/* Reads and validates a whole trace file. On bad input returns -1 with
 * "FILE:LINE: what is wrong" in err. */
int mmb_trace_read(mmb_trace *t, const char *path, char *err, size_t err_bytes);

/* Writes the trace in the text format. Returns -1 on a write error (errno set). */
int mmb_trace_write(const mmb_trace *t, FILE *out);

/* Runs every op against the heap. `objs` has room for t->objects pointers. When `oracle` is
 * true the heap is an oracle heap (oracle.h) and the run stops at the first violation; returns
 * the index of the op that failed, or t->count when all ran. */
size_t mmb_trace_run(const mmb_trace *t, mmb_heap *heap, mmb_obj **objs, bool oracle);

#endif
