/* Fuzz target: `--topology synthetic:DESC` (mmb_topology_load in harness/topology.c), then what
 * run and `mmbench topology` do with a loaded topology: the summary and every placement plan. */
#include "fuzz.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topology.h"

/* The pairwise plans search pairs of PUs: on 1024 PUs one takes seconds, too slow to fuzz. */
#define PAIRWISE_MAX_PUS 128

/* A plan names existing PUs, each once. */
static void check_plan(hwloc_topology_t topo, int kind, const int *plan, int threads) {
    for (int i = 0; i < threads; i++) {
        bool ok = hwloc_get_pu_obj_by_os_index(topo, (unsigned)plan[i]) != NULL;
        for (int j = 0; j < i && ok; j++)
            ok = plan[j] != plan[i];
        if (!ok) {
            fprintf(stderr,
                    "mmbench fuzz: topology: %s plan for %d threads: PU %d twice or absent\n",
                    mmb_placement_name((mmb_placement)kind), threads, plan[i]);
            abort();
        }
    }
}

void mmb_fuzz_topology(const uint8_t *data, size_t size) {
    /* hwloc sets up its components when the first topology is initialised and tears them down
     * with the last: one kept alive keeps that out of every execution. */
    static hwloc_topology_t keep;
    if (!keep && hwloc_topology_init(&keep) != 0)
        abort();
    static const char prefix[] = "synthetic:";
    char *spec = malloc(sizeof prefix + size);
    if (!spec)
        abort();
    memcpy(spec, prefix, sizeof prefix - 1);
    if (size)
        memcpy(spec + sizeof prefix - 1, data, size);
    spec[sizeof prefix - 1 + size] = '\0';
    hwloc_topology_t topo;
    char why[512];
    if (mmb_topology_load(spec, &topo, why, sizeof why) == 0) {
        json_decref(mmb_topology_json(topo));
        mmb_topology_describe(topo, stdout);
        int pus = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
        const int threads[] = {1, 2, 3, 4, pus, pus + 1};
        for (size_t t = 0; t < sizeof threads / sizeof threads[0]; t++) {
            int *plan = calloc((size_t)(threads[t] > 0 ? threads[t] : 1), sizeof *plan);
            if (!plan)
                abort();
            for (int k = 0; k < MMB_PLACE_COUNT; k++)
                if ((k <= MMB_PLACE_SPREAD || pus <= PAIRWISE_MAX_PUS) &&
                    mmb_placement_plan(topo, (mmb_placement)k, threads[t], plan, why, sizeof why) ==
                        0)
                    check_plan(topo, k, plan, threads[t]);
            free(plan);
        }
        hwloc_topology_destroy(topo);
    }
    free(spec);
}
