/* CPU topology through hwloc: load this machine's, a synthetic or an XML one; summarise it; plan
 * thread placements as a pure function of the topology (binding is separate, and only meaningful
 * when hwloc_topology_is_thissystem()). See ../shared/PLATFORM.md, "hwloc". */
#ifndef MMB_TOPOLOGY_H
#define MMB_TOPOLOGY_H

#include <hwloc.h>
#include <jansson.h>
#include <stdio.h>

/* compact and spread place any number of threads; the others are relations that must hold
 * between every pair of threads, classified by the PUs' common ancestors. */
typedef enum mmb_placement {
    MMB_PLACE_COMPACT,       /* PUs in logical order */
    MMB_PLACE_SPREAD,        /* hwloc_distrib: evenly over every level of the tree */
    MMB_PLACE_SMT_PAIR,      /* PUs of one core */
    MMB_PLACE_SAME_L3,       /* distinct cores under one L3 */
    MMB_PLACE_CROSS_L3,      /* cores under distinct L3s of one package */
    MMB_PLACE_CROSS_NUMA,    /* distinct NUMA nodes (distinct PU nodesets) */
    MMB_PLACE_CROSS_PACKAGE, /* distinct packages */
    MMB_PLACE_COUNT
} mmb_placement;

/* The placements' names in mmb_placement order, NULL-terminated. */
extern const char *const mmb_placement_names[MMB_PLACE_COUNT + 1];
/* "compact", "spread", "smt-pair", ...; NULL for an out-of-range kind. */
const char *mmb_placement_name(mmb_placement kind);
/* The kind named NAME, or -1. */
int mmb_placement_parse(const char *name);

/* Loads SPEC into *out: NULL for this system, "synthetic:DESC", or an XML file name. Returns 0, or
 * -1 with a one-line reason in why (nothing to destroy then). */
int mmb_topology_load(const char *spec, hwloc_topology_t *out, char *why, size_t n);

/* Plans THREADS placements of KIND: pus_out[i] is the os_index of thread i's PU. Returns 0, or -1
 * with a reason in why when the topology lacks that placement for that many threads. Pure: binds
 * nothing, and depends only on the topology. */
int mmb_placement_plan(hwloc_topology_t topo, mmb_placement kind, int threads, int *pus_out,
                       char *why, size_t n);

/* Binds the calling thread to the PU with OS index `pu`. Returns 0, or -1 with a reason in why:
 * the topology is not this system's (binding on a synthetic or XML topology would silently do
 * nothing), no such PU, or the kernel refused. */
int mmb_bind_thread(hwloc_topology_t topo, int pu, char *why, size_t n);

/* {"packages", "numa_nodes", "l3_groups", "cores", "pus", "smt": bool, "is_this_system": bool};
 * NULL when out of memory. */
json_t *mmb_topology_json(hwloc_topology_t topo);
/* The same summary as one human-readable line. */
void mmb_topology_describe(hwloc_topology_t topo, FILE *out);

/* `mmbench topology [--topology synthetic:DESC | FILE.xml] [--threads N]`. */
int mmb_topology_main(int argc, char **argv);

#endif
