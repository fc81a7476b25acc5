/*
 * t_bitmap.c — bitmaps on string values: SETBIT GETBIT BITCOUNT BITPOS
 * BITOP (BITFIELD is in t_bitfield.c).
 *
 * Bits are numbered as Redis numbers them: bit 0 is the most significant
 * bit of byte 0. A missing key reads as an endless run of zero bits. Writes
 * that reach past the end grow the string with zero bytes, through
 * eng_edit, so a WAL and replicas see one mutation with the resulting
 * value. Offsets stop below 2^32 bits (Redis's proto-max-bulk-len of
 * 512 MB).
 */
#include <stdlib.h>
#include <string.h>

#include "commands/cmd_bits.h"
#include "commands/cmd_fns.h"
#include "commands/cmd_util.h"

bool cmd_bit_offset(cmd_ctx *c, size_t i, int bits, uint64_t *out)
{
    const resp_arg *a = &c->argv[i];
    const char *p = a->ptr;
    size_t n = a->len;
    bool hash = bits > 0 && n > 0 && p[0] == '#';
    int64_t v;
    if (hash) {
        p++;
        n--;
    }
    if (!cmd_parse_ll(p, n, &v))
        goto bad;
    if (hash) /* Redis multiplies without an overflow check: wrap alike */
        v = (int64_t)((uint64_t)v * (uint64_t)bits);
    if (v < 0 || (v >> 3) >= CMD_MAX_STRING)
        goto bad;
    *out = (uint64_t)v;
    return true;
bad:
    resp_error(c->w, "ERR bit offset is not an integer or out of range");
    return false;
}

/* The string at argv[1] for a read: true with *s and *n (NULL, 0 when the key
 * is missing), false after replying WRONGTYPE. */
static bool read_string(cmd_ctx *c, const uint8_t **s, size_t *n)
{
    cmd_key k = cmd_key_at(c, 1);
    eng_entry *e = cmd_key_get(c, &k);
    *s = NULL;
    *n = 0;
    if (!e)
        return true;
    if (!cmd_check_string(c, e))
        return false;
    *s = eng_entry_value(e, n);
    return true;
}

typedef struct setbit_arg {
    uint64_t off;
    int on;
    int old;
} setbit_arg;

static void setbit_edit(void *arg, uint8_t *val, size_t len)
{
    setbit_arg *a = arg;
    size_t byte = (size_t)(a->off >> 3);
    unsigned bit = 7 - (unsigned)(a->off & 7);
    (void)len;
    a->old = (val[byte] >> bit) & 1;
    val[byte] =
        (uint8_t)((val[byte] & ~(1u << bit)) | ((unsigned)a->on << bit));
}

void cmd_setbit(cmd_ctx *c)
{
    static const char err[] = "ERR bit is not an integer or out of range";
    setbit_arg a = {0, 0, 0};
    int64_t on;
    if (!cmd_bit_offset(c, 2, 0, &a.off))
        return;
    if (!cmd_parse_ll(c->argv[3].ptr, c->argv[3].len, &on) ||
        (on != 0 && on != 1)) {
        resp_error(c->w, err);
        return;
    }
    a.on = (int)on;
    cmd_key k = cmd_key_at(c, 1);
    int rc = eng_edit(k.sh, k.h, k.p, k.n, (size_t)(a.off >> 3) + 1,
                      setbit_edit, &a, c->now, NULL);
    if (rc == FC_OK)
        resp_int(c->w, a.old);
    else
        cmd_reply_fc_error(c, rc);
}

void cmd_getbit(cmd_ctx *c)
{
    uint64_t off;
    const uint8_t *s;
    size_t n;
    if (!cmd_bit_offset(c, 2, 0, &off) || !read_string(c, &s, &n))
        return;
    size_t byte = (size_t)(off >> 3);
    resp_int(c->w, byte < n ? (s[byte] >> (7 - (off & 7))) & 1 : 0);
}

static int64_t popcount(const uint8_t *p, size_t n)
{
    int64_t total = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        total += __builtin_popcountll(w);
    }
    for (; i < n; i++)
        total += __builtin_popcount(p[i]);
    return total;
}

