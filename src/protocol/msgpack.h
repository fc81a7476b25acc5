/*
 * msgpack.h — MessagePack, the subset Redis's cmsgpack Lua library reads
 * and writes (scripts' cmsgpack.pack/unpack, src/server/script_msgpack.c).
 *
 * Encoding, as lua_cmsgpack does it: integers in the smallest form
 * (positive/negative fixint, u8..u64, i8..i64), other numbers as float32
 * when that is exact, else float64; strings as fixstr/str8/str16/str32;
 * arrays and maps with their fix/16/32 headers; nil, true, false.
 *
 * Decoding is a pure function over a buffer (no allocation, no I/O):
 * mp_next reads one item's header and scalar at *at and advances past it;
 * an array or a map gives its element count, its elements follow as the
 * next items. bin8/16/32 read as strings; ext types and 0xc1 are bad
 * format, as in lua_cmsgpack. The input is never trusted: every length is
 * checked against what is left.
 *
 * Threads: pure functions, any thread. Memory: a decoded string points
 * into the caller's buffer (borrowed, valid as long as it is).
 */
#ifndef FC_PROTOCOL_MSGPACK_H
#define FC_PROTOCOL_MSGPACK_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

enum mp_kind {
    MP_NIL,
    MP_BOOL,
    MP_INT,   /* i */
    MP_UINT,  /* u: above INT64_MAX only */
    MP_FLOAT, /* d (float32 widened) */
    MP_STR,   /* s, len */
    MP_ARRAY, /* n elements follow */
    MP_MAP,   /* n key/value pairs follow */
};

typedef struct mp_item {
    enum mp_kind kind;
    int b;
    int64_t i;
    uint64_t u;
    double d;
    const char *s;
    size_t len;
    uint64_t n;
} mp_item;

enum mp_status {
    MP_OK = 0,
    MP_EMISSING = -1, /* "Missing bytes in input." */
    MP_EBADFMT = -2,  /* "Bad data format in input." */
};

int mp_next(const void *buf, size_t len, size_t *at, mp_item *out);

void mp_put_nil(fc_buf *b);
void mp_put_bool(fc_buf *b, int v);
void mp_put_int(fc_buf *b, int64_t v);
void mp_put_double(fc_buf *b, double v);
void mp_put_str(fc_buf *b, const void *s, size_t len);
void mp_put_array(fc_buf *b, uint64_t n);
void mp_put_map(fc_buf *b, uint64_t n);

#endif /* FC_PROTOCOL_MSGPACK_H */
