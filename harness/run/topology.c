/* CPU topology through hwloc (topology.h): loading, a summary, and placement planning as a pure
 * function of the topology. Pairs of PUs are classified by their common ancestor, as
 * ../shared/PLATFORM.md ("hwloc") describes; binding threads is not done here. */
#include "topology.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "diag.h"

const char *const mmb_placement_names[MMB_PLACE_COUNT + 1] = {
    "compact", "spread", "smt-pair", "same-l3", "cross-l3", "cross-numa", "cross-package", NULL,
};

const char *mmb_placement_name(mmb_placement kind) {
    return (unsigned)kind < MMB_PLACE_COUNT ? mmb_placement_names[kind] : NULL;
}

int mmb_placement_parse(const char *name) {
    for (int k = 0; k < MMB_PLACE_COUNT; k++)
        if (strcmp(name, mmb_placement_names[k]) == 0)
            return k;
    return -1;
}

__attribute__((format(printf, 3, 4))) static int fail(char *why, size_t n, const char *fmt, ...) {
    if (why && n) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* hwloc builds a topology in time quadratic in its PUs (a flat 2048 PUs: 0.4 s here) and the
 * pairwise plans search pairs of PUs, so synthetic descriptions are capped. */
#define MMB_SYNTHETIC_MAX_PUS 1024

/* Whether the number at p is an attribute's size ("memory=4096", "size=32KB"), not an arity. */
static bool is_size_value(const char *desc, const char *p) {
    static const char *const names[] = {"memory=", "size="};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t len = strlen(names[i]);
        if ((size_t)(p - desc) >= len && memcmp(p - len, names[i], len) == 0)
            return true;
    }
    return false;
}

/* An upper bound on the PUs DESC describes: the product of every number in it that does not
 * follow a letter ("L3", "Group0"), read as hwloc reads arities (strtoull base 0: 0x10 is 16)
 * and counting what follows where that stops ("0378": 037 and 8), sizes of attributes aside; at
 * most MMB_SYNTHETIC_MAX_PUS + 1. Nothing else is skipped as an attribute: hwloc reads arities
 * after an unclosed '('. (Found by fuzzing: "pack(core:441111 pu:1", "2 0378 12".) */
static unsigned synthetic_pus(const char *desc) {
    unsigned pus = 1;
    for (const char *p = desc; *p;) {
        if (*p < '0' || *p > '9') {
            p++;
            continue;
        }
        if ((p > desc && isalpha((unsigned char)p[-1])) || is_size_value(desc, p)) {
            while (isalnum((unsigned char)*p)) /* a name ("L3") or a size ("4096", "1GB") */
                p++;
            continue;
        }
        char *end;
        unsigned long long arity = strtoull(p, &end, 0);
        if (arity > 1)
            pus = arity > MMB_SYNTHETIC_MAX_PUS / pus ? MMB_SYNTHETIC_MAX_PUS + 1
                                                      : pus * (unsigned)arity;
        p = end > p ? end : p + 1;
    }
    return pus;
}

int mmb_topology_load(const char *spec, hwloc_topology_t *out, char *why, size_t n) {
    hwloc_topology_t topo;
    if (hwloc_topology_init(&topo) != 0)
        return fail(why, n, "cannot initialise hwloc: %s", strerror(errno));
    static const char synthetic[] = "synthetic:";
    if (spec && strncmp(spec, synthetic, sizeof synthetic - 1) == 0) {
        const char *desc = spec + sizeof synthetic - 1;
        if (synthetic_pus(desc) > MMB_SYNTHETIC_MAX_PUS) {
            hwloc_topology_destroy(topo);
            return fail(why, n,
                        "synthetic description '%s' has more than %d PUs (hint: plan for a smaller "
                        "machine)",
                        desc, MMB_SYNTHETIC_MAX_PUS);
        }
        if (hwloc_topology_set_synthetic(topo, desc) != 0) {
            hwloc_topology_destroy(topo);
            return fail(why, n,
                        "bad synthetic description '%s' (hint: e.g. synthetic:'pack:2 numa:2 "
                        "l3:2 core:4 pu:2')",
                        desc);
        }
    } else if (spec) {
        FILE *f = fopen(spec, "r");
        if (!f) {
            int err = errno;
            hwloc_topology_destroy(topo);
            return fail(why, n, "%s: cannot open: %s", spec, strerror(err));
        }
        fclose(f);
        if (hwloc_topology_set_xml(topo, spec) != 0) {
            hwloc_topology_destroy(topo);
            return fail(why, n, "%s: not a hwloc XML topology", spec);
        }
    }
    if (hwloc_topology_load(topo) != 0) {
        hwloc_topology_destroy(topo);
        if (spec && strncmp(spec, synthetic, sizeof synthetic - 1) != 0)
            return fail(why, n, "%s: not a hwloc XML topology", spec);
        return fail(why, n, "cannot load %s: %s", spec ? spec : "this system's topology",
                    strerror(errno));
    }
    *out = topo;
    return 0;
}

