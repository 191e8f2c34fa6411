/* Whole-payload patterns for the allocator workloads (size-mix, fragment): every payload byte is
 * a function of the object's serial, written when it is allocated (all the bytes asked for) and
 * read back when it is dropped, so a block that an allocator or manager reused or overlapped while
 * live is caught. */
#ifndef MMB_WORKLOADS_PAYLOAD_H
#define MMB_WORKLOADS_PAYLOAD_H

#include <stdbool.h>
#include <string.h>

#include "workload.h"

/* Word i of the payload of object `serial`: word 0 is the serial itself (mmbw_read_u64). */
static inline uint64_t mmbw_pattern_word(uint64_t serial, size_t i) {
    return i == 0 ? serial : (serial ^ (uint64_t)i * 0xD6E8FEB86659FD93ull) + i;
}

/* Fills the first n bytes of o's payload (n >= 8: the bytes the workload asked for, which under
 * the oracle are fewer than o->payload_bytes, the rest its canary) with serial's pattern; a tail
 * shorter than a word holds the first bytes of the next pattern word. */
static inline void mmbw_fill_payload(mmb_obj *o, size_t n, uint64_t serial) {
    unsigned char *p = mmb_payload(o);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w = mmbw_pattern_word(serial, i / 8);
        memcpy(p + i, &w, 8);
    }
    if (i < n) {
        uint64_t w = mmbw_pattern_word(serial, i / 8);
        memcpy(p + i, &w, n - i);
    }
}

/* True when the first n bytes of o's payload still hold serial's pattern. */
static inline bool mmbw_payload_intact(mmb_obj *o, size_t n, uint64_t serial) {
    const unsigned char *p = mmb_payload(o);
    size_t i = 0;
    uint64_t diff = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        diff |= w ^ mmbw_pattern_word(serial, i / 8);
    }
    if (i < n) {
        uint64_t w = mmbw_pattern_word(serial, i / 8), got = w;
        memcpy(&got, p + i, n - i);
        diff |= got ^ w;
    }
    return diff == 0;
}

#endif
