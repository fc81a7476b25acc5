/*
 * fcrp_payload.c — the FCRP payload codecs (spec §3): watermarks (Ack,
 * SnapshotBegin, SnapshotEnd), Hello, Error, MutationBatch, SnapshotChunk.
 *
 * Decoding rules, all payloads: fields are read in order through a cursor;
 * a field that does not fit is FCRP_ETRUNC; bytes after the last field are
 * FCRP_ETRAILING (the seed is strict, so are we). Every count is compared
 * with what the bytes left could hold at the minimum item size *before*
 * anything is iterated (FCRP_ECOUNT), and batches and chunks are validated
 * whole before the first item is handed out, so an applier never sees half
 * of a bad batch.
 */
#include "protocol/fcrp.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

typedef struct cur {
    const uint8_t *p, *end;
} cur;

static size_t left(const cur *c)
{
    return (size_t)(c->end - c->p);
}

static bool take8(cur *c, uint8_t *v)
{
    if (left(c) < 1)
        return false;
    *v = *c->p++;
    return true;
}

static bool take32(cur *c, uint32_t *v)
{
    if (left(c) < 4)
        return false;
    *v = fcrp_get32(c->p);
    c->p += 4;
    return true;
}

static bool take64(cur *c, uint64_t *v)
{
    if (left(c) < 8)
        return false;
    *v = fcrp_get64(c->p);
    c->p += 8;
    return true;
}

static bool takeb(cur *c, size_t n, const uint8_t **v)
{
    if (left(c) < n)
        return false;
    *v = c->p;
    c->p += n;
    return true;
}

static void put8b(fc_buf *b, uint8_t v)
{
    fc_buf_putc(b, (char)v);
}

static void put32b(fc_buf *b, uint32_t v)
{
    uint8_t t[4];
    fcrp_put32(t, v);
    fc_buf_append(b, t, 4);
}

static void put64b(fc_buf *b, uint64_t v)
{
    uint8_t t[8];
    fcrp_put64(t, v);
    fc_buf_append(b, t, 8);
}

/* Strict UTF-8 (what Rust's str::from_utf8 accepts): no overlong forms, no
 * surrogates, nothing above U+10FFFF. */
static bool utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint8_t lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF)
            len = 2;
        else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0)
                lo = 0xA0;
            if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0)
                lo = 0x90;
            if (c == 0xF4)
                hi = 0x8F;
        } else
            return false;
        if (n - i < len || s[i + 1] < lo || s[i + 1] > hi)
            return false;
        for (size_t k = 2; k < len; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
        i += len;
    }
    return true;
}

/* --- watermarks ----------------------------------------------------------- */

uint64_t fcrp_wm_get(const fcrp_wm *w, uint32_t i)
{
    return i < w->n ? fcrp_get64(w->p + (size_t)i * 8) : 0;
}

int fcrp_wm_put(fc_buf *b, const uint64_t *wm, uint32_t n)
{
    if (!fc_buf_reserve(b, 4 + (size_t)n * 8))
        return FCRP_ENOMEM;
    put32b(b, n);
    for (uint32_t i = 0; i < n; i++)
        put64b(b, wm[i]);
    return b->oom ? FCRP_ENOMEM : FCRP_OK;
}

static int take_wm(cur *c, fcrp_wm *w)
{
    uint32_t n;
    if (!take32(c, &n))
        return FCRP_ETRUNC;
    if (n > left(c) / 8)
        return FCRP_ECOUNT;
    w->n = n;
    w->p = c->p;
    c->p += (size_t)n * 8;
    return FCRP_OK;
}

int fcrp_wm_decode(const uint8_t *p, size_t len, fcrp_wm *w)
{
    cur c = {p, p + len};
    int rc = take_wm(&c, w);
    if (rc != FCRP_OK)
        return rc;
    return left(&c) ? FCRP_ETRAILING : FCRP_OK;
}

/* --- Hello ------------------------------------------------------------------
 */

int fcrp_hello_put(fc_buf *b, const fcrp_hello *h, const uint64_t *since,
                   uint32_t nsince)
{
    if (h->token_len && !utf8_valid((const uint8_t *)h->token, h->token_len))
        return FCRP_EINVAL;
    if (h->role != FCRP_ROLE_REPLICA && h->role != FCRP_ROLE_SUBSCRIBER)
        return FCRP_EINVAL;
    put8b(b, h->version);
    put8b(b, h->role);
    put32b(b, h->token_len);
    if (h->token_len)
        fc_buf_append(b, h->token, h->token_len);
    put8b(b, h->has_since ? 1 : 0);
    if (h->has_since)
        return fcrp_wm_put(b, since, nsince);
    return b->oom ? FCRP_ENOMEM : FCRP_OK;
}

