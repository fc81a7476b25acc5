/*
 * fcrp.h — FCRP v1, the primary→replica replication protocol: frame header,
 * payload codecs (Hello, SnapshotBegin/Chunk/End, MutationBatch, Ack,
 * Error), per-frame compression (none / zstd / lz4) and the optional
 * integrity check. Nothing networked: the transport (src/repl, src/server)
 * reads bytes and calls these.
 *
 * Owns: nothing. No state, no I/O, no threads.
 * Threads: any; every function is reentrant.
 * Memory:
 *   - Decoders are pure functions over the caller's buffer in the
 *     picohttpparser style: FCRP_OK (with the bytes used), FCRP_MORE (the
 *     buffer ends inside the frame; *need says how many bytes the frame
 *     needs in all), or a negative FCRP_E* (the bytes cannot be a valid
 *     frame: the connection must close). What they return are views into
 *     the caller's buffer (borrowed: valid while that buffer is unchanged).
 *     The one exception is decompression, which writes into a caller-owned
 *     fc_buf grown to at most the (capped) uncompressed length.
 *   - Encoders append to a caller-owned growable buffer (util/buf.h fc_buf);
 *     a failed growth returns FCRP_ENOMEM and leaves b->oom set. The header
 *     encoder also writes into a caller buffer with a size check.
 *
 * Layout: docs/FORMATS.md "Replication: FCRP" is normative and lists every
 * place we differ from the seed (../shared/spec/replication.md): the
 * 16-byte header and every payload are the seed's byte for byte; the
 * integrity check and lz4 are flag bits a v1 peer never sees unless it
 * advertised them in its Hello; caps and count bounds only refuse input.
 */
#ifndef FC_PROTOCOL_FCRP_H
#define FC_PROTOCOL_FCRP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define FCRP_MAGIC "FCRP"
#define FCRP_VERSION 1
#define FCRP_HEADER_LEN 16
#define FCRP_CHECK_LEN 4          /* trailer when FCRP_F_CHECK is set */
#define FCRP_NO_EXPIRY UINT64_MAX /* expire_at_ms on the wire: none */
#define FCRP_RECORD_FIXED 53      /* record bytes before the key */
#define FCRP_ENTRY_FIXED 16       /* snapshot entry bytes before the key */
#define FCRP_COMPRESS_MIN 64      /* smaller payloads are never compressed */

enum fcrp_kind {
    FCRP_HELLO = 1,
    FCRP_SNAPSHOT_BEGIN = 2,
    FCRP_SNAPSHOT_CHUNK = 3,
    FCRP_SNAPSHOT_END = 4,
    FCRP_MUTATION_BATCH = 5,
    FCRP_ACK = 6,
    FCRP_ERROR = 7,
};

/* Header flag bits. 0x01 is the seed's; the rest are ours, and a peer only
 * ever receives FCRP_F_LZ4 / FCRP_F_CHECK after both Hellos advertised the
 * matching capability. The CAP bits are only meaningful on Hello frames
 * (where a seed decoder ignores them) and say "I can do this". */
#define FCRP_F_ZSTD 0x01u      /* payload is one zstd frame */
#define FCRP_F_LZ4 0x02u       /* payload is one lz4 block */
#define FCRP_F_CHECK 0x04u     /* 4-byte XXH3 trailer after the payload */
#define FCRP_F_CAP_CHECK 0x10u /* Hello only: sender can check frames */
#define FCRP_F_CAP_LZ4 0x20u   /* Hello only: sender can decode lz4 */
/* Hello only: "I am fast-cache": the replica sends Ack frames (our primary
 * reads them: WAIT, lag) and a primary's Hello watermarks end with one more
 * value, the sequence base of its history (src/repl/hub.h). */
#define FCRP_F_CAP_FC 0x40u
#define FCRP_F_CAPS (FCRP_F_CAP_CHECK | FCRP_F_CAP_LZ4 | FCRP_F_CAP_FC)

