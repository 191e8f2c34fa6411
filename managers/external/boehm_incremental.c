/* boehm-incremental: the boehm adapter (boehm.c) with Boehm GC's incremental and generational
 * mode on (GC_enable_incremental): marking in increments bounded by a time limit, dirty pages
 * found by write protection, partial collections between full ones. See managers/README.md,
 * "boehm". */
#include "boehm.h"

enum { OPT_COUNT_FREES = MMBX_BOEHM_OPT_COUNT_FREES, OPT_TIME_LIMIT };

static const mmb_option_spec bhi_options[] = {
    [OPT_COUNT_FREES] = MMBX_BOEHM_COUNT_FREES_SPEC,
    [OPT_TIME_LIMIT] = {"time-limit", MMB_OPT_INT, 50, 0, 999999,
                        "pause target of an increment, GC_set_time_limit (ms, default 50, "
                        "Boehm's own for a build without parallel marking; 999999 = "
                        "GC_TIME_UNLIMITED: generational only)"},
    {NULL, MMB_OPT_INT, 0, 0, 0, NULL},
};

static int bhi_create(const mmb_heap_config *cfg, mmb_heap **out, char *err, size_t err_bytes);

const mmb_manager mmb_manager_boehm_incremental = {
    .name = "boehm-incremental",
    .summary = "Boehm GC (libgc) in incremental, generational mode: conservative mark-sweep in "
               "time-limited increments; reclaims cycles, may retain; no reference counts",
    .caps = MMB_CAP_CYCLES | MMB_CAP_CONSERVATIVE | MMB_CAP_OWN_MEMORY | MMB_CAP_INCREMENTAL,
    .options = bhi_options,
    .create = bhi_create,
    .destroy = mmbx_boehm_destroy,
    .alloc = mmbx_boehm_alloc,
    .incref = mmbx_boehm_incref,
    .decref = mmbx_boehm_decref,
    .store = mmbx_boehm_store,
    .load = NULL,
    .collect = mmbx_boehm_collect,
    .collect_young = NULL,
    .freeze = NULL,
    .stats = mmbx_boehm_stats,
};

static int bhi_create(const mmb_heap_config *cfg, mmb_heap **out, char *err, size_t err_bytes) {
    return mmbx_boehm_create(&mmb_manager_boehm_incremental, cfg,
                             cfg->options[OPT_COUNT_FREES] != 0, true,
                             (unsigned long)cfg->options[OPT_TIME_LIMIT], out, err, err_bytes);
}

const char *mmb_manager_boehm_incremental_version(void) {
    return mmbx_boehm_version();
}