/* ---- counting ----------------------------------------------------------------------------------
 */

typedef struct {
    int packages, numa_nodes, l3_groups, cores, pus, max_pus_per_core;
} counts;

static int nb(hwloc_topology_t topo, hwloc_obj_type_t type) {
    int k = hwloc_get_nbobjs_by_type(topo, type);
    return k < 0 ? 0 : k;
}

static counts count(hwloc_topology_t topo) {
    counts c = {nb(topo, HWLOC_OBJ_PACKAGE), nb(topo, HWLOC_OBJ_NUMANODE),
                nb(topo, HWLOC_OBJ_L3CACHE), nb(topo, HWLOC_OBJ_CORE),
                nb(topo, HWLOC_OBJ_PU),      0};
    for (int i = 0; i < c.cores; i++) {
        int w =
            hwloc_bitmap_weight(hwloc_get_obj_by_type(topo, HWLOC_OBJ_CORE, (unsigned)i)->cpuset);
        if (w > c.max_pus_per_core)
            c.max_pus_per_core = w;
    }
    return c;
}

json_t *mmb_topology_json(hwloc_topology_t topo) {
    counts c = count(topo);
    return json_pack("{s:i, s:i, s:i, s:i, s:i, s:b, s:b}", "packages", c.packages, "numa_nodes",
                     c.numa_nodes, "l3_groups", c.l3_groups, "cores", c.cores, "pus", c.pus, "smt",
                     c.max_pus_per_core > 1, "is_this_system",
                     hwloc_topology_is_thissystem(topo) == 1);
}

int mmb_bind_thread(hwloc_topology_t topo, int pu, char *why, size_t n) {
    if (hwloc_topology_is_thissystem(topo) != 1)
        return fail(why, n, "the topology is not this system's: nothing to bind");
    hwloc_obj_t obj = hwloc_get_pu_obj_by_os_index(topo, (unsigned)pu);
    if (!obj)
        return fail(why, n, "no PU with OS index %d", pu);
    if (hwloc_set_cpubind(topo, obj->cpuset, HWLOC_CPUBIND_THREAD | HWLOC_CPUBIND_STRICT) != 0)
        return fail(why, n, "cannot bind to PU %d: %s", pu, strerror(errno));
    return 0;
}

void mmb_topology_describe(hwloc_topology_t topo, FILE *out) {
    counts c = count(topo);
    fprintf(out,
            "packages %d, numa_nodes %d, l3_groups %d, cores %d, pus %d, smt %s, this system %s\n",
            c.packages, c.numa_nodes, c.l3_groups, c.cores, c.pus,
            c.max_pus_per_core > 1 ? "yes" : "no",
            hwloc_topology_is_thissystem(topo) == 1 ? "yes" : "no");
}

/* ---- pairwise relations, by common ancestor
 * ------------------------------------------------------ */

/* True when OBJ is of TYPE or lies below an object of TYPE. */
static bool within(hwloc_topology_t topo, hwloc_obj_t obj, hwloc_obj_type_t type) {
    return obj->type == type || hwloc_get_ancestor_obj_by_type(topo, type, obj) != NULL;
}

