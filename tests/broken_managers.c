/* mmbench-broken: the mmbench CLI with deliberately broken managers added, so tests can show
 * that the oracle catches each kind of bug. Test-only: never registered in mmbench itself. Each
 * reuses a bundled manager (rc, or marksweep-inc) and breaks one thing. */
#include "commands.h"
#include "mmbench/manager.h"

#include <stdio.h>

extern const mmb_manager mmb_manager_rc;
extern const mmb_manager mmb_manager_marksweep_inc;

/* broken-early: the slot's reference is never counted, so an object kept alive only by a slot is
 * freed when the mutator drops it: a premature free. */
static void early_store(mmb_heap *h, mmb_obj *o, uint32_t slot, mmb_obj *value) {
    mmb_manager_rc.store(h, o, slot, value);
    if (value)
        mmb_manager_rc.decref(h, value); /* the mutator still holds it: this never frees */
}

/* broken-leak: claims to reclaim cycles, but its collection does nothing. */

/* broken-scribble: its collection changes the last payload byte of the last object
 * allocated, remembered by address: while that object lives, its canary under the oracle; once
 * it is freed, a freed block (a write after free). */
static unsigned char *scribble_at;

static mmb_obj *scribble_alloc(mmb_heap *h, uint32_t nslots, uint32_t payload_bytes) {
    mmb_obj *o = mmb_manager_rc.alloc(h, nslots, payload_bytes);
    if (o && payload_bytes)
        scribble_at = (unsigned char *)mmb_payload(o) + payload_bytes - 1;
    return o;
}

static void scribble_collect(mmb_heap *h) {
    (void)h;
    if (scribble_at)
        *scribble_at += 1; /* not an XOR: the next collection would undo it */
}

/* broken-nobarrier: marksweep-inc whose store writes the slot with no deletion barrier, so an
 * edge moved from an unmarked object into a marked one mid-cycle is lost: a premature free. */
static void nobarrier_store(mmb_heap *h, mmb_obj *o, uint32_t slot, mmb_obj *value) {
    (void)h;
    o->slots[slot] = value;
}

static mmb_manager early, leak, scribble, nobarrier;

int main(int argc, char **argv) {
    early = mmb_manager_rc;
    early.name = "broken-early";
    early.summary = "test-only: frees objects still referenced from slots";
    early.store = early_store;
    leak = mmb_manager_rc;
    leak.name = "broken-leak";
    leak.summary = "test-only: claims cycle collection, collects nothing";
    leak.caps |= MMB_CAP_CYCLES;
    scribble = mmb_manager_rc;
    scribble.name = "broken-scribble";
    scribble.summary = "test-only: corrupts memory it does not own during collections";
    scribble.alloc = scribble_alloc;
    scribble.collect = scribble_collect;
    nobarrier = mmb_manager_marksweep_inc;
    nobarrier.name = "broken-nobarrier";
    nobarrier.summary = "test-only: marksweep-inc without its deletion barrier";
    nobarrier.store = nobarrier_store;
    if (mmb_manager_register(&early) || mmb_manager_register(&leak) ||
        mmb_manager_register(&scribble) || mmb_manager_register(&nobarrier)) {
        fprintf(stderr, "mmbench-broken: cannot register the broken managers\n");
        return 1;
    }
    return mmb_cli_main(argc, argv);
}
