/* Placement planning on synthetic topologies, checked exactly, and this machine's topology
 * loading. Planning is a pure function of the topology, so no binding is needed to test it. */
#include "test.h"
#include "topology.h"

#define BIG   "synthetic:pack:2 numa:2 l3:2 core:4 pu:2"
#define SMALL "synthetic:pack:1 l3:1 core:2 pu:1"

static hwloc_topology_t load(const char *spec) {
    hwloc_topology_t topo;
    char why[256] = "";
    int rc = mmb_topology_load(spec, &topo, why, sizeof why);
    if (rc != 0)
        fprintf(stderr, "load %s: %s\n", spec ? spec : "(this system)", why);
    ASSERT_EQ(rc, 0);
    return topo;
}

/* Plans KIND for N threads and checks the PUs against WANT. */
static void expect_plan(hwloc_topology_t topo, mmb_placement kind, int n, const int *want) {
    int got[16];
    char why[256] = "";
    int rc = mmb_placement_plan(topo, kind, n, got, why, sizeof why);
    if (rc != 0)
        fprintf(stderr, "%s: %s\n", mmb_placement_name(kind), why);
    ASSERT_EQ(rc, 0);
    for (int i = 0; i < n; i++) {
        if (got[i] != want[i])
            fprintf(stderr, "%s, thread %d\n", mmb_placement_name(kind), i);
        ASSERT_EQ(got[i], want[i]);
    }
}

static void expect_unavailable(hwloc_topology_t topo, mmb_placement kind, int n,
                               const char *reason) {
    int got[16];
    char why[256] = "";
    ASSERT_EQ(mmb_placement_plan(topo, kind, n, got, why, sizeof why), -1);
    ASSERT_STR_CONTAINS(why, reason);
}

TEST(topology_plans_on_two_packages_with_smt) {
    hwloc_topology_t topo = load(BIG);
    expect_plan(topo, MMB_PLACE_COMPACT, 4, (const int[]){0, 1, 2, 3});
    /* hwloc_distrib: one thread per NUMA node, then per L3 (two L3s per node). */
    expect_plan(topo, MMB_PLACE_SPREAD, 4, (const int[]){0, 16, 32, 48});
    expect_plan(topo, MMB_PLACE_SMT_PAIR, 2, (const int[]){0, 1});
    expect_plan(topo, MMB_PLACE_SAME_L3, 4, (const int[]){0, 2, 4, 6});
    expect_plan(topo, MMB_PLACE_CROSS_L3, 4, (const int[]){0, 8, 16, 24});
    expect_plan(topo, MMB_PLACE_CROSS_NUMA, 4, (const int[]){0, 16, 32, 48});
    expect_plan(topo, MMB_PLACE_CROSS_PACKAGE, 2, (const int[]){0, 32});
    /* Spread gives every core one thread before any SMT sibling gets one, and keeps threads
     * in number order (each thread's neighbours are its closest). */
    int pus[64];
    char why[256];
    ASSERT_EQ(mmb_placement_plan(topo, MMB_PLACE_SPREAD, 32, pus, why, sizeof why), 0);
    for (int i = 0; i < 32; i++)
        ASSERT_EQ(pus[i], 2 * i);
    ASSERT_EQ(mmb_placement_plan(topo, MMB_PLACE_SPREAD, 64, pus, why, sizeof why), 0);
    for (int i = 0; i < 64; i++)
        ASSERT_EQ(pus[i], i);
    /* Beyond what the topology holds. */
    expect_unavailable(topo, MMB_PLACE_SMT_PAIR, 3, "no core has 3 PUs");
    expect_unavailable(topo, MMB_PLACE_SAME_L3, 5, "no L3 cache is shared by 5 cores");
    expect_unavailable(topo, MMB_PLACE_CROSS_L3, 5, "no package has 5 L3 caches");
    expect_unavailable(topo, MMB_PLACE_CROSS_NUMA, 5, "4 NUMA nodes, 5 threads need as many");
    expect_unavailable(topo, MMB_PLACE_CROSS_PACKAGE, 3, "2 packages, 3 threads need as many");
    expect_unavailable(topo, MMB_PLACE_COMPACT, 65, "65 threads but only 64 PUs");
    expect_unavailable(topo, MMB_PLACE_SMT_PAIR, 1, "needs at least 2 threads");
    hwloc_topology_destroy(topo);
}

/* The NUMA node (its first PU's nodeset, as a number) of the PU with OS index pu. */
static unsigned numa_of(hwloc_topology_t topo, int pu) {
    hwloc_obj_t obj = hwloc_get_pu_obj_by_os_index(topo, (unsigned)pu);
    ASSERT_TRUE(obj != NULL);
    return (unsigned)hwloc_bitmap_first(obj->nodeset);
}

/* --placement spread is hwloc_distrib's plan: exact PUs on several machines, split evenly at
 * every level (packages, NUMA nodes, L3s, cores, SMT siblings), in proportion to PUs when the
 * count does not divide. */
