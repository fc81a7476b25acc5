/*
 * obj.h — typed values (hash, list, set, zset): the object an entry's value
 * points to, the op records that describe one change to an object (what the
 * WAL and replication carry), and the typed-value serializer that snapshots,
 * RENAME/COPY and replication's full syncs use.
 *
 * A typed entry's value bytes are one pointer to an eng_obj (the type is in
 * the entry's flags). The pointer, not the object, moves when the entry is
 * reallocated (a TTL added), so an object's address is stable while its key
 * exists. Each type lives in its own file (obj_hash.c, obj_list.c, ...) and
 * describes itself with an eng_type_ops; the table of them is in obj.c.
 *
 * Why op records instead of whole values: a whole-key fact per change would
 * cost O(elements) per LPUSH. An op is the change's *effect* (HINCRBYFLOAT
 * logs the field's new value, SPOP the members it removed), so replaying it
 * is deterministic. Deltas are not idempotent, which the fuzzy snapshot cut
 * needs (docs/FORMATS.md): so each object keeps `seq`, the shard sequence
 * number of its last change, a snapshot stores it with the object, and a
 * replayed op whose seq is not above the loaded object's is skipped (it is
 * already in the image). An object loaded from an image carries
 * ENG_OBJ_F_IMAGE while its seq is the image's (another run's or the
 * primary's numbering); its first applied op replaces both.
 *
 * Owns: the object and everything it points to belongs to the entry; freed
 *   with it (eng_entry_free and every removal path free it).
 * Threads: the shard's thread, as for engine.h.
 * Memory accounting: a type keeps o->bytes equal to the heap bytes the object
 *   holds (its own block included); eng_obj_commit adds the change to the
 *   shard's count, which the memory limit sees.
 */
#ifndef FC_ENGINE_OBJ_H
#define FC_ENGINE_OBJ_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"
#include "util/buf.h"

#define ENG_OBJ_F_IMAGE 0x01u

typedef struct eng_obj {
    uint8_t type;  /* enum eng_type, never ENG_TYPE_STRING */
    uint8_t enc;   /* the type's own encoding number */
    uint8_t flags; /* ENG_OBJ_F_* */
    uint8_t pad[5];
    uint64_t seq;     /* shard seq of the last change (see above) */
    size_t bytes;     /* heap bytes held, this block included */
    size_t accounted; /* bytes as last added to the shard's count */
} eng_obj;

/* --- op records ---
 *
 * Layout (docs/FORMATS.md "Op records"): u8 code, varint argc, then argc
 * arguments, each a varint length and its bytes. Codes are per type. A
 * number travels as its decimal text or, for scores, as 8 bytes of an IEEE
 * double (little-endian). */
typedef struct eng_op {
    fc_buf b;
    size_t argc;
    size_t argc_at; /* where the argc placeholder sits (5 bytes reserved) */
} eng_op;

/* Scratch op of the calling thread (one per thread, reused): begins a
 * record with the given code. */
eng_op *eng_op_begin(unsigned code);
void eng_op_arg(eng_op *op, const void *p, size_t n);
void eng_op_arg_i64(eng_op *op, int64_t v);
void eng_op_arg_f64(eng_op *op, double v);
/* The finished record (argc filled in): valid until the next
 * eng_op_begin on this thread; NULL if building it ran out of memory. */
const uint8_t *eng_op_record(const eng_op *op, size_t *len);

typedef struct eng_op_reader {
    const uint8_t *p, *end;
    size_t left; /* arguments not yet read */
} eng_op_reader;

/* Splits a record: FC_OK with *code and r ready, FC_EINVAL when malformed
 * (every length is checked against the record's end). */
int eng_op_open(const void *rec, size_t n, unsigned *code, eng_op_reader *r);
/* Next argument: false when none is left (or the record is malformed). */
bool eng_op_next(eng_op_reader *r, const uint8_t **p, size_t *n);
bool eng_op_next_i64(eng_op_reader *r, int64_t *v);
bool eng_op_next_f64(eng_op_reader *r, double *v);

/* --- what a type provides --- */
typedef struct eng_type_ops {
    const char *name;         /* TYPE's answer */
    eng_obj *(*create)(void); /* empty object; NULL on ENOMEM */
    void (*free)(eng_obj *o);
    size_t (*len)(const eng_obj *o);           /* 0: the key is removed */
    const char *(*encoding)(const eng_obj *o); /* OBJECT ENCODING */
    /* Appends the typed-value form (docs/FORMATS.md); oom via out->oom. */
    void (*serialize)(const eng_obj *o, fc_buf *out);
    /* Builds an object from the serialized form: FC_OK, FC_EINVAL
     * (malformed: never trusted), FC_ENOMEM. */
    int (*load)(const uint8_t *p, size_t n, eng_obj **out);
    eng_obj *(*dup)(const eng_obj *o); /* NULL on ENOMEM */
    /* Replays one op record's effect on o: FC_OK, FC_EINVAL (unknown code
     * or bad arguments), FC_ENOMEM. */
    int (*apply)(eng_obj *o, unsigned code, eng_op_reader *r);
} eng_type_ops;

/* The ops of a type; NULL for strings and for unknown numbers. */
const eng_type_ops *eng_type_ops_of(unsigned type);

/* --- objects in a shard --- */

/* The object of a typed entry (NULL for a string entry). */
eng_obj *eng_entry_obj(const eng_entry *e);

/* Finds key's object for reading: FC_OK and *o, FC_ENOTFOUND, or
 * FC_EWRONGTYPE (the key holds another type). Lazy expiry and the access
 * mark as eng_get. *o is borrowed as eng_get's entries are. */
