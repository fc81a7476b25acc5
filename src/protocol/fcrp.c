/*
 * fcrp.c — the FCRP frame: header codec, limits, integrity check and
 * per-frame compression. The payload codecs are in fcrp_payload.c.
 *
 * Order of the checks on receipt (each one before anything that trusts the
 * field it guards): header fields and caps (fcrp_header_decode, 16 bytes
 * only), presence of the whole frame, the check trailer over the header and
 * the stored bytes, and only then decompression, into at most the capped
 * uncompressed_len. A corrupt or hostile frame therefore never reaches the
 * decompressor when the check is negotiated, and never makes us allocate
 * more than the caps.
 */
#include "protocol/fcrp.h"

#include <assert.h>
#include <limits.h>
#include <lz4.h>
#include <string.h>
#include <xxhash.h>
#include <zstd.h>

const char *fcrp_strerror(int status)
{
    switch (status) {
    case FCRP_OK:
        return "ok";
    case FCRP_MORE:
        return "FCRP frame incomplete";
    case FCRP_EMAGIC:
        return "FCRP frame magic mismatch";
    case FCRP_EVERSION:
        return "unsupported FCRP version";
    case FCRP_EKIND:
        return "unsupported FCRP frame kind";
    case FCRP_EFLAGS:
        return "FCRP frame flags or reserved byte invalid";
    case FCRP_ETOOBIG:
        return "FCRP frame payload exceeds limit";
    case FCRP_ELEN:
        return "FCRP frame length mismatch";
    case FCRP_ECHECK:
        return "FCRP frame integrity check failed";
    case FCRP_ECOMPRESS:
        return "FCRP payload decompression failed";
    case FCRP_ETRUNC:
        return "FCRP payload is truncated";
    case FCRP_ETRAILING:
        return "FCRP payload contains trailing bytes";
    case FCRP_ECOUNT:
        return "FCRP count exceeds the bytes left";
    case FCRP_EUTF8:
        return "FCRP string is not valid UTF-8";
    case FCRP_EROLE:
        return "unsupported FCRP hello role";
    case FCRP_EOP:
        return "unsupported FCRP mutation op";
    case FCRP_ENOMEM:
        return "out of memory encoding an FCRP frame";
    case FCRP_EINVAL:
        return "value cannot be encoded in FCRP";
    default:
        return "unknown FCRP status";
    }
}

void fcrp_limits_default(fcrp_limits *lim)
{
    lim->max_payload = FCRP_DEFAULT_MAX_PAYLOAD;
    lim->max_uncompressed = FCRP_DEFAULT_MAX_PAYLOAD;
    lim->max_hello = FCRP_DEFAULT_MAX_HELLO;
}

void fcrp_rx_default(fcrp_rx *rx)
{
    fcrp_limits_default(&rx->lim);
    rx->accept = 0;
    rx->require_check = false;
}

/* --- header ----------------------------------------------------------------
 */

int fcrp_header_encode(uint8_t *out, size_t cap, const fcrp_header *h)
{
    if (cap < FCRP_HEADER_LEN)
        return FCRP_EINVAL;
    memcpy(out, FCRP_MAGIC, 4);
    out[4] = FCRP_VERSION;
    out[5] = h->kind;
    out[6] = h->flags;
    out[7] = 0;
    fcrp_put32(out + 8, h->payload_len);
    fcrp_put32(out + 12, h->uncompressed_len);
    return FCRP_OK;
}

