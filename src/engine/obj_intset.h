/*
 * obj_intset.h — a sorted array of distinct int64 members stored at the
 * narrowest width (2, 4 or 8 bytes) that holds all of them, as Redis's
 * intset: 100 small integers take 200 bytes. Members are kept sorted, so
 * lookups are binary searches and iteration is ascending (SMEMBERS of an
 * integer set comes back sorted, as from Redis).
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
    uint32_t count;
    uint8_t width; /* bytes per member: 2, 4 or 8 (0 while empty) */
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
