/*
 * obj_hash.h — the hash type's engine functions (obj_hash.c) for the
 * command file: field lookups and changes, iteration, random picks and
 * scans over either encoding. The engine knows nothing of RESP.
 *
 * Encodings: "pack" — an eng_pack of field, value, field, value... while
 * the hash has at most hash-max-listpack-entries fields and every field
 * and value is at most hash-max-listpack-value bytes; "hashtable" — an
 * otab (obj_tab.h) of one block per field,
 * holding field and value. Past a threshold the pack converts; the table
 * converts back when the hash shrinks to half of both limits.
 *
 * Views (field/value pointers) returned here are borrowed: valid until the
 * next change to the object.
 * Threads: the owning shard's thread.
 */
#ifndef FC_ENGINE_OBJ_HASH_H
#define FC_ENGINE_OBJ_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/obj.h"

/* Op record codes (docs/FORMATS.md "Hash"). */
enum {
    HOP_SET = 1, /* field, value, field, value...: each field now holds it */
    HOP_DEL = 2, /* field...: removed (absent ones ignored) */
};

/* The value of field: true and the view, or false when absent. */
bool hobj_get(const eng_obj *o, const void *f, size_t fl, const uint8_t **v,
              size_t *vl);
/* Sets field to value: FC_OK (*added: the field is new) or FC_ENOMEM (the
 * hash unchanged). v must not point into o. */
int hobj_set(eng_obj *o, const void *f, size_t fl, const void *v, size_t vl,
             bool *added);
/* Removes field: true when it was there. */
bool hobj_del(eng_obj *o, const void *f, size_t fl);
size_t hobj_len(const eng_obj *o);

/* Iteration: *pos starts at 0; false at the end. No change to o between
 * calls. */
bool hobj_next(const eng_obj *o, size_t *pos, const uint8_t **f, size_t *fl,
               const uint8_t **v, size_t *vl);

typedef void (*hobj_fn)(void *ctx, const uint8_t *f, size_t fl,
                        const uint8_t *v, size_t vl);
/* One field chosen uniformly (o not empty). */
void hobj_random(const eng_obj *o, uint64_t *rng, hobj_fn fn, void *ctx);
/* count distinct fields chosen uniformly (count < len), each once, in no
 * particular order. FC_OK or FC_ENOMEM (nothing emitted). */
int hobj_sample(const eng_obj *o, size_t count, uint64_t *rng, hobj_fn fn,
                void *ctx);
/* One HSCAN step (a pack is emitted whole with cursor 0 as Redis's
 * listpack is); returns the next cursor. */
uint64_t hobj_scan(const eng_obj *o, uint64_t cursor, size_t count, hobj_fn fn,
                   void *ctx);

#endif /* FC_ENGINE_OBJ_HASH_H */
