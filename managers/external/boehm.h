/* What the two Boehm GC adapters share: boehm.c holds the adapter, boehm_incremental.c is a
 * second manager table over the same operations with Boehm's incremental mode on. Design:
 * managers/README.md, "boehm". */
#ifndef MMB_EXTERNAL_BOEHM_H
#define MMB_EXTERNAL_BOEHM_H

#include <stdbool.h>

#include "internal.h"

/* Both option tables begin with count-frees. */
enum { MMBX_BOEHM_OPT_COUNT_FREES = 0 };
#define MMBX_BOEHM_COUNT_FREES_SPEC                                                                \
    {                                                                                              \
        "count-frees", MMB_OPT_BOOL, 1, 0, 1,                                                      \
            "find and report every object a collection reclaims (on_free, objects_freed, "         \
            "live_objects); off: a collection about 40% cheaper, frees not known "                 \
            "(managers/README.md, boehm)"                                                          \
    }

/* Creates a heap of manager m. count_frees: the option (off refuses a config with on_free).
 * incremental: Boehm's incremental (and generational) mode, which once on stays on for the
 * process; time_limit_ms is then its pause target (GC_set_time_limit). Returns 0, or -1 with a
 * one-line reason in err. */
int mmbx_boehm_create(const mmb_manager *m, const mmb_heap_config *cfg, bool count_frees,
                      bool incremental, unsigned long time_limit_ms, mmb_heap **out, char *err,
                      size_t err_bytes);

void mmbx_boehm_destroy(mmb_heap *heap);
mmb_obj *mmbx_boehm_alloc(mmb_heap *heap, uint32_t nslots, uint32_t payload_bytes);
void mmbx_boehm_incref(mmb_heap *heap, mmb_obj *o);
void mmbx_boehm_decref(mmb_heap *heap, mmb_obj *o);
void mmbx_boehm_store(mmb_heap *heap, mmb_obj *o, uint32_t slot, mmb_obj *value);
void mmbx_boehm_collect(mmb_heap *heap);
void mmbx_boehm_stats(mmb_heap *heap, mmb_stats *out);

/* The library's version as loaded ("8.2.2"); the registry's names for it, one per manager. */
const char *mmbx_boehm_version(void);
const char *mmb_manager_boehm_version(void);
const char *mmb_manager_boehm_incremental_version(void);

#endif