int fcrp_hello_decode(const uint8_t *p, size_t len, fcrp_hello *h)
{
    cur c = {p, p + len};
    const uint8_t *tok;
    uint8_t has;
    memset(h, 0, sizeof *h);
    if (!take8(&c, &h->version) || !take8(&c, &h->role))
        return FCRP_ETRUNC;
    if (h->role != FCRP_ROLE_REPLICA && h->role != FCRP_ROLE_SUBSCRIBER)
        return FCRP_EROLE;
    if (!take32(&c, &h->token_len) || !takeb(&c, h->token_len, &tok))
        return FCRP_ETRUNC;
    if (!utf8_valid(tok, h->token_len))
        return FCRP_EUTF8;
    h->token = h->token_len ? (const char *)tok : NULL;
    if (!take8(&c, &has))
        return FCRP_ETRUNC;
    h->has_since = has != 0;
    if (h->has_since) {
        int rc = take_wm(&c, &h->since);
        if (rc != FCRP_OK)
            return rc;
    }
    return left(&c) ? FCRP_ETRAILING : FCRP_OK;
}

bool fcrp_token_equal(const void *expected, size_t elen, const void *presented,
                      size_t plen)
{
    const volatile uint8_t *e = expected, *p = presented;
    size_t n = elen > plen ? elen : plen;
    unsigned diff = elen != plen;
    for (size_t i = 0; i < n; i++) /* no early exit */
        diff |= (unsigned)((i < elen ? e[i] : 0) ^ (i < plen ? p[i] : 0));
    return diff == 0;
}

/* --- Error ------------------------------------------------------------------
 */

static const char *const errtext[FCRP_ERR_COUNT_] = {
    [FCRP_ERR_OTHER] = "error",
    [FCRP_ERR_EXPECTED_HELLO] = "expected Hello frame",
    [FCRP_ERR_VERSION] = "unsupported FCRP version",
    [FCRP_ERR_AUTH] = "invalid auth token",
    [FCRP_ERR_PROTOCOL] = "protocol error",
    [FCRP_ERR_TOO_BIG] = "frame too large",
    [FCRP_ERR_MAX_REPLICAS] = "max replicas reached",
    [FCRP_ERR_SLOW] = "replica too slow",
    [FCRP_ERR_RESYNC] = "resync required",
    [FCRP_ERR_SHUTDOWN] = "shutting down",
};

const char *fcrp_errcode_text(uint8_t code)
{
    return code < FCRP_ERR_COUNT_ ? errtext[code] : errtext[FCRP_ERR_OTHER];
}

int fcrp_error_put(fc_buf *b, uint8_t code, const char *detail,
                   size_t detail_len)
{
    const char *t = fcrp_errcode_text(code);
    size_t tl = strlen(t), n = tl + (detail_len ? 2 + detail_len : 0);
    if (n > UINT32_MAX ||
        (detail_len && !utf8_valid((const uint8_t *)detail, detail_len)))
        return FCRP_EINVAL;
    put32b(b, (uint32_t)n);
    fc_buf_append(b, t, tl);
    if (detail_len) {
        fc_buf_append(b, ": ", 2);
        fc_buf_append(b, detail, detail_len);
    }
    return b->oom ? FCRP_ENOMEM : FCRP_OK;
}

int fcrp_error_decode(const uint8_t *p, size_t len, fcrp_error *e)
{
    cur c = {p, p + len};
    const uint8_t *m;
    uint32_t n;
    if (!take32(&c, &n) || !takeb(&c, n, &m))
        return FCRP_ETRUNC;
    if (left(&c))
        return FCRP_ETRAILING;
    if (!utf8_valid(m, n))
        return FCRP_EUTF8;
    e->msg = (const char *)m;
    e->msg_len = n;
    e->code = FCRP_ERR_OTHER;
    e->detail = e->msg;
    e->detail_len = n;
    for (uint8_t k = 1; k < FCRP_ERR_COUNT_; k++) {
        size_t tl = strlen(errtext[k]);
        if (n < tl || memcmp(m, errtext[k], tl) != 0)
            continue;
        if (n == tl) {
            e->code = k;
            e->detail = e->msg + n;
            e->detail_len = 0;
        } else if (n >= tl + 2 && m[tl] == ':' && m[tl + 1] == ' ') {
            e->code = k;
            e->detail = e->msg + tl + 2;
            e->detail_len = n - (uint32_t)tl - 2;
        }
        break;
    }
    return FCRP_OK;
}

/* --- MutationBatch ----------------------------------------------------------
 */

