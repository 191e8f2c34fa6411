/* The hash map in map.h. */
#include "build_info.h"
#include "map.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline size_t bucket_of(uint64_t key, size_t mask) {
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdull;
    key ^= key >> 33;
    return (size_t)key & mask;
}

void mmb_map_init(mmb_map *m) {
    m->mask = 15;
    m->count = 0;
    m->keys = mmb_xcalloc(m->mask + 1, sizeof *m->keys);
    m->values = mmb_xcalloc(m->mask + 1, sizeof *m->values);
}

void mmb_map_free(mmb_map *m) {
    free(m->keys);
    free(m->values);
    memset(m, 0, sizeof *m);
}

static void grow(mmb_map *m) {
    mmb_map bigger = {mmb_xcalloc(2 * (m->mask + 1), sizeof(uint64_t)),
                      mmb_xcalloc(2 * (m->mask + 1), sizeof(uint64_t)), 2 * m->mask + 1, 0};
    for (size_t i = 0; i <= m->mask; i++)
        if (m->keys[i])
            mmb_map_put(&bigger, m->keys[i], m->values[i]);
    mmb_map_free(m);
    *m = bigger;
}

void mmb_map_put(mmb_map *m, uint64_t key, uint64_t value) {
    if (4 * (m->count + 1) > 3 * (m->mask + 1))
        grow(m);
    size_t i = bucket_of(key, m->mask);
    while (m->keys[i] && m->keys[i] != key)
        i = (i + 1) & m->mask;
    if (!m->keys[i]) {
        m->keys[i] = key;
        m->count++;
    }
    m->values[i] = value;
}

bool mmb_map_get(const mmb_map *m, uint64_t key, uint64_t *value) {
    size_t i = bucket_of(key, m->mask);
    while (m->keys[i]) {
        if (m->keys[i] == key) {
            *value = m->values[i];
            return true;
        }
        i = (i + 1) & m->mask;
    }
    return false;
}

bool mmb_map_remove(mmb_map *m, uint64_t key) {
    size_t i = bucket_of(key, m->mask);
    while (m->keys[i] != key) {
        if (!m->keys[i])
            return false;
        i = (i + 1) & m->mask;
    }
    /* Backward-shift: move later entries of the probe run into the hole so that every key stays
     * reachable from its home bucket without tombstones. */
    size_t hole = i;
    for (size_t j = (i + 1) & m->mask; m->keys[j]; j = (j + 1) & m->mask) {
        size_t home = bucket_of(m->keys[j], m->mask);
        bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
        if (movable) {
            m->keys[hole] = m->keys[j];
            m->values[hole] = m->values[j];
            hole = j;
        }
    }
    m->keys[hole] = 0;
    m->count--;
    return true;
}