int fcrp_header_decode(const uint8_t *p, size_t avail, const fcrp_rx *rx,
                       fcrp_header *h)
{
    if (avail < FCRP_HEADER_LEN)
        return FCRP_MORE;
    if (memcmp(p, FCRP_MAGIC, 4) != 0)
        return FCRP_EMAGIC;
    if (p[4] != FCRP_VERSION)
        return FCRP_EVERSION;
    uint8_t kind = p[5], flags = p[6];
    if (kind < FCRP_HELLO || kind > FCRP_ERROR)
        return FCRP_EKIND;
    unsigned allowed = FCRP_F_ZSTD | (rx->accept & (FCRP_F_LZ4 | FCRP_F_CHECK));
    if (kind == FCRP_HELLO)
        allowed |= FCRP_F_CAPS;
    if ((flags & ~allowed) || p[7] != 0 ||
        (flags & (FCRP_F_ZSTD | FCRP_F_LZ4)) == (FCRP_F_ZSTD | FCRP_F_LZ4))
        return FCRP_EFLAGS;
    bool check = flags & FCRP_F_CHECK;
    if (rx->require_check && !check)
        return FCRP_ECHECK;
    uint32_t plen = fcrp_get32(p + 8), ulen = fcrp_get32(p + 12);
    uint32_t max_p = rx->lim.max_payload, max_u = rx->lim.max_uncompressed;
    if (kind == FCRP_HELLO) {
        max_p = max_p < rx->lim.max_hello ? max_p : rx->lim.max_hello;
        max_u = max_u < rx->lim.max_hello ? max_u : rx->lim.max_hello;
    }
    if (plen > max_p || ulen > max_u)
        return FCRP_ETOOBIG;
    if (check && plen < FCRP_CHECK_LEN)
        return FCRP_ELEN;
    uint32_t stored = plen - (check ? FCRP_CHECK_LEN : 0);
    if (!(flags & (FCRP_F_ZSTD | FCRP_F_LZ4)) && ulen != stored)
        return FCRP_ELEN;
    h->kind = kind;
    h->flags = flags;
    h->payload_len = plen;
    h->uncompressed_len = ulen;
    return FCRP_OK;
}

static uint32_t frame_check(const uint8_t *p, size_t n)
{
    return (uint32_t)XXH3_64bits(p, n);
}

int fcrp_frame_decode(const uint8_t *p, size_t avail, const fcrp_rx *rx,
                      fcrp_frame *f, size_t *used, size_t *need)
{
    int rc = fcrp_header_decode(p, avail, rx, &f->h);
    if (rc == FCRP_MORE) {
        *need = FCRP_HEADER_LEN;
        return rc;
    }
    if (rc != FCRP_OK)
        return rc;
    size_t total = FCRP_HEADER_LEN + (size_t)f->h.payload_len;
    if (avail < total) {
        *need = total;
        return FCRP_MORE;
    }
    bool check = f->h.flags & FCRP_F_CHECK;
    f->stored = p + FCRP_HEADER_LEN;
    f->stored_len = f->h.payload_len - (check ? FCRP_CHECK_LEN : 0);
    if (check && frame_check(p, FCRP_HEADER_LEN + f->stored_len) !=
                     fcrp_get32(f->stored + f->stored_len))
        return FCRP_ECHECK;
    *used = total;
    return FCRP_OK;
}

int fcrp_frame_payload(const fcrp_frame *f, fc_buf *scratch,
                       const uint8_t **payload, size_t *len)
{
    uint8_t comp = f->h.flags & (FCRP_F_ZSTD | FCRP_F_LZ4);
    if (!comp) {
        *payload = f->stored;
        *len = f->stored_len;
        return FCRP_OK;
    }
    size_t ulen = f->h.uncompressed_len;
    scratch->len = 0;
    if (!fc_buf_reserve(scratch, ulen ? ulen : 1))
        return FCRP_ENOMEM;
    uint8_t *dst = (uint8_t *)scratch->data;
    if (comp == FCRP_F_ZSTD) {
        size_t r = ZSTD_decompress(dst, ulen, f->stored, f->stored_len);
        if (ZSTD_isError(r) || r != ulen)
            return FCRP_ECOMPRESS;
    } else {
        if (ulen > INT_MAX || f->stored_len > INT_MAX)
            return FCRP_ETOOBIG;
        int r = LZ4_decompress_safe((const char *)f->stored, (char *)dst,
                                    (int)f->stored_len, (int)ulen);
        if (r < 0 || (size_t)r != ulen)
            return FCRP_ECOMPRESS;
    }
    scratch->len = ulen;
    *payload = dst;
    *len = ulen;
    return FCRP_OK;
}

/* --- encoding ---------------------------------------------------------------
 */

int fcrp_frame_begin(fc_buf *b, size_t *mark)
{
    *mark = b->len;
    static const uint8_t zero[FCRP_HEADER_LEN];
    fc_buf_append(b, zero, sizeof zero);
    return b->oom ? FCRP_ENOMEM : FCRP_OK;
}

/* Compresses b's payload [at, b->len) behind itself and, when that is
 * smaller, moves it over the original. Returns the flag to set (0: kept
 * plain: too small, incompressible, or the compressor failed). */