/* Whether two distinct PUs stand in the relation that placement KIND asks of every pair. */
static bool related(hwloc_topology_t topo, mmb_placement kind, hwloc_obj_t a, hwloc_obj_t b) {
    hwloc_obj_t common = hwloc_get_common_ancestor_obj(topo, a, b);
    bool same_core = within(topo, common, HWLOC_OBJ_CORE);
    bool same_l3 = within(topo, common, HWLOC_OBJ_L3CACHE);
    bool same_package = within(topo, common, HWLOC_OBJ_PACKAGE);
    switch (kind) {
    case MMB_PLACE_SMT_PAIR:
        return common->type == HWLOC_OBJ_CORE;
    case MMB_PLACE_SAME_L3:
        return !same_core && same_l3;
    case MMB_PLACE_CROSS_L3:
        return !same_l3 && same_package && within(topo, a, HWLOC_OBJ_L3CACHE) &&
               within(topo, b, HWLOC_OBJ_L3CACHE);
    case MMB_PLACE_CROSS_NUMA:
        return !hwloc_bitmap_isequal(a->nodeset, b->nodeset);
    case MMB_PLACE_CROSS_PACKAGE:
        return !same_package && within(topo, a, HWLOC_OBJ_PACKAGE) &&
               within(topo, b, HWLOC_OBJ_PACKAGE);
    default:
        return false;
    }
}

/* Why a pairwise KIND has no THREADS PUs all related to each other. */
static int pairwise_reason(const counts *c, mmb_placement kind, int threads, char *why, size_t n) {
    switch (kind) {
    case MMB_PLACE_SMT_PAIR:
        if (c->max_pus_per_core < 2)
            return fail(why, n, "no SMT: every core has one PU");
        return fail(why, n, "no core has %d PUs (at most %d)", threads, c->max_pus_per_core);
    case MMB_PLACE_SAME_L3:
        if (c->l3_groups == 0)
            return fail(why, n, "no L3 cache in the topology");
        return fail(why, n, "no L3 cache is shared by %d cores", threads);
    case MMB_PLACE_CROSS_L3:
        if (c->l3_groups == 0)
            return fail(why, n, "no L3 cache in the topology");
        return fail(why, n, "no package has %d L3 caches", threads);
    case MMB_PLACE_CROSS_NUMA:
        return fail(why, n, "%d NUMA node%s, %d threads need as many", c->numa_nodes,
                    c->numa_nodes == 1 ? "" : "s", threads);
    default:
        return fail(why, n, "%d package%s, %d threads need as many", c->packages,
                    c->packages == 1 ? "" : "s", threads);
    }
}

/* The first set of THREADS PUs, in logical order from the lowest possible anchor, whose every pair
 * is related. Greedy per anchor: exact for these relations, which partition PUs into groups. */
static int plan_pairwise(hwloc_topology_t topo, mmb_placement kind, int threads, int pus,
                         int *pus_out) {
    hwloc_obj_t *chosen = malloc((size_t)threads * sizeof *chosen);
    if (!chosen)
        return -1;
    int found = 0;
    for (int anchor = 0; anchor < pus && found < threads; anchor++) {
        found = 0;
        chosen[found++] = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PU, (unsigned)anchor);
        for (int i = anchor + 1; i < pus && found < threads; i++) {
            hwloc_obj_t pu = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PU, (unsigned)i);
            bool ok = true;
            for (int j = 0; j < found && ok; j++)
                ok = related(topo, kind, chosen[j], pu);
            if (ok)
                chosen[found++] = pu;
        }
    }
    if (found == threads)
        for (int i = 0; i < threads; i++)
            pus_out[i] = (int)chosen[i]->os_index;
    free(chosen);
    return found == threads ? 0 : -1;
}

/* hwloc's own distribution (hwloc_distrib): the threads are split over the root's children in
 * proportion to their PUs, and so on down every level of the tree - packages, NUMA nodes,
 * caches, cores, SMT siblings - so that each thread gets as much of the machine to itself as
 * the count allows; each thread takes the first PU of the subtree it was given. */
static int plan_spread(hwloc_topology_t topo, int threads, int *pus_out) {
    hwloc_bitmap_t *sets = calloc((size_t)threads, sizeof *sets);
    if (!sets)
        return -1;
    hwloc_obj_t root = hwloc_get_root_obj(topo);
    int rc = hwloc_distrib(topo, &root, 1, sets, (unsigned)threads, INT_MAX, 0);
    for (int i = 0; i < threads; i++) {
        int pu = -1;
        if (rc == 0 && sets[i] && hwloc_bitmap_singlify(sets[i]) == 0)
            pu = hwloc_bitmap_first(sets[i]);
        if (pu < 0)
            rc = -1;
        pus_out[i] = pu;
        hwloc_bitmap_free(sets[i]);
    }
    free(sets);
    return rc;
}

