/* The bundled workloads: one line each, in the order `mmbench list` shows them. A workload named
 * "a-b" is the object `mmb_workload_a_b` defined in workloads/a_b.c. */
MMB_WORKLOAD(churn)
MMB_WORKLOAD(binary_trees)
MMB_WORKLOAD(small_live)
MMB_WORKLOAD(deep_chain)
MMB_WORKLOAD(giant_scc)
MMB_WORKLOAD(rings)
MMB_WORKLOAD(parent_trees)
MMB_WORKLOAD(cross_gen)
MMB_WORKLOAD(live_heap)
MMB_WORKLOAD(server)
