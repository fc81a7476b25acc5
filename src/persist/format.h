/*
 * format.h — the on-disk formats of persistence: WAL segment headers, WAL
 * records, snapshot headers, snapshot body items and trailers. Pure codecs:
 * no I/O, no allocation, no state. docs/FORMATS.md is the normative
 * description; this header and that document change together.
 *
 * Every integer is little-endian. Checksums are XXH3-64 (libxxhash): a WAL
 * record carries the low 32 bits of XXH3-64 over its length field and body,
 * a snapshot carries the full 64 bits over every byte before its trailer.
 *
 * Decoders follow the picohttpparser rule: given a buffer, they return
 * PF_OK with the bytes used, PF_MORE when the buffer ends inside the item
 * (never reading past `avail`), or PF_BAD when the bytes cannot be a valid
 * item. Lengths are bounded (PF_MAX_KEY / PF_MAX_VALUE) before any caller
 * would allocate from them.
 *
 * Threads: any. Memory: decoded views point into the caller's buffer.
 */
#ifndef FC_PERSIST_FORMAT_H
#define FC_PERSIST_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pf_status { PF_OK = 0, PF_MORE = 1, PF_BAD = 2 };

#define PF_MAX_KEY ((uint64_t)512 * 1024 * 1024)
#define PF_MAX_VALUE ((uint64_t)512 * 1024 * 1024)

/* --- WAL segment header: 64 bytes at the start of every segment -------- */
#define PF_SEG_MAGIC "FCWAL001"
#define PF_SEG_HEADER_LEN 64
#define PF_FORMAT_VERSION 1

typedef struct pf_seg_header {
    uint64_t segno;  /* position in the log; file name wal-<segno>.log */
    uint64_t epoch;  /* process generation that wrote it */
    uint64_t seed;   /* key hash seed of that process */
    uint32_t nshards;
    int64_t created_unix_ms;
} pf_seg_header;

void pf_seg_header_encode(uint8_t out[PF_SEG_HEADER_LEN],
                          const pf_seg_header *h);
/* PF_MORE when avail < 64, PF_BAD on a wrong magic/version/checksum. */
int pf_seg_header_decode(const uint8_t *p, size_t avail, pf_seg_header *h);

/* --- WAL record ---------------------------------------------------------
 * u32 check | u32 len | body[len]; body = u8 kind, u8 vtype, u16 0,
 * u32 shard, u64 seq, i64 expire_unix_ms, u32 klen, u32 vlen, key, value. */
#define PF_REC_PREFIX 8
#define PF_REC_FIXED 32 /* body bytes before the key */
#define PF_REC_HEADER (PF_REC_PREFIX + PF_REC_FIXED)

enum pf_rec_kind {
    PF_REC_SET = 1,    /* key holds value, with expire (0 = none) */
    PF_REC_DEL = 2,    /* key removed */
    PF_REC_EXPIRE = 3, /* key's expiry is now expire (0 = persisted) */
    PF_REC_CLEAR = 5,  /* every key of `shard` removed */
    PF_REC_OP = 6,     /* an op record (engine/obj.h) on key's typed value */
};
/* Value types a record or item may name (enum eng_type). */
#define PF_VTYPE_MAX 4

typedef struct pf_rec {
    uint8_t kind;  /* enum pf_rec_kind */
    uint8_t vtype; /* value type (0 = string) */
    uint32_t shard;
    uint64_t seq;
    int64_t expire_unix_ms;
    const uint8_t *key;
    uint32_t klen;
    const uint8_t *value;
    uint32_t vlen;
} pf_rec;

static inline size_t pf_rec_size(size_t klen, size_t vlen)
{
    return PF_REC_HEADER + klen + vlen;
}
/* Writes r into out (pf_rec_size bytes). The caller checks the limits. */
void pf_rec_encode(uint8_t *out, const pf_rec *r);
/* One record at p. *used = its size on PF_OK. */
int pf_rec_decode(const uint8_t *p, size_t avail, pf_rec *r, size_t *used);