int mmb_placement_plan(hwloc_topology_t topo, mmb_placement kind, int threads, int *pus_out,
                       char *why, size_t n) {
    if ((unsigned)kind >= MMB_PLACE_COUNT)
        return fail(why, n, "unknown placement %d", (int)kind);
    if (threads < 1)
        return fail(why, n, "needs at least 1 thread, got %d", threads);
    counts c = count(topo);
    if (threads > c.pus)
        return fail(why, n, "%d threads but only %d PU%s", threads, c.pus, c.pus == 1 ? "" : "s");
    switch (kind) {
    case MMB_PLACE_COMPACT:
        for (int i = 0; i < threads; i++)
            pus_out[i] = (int)hwloc_get_obj_by_type(topo, HWLOC_OBJ_PU, (unsigned)i)->os_index;
        return 0;
    case MMB_PLACE_SPREAD:
        if (plan_spread(topo, threads, pus_out) != 0)
            return fail(why, n, "hwloc_distrib failed (out of memory?)");
        return 0;
    default:
        if (threads < 2)
            return fail(why, n, "a pairwise placement needs at least 2 threads");
        if (plan_pairwise(topo, kind, threads, c.pus, pus_out) != 0)
            return pairwise_reason(&c, kind, threads, why, n);
        return 0;
    }
}

/* ---- mmbench topology --------------------------------------------------------------------------
 */

static const char topology_usage[] =
    "usage: mmbench topology [--topology synthetic:DESC | --topology FILE.xml] [--threads N]\n"
    "\n"
    "Prints this machine's CPU topology (or another one's, from an hwloc synthetic description\n"
    "such as 'pack:2 numa:2 l3:2 core:4 pu:2' or an XML file from lstopo) and, for each\n"
    "placement, the PU (os_index) each of N threads would run on (default 2), or why the\n"
    "topology lacks it. Planning only: nothing is bound. A synthetic description may have at\n"
    "most 1024 PUs.\n"
    "\n";

enum { T_TOPOLOGY, T_THREADS };
static const mmb_flag topology_flags[] = {
    [T_TOPOLOGY] = {"topology", MMB_FLAG_TEXT, "SPEC", 0, 0, NULL,
                    "synthetic:DESC or a hwloc FILE.xml (default: this system)", 0},
    [T_THREADS] = {"threads", MMB_FLAG_U64, "N", 1, 1 << 20, NULL,
                   "threads to plan each placement for (default 2)", 0},
    {NULL, 0, NULL, 0, 0, NULL, NULL, 0},
};

typedef struct topology_args {
    const char *spec;
    int threads;
} topology_args;

static int take_topology_flag(void *ctx, const mmb_flag_arg *a) {
    topology_args *t = ctx;
    if (a->index == T_TOPOLOGY)
        t->spec = a->text;
    else
        t->threads = (int)a->u64;
    return EXIT_OK;
}

int mmb_topology_main(int argc, char **argv) {
    topology_args args = {.spec = NULL, .threads = 2};
    int status = mmb_flags_parse_command("topology", topology_usage, topology_flags, argc, argv,
                                         take_topology_flag, &args);
    if (status != EXIT_OK)
        return status == MMB_FLAGS_HELP ? EXIT_OK : status;
    const char *spec = args.spec;
    int threads = args.threads;
    hwloc_topology_t topo;
    char why[256];
    if (mmb_topology_load(spec, &topo, why, sizeof why) != 0) {
        return mmb_usage_error("topology", NULL, "%s", why);
    }
    int *pus = malloc((size_t)threads * sizeof *pus);
    if (!pus) {
        hwloc_topology_destroy(topo);
        fprintf(stderr, "mmbench: error: topology: out of memory\n");
        return 1;
    }
    printf("topology: %s\n", spec ? spec : "this system");
    mmb_topology_describe(topo, stdout);
    printf("placements for %d thread%s (PU os_index per thread):\n", threads,
           threads == 1 ? "" : "s");
    for (int k = 0; k < MMB_PLACE_COUNT; k++) {
        printf("  %-14s", mmb_placement_name((mmb_placement)k));
        if (mmb_placement_plan(topo, (mmb_placement)k, threads, pus, why, sizeof why) != 0) {
            printf("not available: %s\n", why);
            continue;
        }
        for (int i = 0; i < threads; i++)
            printf("%s%d", i ? "," : "", pus[i]);
        putchar('\n');
    }
    free(pus);
    hwloc_topology_destroy(topo);
    return 0;
}