enum fcrp_status {
    FCRP_OK = 0,
    FCRP_MORE = 1,
    FCRP_EMAGIC = -1,     /* not "FCRP" */
    FCRP_EVERSION = -2,   /* header version is not 1 */
    FCRP_EKIND = -3,      /* unknown frame kind */
    FCRP_EFLAGS = -4,     /* unknown, conflicting or unnegotiated flag bits,
                             or a non-zero reserved byte */
    FCRP_ETOOBIG = -5,    /* a length is over the configured cap */
    FCRP_ELEN = -6,       /* lengths inconsistent with each other */
    FCRP_ECHECK = -7,     /* integrity check mismatch, or missing when
                             negotiated */
    FCRP_ECOMPRESS = -8,  /* decompression failed or gave another size */
    FCRP_ETRUNC = -9,     /* payload ends inside a field */
    FCRP_ETRAILING = -10, /* payload has bytes after its last field */
    FCRP_ECOUNT = -11,    /* a count larger than the bytes left could hold */
    FCRP_EUTF8 = -12,     /* token or message is not valid UTF-8 */
    FCRP_EROLE = -13,     /* Hello role is not 1 or 2 */
    FCRP_EOP = -14,       /* mutation op or value type unknown */
    FCRP_ENOMEM = -15,    /* encoder: the output buffer could not grow */
    FCRP_EINVAL = -16,    /* encoder: argument the wire cannot carry */
};

/* Human text for an FCRP_* status ("FCRP frame magic mismatch", ...). */
const char *fcrp_strerror(int status);

/* --- limits: applied to the header, before a byte is allocated ---------- */
typedef struct fcrp_limits {
    uint32_t max_payload;      /* on-wire payload_len (check included) */
    uint32_t max_uncompressed; /* uncompressed_len */
    uint32_t max_hello;        /* both lengths of a Hello: the frame read
                                  before the peer is authenticated */
} fcrp_limits;

#define FCRP_DEFAULT_MAX_PAYLOAD (64u << 20)
#define FCRP_DEFAULT_MAX_HELLO (1u << 20)
void fcrp_limits_default(fcrp_limits *lim); /* 64 MiB, 64 MiB, 1 MiB */

/* --- frame header ---------------------------------------------------------
 * off 0 magic "FCRP" | 4 u8 version (1) | 5 u8 kind | 6 u8 flags |
 * 7 u8 reserved (0) | 8 u32 payload_len | 12 u32 uncompressed_len */
typedef struct fcrp_header {
    uint8_t kind;
    uint8_t flags;
    uint32_t payload_len;      /* bytes after the header on the wire */
    uint32_t uncompressed_len; /* payload after decompression, no check */
} fcrp_header;

/* Writes 16 bytes; FCRP_EINVAL when cap < 16. */
int fcrp_header_encode(uint8_t *out, size_t cap, const fcrp_header *h);

/* Decodes and validates the 16 header bytes alone, so a transport can refuse
 * an oversize frame before reading or allocating its payload. `accept` is
 * the set of optional flags this connection negotiated (FCRP_F_LZ4,
 * FCRP_F_CHECK; zstd is always accepted); `require_check` makes a frame
 * without FCRP_F_CHECK an error (set it once the check is negotiated).
 * FCRP_MORE when avail < 16. */
typedef struct fcrp_rx {
    fcrp_limits lim;
    uint8_t accept;     /* FCRP_F_LZ4 | FCRP_F_CHECK as negotiated */
    bool require_check; /* every frame must carry FCRP_F_CHECK */
} fcrp_rx;

void fcrp_rx_default(fcrp_rx *rx); /* default limits, nothing negotiated */

int fcrp_header_decode(const uint8_t *p, size_t avail, const fcrp_rx *rx,
                       fcrp_header *h);

/* One complete frame at p: header validated, check verified (before any
 * decompression), the stored payload located. */
typedef struct fcrp_frame {
    fcrp_header h;
    const uint8_t *stored; /* view: payload as on the wire, no check */
    size_t stored_len;
} fcrp_frame;

/* FCRP_OK with *used = 16 + payload_len; FCRP_MORE with *need = bytes the
 * frame needs from p (16 while the header is incomplete); FCRP_E* else. */
int fcrp_frame_decode(const uint8_t *p, size_t avail, const fcrp_rx *rx,
                      fcrp_frame *f, size_t *used, size_t *need);