int eng_obj_get(eng_shard *sh, uint64_t hash, const void *key, size_t klen,
                unsigned type, int64_t now, eng_obj **o);

/* Finds key's object for a change, creating an empty one (inserted in the
 * table, not yet reported to observers) when the key is absent and create
 * is true. Makes room under the memory budget first (FC_ENOMEM as
 * eng_set). FC_OK, FC_ENOTFOUND, FC_EWRONGTYPE, FC_ENOMEM, FC_ETOOBIG. The
 * caller changes *o and then calls eng_obj_commit, always. */
int eng_obj_open(eng_shard *sh, uint64_t hash, const void *key, size_t klen,
                 unsigned type, bool create, int64_t now, eng_obj **o);

/* After a change to o (the object of key, from eng_obj_open): adds its
 * size change to the shard's count, and when op is non-NULL bumps the
 * shard's seq, stamps o->seq and reports FC_MUT_OP with op's bytes. Then,
 * when o is empty, removes the key (no extra record: replaying the op
 * empties it too; an object created by eng_obj_open and left empty
 * without an op vanishes unreported). */
void eng_obj_commit(eng_shard *sh, uint64_t hash, const void *key, size_t klen,
                    eng_obj *o, const eng_op *op);

/* Whether the shard's observer wants op records (engine.h's
 * eng_observer.wanted): building them is needless otherwise. */
bool eng_obj_logging(const eng_shard *sh);

/* Sets key to hold o (ownership moves to the shard on FC_OK; on an error
 * o stays the caller's), replacing any value, with expire_at as eng_set.
 * Reports FC_MUT_SET with the serialized value and value_type. FC_OK,
 * FC_ENOMEM, FC_ETOOBIG. For RENAME, COPY, the STORE forms and loading. */
int eng_set_obj(eng_shard *sh, uint64_t hash, const void *key, size_t klen,
                eng_obj *o, int64_t expire_at, int64_t now);

/* Takes the object out of a detached typed entry (eng_del's detached), so
 * that freeing the entry leaves it alone; the caller owns it. */
eng_obj *eng_entry_take_obj(eng_shard *sh, eng_entry *e);

/* Frees an object no entry holds. One with more than ENG_LAZY_FREE_MIN
 * elements goes to the lazy-free function when one is installed (Redis's
 * lazyfree: a DEL of a million-element list must not stall the worker). */
void eng_obj_free(eng_obj *o);
/* Frees o here and now (what the lazy-free thread calls). */
void eng_obj_free_now(eng_obj *o);
#define ENG_LAZY_FREE_MIN 64
typedef void (*eng_lazy_free_fn)(eng_obj *o);
/* Installs the lazy-free function (NULL: free inline), before any shard
 * is used and never changed while one is; the function takes ownership
 * and may be called from any shard's thread. */
void eng_set_lazy_free(eng_lazy_free_fn fn);

/* Serializes a typed value (FC_OK or FC_ENOMEM). */
int eng_obj_serialize(const eng_obj *o, fc_buf *out);

/* Loads key = typed value of `type` from its serialized form (a snapshot
 * item, a whole-value record, a full sync): FC_OK, FC_EINVAL, FC_ENOMEM.
 * image_seq > 0 marks the object as an image (ENG_OBJ_F_IMAGE) with that
 * seq, for the replay rule above. */
int eng_obj_load(eng_shard *sh, uint64_t hash, const void *key, size_t klen,
                 unsigned type, const void *val, size_t vlen, int64_t expire_at,
                 uint64_t image_seq, int64_t now);

/* Replays an FC_MUT_OP record with sequence number seq (0 = unknown: no
 * skip rule) on key: skipped when key's object is an image whose seq is
 * >= seq, or when key holds another type (a later whole-key record fixes
 * the key). FC_OK (applied or skipped), FC_EINVAL, FC_ENOMEM. */
int eng_obj_apply(eng_shard *sh, uint64_t hash, const void *key, size_t klen,
                  unsigned type, const void *rec, size_t n, uint64_t seq,
                  int64_t now);

/* The seq a snapshot stores for o: 0 for an untouched image. */
static inline uint64_t eng_obj_snapshot_seq(const eng_obj *o)
{
    return (o->flags & ENG_OBJ_F_IMAGE) ? 0 : o->seq;
}

/* --- encoding thresholds (Redis's config names; CONFIG GET/SET) ---
 * Process-wide: relaxed atomics any thread may change at any time; a type
 * reads them when a value grows (to convert compact -> large) and when it
 * shrinks (large -> compact below half the limits, so a value on the edge
 * does not flip at every write). */
typedef struct eng_obj_limits {
    _Atomic long
        hash_max_listpack_entries;        /* 512 (redis-server 7.0's default) */
    _Atomic long hash_max_listpack_value; /* 64 (bytes of field or value) */
    _Atomic long set_max_intset_entries;  /* 512 */
    _Atomic long set_max_listpack_entries;  /* 128 */
    _Atomic long set_max_listpack_value;    /* 64 */
    _Atomic long zset_max_listpack_entries; /* 128 */
    _Atomic long zset_max_listpack_value;   /* 64 */
    /* > 0: elements per list node; < 0: -1..-5 = 4, 8, 16, 32, 64 KiB per
     * node, as Redis. [-2] */
    _Atomic long list_max_listpack_size;
} eng_obj_limits;
extern eng_obj_limits eng_limits;

static inline long eng_limit(_Atomic long *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

/* Type ops of the types this build has (obj_*.c). */
extern const eng_type_ops eng_hash_ops;
extern const eng_type_ops eng_list_ops;
extern const eng_type_ops eng_set_ops;
extern const eng_type_ops eng_zset_ops;

#endif /* FC_ENGINE_OBJ_H */
