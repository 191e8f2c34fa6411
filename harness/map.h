/* An open-addressing hash map from nonzero 64-bit keys (trace IDs, addresses) to 64-bit values,
 * for the trace reader and the oracle. Linear probing with backward-shift deletion. */
#ifndef MMB_MAP_H
#define MMB_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mmb_map {
    uint64_t *keys; /* 0 marks an empty bucket */
    uint64_t *values;
    size_t mask;  /* buckets - 1; buckets is a power of two */
    size_t count; /* invariant: count <= 3/4 of the buckets */
} mmb_map;

void mmb_map_init(mmb_map *m);
void mmb_map_free(mmb_map *m);
/* Inserts or replaces. key != 0. */
void mmb_map_put(mmb_map *m, uint64_t key, uint64_t value);
/* Returns whether key is present; sets *value when it is. */
bool mmb_map_get(const mmb_map *m, uint64_t key, uint64_t *value);
/* Removes key; returns whether it was present. */
bool mmb_map_remove(mmb_map *m, uint64_t key);

#endif
