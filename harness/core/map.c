/* The hash map in map.h. */
#include "diag.h"
#include "map.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static uint64_t process_key[2];
static pthread_once_t process_key_once = PTHREAD_ONCE_INIT;

/* splitmix64's finalizer: only to spread the fallback seed below, never to pick buckets. */
static uint64_t spread(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void make_process_key(void) {
    if (getrandom(process_key, sizeof process_key, GRND_NONBLOCK) == (ssize_t)sizeof process_key)
        return;
    /* No entropy from the kernel yet (or no getrandom): the clock, the pid and where the stack
     * and this library were placed still differ from run to run. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t local = 0;
    uint64_t seed = (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 30 ^ (uint64_t)getpid() << 48 ^
                    (uint64_t)(uintptr_t)&local ^ (uint64_t)(uintptr_t)&process_key;
    process_key[0] = spread(seed);
    process_key[1] = spread(seed ^ 0x9E3779B97F4A7C15ull);
}

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                   \
    do {                                                                                           \
        v0 += v1;                                                                                  \
        v1 = ROTL(v1, 13);                                                                         \
        v1 ^= v0;                                                                                  \
        v0 = ROTL(v0, 32);                                                                         \
        v2 += v3;                                                                                  \
        v3 = ROTL(v3, 16);                                                                         \
        v3 ^= v2;                                                                                  \
        v0 += v3;                                                                                  \
        v3 = ROTL(v3, 21);                                                                         \
        v3 ^= v0;                                                                                  \
        v2 += v1;                                                                                  \
        v1 = ROTL(v1, 17);                                                                         \
        v1 ^= v2;                                                                                  \
        v2 = ROTL(v2, 32);                                                                         \
    } while (0)

/* SipHash-1-3 (Aumasson and Bernstein; the variant Rust's HashMap uses) of the 8-byte
 * little-endian message `key`: one compression round per block, three finalization rounds. */
static inline uint64_t siphash13_u64(const uint64_t k[2], uint64_t key) {
    uint64_t v0 = k[0] ^ 0x736f6d6570736575ull, v1 = k[1] ^ 0x646f72616e646f6dull;
    uint64_t v2 = k[0] ^ 0x6c7967656e657261ull, v3 = k[1] ^ 0x7465646279746573ull;
    const uint64_t last = (uint64_t)8 << 56; /* the length byte; no bytes left over */
    v3 ^= key;
    SIPROUND;
    v0 ^= key;
    v3 ^= last;
    SIPROUND;
    v0 ^= last;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

static inline size_t bucket_of(const mmb_map *m, uint64_t key) {
    return (size_t)siphash13_u64(m->hash_key, key) & m->mask;
}

static void init_buckets(mmb_map *m, size_t buckets) {
    pthread_once(&process_key_once, make_process_key);
    m->mask = buckets - 1;
    m->count = 0;
    m->keys = mmb_xcalloc(buckets, sizeof *m->keys);
    m->values = mmb_xcalloc(buckets, sizeof *m->values);
    m->hash_key[0] = process_key[0];
    m->hash_key[1] = process_key[1];
}

void mmb_map_init(mmb_map *m) {
    init_buckets(m, 16);
}

void mmb_map_free(mmb_map *m) {
    free(m->keys);
    free(m->values);
    memset(m, 0, sizeof *m);
}

static void grow(mmb_map *m) {
    mmb_map bigger;
    init_buckets(&bigger, 2 * (m->mask + 1));
    for (size_t i = 0; i <= m->mask; i++)
        if (m->keys[i])
            mmb_map_put(&bigger, m->keys[i], m->values[i]);
    mmb_map_free(m);
    *m = bigger;
}

void mmb_map_put(mmb_map *m, uint64_t key, uint64_t value) {
    if (4 * (m->count + 1) > 3 * (m->mask + 1))
        grow(m);
    size_t i = bucket_of(m, key);
    while (m->keys[i] && m->keys[i] != key)
        i = (i + 1) & m->mask;
    if (!m->keys[i]) {
        m->keys[i] = key;
        m->count++;
    }
    m->values[i] = value;
}

bool mmb_map_get(const mmb_map *m, uint64_t key, uint64_t *value) {
    size_t i = bucket_of(m, key);
    while (m->keys[i]) {
        if (m->keys[i] == key) {
            *value = m->values[i];
            return true;
        }
        i = (i + 1) & m->mask;
    }
    return false;
}

size_t mmb_map_probe_count(const mmb_map *m, uint64_t key) {
    size_t probes = 1;
    for (size_t i = bucket_of(m, key); m->keys[i] && m->keys[i] != key; i = (i + 1) & m->mask)
        probes++;
    return probes;
}

bool mmb_map_remove(mmb_map *m, uint64_t key) {
    size_t i = bucket_of(m, key);
    while (m->keys[i] != key) {
        if (!m->keys[i])
            return false;
        i = (i + 1) & m->mask;
    }
    /* Backward-shift: move later entries of the probe run into the hole so that every key stays
     * reachable from its home bucket without tombstones. */
    size_t hole = i;
    for (size_t j = (i + 1) & m->mask; m->keys[j]; j = (j + 1) & m->mask) {
        size_t home = bucket_of(m, m->keys[j]);
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