/* Bit i of s (MSB first). */
static inline int bit_at(const uint8_t *s, uint64_t i)
{
    return (s[i >> 3] >> (7 - (i & 7))) & 1;
}

/* Redis's range rule shared by BITCOUNT and BITPOS: start/end in units of
 * a string totlen units long, negative from the end, clamped. false for an
 * empty range. */
static bool clamp_range(int64_t *start, int64_t *end, int64_t totlen)
{
    if (*start < 0)
        *start += totlen;
    if (*end < 0)
        *end += totlen;
    if (*start < 0)
        *start = 0;
    if (*end < 0)
        *end = 0;
    if (*end >= totlen)
        *end = totlen - 1;
    return *start <= *end;
}

/* Parses BYTE|BIT at argv[i]: 0 byte, 1 bit, -1 after a syntax error. */
static int unit_arg(cmd_ctx *c, size_t i)
{
    if (cmd_arg_is(&c->argv[i], "bit"))
        return 1;
    if (cmd_arg_is(&c->argv[i], "byte"))
        return 0;
    resp_error(c->w, CMD_ERR_SYNTAX);
    return -1;
}

/* Counts set bits of s in the bit range [bs, be] (bs <= be). */
static int64_t count_bits(const uint8_t *s, uint64_t bs, uint64_t be)
{
    size_t fb = (size_t)(bs >> 3), lb = (size_t)(be >> 3);
    unsigned head = 0xffu >> (bs & 7);
    unsigned tail = (0xffu << (7 - (be & 7))) & 0xffu;
    if (fb == lb)
        return __builtin_popcount(s[fb] & head & tail);
    return __builtin_popcount(s[fb] & head) +
           popcount(s + fb + 1, lb - fb - 1) + __builtin_popcount(s[lb] & tail);
}

void cmd_bitcount(cmd_ctx *c)
{
    const uint8_t *s;
    size_t n;
    cmd_key k = cmd_key_at(c, 1);
    eng_entry *e = cmd_key_get(c, &k);
    if (!e) {
        resp_int(c->w, 0);
        return;
    }
    if (!cmd_check_string(c, e))
        return;
    s = eng_entry_value(e, &n);
    int64_t start = 0, end = (int64_t)n - 1, totlen = (int64_t)n;
    int isbit = 0;
    if (c->argc == 4 || c->argc == 5) {
        if (!cmd_arg_ll(c, 2, &start) || !cmd_arg_ll(c, 3, &end))
            return;
        if (start < 0 && end < 0 && start > end) {
            resp_int(c->w, 0);
            return;
        }
        if (c->argc == 5 && (isbit = unit_arg(c, 4)) < 0)
            return;
        if (isbit)
            totlen <<= 3;
    } else if (c->argc != 2) {
        resp_error(c->w, CMD_ERR_SYNTAX);
        return;
    }
    if (!clamp_range(&start, &end, totlen)) {
        resp_int(c->w, 0);
        return;
    }
    if (isbit)
        resp_int(c->w, count_bits(s, (uint64_t)start, (uint64_t)end));
    else
        resp_int(c->w, popcount(s + start, (size_t)(end - start + 1)));
}

/* First bit equal to bit in the bit range [bs, be] of s, or -1. */
static int64_t find_bit(const uint8_t *s, uint64_t bs, uint64_t be, int bit)
{
    uint8_t skip = bit ? 0x00 : 0xff; /* a byte with no bit we look for */
    while (bs <= be) {
        if ((bs & 7) == 0 && be - bs >= 7 && s[bs >> 3] == skip) {
            bs += 8;
            continue;
        }
        if (bit_at(s, bs) == bit)
            return (int64_t)bs;
        bs++;
    }
    return -1;
}