/* --- snapshot -----------------------------------------------------------
 * header (64 bytes, never compressed) | body (zstd frame or raw) |
 * trailer (16 bytes: "FCSNEND1", u64 XXH3-64 of every byte before it). */
#define PF_SNAP_MAGIC "FCSNAP01"
#define PF_SNAP_HEADER_LEN 64
#define PF_SNAP_TRAILER_MAGIC "FCSNEND1"
#define PF_SNAP_TRAILER_LEN 16
#define PF_SNAP_F_ZSTD 0x1u

typedef struct pf_snap_header {
    uint32_t flags;
    uint64_t epoch;          /* generation whose WAL records it cuts */
    uint64_t snap_id;        /* file name snap-<id>.fcs */
    uint64_t wal_from_segno; /* first segment recovery replays after it */
    uint64_t seed;
    uint32_t nshards;
    int64_t created_unix_ms;
} pf_snap_header;

void pf_snap_header_encode(uint8_t out[PF_SNAP_HEADER_LEN],
                           const pf_snap_header *h);
int pf_snap_header_decode(const uint8_t *p, size_t avail, pf_snap_header *h);
void pf_snap_trailer_encode(uint8_t out[PF_SNAP_TRAILER_LEN], uint64_t check);
int pf_snap_trailer_decode(const uint8_t *p, size_t avail, uint64_t *check);

/* Body items, each introduced by a one-byte tag. */
enum pf_item_tag {
    PF_ITEM_SHARD_BEGIN = 'B', /* u32 shard, u64 seq: cut point */
    PF_ITEM_ENTRY = 'K', /* u8 vtype, i64 expire, u32 klen, u32 vlen, k, v */
    PF_ITEM_SHARD_END = 'E', /* u32 shard, u64 entries */
    PF_ITEM_END = 'Z',       /* u64 entries, u32 nshards: body complete */
    /* A typed value: u8 vtype (1..4), i64 expire, u64 seq of its last
     * change (0 = none since its own load), u32 klen, u32 vlen, key, the
     * serialized value. num carries the seq. */
    PF_ITEM_TYPED = 'T',
};
#define PF_ITEM_SHARD_LEN 13
#define PF_ITEM_ENTRY_FIXED 18
#define PF_ITEM_TYPED_FIXED 26

typedef struct pf_item {
    uint8_t tag;
    uint8_t vtype;
    uint32_t shard;   /* B, E; nshards for Z */
    uint64_t num;     /* B: seq; E, Z: entries */
    int64_t expire_unix_ms;
    const uint8_t *key;
    uint32_t klen;
    const uint8_t *value;
    uint32_t vlen;
} pf_item;

static inline size_t pf_entry_size(size_t klen, size_t vlen)
{
    return PF_ITEM_ENTRY_FIXED + klen + vlen;
}
/* Encoders return the bytes written (out must have room). */
size_t pf_item_shard_encode(uint8_t *out, uint8_t tag, uint32_t shard,
                            uint64_t num);
size_t pf_item_entry_encode(uint8_t *out, uint8_t vtype, int64_t expire,
                            const void *key, uint32_t klen, const void *val,
                            uint32_t vlen);
static inline size_t pf_typed_size(size_t klen, size_t vlen)
{
    return PF_ITEM_TYPED_FIXED + klen + vlen;
}
size_t pf_item_typed_encode(uint8_t *out, uint8_t vtype, int64_t expire,
                            uint64_t seq, const void *key, uint32_t klen,
                            const void *val, uint32_t vlen);
/* One body item at p; *used its size on PF_OK. */
int pf_item_decode(const uint8_t *p, size_t avail, pf_item *it, size_t *used);

/* The low 32 bits of XXH3-64, as records use. */
uint32_t pf_check32(const void *p, size_t n);
uint64_t pf_check64(const void *p, size_t n);

#endif /* FC_PERSIST_FORMAT_H */
