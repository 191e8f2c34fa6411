/* Random valid traces for `mmbench stress`: seeded, shaped (rings, chains, strongly connected
 * components, DAGs, graph mutations, or a mix), exactly N operations long. */
#ifndef MMB_STRESS_H
#define MMB_STRESS_H

#include "trace.h"

typedef enum mmb_shape {
    MMB_SHAPE_MIXED,
    MMB_SHAPE_RINGS,
    MMB_SHAPE_CHAINS,
    MMB_SHAPE_SCC,
    MMB_SHAPE_DAG,
    MMB_SHAPE_MUTATE, /* edges moved from deep objects into shallow ones (barrier tests) */
    MMB_SHAPE_COUNT
} mmb_shape;

extern const char *const mmb_shape_names[MMB_SHAPE_COUNT];

/* Returns the shape with that name, or -1. */
int mmb_shape_parse(const char *name);

/* Appends exactly `ops` operations to an empty trace. The same seed, shape and ops give the same
 * trace on every machine. */
void mmb_stress_generate(mmb_trace *t, uint64_t seed, mmb_shape shape, uint64_t ops);

#endif