void cmd_bitpos(cmd_ctx *c)
{
    int64_t bit;
    if (!cmd_arg_ll(c, 2, &bit))
        return;
    if (bit != 0 && bit != 1) {
        resp_error(c->w, "ERR The bit argument must be 1 or 0.");
        return;
    }
    cmd_key k = cmd_key_at(c, 1);
    eng_entry *e = cmd_key_get(c, &k);
    if (!e) {
        resp_int(c->w, bit ? -1 : 0);
        return;
    }
    if (!cmd_check_string(c, e))
        return;
    size_t n;
    const uint8_t *s = eng_entry_value(e, &n);
    int64_t start = 0, end = (int64_t)n - 1, totlen = (int64_t)n;
    int isbit = 0;
    bool end_given = false;
    if (c->argc >= 4 && c->argc <= 6) {
        if (!cmd_arg_ll(c, 3, &start))
            return;
        if (c->argc == 6 && (isbit = unit_arg(c, 5)) < 0)
            return;
        if (c->argc >= 5) {
            if (!cmd_arg_ll(c, 4, &end))
                return;
            end_given = true;
        }
        if (isbit)
            totlen <<= 3;
    } else if (c->argc != 3) {
        resp_error(c->w, CMD_ERR_SYNTAX);
        return;
    }
    if (!clamp_range(&start, &end, totlen)) {
        resp_int(c->w, -1);
        return;
    }
    uint64_t bs = (uint64_t)start, be = (uint64_t)end;
    if (!isbit) {
        bs <<= 3;
        be = (be << 3) + 7;
    }
    int64_t pos = find_bit(s, bs, be, (int)bit);
    /* Looking for a clear bit with no end given, the string continues
     * with zero bits: the first one after it is the answer. */
    if (pos < 0 && bit == 0 && !end_given)
        pos = (int64_t)be + 1;
    resp_int(c->w, pos);
}

enum { OP_AND, OP_OR, OP_XOR, OP_NOT };

void cmd_bitop(cmd_ctx *c)
{
    int op;
    if (cmd_arg_is(&c->argv[1], "and"))
        op = OP_AND;
    else if (cmd_arg_is(&c->argv[1], "or"))
        op = OP_OR;
    else if (cmd_arg_is(&c->argv[1], "xor"))
        op = OP_XOR;
    else if (cmd_arg_is(&c->argv[1], "not"))
        op = OP_NOT;
    else {
        resp_error(c->w, CMD_ERR_SYNTAX);
        return;
    }
    if (op == OP_NOT && c->argc != 4) {
        resp_error(c->w, "ERR BITOP NOT must be called with a single source "
                         "key.");
        return;
    }
    size_t nsrc = c->argc - 3, maxlen = 0;
    /* Pass 1: types and the longest source. Values stay valid: nothing
     * is written until the result is built. */
    for (size_t j = 0; j < nsrc; j++) {
        cmd_key k = cmd_key_at(c, 3 + j);
        eng_entry *e = cmd_key_get(c, &k);
        size_t n;
        if (!e)
            continue;
        if (!cmd_check_string(c, e))
            return;
        eng_entry_value(e, &n);
        if (n > maxlen)
            maxlen = n;
    }
    cmd_key dst = cmd_key_at(c, 2);
    if (maxlen == 0) {
        eng_del(dst.sh, dst.h, dst.p, dst.n, c->now, NULL);
        resp_int(c->w, 0);
        return;
    }
    uint8_t *res = malloc(maxlen);
    if (!res) {
        cmd_reply_fc_error(c, FC_ENOMEM);
        return;
    }
    for (size_t j = 0; j < nsrc; j++) {
        cmd_key k = cmd_key_at(c, 3 + j);
        eng_entry *e = cmd_key_get(c, &k);
        size_t n = 0;
        const uint8_t *s = e ? eng_entry_value(e, &n) : NULL;
        for (size_t i = 0; i < maxlen; i++) {
            uint8_t b = i < n ? s[i] : 0;
            if (j == 0)
                res[i] = op == OP_NOT ? (uint8_t)~b : b;
            else if (op == OP_AND)
                res[i] &= b;
            else if (op == OP_OR)
                res[i] |= b;
            else
                res[i] ^= b;
        }
    }
    int rc = eng_set(dst.sh, dst.h, dst.p, dst.n, res, maxlen, 0, 0, c->now,
                     NULL, NULL);
    free(res);
    if (rc == FC_OK)
        resp_int(c->w, (int64_t)maxlen);
    else
        cmd_reply_fc_error(c, rc);
}