/* The frame's payload: a view of f->stored when uncompressed, else the
 * decompressed bytes in `scratch` (its previous content is discarded; it
 * is grown to hold h.uncompressed_len bytes, which the header decoder
 * capped, and decompression may not write past them). */
int fcrp_frame_payload(const fcrp_frame *f, fc_buf *scratch,
                       const uint8_t **payload, size_t *len);

/* --- frame encoding -------------------------------------------------------
 * fcrp_frame_begin reserves the header; payload encoders then append; and
 * fcrp_frame_finish compresses the payload when asked and when that makes it
 * smaller, writes the header and appends the check. */
enum fcrp_comp { FCRP_COMP_NONE = 0, FCRP_COMP_ZSTD = 1, FCRP_COMP_LZ4 = 2 };

typedef struct fcrp_tx {
    uint8_t comp;   /* enum fcrp_comp; LZ4 only once negotiated */
    int zstd_level; /* 0 = zstd's default (3) */
    bool check;     /* append the trailer (only once negotiated) */
    uint8_t caps;   /* FCRP_F_CAP_* to advertise; Hello frames only */
} fcrp_tx;

/* *mark = where the frame starts in b (b->len before the call). */
int fcrp_frame_begin(fc_buf *b, size_t *mark);
/* Turns b->data[mark .. b->len) (header placeholder + payload) into a
 * frame. FCRP_EINVAL when the payload is over 4 GiB - 1 - check. The
 * compressor's working memory is its own (libzstd/liblz4 allocate). */
int fcrp_frame_finish(fc_buf *b, size_t mark, uint8_t kind, const fcrp_tx *tx);
/* A whole frame from a ready payload. */
int fcrp_frame_encode(fc_buf *b, uint8_t kind, const fcrp_tx *tx,
                      const void *payload, size_t len);

/* A checked frame, for a peer that did not negotiate the check: writes the
 * header of the same frame without FCRP_F_CHECK; send it, then
 * frame[16 .. len - 4) (the shared bytes of a backlog frame stay as they
 * are). FCRP_EINVAL when the frame carries no check. */
int fcrp_header_strip_check(const uint8_t *frame, size_t len,
                            uint8_t out[FCRP_HEADER_LEN]);

/* --- watermarks: u32 count, u64 x count (index = shard id) ---------------
 * The Ack, SnapshotBegin and SnapshotEnd payloads, and part of Hello and
 * SnapshotChunk. Decoded as a view over the little-endian bytes. */
typedef struct fcrp_wm {
    const uint8_t *p; /* n x 8 bytes */
    uint32_t n;
} fcrp_wm;

/* Watermark of shard i; 0 past the end (the seed's rule). */
uint64_t fcrp_wm_get(const fcrp_wm *w, uint32_t i);
/* Appends the payload bytes (count + values) to b. */
int fcrp_wm_put(fc_buf *b, const uint64_t *wm, uint32_t n);
/* Ack / SnapshotBegin / SnapshotEnd payload: exactly one watermark list. */
int fcrp_wm_decode(const uint8_t *p, size_t len, fcrp_wm *w);

/* --- Hello (kind 1) --------------------------------------------------------
 * u8 version | u8 role | u32 token_len | token | u8 has_since |
 * [u32 count | u64 x count]                                               */
enum fcrp_role { FCRP_ROLE_REPLICA = 1, FCRP_ROLE_SUBSCRIBER = 2 };

typedef struct fcrp_hello {
    uint8_t version;   /* the sender's FCRP version (1) */
    uint8_t role;      /* enum fcrp_role; a primary answers with 1 */
    const char *token; /* view; NULL / token_len 0 = no token */
    uint32_t token_len;
    bool has_since;
    fcrp_wm since; /* valid when has_since */
} fcrp_hello;

/* For encoding, since is given as a host array. */
int fcrp_hello_put(fc_buf *b, const fcrp_hello *h, const uint64_t *since,
                   uint32_t nsince);
int fcrp_hello_decode(const uint8_t *p, size_t len, fcrp_hello *h);
/* The capabilities both sides have, from our caps and the flags byte of the
 * peer's Hello frame: the `accept` / tx bits to use from now on. */
