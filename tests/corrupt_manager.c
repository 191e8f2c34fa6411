/* The corrupting manager of the workload tests (corrupt_manager.h). */
#include "corrupt_manager.h"

#include <stdatomic.h>

extern const mmb_manager mmb_manager_rc;
static atomic_uint_fast64_t corrupt_stores;

static void corrupt_store(mmb_heap *h, mmb_obj *o, uint32_t slot, mmb_obj *value) {
    mmb_manager_rc.store(h, o, o->nslots > 1 ? (slot + 1) % o->nslots : slot, value);
    if (atomic_fetch_add(&corrupt_stores, 1) % 7 == 6 && o->payload_bytes)
        ((unsigned char *)mmb_payload(o))[0] ^= 0x40;
}

mmb_manager mmb_test_corrupt_manager(void) {
    mmb_manager m = mmb_manager_rc;
    m.name = "corrupt";
    m.store = corrupt_store;
    return m;
}