static bool op_known(uint8_t op)
{
    return op == FCRP_OP_SET || op == FCRP_OP_DEL || op == FCRP_OP_EXPIRE ||
           op == FCRP_OP_CLEAR || op == FCRP_OP_OP;
}

/* A value only on SET and OP; an OP names a type and carries a record. */
static bool op_shape_ok(uint8_t op, uint8_t vtype, uint32_t value_len)
{
    if (op == FCRP_OP_OP)
        return vtype != 0 && value_len != 0;
    return op == FCRP_OP_SET || value_len == 0;
}

uint8_t fcrp_record_effective_op(const fcrp_record *rec, uint64_t now_unix_ms)
{
    if ((rec->op == FCRP_OP_SET || rec->op == FCRP_OP_EXPIRE) &&
        rec->expire_at_ms != FCRP_NO_EXPIRY && rec->expire_at_ms <= now_unix_ms)
        return FCRP_OP_DEL;
    return rec->op;
}

int fcrp_record_put(fc_buf *b, const fcrp_record *r)
{
    if (!op_known(r->op) || r->vtype > FCRP_VTYPE_MAX ||
        !op_shape_ok(r->op, r->vtype, r->value_len))
        return FCRP_EINVAL;
    if (!fc_buf_reserve(b, fcrp_record_size(r->key_len, r->value_len)))
        return FCRP_ENOMEM;
    uint8_t h[FCRP_RECORD_FIXED];
    fcrp_put32(h, r->shard);
    fcrp_put64(h + 4, r->seq);
    fcrp_put64(h + 12, r->timestamp_ms);
    h[20] = (uint8_t)(r->op | r->vtype << 4);
    fcrp_put64(h + 21, r->key_hash);
    fcrp_put64(h + 29, r->key_tag);
    fcrp_put64(h + 37, r->expire_at_ms);
    fcrp_put32(h + 45, r->key_len);
    fcrp_put32(h + 49, r->value_len);
    fc_buf_append(b, h, sizeof h);
    if (r->key_len)
        fc_buf_append(b, r->key, r->key_len);
    if (r->value_len)
        fc_buf_append(b, r->value, r->value_len);
    return b->oom ? FCRP_ENOMEM : FCRP_OK;
}

/* One record at c; the cursor moves past it. */
static int take_record(cur *c, fcrp_record *r)
{
    if (left(c) < FCRP_RECORD_FIXED)
        return FCRP_ETRUNC;
    const uint8_t *h = c->p;
    uint8_t op = h[20];
    r->shard = fcrp_get32(h);
    r->seq = fcrp_get64(h + 4);
    r->timestamp_ms = fcrp_get64(h + 12);
    r->op = op & 0x0f;
    r->vtype = op >> 4;
    r->key_hash = fcrp_get64(h + 21);
    r->key_tag = fcrp_get64(h + 29);
    r->expire_at_ms = fcrp_get64(h + 37);
    r->key_len = fcrp_get32(h + 45);
    r->value_len = fcrp_get32(h + 49);
    if (!op_known(r->op) || r->vtype > FCRP_VTYPE_MAX ||
        !op_shape_ok(r->op, r->vtype, r->value_len))
        return FCRP_EOP;
    c->p += FCRP_RECORD_FIXED;
    if (!takeb(c, r->key_len, &r->key) || !takeb(c, r->value_len, &r->value))
        return FCRP_ETRUNC;
    return FCRP_OK;
}

int fcrp_batch_open(const uint8_t *p, size_t len, fcrp_batch *it)
{
    cur c = {p, p + len};
    uint32_t n;
    if (!take32(&c, &n))
        return FCRP_ETRUNC;
    if (n > left(&c) / FCRP_RECORD_FIXED)
        return FCRP_ECOUNT;
    const uint8_t *first = c.p;
    for (uint32_t i = 0; i < n; i++) {
        fcrp_record r;
        int rc = take_record(&c, &r);
        if (rc != FCRP_OK)
            return rc;
    }
    if (left(&c))
        return FCRP_ETRAILING;
    it->p = first;
    it->end = c.end;
    it->count = it->left = n;
    return FCRP_OK;
}

bool fcrp_batch_next(fcrp_batch *it, fcrp_record *rec)
{
    if (!it->left)
        return false;
    cur c = {it->p, it->end};
    if (take_record(&c, rec) != FCRP_OK)
        abort(); /* fcrp_batch_open validated every record */
    it->p = c.p;
    it->left--;
    return true;
}

int fcrp_batch_put_count(fc_buf *b, size_t *at)
{
    *at = b->len;
    put32b(b, 0);
    return b->oom ? FCRP_ENOMEM : FCRP_OK;
}