TEST(topology_spread_is_hwloc_distrib) {
    hwloc_topology_t topo = load(BIG);
    expect_plan(topo, MMB_PLACE_SPREAD, 2, (const int[]){0, 32});
    expect_plan(topo, MMB_PLACE_SPREAD, 3, (const int[]){0, 16, 32});
    expect_plan(topo, MMB_PLACE_SPREAD, 8, (const int[]){0, 8, 16, 24, 32, 40, 48, 56});
    /* 4 threads on 4 NUMA nodes: each thread on a different node (the old round-robin over
     * packages planned 0, 32, 2, 34: two nodes empty, two threads under one L3). */
    int pus[4];
    char why[256];
    ASSERT_EQ(mmb_placement_plan(topo, MMB_PLACE_SPREAD, 4, pus, why, sizeof why), 0);
    for (int i = 0; i < 4; i++)
        for (int j = i + 1; j < 4; j++)
            ASSERT_TRUE(numa_of(topo, pus[i]) != numa_of(topo, pus[j]));
    hwloc_topology_destroy(topo);

    topo = load("synthetic:pack:1 core:4 pu:2");
    expect_plan(topo, MMB_PLACE_SPREAD, 2, (const int[]){0, 4});
    expect_plan(topo, MMB_PLACE_SPREAD, 3, (const int[]){0, 2, 4});
    expect_plan(topo, MMB_PLACE_SPREAD, 4, (const int[]){0, 2, 4, 6});
    expect_plan(topo, MMB_PLACE_SPREAD, 8, (const int[]){0, 1, 2, 3, 4, 5, 6, 7});
    hwloc_topology_destroy(topo);

    /* Uneven: 3 threads over 2 packages of 3 cores go 2 + 1. */
    topo = load("synthetic:pack:2 core:3 pu:1");
    expect_plan(topo, MMB_PLACE_SPREAD, 2, (const int[]){0, 3});
    expect_plan(topo, MMB_PLACE_SPREAD, 3, (const int[]){0, 1, 3});
    expect_plan(topo, MMB_PLACE_SPREAD, 4, (const int[]){0, 1, 3, 4});
    hwloc_topology_destroy(topo);

    /* 4 packages of 2 L3s: 3 threads on 3 packages, 8 on 8 L3s. */
    topo = load("synthetic:pack:4 numa:1 l3:2 core:2 pu:2");
    expect_plan(topo, MMB_PLACE_SPREAD, 3, (const int[]){0, 8, 16});
    expect_plan(topo, MMB_PLACE_SPREAD, 4, (const int[]){0, 8, 16, 24});
    expect_plan(topo, MMB_PLACE_SPREAD, 8, (const int[]){0, 4, 8, 12, 16, 20, 24, 28});
    hwloc_topology_destroy(topo);
}

TEST(topology_plans_without_smt_on_one_package) {
    hwloc_topology_t topo = load(SMALL);
    expect_plan(topo, MMB_PLACE_COMPACT, 2, (const int[]){0, 1});
    expect_plan(topo, MMB_PLACE_SPREAD, 2, (const int[]){0, 1});
    expect_plan(topo, MMB_PLACE_SAME_L3, 2, (const int[]){0, 1});
    expect_unavailable(topo, MMB_PLACE_SMT_PAIR, 2, "no SMT: every core has one PU");
    expect_unavailable(topo, MMB_PLACE_CROSS_L3, 2, "no package has 2 L3 caches");
    expect_unavailable(topo, MMB_PLACE_CROSS_NUMA, 2, "1 NUMA node, 2 threads need as many");
    expect_unavailable(topo, MMB_PLACE_CROSS_PACKAGE, 2, "1 package, 2 threads need as many");
    hwloc_topology_destroy(topo);
}

TEST(topology_summary_json) {
    hwloc_topology_t topo = load(BIG);
    json_t *j = mmb_topology_json(topo);
    ASSERT_TRUE(j != NULL);
    ASSERT_EQ(json_integer_value(json_object_get(j, "packages")), 2);
    ASSERT_EQ(json_integer_value(json_object_get(j, "numa_nodes")), 4);
    ASSERT_EQ(json_integer_value(json_object_get(j, "l3_groups")), 8);
    ASSERT_EQ(json_integer_value(json_object_get(j, "cores")), 32);
    ASSERT_EQ(json_integer_value(json_object_get(j, "pus")), 64);
    ASSERT_TRUE(json_is_true(json_object_get(j, "smt")));
    ASSERT_TRUE(json_is_false(json_object_get(j, "is_this_system")));
    json_decref(j);
    hwloc_topology_destroy(topo);
    topo = load(SMALL);
    j = mmb_topology_json(topo);
    ASSERT_TRUE(json_is_false(json_object_get(j, "smt")));
    json_decref(j);
    hwloc_topology_destroy(topo);
}

TEST(topology_bad_input_is_refused) {
    hwloc_topology_t topo;
    char why[256] = "";
    ASSERT_EQ(mmb_topology_load("synthetic:pack:x", &topo, why, sizeof why), -1);
    ASSERT_STR_CONTAINS(why, "bad synthetic description 'pack:x'");
    ASSERT_EQ(mmb_topology_load("/nonexistent.xml", &topo, why, sizeof why), -1);
    ASSERT_STR_CONTAINS(why, "/nonexistent.xml: cannot open: No such file");
    ASSERT_EQ(mmb_placement_parse("cross-numa"), MMB_PLACE_CROSS_NUMA);
    ASSERT_EQ(mmb_placement_parse("nope"), -1);
}

TEST(topology_this_system_loads) {
    hwloc_topology_t topo = load(NULL);
    json_t *j = mmb_topology_json(topo);
    ASSERT_TRUE(json_integer_value(json_object_get(j, "pus")) >= 1);
    ASSERT_TRUE(json_is_true(json_object_get(j, "is_this_system")));
    json_decref(j);
    int pu;
    char why[256];
    ASSERT_EQ(mmb_placement_plan(topo, MMB_PLACE_COMPACT, 1, &pu, why, sizeof why), 0);
    ASSERT_TRUE(pu >= 0);
    hwloc_topology_destroy(topo);
}
