/*
 * obj_list.h — the list object (obj_list.c) as the list commands and the
 * list op records see it: positions, pushes, pops, ranges, in-place edits.
 *
 * Encodings. "pack": one eng_pack inside the object while the whole list
 * fits in one node (list-max-listpack-size: > 0 elements, < 0 bytes of 4,
 * 8, 16, 32 or 64 KiB). "chunked": a deque of packs (like Redis's
 * quicklist): an array of eng_pack nodes with free room at both ends, so
 * pushes and pops at either end are O(1) amortised and an element costs
 * its bytes plus one length byte (for short elements). Back to "pack" when
 * one node is left and it is below half the limit.
 *
 * Positions are 0-based from the head; callers resolve negative indexes.
 * Element views (lst_index, lst_iter_next) point into the object (or, for
 * an element stored as an integer, a decode buffer) and are valid until
 * its next change.
 *
 * Op records (codes LOP_*, docs/FORMATS.md "Lists"): each change logs its
 * effect, and obj_list.c's apply replays it with the same functions.
 *
 * Threads: the owning shard's thread. Memory: the object owns its nodes;
 * o->bytes follows every change (malloc_usable_size).
 */
#ifndef FC_ENGINE_OBJ_LIST_H
#define FC_ENGINE_OBJ_LIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/obj.h"

enum lst_op_code {
    LOP_PUSH = 1,   /* side ("0" head, "1" tail), elements in push order */
    LOP_POP = 2,    /* side, count */
    LOP_SET = 3,    /* index, element */
    LOP_INSERT = 4, /* position (before it; len = append), element */
    LOP_REM = 5,    /* count (Redis LREM's sign rule), element */
    LOP_TRIM = 6,   /* elements removed at the head, at the tail */
};

size_t lst_len(const eng_obj *o);
/* Pushes one element at the head (tail false) or tail. FC_OK, FC_ENOMEM,
 * FC_ETOOBIG (the list is unchanged on error). */
int lst_push(eng_obj *o, bool tail, const void *p, size_t n);
/* Inserts before position pos (pos == len appends). */
int lst_insert(eng_obj *o, size_t pos, const void *p, size_t n);
/* The element at pos (false past the end). The view of an integer
 * element is a per-thread buffer, valid until the next lst_index. */
bool lst_index(const eng_obj *o, size_t pos, const uint8_t **p, size_t *n);
/* Replaces the element at pos (< len). */
int lst_set(eng_obj *o, size_t pos, const void *p, size_t n);
/* Removes n elements from position start (clamped to the end). */
void lst_del(eng_obj *o, size_t start, size_t n);
/* LREM: removes up to |count| elements equal to (p, n), from the head when
 * count > 0, from the tail when < 0, all when 0. Returns how many. */
size_t lst_rem(eng_obj *o, int64_t count, const void *p, size_t n);
/* First position >= from whose element equals (p, n), or SIZE_MAX. */
size_t lst_find(const eng_obj *o, size_t from, const void *p, size_t n);

/* Forward iteration from a position. An element that is stored as an
 * integer is decoded into the iterator: its view lasts until the next
 * call. node/off may be saved and restored to come back to an element. */
typedef struct lst_iter {
    const eng_obj *o;
    size_t node; /* index among the live nodes */
    size_t off;  /* byte offset in that node */
    char num[24];
} lst_iter;
void lst_iter_at(const eng_obj *o, size_t pos, lst_iter *it);
bool lst_iter_next(lst_iter *it, const uint8_t **p, size_t *n);

/* Calls fn(ctx, element, len) for the n elements ending at position
 * end - 1 (end <= len), from the last to the first, node by node (memory
 * for one node's offsets at a time). FC_OK or FC_ENOMEM (nothing called
 * after the failure). */
int lst_walk_back(const eng_obj *o, size_t end, size_t n,
                  void (*fn)(void *ctx, const uint8_t *p, size_t len),
                  void *ctx);

#endif /* FC_ENGINE_OBJ_LIST_H */