static inline uint8_t fcrp_caps_agreed(uint8_t ours, uint8_t peer_flags)
{
    return (uint8_t)(ours & peer_flags & FCRP_F_CAPS);
}

/* Compares a presented Hello token with the expected one in time that
 * depends only on the longer length, never on where they first differ
 * (the seed's plain string compare is its §9.8). NULL with length 0 is the
 * empty token. Policy (is a token required?) is the transport's. */
bool fcrp_token_equal(const void *expected, size_t elen, const void *presented,
                      size_t plen);

/* --- Error (kind 7): u32 len | message (UTF-8) -----------------------------
 * The seed's layout has no code; ours is carried by the message's fixed
 * leading text (the seed's own texts for the seed's three cases), so a seed
 * peer logs a readable message and we recover the code from a seed's. */
enum fcrp_errcode {
    FCRP_ERR_OTHER = 0,      /* anything else (the text says) */
    FCRP_ERR_EXPECTED_HELLO, /* "expected Hello frame" (seed) */
    FCRP_ERR_VERSION,        /* "unsupported FCRP version" (seed) */
    FCRP_ERR_AUTH,           /* "invalid auth token" (seed) */
    FCRP_ERR_PROTOCOL,       /* "protocol error" (a bad frame) */
    FCRP_ERR_TOO_BIG,        /* "frame too large" */
    FCRP_ERR_MAX_REPLICAS,   /* "max replicas reached" */
    FCRP_ERR_SLOW,           /* "replica too slow" */
    FCRP_ERR_RESYNC,         /* "resync required" */
    FCRP_ERR_SHUTDOWN,       /* "shutting down" */
    FCRP_ERR_COUNT_
};

typedef struct fcrp_error {
    uint8_t code;    /* enum fcrp_errcode */
    const char *msg; /* view: the whole message */
    uint32_t msg_len;
    const char *detail; /* view: what follows "<fixed text>: ", or "" */
    uint32_t detail_len;
} fcrp_error;

/* Message = the code's text, plus ": " detail when detail_len > 0. */
int fcrp_error_put(fc_buf *b, uint8_t code, const char *detail,
                   size_t detail_len);
int fcrp_error_decode(const uint8_t *p, size_t len, fcrp_error *e);
const char *fcrp_errcode_text(uint8_t code);

/* --- MutationBatch (kind 5): u32 count | records ---------------------------
 * record: u32 shard | u64 seq | u64 timestamp_ms | u8 op | u64 key_hash |
 * u64 key_tag | u64 expire_at_ms | u32 key_len | u32 value_len | key | value
 * op: low nibble = kind (our WAL's codes: 1 SET, 2 DEL, 3 EXPIRE, 5 CLEAR),
 * high nibble = value type (0 = string, so a string op is the seed's). */
enum fcrp_op { /* equal to persist/format.h's PF_REC_* on purpose */
               FCRP_OP_SET = 1,
               FCRP_OP_DEL = 2,
               FCRP_OP_EXPIRE = 3,
               FCRP_OP_CLEAR = 5, /* every key of `shard` removed (ours) */
               /* an op record on a typed value (engine/obj.h; ours): value
                  is the record, vtype 1..4 */
               FCRP_OP_OP = 6,
};
#define FCRP_VTYPE_MAX 4 /* value types 0..4, as the WAL reserves */

typedef struct fcrp_record {
    uint32_t shard;
    uint64_t seq;          /* per-shard, from 1, gap-free */
    uint64_t timestamp_ms; /* primary unix ms when it happened */
    uint8_t op;            /* enum fcrp_op */
    uint8_t vtype;         /* 0 = string */
    uint64_t key_hash;     /* informational: replicas rehash */
    uint64_t key_tag;
    uint64_t expire_at_ms; /* absolute unix ms; FCRP_NO_EXPIRY = none (SET)
                              or persist (EXPIRE) */
    const uint8_t *key;    /* view */
    uint32_t key_len;
    const uint8_t *value; /* view; empty unless SET */
    uint32_t value_len;
} fcrp_record;

static inline size_t fcrp_record_size(size_t klen, size_t vlen)
{
    return FCRP_RECORD_FIXED + klen + vlen;
}

