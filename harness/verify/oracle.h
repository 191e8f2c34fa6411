/* The oracle (--verify): a wrapper around any manager that keeps a shadow of every object, slot
 * and mutator reference and proves the manager safe, complete and free of corruption.
 * Design: harness/README.md, "The oracle". */
#ifndef MMB_ORACLE_H
#define MMB_ORACLE_H

#include <stdbool.h>

#include "mmbench/manager.h"

typedef struct mmb_oracle_options {
    /* Fill each payload with a pattern at allocation and check it while the object lives. Only
     * for mutators that never write payloads (replay, stress); a tail canary the mutator cannot
     * see is always checked. */
    bool fill_payload;
} mmb_oracle_options;

/* Creates a heap of manager `inner` under the oracle. The result is an ordinary heap: use it
 * through manager.h. Under the oracle every object is 8 bytes larger (the tail canary), and
 * freed blocks are poisoned and quarantined before they return to config->allocator. Returns
 * -1 with a reason in err when the inner manager's create fails. With a thread-safe manager the
 * heap is thread-safe too, under the manager's rules (thread_attach and thread_detach included);
 * which checks run when: harness/README.md, "The oracle". */
int mmb_oracle_create(const mmb_manager *inner, const mmb_heap_config *config,
                      const mmb_oracle_options *options, mmb_heap **out, char *err,
                      size_t err_bytes);

/* Names the operation about to run (1-based), for messages; without it the oracle numbers the
 * mutator's calls itself, in the order they begin. For a mutator with one thread: the name is
 * the heap's, not the calling thread's. */
void mmb_oracle_set_op(mmb_heap *heap, uint64_t op_index);
/* Names an object in messages (e.g. its trace ID); without it objects are "#N", N counting
 * allocations from 1. */
void mmb_oracle_label(mmb_heap *heap, mmb_obj *obj, uint64_t label);

/* What the oracle checks on manager m, in one line ("full: ...", "own-memory: ...; no
 * poisoning"), as results record it under "verify_scope". With MMB_CAP_OWN_MEMORY the objects
 * are seen only through config->on_free: no poisoning, quarantine or block accounting for them.
 * With MMB_CAP_CONSERVATIVE unreachable objects a full collection keeps are counted, not
 * violations. harness/README.md, "The oracle". */
const char *mmb_oracle_scope(const mmb_manager *m);

typedef struct mmb_oracle_summary {
    const char *scope; /* mmb_oracle_scope */
    bool own_memory, conservative;
    uint64_t frees_reported; /* on_free calls (MMB_CAP_OWN_MEMORY), destroy's included */
    /* MMB_CAP_CONSERVATIVE: unreachable objects left after the last full collection checked,
     * and the most left after any; 0 otherwise. */
    uint64_t retained_last, retained_max;
} mmb_oracle_summary;

/* The oracle's counts so far; call before mmb_oracle_close. */
void mmb_oracle_summary_get(mmb_heap *heap, mmb_oracle_summary *out);

/* Whether a violation has been found; any thread may ask. After the first, the oracle stops
 * checking and stops releasing memory (so a broken manager cannot crash the run); the mutator
 * should stop. */
bool mmb_oracle_failed(mmb_heap *heap);
/* The first violation in one line: "manager=M check=C object=O op=N: what happened", or NULL. */
const char *mmb_oracle_failure(mmb_heap *heap);
/* The op index of the first violation (0 when none). */
uint64_t mmb_oracle_failure_op(mmb_heap *heap);

/* Destroys the heap (called as destroy is: no other thread attached), then checks that the manager
 * returned every block to the allocator and that no freed block was written after its free (with
 * MMB_CAP_OWN_MEMORY: that destroy reported every remaining object through on_free). Returns
 * 0, or -1 with the first violation found at any time in msg. */
int mmb_oracle_close(mmb_heap *heap, char *msg, size_t msg_bytes);

#endif
