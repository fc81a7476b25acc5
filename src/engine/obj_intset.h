/*
 * obj_intset.h — a sorted array of distinct int64 members, as Redis's
 * intset, but stored as offsets from the smallest member (base) at the
 * narrowest width (1, 2, 4 or 8 bytes) their range needs: 100 members
 * within 256 of each other take 100 bytes (Redis: 200, its width comes
 * from the values, from 2 bytes up). Members are kept sorted, so lookups
 * are binary searches and iteration is ascending (SMEMBERS of an integer
 * set comes back sorted, as from Redis). A new smallest member rewrites
 * the offsets (O(n), n <= set-max-intset-entries).
 *
 * Owns: data (malloc/realloc/free). Threads: the owning shard's thread.
 */
#ifndef FC_ENGINE_OBJ_INTSET_H
#define FC_ENGINE_OBJ_INTSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct intset {
    uint8_t *data;
    int64_t base; /* the smallest member when count > 0 */
    uint32_t count;
    uint8_t width; /* bytes per offset: 1, 2, 4 or 8 (0 while empty) */
} intset;

int64_t is_get(const intset *s, size_t i);
/* true when v is a member; *pos gets its index or where it would go. */
bool is_find(const intset *s, int64_t v, size_t *pos);
/* Adds v (not a member): FC_OK or FC_ENOMEM (unchanged). */
int is_add(intset *s, int64_t v);
/* Removes the member at index i. */
void is_remove(intset *s, size_t i);
size_t is_heap(const intset *s);
void is_free(intset *s);
int is_copy(intset *dst, const intset *src);

#endif /* FC_ENGINE_OBJ_INTSET_H */
