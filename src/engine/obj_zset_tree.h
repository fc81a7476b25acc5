/*
 * obj_zset_tree.h — the large encoding of a sorted set: an order-statistics
 * B+tree of element pointers (rank in O(log n)) plus an open-addressing
 * member -> element index (ZSCORE in O(1)). Private to obj_zset*.c.
 *
 * Why a B+tree rather than Redis's skiplist + dict: a skiplist node holds
 * the member pointer, the score, a backward pointer and 1.33 levels of
 * (forward, span) on average (~48 bytes with malloc's rounding), and the
 * dict adds an entry and a bucket per element. Here the element block is
 * score + length + member, the leaves hold one 8-byte pointer per element
 * at >= half fill, inner nodes are ~1/30 of the leaves, and the index is
 * one pointer per slot. Measured (docs/FORMATS.md "Sorted sets"): 69.5
 * bytes per element at 100k against Redis 7.0.15's 111.8.
 *
 * Elements (zs_elem) are malloc'd blocks, owned by the tree: the index
 * points at the same blocks. zt_* never frees an element except in
 * zt_free_all; big_insert / big_remove (obj_zset.c) keep the two in step.
 *
 * Threads: the owning shard's thread. Memory: t->bytes / ix->bytes count
 * the usable sizes of the nodes and slot arrays (elements are counted by
 * the caller).
 */
#ifndef FC_ENGINE_OBJ_ZSET_TREE_H
#define FC_ENGINE_OBJ_ZSET_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct zs_elem {
    double score;
    uint32_t len;
    char m[]; /* member bytes */
} zs_elem;

/* Order: score, then member bytes (memcmp, shorter first on a tie). */
static inline int zs_cmp_key(double s1, const void *m1, size_t n1, double s2,
                             const void *m2, size_t n2)
{
    if (s1 < s2)
        return -1;
    if (s1 > s2)
        return 1;
    size_t n = n1 < n2 ? n1 : n2;
    int c = n ? memcmp(m1, m2, n) : 0;
    if (c)
        return c;
    return n1 < n2 ? -1 : n1 > n2;
}

static inline int zs_cmp_elem(const zs_elem *a, const zs_elem *b)
{
    return zs_cmp_key(a->score, a->m, a->len, b->score, b->m, b->len);
}

#define ZT_LEAF_MAX 64
#define ZT_INNER_MAX 32
#define ZT_MAX_DEPTH 24

typedef struct zt_node {
    uint16_t n;
    uint8_t leaf;
} zt_node;

typedef struct zs_tree {
    zt_node *root; /* NULL when empty */
    size_t count;
    size_t bytes; /* nodes' usable sizes */
    int depth;    /* levels, the leaf level included (0 when empty) */
} zs_tree;

/* Inserts x (not present). FC_OK or FC_ENOMEM (the tree unchanged). */
int zt_insert(zs_tree *t, zs_elem *x);
/* Removes the element equal to key (present: the caller checked). */
void zt_remove(zs_tree *t, const zs_elem *key);
/* Rank (0-based, ascending) of the element equal to key (present). */
size_t zt_rank(const zs_tree *t, const zs_elem *key);
/* Number of leading elements for which before(score, member, ctx) holds;
 * before must be monotone over the order (true then false). */
typedef bool (*zt_before_fn)(double score, const char *m, size_t n,
                             const void *ctx);
size_t zt_lower(const zs_tree *t, zt_before_fn before, const void *ctx);
/* Frees every node, and every element when free_elems. */
void zt_free_all(zs_tree *t, bool free_elems);

/* A position in the tree: the path from the root. */
typedef struct zt_iter {
    zt_node *nd[ZT_MAX_DEPTH];
    uint16_t ix[ZT_MAX_DEPTH];
    int depth;
    bool valid;
} zt_iter;

/* it at rank r (invalid when r >= count). */
void zt_iter_at(const zs_tree *t, size_t r, zt_iter *it);
zs_elem *zt_iter_get(const zt_iter *it);
void zt_iter_next(zt_iter *it);
void zt_iter_prev(zt_iter *it);

/* --- member index --- */
typedef struct zs_index {
    zs_elem **slot; /* NULL = empty */
    size_t mask;    /* slots - 1; slot NULL when mask == 0 and used == 0 */
    size_t used;
    size_t bytes;
} zs_index;

zs_elem *zi_find(const zs_index *ix, const void *m, size_t n);
/* Makes room for one more element: FC_OK or FC_ENOMEM. */
int zi_reserve(zs_index *ix, size_t more);
/* Adds e (absent; room reserved). */
void zi_add(zs_index *ix, zs_elem *e);
void zi_remove(zs_index *ix, const zs_elem *e);
void zi_free(zs_index *ix);
/* Redis's reverse-binary cursor over home slots: calls fn for every
 * element whose home slot is the cursor's, returns the next cursor (0 at
 * the end). Elements present for a whole scan are seen at least once,
 * across grows and shrinks, as with Redis's dictScan. */
size_t zi_scan(const zs_index *ix, size_t cursor,
               void (*fn)(void *ctx, const zs_elem *e), void *ctx);

#endif /* FC_ENGINE_OBJ_ZSET_TREE_H */
