/* parent-trees: complete trees whose nodes point back at their parents (slot 0 = parent, slots
 * 1..fanout = children), so every node is on a cycle and a dropped tree is one large garbage
 * cycle. Each tree is built depth-first, then walked in the same order to check serials and
 * parent pointers, then dropped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload_internal.h"

enum { P_DEPTH, P_FANOUT, P_TREES };

static const mmb_param_spec params[] = {
    {"depth", true, {6, 10, 14, 17}, 0, 64, "levels below the root"},
    {"fanout", true, {2, 2, 2, 2}, 1, 1024, "children per inner node"},
    {"trees", true, {10, 400, 100, 100}, 1, 1e9, "trees made and dropped"},
    {NULL, false, {0}, 0, 0, NULL},
};

/* Trees larger than this are refused: the node count must fit the serials and side arrays. */
#define MAX_TREE_NODES 1e9

typedef struct frame {
    mmb_obj *node; /* kept alive by the tree, whose root the mutator holds */
    uint32_t level;
} frame;

/* Builds the children of every inner node depth-first, numbering nodes from *serial on. */
static int build(mmb_heap *h, mmb_obj *root, uint32_t depth, uint32_t fanout, frame *stack,
                 uint64_t *serial, char *err, size_t n) {
    size_t top = 0;
    stack[top++] = (frame){root, 0};
    while (top) {
        frame f = stack[--top];
        if (f.level == depth)
            continue;
        for (uint32_t c = 0; c < fanout; c++) {
            mmb_obj *child = mmb_alloc(h, 1 + fanout, sizeof *serial);
            if (!child) {
                snprintf(err, n, "allocation failed");
                return -1;
            }
            memcpy(mmb_payload(child), serial, sizeof *serial);
            (*serial)++;
            mmb_store(h, child, 0, f.node);
            mmb_store(h, f.node, 1 + c, child);
            mmb_decref(h, child);
            stack[top++] = (frame){child, f.level + 1};
        }
    }
    return 0;
}

/* Walks the tree in build order: every node's serial is the next one, every child's slot 0 is
 * its parent, leaves have no children. Counts nodes and sums serials. */
static int check(mmb_heap *h, mmb_obj *root, uint32_t depth, uint32_t fanout, frame *stack,
                 uint64_t first, uint64_t *count, uint64_t *sum, char *err, size_t n) {
    size_t top = 0;
    uint64_t expect = first + 1;
    *count = 1;
    *sum = mmbw_read_u64(root);
    if (*sum != first || mmb_load(h, root, 0) != NULL) {
        snprintf(err, n, "tree of object %llu: root reads serial %llu or has a parent",
                 (unsigned long long)first, (unsigned long long)*sum);
        return -1;
    }
    stack[top++] = (frame){root, 0};
    while (top) {
        frame f = stack[--top];
        for (uint32_t c = 0; c < fanout; c++) {
            mmb_obj *child = mmb_load(h, f.node, 1 + c);
            if (f.level == depth) {
                if (child) {
                    snprintf(err, n, "tree of object %llu: a leaf has a child in slot %u",
                             (unsigned long long)first, 1 + c);
                    return -1;
                }
                continue;
            }
            uint64_t got = child ? mmbw_read_u64(child) : 0;
            if (got != expect) {
                snprintf(err, n, "tree of object %llu: node %llu reads serial %llu",
                         (unsigned long long)first, (unsigned long long)expect,
                         (unsigned long long)got);
                return -1;
            }
            if (mmb_load(h, child, 0) != f.node) {
                snprintf(err, n, "tree of object %llu: node %llu's slot 0 is not its parent",
                         (unsigned long long)first, (unsigned long long)expect);
                return -1;
            }
            expect++;
            (*count)++;
            *sum += got;
            stack[top++] = (frame){child, f.level + 1};
        }
    }
    return 0;
}

static int run(const mmb_workload_env *env, mmb_workload_result *out, char *err, size_t n) {
    mmb_heap *h = env->heap;
    uint32_t depth = (uint32_t)env->params[P_DEPTH];
    uint32_t fanout = (uint32_t)env->params[P_FANOUT];
    uint64_t trees = (uint64_t)env->params[P_TREES];
    double nodes_d = 1, level_d = 1;
    for (uint32_t d = 0; d < depth; d++) {
        level_d *= fanout;
        nodes_d += level_d;
    }
    if (nodes_d > MAX_TREE_NODES) {
        snprintf(err, n, "a tree of depth %u and fanout %u has %.3g nodes, more than %.0g", depth,
                 fanout, nodes_d, MAX_TREE_NODES);
        return -1;
    }
    uint64_t nodes = (uint64_t)nodes_d;
    /* Depth-first, the stack holds at most fanout - 1 siblings per level plus the top one. */
    size_t stack_len = (size_t)depth * fanout + 1;
    frame *stack = malloc(stack_len * sizeof *stack);
    if (!stack) {
        snprintf(err, n, "out of memory for a stack of %zu", stack_len);
        return -1;
    }
    uint64_t serial = 1, checksum = 0;
    int status = 0;
    for (uint64_t t = 0; t < trees && status == 0; t++) {
        uint64_t first = serial;
        mmb_obj *root = mmb_alloc(h, 1 + fanout, sizeof serial);
        if (!root) {
            snprintf(err, n, "allocation failed");
            status = -1;
            break;
        }
        memcpy(mmb_payload(root), &serial, sizeof serial);
        serial++;
        status = build(h, root, depth, fanout, stack, &serial, err, n);
        uint64_t count = 0, sum = 0;
        if (status == 0)
            status = check(h, root, depth, fanout, stack, first, &count, &sum, err, n);
        if (status == 0 && count != nodes) {
            snprintf(err, n, "tree of object %llu: %llu nodes, expected %llu",
                     (unsigned long long)first, (unsigned long long)count,
                     (unsigned long long)nodes);
            status = -1;
        }
        checksum = checksum * 31 + sum + count;
        mmb_decref(h, root);
    }
    free(stack);
    return mmbw_result(out, trees * nodes, "objects", checksum, status);
}

const mmb_workload mmb_workload_parent_trees = {
    .name = "parent-trees",
    .family = "cycle-heavy",
    .summary = "complete trees with parent back-pointers (every node on a cycle) made and dropped",
    .params = params,
    .run = run,
};