static uint8_t compress_payload(fc_buf *b, size_t at, const fcrp_tx *tx)
{
    size_t plen = b->len - at, bound, clen;
    if (plen < FCRP_COMPRESS_MIN)
        return 0;
    if (tx->comp == FCRP_COMP_ZSTD)
        bound = ZSTD_compressBound(plen);
    else if (tx->comp == FCRP_COMP_LZ4 && plen <= LZ4_MAX_INPUT_SIZE)
        bound = (size_t)LZ4_compressBound((int)plen);
    else
        return 0;
    if (!fc_buf_reserve(b, bound))
        return 0; /* the caller sees b->oom */
    const char *src = b->data + at;
    char *dst = b->data + b->len;
    if (tx->comp == FCRP_COMP_ZSTD) {
        int level = tx->zstd_level ? tx->zstd_level : ZSTD_CLEVEL_DEFAULT;
        clen = ZSTD_compress(dst, bound, src, plen, level);
        if (ZSTD_isError(clen))
            return 0;
    } else {
        int r = LZ4_compress_default(src, dst, (int)plen, (int)bound);
        if (r <= 0)
            return 0;
        clen = (size_t)r;
    }
    if (clen >= plen)
        return 0; /* kept only when smaller */
    memmove(b->data + at, dst, clen);
    b->len = at + clen;
    return tx->comp == FCRP_COMP_ZSTD ? FCRP_F_ZSTD : FCRP_F_LZ4;
}

int fcrp_frame_finish(fc_buf *b, size_t mark, uint8_t kind, const fcrp_tx *tx)
{
    if (b->oom)
        return FCRP_ENOMEM;
    assert(mark + FCRP_HEADER_LEN <= b->len); /* fcrp_frame_begin's mark */
    size_t at = mark + FCRP_HEADER_LEN;
    size_t plen = b->len - at;
    if (plen > UINT32_MAX - FCRP_CHECK_LEN ||
        (tx->comp != FCRP_COMP_NONE && tx->comp != FCRP_COMP_ZSTD &&
         tx->comp != FCRP_COMP_LZ4))
        return FCRP_EINVAL;
    fcrp_header h = {.kind = kind, .uncompressed_len = (uint32_t)plen};
    if (tx->comp != FCRP_COMP_NONE)
        h.flags |= compress_payload(b, at, tx);
    if (b->oom)
        return FCRP_ENOMEM;
    size_t stored = b->len - at;
    if (tx->check)
        h.flags |= FCRP_F_CHECK;
    if (kind == FCRP_HELLO)
        h.flags |= tx->caps & FCRP_F_CAPS;
    h.payload_len = (uint32_t)(stored + (tx->check ? FCRP_CHECK_LEN : 0));
    fcrp_header_encode((uint8_t *)b->data + mark, FCRP_HEADER_LEN, &h);
    if (tx->check) {
        uint8_t c[FCRP_CHECK_LEN];
        fcrp_put32(c, frame_check((const uint8_t *)b->data + mark,
                                  FCRP_HEADER_LEN + stored));
        fc_buf_append(b, c, sizeof c);
    }
    return b->oom ? FCRP_ENOMEM : FCRP_OK;
}

int fcrp_frame_encode(fc_buf *b, uint8_t kind, const fcrp_tx *tx,
                      const void *payload, size_t len)
{
    size_t mark;
    int rc = fcrp_frame_begin(b, &mark);
    if (rc != FCRP_OK)
        return rc;
    fc_buf_append(b, payload, len);
    return fcrp_frame_finish(b, mark, kind, tx);
}

int fcrp_header_strip_check(const uint8_t *frame, size_t len,
                            uint8_t out[FCRP_HEADER_LEN])
{
    if (len < FCRP_HEADER_LEN + FCRP_CHECK_LEN || !(frame[6] & FCRP_F_CHECK) ||
        fcrp_get32(frame + 8) != len - FCRP_HEADER_LEN)
        return FCRP_EINVAL;
    memcpy(out, frame, FCRP_HEADER_LEN);
    out[6] &= (uint8_t)~FCRP_F_CHECK;
    fcrp_put32(out + 8, (uint32_t)(len - FCRP_HEADER_LEN - FCRP_CHECK_LEN));
    return FCRP_OK;
}
