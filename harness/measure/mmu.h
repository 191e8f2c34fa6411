/* Minimum mutator utilisation (Cheng & Blelloch, 2001) computed exactly from a pause log: for a
 * window w, the least fraction of any w-long interval of the run left to the mutator. */
#ifndef MMB_MMU_H
#define MMB_MMU_H

#include <stddef.h>
#include <stdint.h>

typedef struct mmb_pause {
    uint64_t start_ns, end_ns; /* relative to the run's start */
} mmb_pause;

/* Pauses sorted by start and not overlapping (mmb_pauses_normalize makes them so), within
 * [0, run_ns]. Returns MMU for windows of w_ns; a window longer than the run is the whole run. */
double mmb_mmu(const mmb_pause *pauses, size_t count, uint64_t run_ns, uint64_t w_ns);

/* Sorts by start and merges overlapping or touching pauses (a cascade inside a collection, say);
 * returns the new count. */
size_t mmb_pauses_normalize(mmb_pause *pauses, size_t count);

#endif
