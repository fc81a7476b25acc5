/*
 * obj_set.h — the set type's engine functions (obj_set.c) for the command
 * file: membership, changes, iteration, random picks and scans over any
 * encoding. The engine knows nothing of RESP.
 *
 * Encodings: "intset" — sorted int64s (obj_intset.h) while every member is
 * a canonical integer (Redis's string2ll rule) and there are at most
 * set-max-intset-entries; "pack" — an eng_pack, one member per item, while
 * at most set-max-listpack-entries members of at most
 * set-max-listpack-value bytes; "hashtable" — an otab (obj_tab.h) of one
 * block per member. A large set converts back to the compact form when it
 * shrinks to half of the limits.
 *
 * Views returned here are borrowed: valid until the next change to the
 * object (an intset member is formatted into the iterator's buffer).
 * Threads: the owning shard's thread.
 */
#ifndef FC_ENGINE_OBJ_SET_H
#define FC_ENGINE_OBJ_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/obj.h"

/* Op record codes (docs/FORMATS.md "Set"). */
enum {
    SOP_ADD = 1, /* member...: added (present ones ignored) */
    SOP_REM = 2, /* member...: removed (absent ones ignored) */
};

eng_obj *sobj_new(void); /* an empty set; NULL on ENOMEM */
bool sobj_has(const eng_obj *o, const void *m, size_t ml);
/* Adds m: FC_OK (*added: it was not there) or FC_ENOMEM (unchanged). m
 * must not point into o. */
int sobj_add(eng_obj *o, const void *m, size_t ml, bool *added);
bool sobj_rem(eng_obj *o, const void *m, size_t ml);
size_t sobj_len(const eng_obj *o);

typedef struct sobj_it {
    size_t pos;
    char num[24]; /* an intset member's text */
} sobj_it;
/* Iteration: it->pos starts at 0; no change to o between calls. */
bool sobj_next(const eng_obj *o, sobj_it *it, const uint8_t **m, size_t *ml);

typedef void (*sobj_fn)(void *ctx, const uint8_t *m, size_t ml);
/* One member chosen uniformly (o not empty). */
void sobj_random(const eng_obj *o, uint64_t *rng, sobj_fn fn, void *ctx);
/* count (< len) distinct members chosen uniformly. FC_OK or FC_ENOMEM
 * (nothing emitted). */
int sobj_sample(const eng_obj *o, size_t count, uint64_t *rng, sobj_fn fn,
                void *ctx);
/* One SSCAN step (compact encodings come whole, cursor 0, as Redis's
 * intset); returns the next cursor. */
uint64_t sobj_scan(const eng_obj *o, uint64_t cursor, size_t count, sobj_fn fn,
                   void *ctx);

#endif /* FC_ENGINE_OBJ_SET_H */