/* What the applier must do with rec at `now_unix_ms`: a SET or EXPIRE whose
 * absolute expiry has already passed is a DEL (so the replica drops the old
 * value the primary no longer has: the seed's §9.6), otherwise rec->op. */
uint8_t fcrp_record_effective_op(const fcrp_record *rec, uint64_t now_unix_ms);

/* Appends one record (no count). FCRP_EINVAL for an unknown op / vtype or a
 * value on a non-SET. key_hash and key_tag are written as given. */
int fcrp_record_put(fc_buf *b, const fcrp_record *r);

/* A validated batch: fcrp_batch_open walks every record once (so a bad
 * record refuses the whole batch before anything is applied), then
 * fcrp_batch_next yields them in order and cannot fail. */
typedef struct fcrp_batch {
    const uint8_t *p, *end; /* next record, end of payload */
    uint32_t count;         /* records in the batch */
    uint32_t left;          /* not yet yielded */
} fcrp_batch;

int fcrp_batch_open(const uint8_t *p, size_t len, fcrp_batch *it);
bool fcrp_batch_next(fcrp_batch *it, fcrp_record *rec);

/* Writing a batch payload: put the count placeholder, records, then patch. */
int fcrp_batch_put_count(fc_buf *b, size_t *at); /* u32 placeholder */
void fcrp_batch_set_count(fc_buf *b, size_t at, uint32_t count);

/* --- SnapshotChunk (kind 3) -------------------------------------------------
 * u64 chunk_index | u8 is_last | u32 wm_count | u64 x wm_count |
 * u32 entry_count | entries; entry: u32 key_len | u32 value_len |
 * u64 expire_at_ms | key | value (strings in v1). A typed value (ours)
 * sets bit 31 of value_len, and its value bytes are u8 vtype | u64 seq of
 * its last change | the serialized value (a seed peer, which has no types,
 * sees an impossible length and refuses the chunk). */
#define FCRP_ENTRY_TYPED 0x80000000u
#define FCRP_ENTRY_TYPED_HEAD 9
typedef struct fcrp_entry {
    uint64_t expire_at_ms; /* FCRP_NO_EXPIRY = none */
    const uint8_t *key;
    uint32_t key_len;
    const uint8_t *value; /* for a typed entry: the serialized value */
    uint32_t value_len;
    uint8_t vtype;    /* 0 = string */
    uint64_t obj_seq; /* typed: seq of its last change (0 = unknown) */
} fcrp_entry;

static inline size_t fcrp_entry_size(size_t klen, size_t vlen)
{
    return FCRP_ENTRY_FIXED + FCRP_ENTRY_TYPED_HEAD + klen + vlen;
}
static inline bool fcrp_entry_expired(const fcrp_entry *e, uint64_t now_ms)
{
    return e->expire_at_ms != FCRP_NO_EXPIRY && e->expire_at_ms <= now_ms;
}

typedef struct fcrp_chunk {
    uint64_t index;
    bool is_last;
    fcrp_wm wm;
    uint32_t count;
    /* iteration state */
    const uint8_t *p, *end;
    uint32_t left;
} fcrp_chunk;

/* Writing: head (index, is_last, watermarks, count placeholder), entries,
 * then patch the count. */
int fcrp_chunk_put_head(fc_buf *b, uint64_t index, bool is_last,
                        const uint64_t *wm, uint32_t nwm, size_t *count_at);
int fcrp_entry_put(fc_buf *b, const fcrp_entry *e);
/* Validates the whole chunk, like fcrp_batch_open. */
int fcrp_chunk_open(const uint8_t *p, size_t len, fcrp_chunk *c);
bool fcrp_chunk_next(fcrp_chunk *c, fcrp_entry *e);

/* Little-endian helpers shared with src/repl. */
static inline void fcrp_put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint32_t fcrp_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}
static inline uint64_t fcrp_get64(const uint8_t *p)
{
    return (uint64_t)fcrp_get32(p) | (uint64_t)fcrp_get32(p + 4) << 32;
}
static inline void fcrp_put64(uint8_t *p, uint64_t v)
{
    fcrp_put32(p, (uint32_t)v);
    fcrp_put32(p + 4, (uint32_t)(v >> 32));
}

#endif /* FC_PROTOCOL_FCRP_H */
