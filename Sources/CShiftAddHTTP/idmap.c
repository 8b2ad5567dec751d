#include "internal.h"

#include <stdlib.h>

/* Open addressing with linear probing; deletion shifts later entries back, so no tombstones. */

static size_t slot_of(uint64_t id, size_t cap) {
    uint64_t h = id * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 17) & (cap - 1);
}

static int grow(sah_idmap *map) {
    size_t cap = map->cap ? map->cap * 2 : 64;
    uint64_t *keys = calloc(cap, sizeof *keys);
    sah_req **values = calloc(cap, sizeof *values);
    if (!keys || !values) {
        free(keys);
        free(values);
        return -1;
    }
    for (size_t i = 0; i < map->cap; i++) {
        if (!map->keys[i]) continue;
        size_t s = slot_of(map->keys[i], cap);
        while (keys[s]) s = (s + 1) & (cap - 1);
        keys[s] = map->keys[i];
        values[s] = map->values[i];
    }
    free(map->keys);
    free(map->values);
    map->keys = keys;
    map->values = values;
    map->cap = cap;
    return 0;
}

int sah_idmap_put(sah_idmap *map, uint64_t id, sah_req *req) {
    if ((map->count + 1) * 2 > map->cap && grow(map) < 0) return -1;
    size_t s = slot_of(id, map->cap);
    while (map->keys[s] && map->keys[s] != id) s = (s + 1) & (map->cap - 1);
    if (!map->keys[s]) map->count++;
    map->keys[s] = id;
    map->values[s] = req;
    return 0;
}

static long find(const sah_idmap *map, uint64_t id) {
    if (!map->cap || !id) return -1;
    for (size_t s = slot_of(id, map->cap);; s = (s + 1) & (map->cap - 1)) {
        if (map->keys[s] == id) return (long)s;
        if (!map->keys[s]) return -1;
    }
}

sah_req *sah_idmap_get(const sah_idmap *map, uint64_t id) {
    long s = find(map, id);
    return s < 0 ? NULL : map->values[s];
}

void sah_idmap_remove(sah_idmap *map, uint64_t id) {
    long found = find(map, id);
    if (found < 0) return;
    size_t mask = map->cap - 1, hole = (size_t)found;
    for (size_t s = (hole + 1) & mask; map->keys[s]; s = (s + 1) & mask) {
        size_t home = slot_of(map->keys[s], map->cap);
        /* Move the entry into the hole unless its home lies cyclically in (hole, s]. */
        if (((s - home) & mask) >= ((s - hole) & mask)) {
            map->keys[hole] = map->keys[s];
            map->values[hole] = map->values[s];
            hole = s;
        }
    }
    map->keys[hole] = 0;
    map->values[hole] = NULL;
    map->count--;
}

void sah_idmap_free(sah_idmap *map) {
    free(map->keys);
    free(map->values);
    *map = (sah_idmap){0};
}