void fcrp_batch_set_count(fc_buf *b, size_t at, uint32_t count)
{
    assert(b->oom || at + 4 <= b->len);
    if (b->oom)
        return;
    fcrp_put32((uint8_t *)b->data + at, count);
}

/* --- SnapshotChunk ----------------------------------------------------------
 */

int fcrp_chunk_put_head(fc_buf *b, uint64_t index, bool is_last,
                        const uint64_t *wm, uint32_t nwm, size_t *count_at)
{
    put64b(b, index);
    put8b(b, is_last ? 1 : 0);
    int rc = fcrp_wm_put(b, wm, nwm);
    if (rc != FCRP_OK)
        return rc;
    return fcrp_batch_put_count(b, count_at);
}

int fcrp_entry_put(fc_buf *b, const fcrp_entry *e)
{
    uint8_t h[FCRP_ENTRY_FIXED];
    uint32_t vl = e->value_len;
    if (e->vtype > FCRP_VTYPE_MAX ||
        (e->vtype && vl > (FCRP_ENTRY_TYPED - 1) - FCRP_ENTRY_TYPED_HEAD) ||
        (!e->vtype && vl >= FCRP_ENTRY_TYPED))
        return FCRP_EINVAL;
    if (!fc_buf_reserve(b, fcrp_entry_size(e->key_len, e->value_len)))
        return FCRP_ENOMEM;
    if (e->vtype)
        vl = (vl + FCRP_ENTRY_TYPED_HEAD) | FCRP_ENTRY_TYPED;
    fcrp_put32(h, e->key_len);
    fcrp_put32(h + 4, vl);
    fcrp_put64(h + 8, e->expire_at_ms);
    fc_buf_append(b, h, sizeof h);
    if (e->key_len)
        fc_buf_append(b, e->key, e->key_len);
    if (e->vtype) {
        uint8_t th[FCRP_ENTRY_TYPED_HEAD];
        th[0] = e->vtype;
        fcrp_put64(th + 1, e->obj_seq);
        fc_buf_append(b, th, sizeof th);
    }
    if (e->value_len)
        fc_buf_append(b, e->value, e->value_len);
    return b->oom ? FCRP_ENOMEM : FCRP_OK;
}

static int take_entry(cur *c, fcrp_entry *e)
{
    if (!take32(c, &e->key_len) || !take32(c, &e->value_len) ||
        !take64(c, &e->expire_at_ms) || !takeb(c, e->key_len, &e->key))
        return FCRP_ETRUNC;
    e->vtype = 0;
    e->obj_seq = 0;
    if (e->value_len & FCRP_ENTRY_TYPED) {
        const uint8_t *th;
        e->value_len &= ~FCRP_ENTRY_TYPED;
        if (e->value_len < FCRP_ENTRY_TYPED_HEAD)
            return FCRP_EOP;
        if (!takeb(c, FCRP_ENTRY_TYPED_HEAD, &th))
            return FCRP_ETRUNC;
        e->vtype = th[0];
        e->obj_seq = fcrp_get64(th + 1);
        e->value_len -= FCRP_ENTRY_TYPED_HEAD;
        if (e->vtype == 0 || e->vtype > FCRP_VTYPE_MAX)
            return FCRP_EOP;
    }
    if (!takeb(c, e->value_len, &e->value))
        return FCRP_ETRUNC;
    return FCRP_OK;
}

int fcrp_chunk_open(const uint8_t *p, size_t len, fcrp_chunk *ch)
{
    cur c = {p, p + len};
    uint8_t last;
    uint32_t n;
    if (!take64(&c, &ch->index) || !take8(&c, &last))
        return FCRP_ETRUNC;
    ch->is_last = last != 0;
    int rc = take_wm(&c, &ch->wm);
    if (rc != FCRP_OK)
        return rc;
    if (!take32(&c, &n))
        return FCRP_ETRUNC;
    if (n > left(&c) / FCRP_ENTRY_FIXED)
        return FCRP_ECOUNT;
    const uint8_t *first = c.p;
    for (uint32_t i = 0; i < n; i++) {
        fcrp_entry e;
        if ((rc = take_entry(&c, &e)) != FCRP_OK)
            return rc;
    }
    if (left(&c))
        return FCRP_ETRAILING;
    ch->count = ch->left = n;
    ch->p = first;
    ch->end = c.end;
    return FCRP_OK;
}

bool fcrp_chunk_next(fcrp_chunk *ch, fcrp_entry *e)
{
    if (!ch->left)
        return false;
    cur c = {ch->p, ch->end};
    if (take_entry(&c, e) != FCRP_OK)
        abort(); /* fcrp_chunk_open validated every entry */
    ch->p = c.p;
    ch->left--;
    return true;
}
