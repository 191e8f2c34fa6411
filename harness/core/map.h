/* An open-addressing hash map from nonzero 64-bit keys (trace IDs, addresses) to 64-bit values,
 * for the trace reader and the oracle. Linear probing with backward-shift deletion. Keys come
 * from input files, so buckets are chosen by SipHash-1-3 under a per-process random key: IDs
 * crafted to share a bucket under one run's hash do not under the next, and cannot be found
 * without the key (an unkeyed mix is invertible, and a flooded map makes every probe linear). */
#ifndef MMB_MAP_H
#define MMB_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mmb_map {
    uint64_t *keys; /* 0 marks an empty bucket */
    uint64_t *values;
    size_t mask;          /* buckets - 1; buckets is a power of two */
    size_t count;         /* invariant: count <= 3/4 of the buckets */
    uint64_t hash_key[2]; /* the process's SipHash key, copied at init */
} mmb_map;

void mmb_map_init(mmb_map *m);
void mmb_map_free(mmb_map *m);
/* Inserts or replaces. key != 0. */
void mmb_map_put(mmb_map *m, uint64_t key, uint64_t value);
/* Returns whether key is present; sets *value when it is. */
bool mmb_map_get(const mmb_map *m, uint64_t key, uint64_t *value);
/* Removes key; returns whether it was present. */
bool mmb_map_remove(mmb_map *m, uint64_t key);

/* For tests: the buckets a lookup of key examines (1 when it is in its home bucket or that
 * bucket is empty). Summed over the keys it is the map's total lookup work, which a flood of
 * colliding keys makes quadratic. */
size_t mmb_map_probe_count(const mmb_map *m, uint64_t key);

#endif
