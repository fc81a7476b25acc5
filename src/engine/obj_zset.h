/*
 * obj_zset.h — sorted sets in the engine (obj_zset.c): what the zset
 * commands (src/commands/t_zset*.c) call beyond the type's ops table. No
 * RESP here: the commands format.
 *
 * Encodings: "pack" (ZS_ENC_PACK: member, score pairs in
 * order, the score as a minimal little-endian integer when it is one,
 * else 8 bytes of double) while <= zset-max-listpack-entries elements and
 * every member <= zset-max-listpack-value bytes; past that an
 * order-statistics B+tree plus a member index (ZS_ENC_TREE,
 * obj_zset_tree.h). Back to the pack when the value shrinks to half of
 * both limits.
 *
 * Order: score ascending, ties by member bytes (memcmp, shorter first), as
 * Redis. Ranks are 0-based ascending; the commands mirror for REV.
 *
 * Threads: the owning shard's thread. Memory: the object owns its members;
 * member pointers handed out (iterators, zs_scan) are borrowed until
 * the next change to the object.
 */
#ifndef FC_ENGINE_OBJ_ZSET_H
#define FC_ENGINE_OBJ_ZSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/obj.h"
#include "engine/obj_zset_tree.h"

enum { ZS_ENC_PACK = 0, ZS_ENC_TREE = 1 };

/* Op record codes (docs/FORMATS.md "Sorted sets"). */
enum {
    ZOP_ADD = 1, /* (score f64, member) pairs: set each member's score */
    ZOP_REM = 2, /* members: remove each */
};

/* zs_add flags (Redis's ZADD_IN_*) and outcomes (ZADD_OUT_*). */
enum {
    ZS_NX = 1u << 0,
    ZS_XX = 1u << 1,
    ZS_GT = 1u << 2,
    ZS_LT = 1u << 3,
    ZS_INCR = 1u << 4,
};
enum {
    ZS_OUT_NOP = 1u << 0,     /* a condition held the change back */
    ZS_OUT_NAN = 1u << 1,     /* INCR gave NaN: nothing changed */
    ZS_OUT_ADDED = 1u << 2,   /* a new member */
    ZS_OUT_UPDATED = 1u << 3, /* an existing member's score changed */
};

eng_obj *zs_new(void);
/* An empty value in the tree encoding whatever its size: results are
 * built in it (O(log n) inserts) and packed by zs_fit when stored. */
eng_obj *zs_new_tree(void);
/* A value built in the tree goes to the pack when it fits the limits (as
 * Redis's zsetConvertToListpackIfNeeded for STORE results). */
void zs_fit(eng_obj *o);
size_t zs_len(const eng_obj *o);
bool zs_score(const eng_obj *o, const void *m, size_t n, double *score);
/* Redis's zsetAdd: *out gets the outcome bits, *newscore the member's
 * score after the call (with INCR: the sum; -0 is stored and returned as
 * 0). FC_OK or FC_ENOMEM (nothing changed). */
int zs_add(eng_obj *o, const void *m, size_t n, double score, unsigned flags,
           unsigned *out, double *newscore);
/* Removes m: true when it was there. */
bool zs_del(eng_obj *o, const void *m, size_t n);
/* Removes ranks [start, start + count). */
void zs_del_range(eng_obj *o, size_t start, size_t count);
/* Ascending rank of m: false when absent. */
bool zs_rank(const eng_obj *o, const void *m, size_t n, size_t *rank);

/* Score bounds: min/max with exclusivity (Redis's zrangespec). */
typedef struct zs_srange {
    double min, max;
    bool minex, maxex;
} zs_srange;

/* Lex bounds (Redis's zlexrangespec): kind per side. */
enum { ZL_NEG = 0, ZL_INCL = 1, ZL_EXCL = 2, ZL_POS = 3 };
typedef struct zs_lrange {
    const char *min, *max;
    size_t minn, maxn;
    int mink, maxk;
} zs_lrange;

/* Rank of the first element at or past the range's lower bound, and the
 * rank just past the last element within the upper bound: the range is
 * [first, end) when first < end. */
size_t zs_score_first(const eng_obj *o, const zs_srange *r);
size_t zs_score_end(const eng_obj *o, const zs_srange *r);
/* The window a lex range with an offset and a limit (< 0: none) selects,
 * in walk order: start at rank *from, take *count going up (rev: down).
 * A pack walks as Redis's listpack does, which matters only when scores
 * differ (lex ranges are undefined then); the tree uses the bounds. */
void zs_lex_window(const eng_obj *o, const zs_lrange *r, bool rev,
                   int64_t offset, int64_t limit, size_t *from, size_t *count);

/* Walks elements from rank `rank` upwards (rev: downwards). */
#define ZS_ITER_LOCAL 130
typedef struct zs_iter {
    const eng_obj *o;
    bool rev;
    size_t i; /* pack: index of the next element */
    size_t off;
    size_t *offs; /* pack, reverse: offsets of the elements */
    size_t offs_local[ZS_ITER_LOCAL];
    zt_iter t;
} zs_iter;

void zs_iter_init(zs_iter *it, const eng_obj *o, size_t rank, bool rev);
bool zs_iter_next(zs_iter *it, const char **m, size_t *n, double *score);
void zs_iter_done(zs_iter *it);

/* ZSCAN over the large encoding's index: calls fn per element, returns the
 * next cursor. The pack has no cursor: the caller walks it whole. */
size_t zs_scan(const eng_obj *o, size_t cursor,
               void (*fn)(void *ctx, const char *m, size_t n, double score),
               void *ctx);

/* For the ops table (obj_zset_ops.c). */
void zs_free(eng_obj *o);
const char *zs_encoding(const eng_obj *o);

#endif /* FC_ENGINE_OBJ_ZSET_H */
