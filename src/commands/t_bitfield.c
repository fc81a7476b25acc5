/*
 * t_bitfield.c — BITFIELD and BITFIELD_RO: signed (i1..i64) and unsigned
 * (u1..u63) integers at any bit offset of a string, with Redis's overflow
 * modes (WRAP, SAT, FAIL).
 *
 * Every subcommand is parsed and checked before anything is touched, as in
 * Redis. When there is a SET or INCRBY the string is grown (zero bytes) to
 * hold the farthest field written, even if every write then fails under
 * OVERFLOW FAIL, and the whole command is one eng_edit: one mutation with
 * the resulting value. Results are collected first and replied after the
 * edit succeeded, so an engine error is the only reply on failure.
 */
#include <stdlib.h>
#include <string.h>

#include "commands/cmd_bits.h"
#include "commands/cmd_fns.h"
#include "commands/cmd_util.h"

enum { BF_GET, BF_SET, BF_INCRBY };
enum { OW_WRAP, OW_SAT, OW_FAIL };

typedef struct bf_op {
    uint64_t off;
    int64_t arg;
    uint8_t code, ow, bits, sign;
} bf_op;

typedef struct bf_result {
    int64_t v;
    bool null;
} bf_result;

typedef struct bf_run {
    const bf_op *ops;
    bf_result *res;
    size_t n;
} bf_run;

/* The field at off, bits wide, MSB first; bits past len read as zero. */
static uint64_t get_field(const uint8_t *s, size_t len, uint64_t off,
                          unsigned bits)
{
    uint64_t v = 0;
    for (unsigned j = 0; j < bits; j++, off++) {
        size_t byte = (size_t)(off >> 3);
        unsigned b = byte < len ? (s[byte] >> (7 - (off & 7))) & 1 : 0;
        v = (v << 1) | b;
    }
    return v;
}

static int64_t sign_extend(uint64_t v, unsigned bits)
{
    if (bits < 64 && (v & ((uint64_t)1 << (bits - 1))))
        v |= ~(uint64_t)0 << bits;
    return (int64_t)v;
}

/* Writes the low bits of v at off (the string holds the whole field). */
static void set_field(uint8_t *s, uint64_t off, unsigned bits, uint64_t v)
{
    for (unsigned j = 0; j < bits; j++, off++) {
        unsigned b = (v >> (bits - 1 - j)) & 1;
        size_t byte = (size_t)(off >> 3);
        unsigned sh = 7 - (unsigned)(off & 7);
        s[byte] = (uint8_t)((s[byte] & ~(1u << sh)) | (b << sh));
    }
}

static uint64_t wrap_u(uint64_t v, unsigned bits)
{
    return bits == 64 ? v : v & ~(~(uint64_t)0 << bits);
}

/* Redis's checkUnsignedBitfieldOverflow: true on overflow, *out gets the
 * wrapped or saturated value by ow. */
static bool over_u(uint64_t value, int64_t incr, unsigned bits, int ow,
                   uint64_t *out)
{
    uint64_t max = bits == 64 ? UINT64_MAX : ((uint64_t)1 << bits) - 1;
    int64_t maxincr = (int64_t)(max - value);
    int64_t minincr = (int64_t)(0 - value);
    uint64_t sat;
    if (value > max || (incr > 0 && incr > maxincr))
        sat = max;
    else if (incr < 0 && incr < minincr)
        sat = 0;
    else
        return false;
    *out = ow == OW_SAT ? sat : wrap_u(value + (uint64_t)incr, bits);
    return true;
}

/* Redis's checkSignedBitfieldOverflow, with its exact conditions. */
static bool over_i(int64_t value, int64_t incr, unsigned bits, int ow,
                   int64_t *out)
{
    int64_t max = bits == 64 ? INT64_MAX : ((int64_t)1 << (bits - 1)) - 1;
    int64_t min = -max - 1;
    int64_t maxincr = (int64_t)((uint64_t)max - (uint64_t)value);
    int64_t minincr = (int64_t)((uint64_t)min - (uint64_t)value);
    int64_t sat;
    if (value > max || (bits != 64 && incr > maxincr) ||
        (value >= 0 && incr > 0 && incr > maxincr))
        sat = max;
    else if (value < min || (bits != 64 && incr < minincr) ||
             (value < 0 && incr < 0 && incr < minincr))
        sat = min;
    else
        return false;
    if (ow == OW_SAT) {
        *out = sat;
    } else {
        uint64_t c = (uint64_t)value + (uint64_t)incr;
        *out = sign_extend(wrap_u(c, bits), bits);
    }
    return true;
}

static void run_get(const bf_op *op, const uint8_t *s, size_t len, bf_result *r)
{
    uint64_t v = get_field(s, len, op->off, op->bits);
    r->v = op->sign ? sign_extend(v, op->bits) : (int64_t)v;
    r->null = false;
}

static void run_write(const bf_op *op, uint8_t *s, size_t len, bf_result *r)
{
    bool over;
    uint64_t newv;
    r->null = false;
    if (op->sign) {
        int64_t old =
            sign_extend(get_field(s, len, op->off, op->bits), op->bits);
        int64_t w = 0, nv;
        if (op->code == BF_INCRBY) {
            over = over_i(old, op->arg, op->bits, op->ow, &w);
            nv = over ? w : (int64_t)((uint64_t)old + (uint64_t)op->arg);
            r->v = nv;
        } else {
            over = over_i(op->arg, 0, op->bits, op->ow, &w);
            nv = over ? w : op->arg;
            r->v = old;
        }
        newv = (uint64_t)nv;
    } else {
        uint64_t old = get_field(s, len, op->off, op->bits), w = 0;
        if (op->code == BF_INCRBY) {
            over = over_u(old, op->arg, op->bits, op->ow, &w);
            newv = over ? w : old + (uint64_t)op->arg;
            r->v = (int64_t)newv;
        } else {
            over = over_u((uint64_t)op->arg, 0, op->bits, op->ow, &w);
            newv = over ? w : (uint64_t)op->arg;
            r->v = (int64_t)old;
        }
    }
    if (over && op->ow == OW_FAIL) {
        r->null = true;
        return;
    }
    set_field(s, op->off, op->bits, newv);
}

static void bf_edit(void *arg, uint8_t *val, size_t len)
{
    bf_run *run = arg;
    for (size_t i = 0; i < run->n; i++) {
        if (run->ops[i].code == BF_GET)
            run_get(&run->ops[i], val, len, &run->res[i]);
        else
            run_write(&run->ops[i], val, len, &run->res[i]);
    }
}

static const char err_type[] = "ERR Invalid bitfield type. Use something "
                               "like i16 u8. Note that u64 is not supported "
                               "but i64 is.";

/* Redis's getBitfieldTypeFromArgument: i1..i64 or u1..u63. */
static bool parse_type(cmd_ctx *c, size_t i, bf_op *op)
{
    const resp_arg *a = &c->argv[i];
    int64_t bits;
    if (a->len < 1 || (a->ptr[0] != 'i' && a->ptr[0] != 'u'))
        goto bad;
    op->sign = a->ptr[0] == 'i';
    if (!cmd_parse_ll(a->ptr + 1, a->len - 1, &bits) || bits < 1 ||
        bits > (op->sign ? 64 : 63))
        goto bad;
    op->bits = (uint8_t)bits;
    return true;
bad:
    resp_error(c->w, err_type);
    return false;
}

/* Parses the subcommands into ops; returns how many, or -1 after an
 * error reply. *max_write: highest bit written + 1 (0: read only). */
static long parse_ops(cmd_ctx *c, bf_op *ops, uint64_t *max_write)
{
    long n = 0;
    int ow = OW_WRAP;
    *max_write = 0;
    for (size_t j = 2; j < c->argc; j++) {
        size_t rem = c->argc - j - 1;
        const resp_arg *sub = &c->argv[j];
        bf_op *op = &ops[n];
        if (cmd_arg_is(sub, "get") && rem >= 2)
            op->code = BF_GET;
        else if (cmd_arg_is(sub, "set") && rem >= 3)
            op->code = BF_SET;
        else if (cmd_arg_is(sub, "incrby") && rem >= 3)
            op->code = BF_INCRBY;
        else if (cmd_arg_is(sub, "overflow") && rem >= 1) {
            const resp_arg *t = &c->argv[++j];
            if (cmd_arg_is(t, "wrap"))
                ow = OW_WRAP;
            else if (cmd_arg_is(t, "sat"))
                ow = OW_SAT;
            else if (cmd_arg_is(t, "fail"))
                ow = OW_FAIL;
            else {
                resp_error(c->w, "ERR Invalid OVERFLOW type specified");
                return -1;
            }
            continue;
        } else {
            resp_error(c->w, CMD_ERR_SYNTAX);
            return -1;
        }
        if (!parse_type(c, j + 1, op) ||
            !cmd_bit_offset(c, j + 2, op->bits, &op->off))
            return -1;
        op->ow = (uint8_t)ow;
        op->arg = 0;
        if (op->code != BF_GET) {
            if (*max_write < op->off + op->bits)
                *max_write = op->off + op->bits;
            if (!cmd_arg_ll(c, j + 3, &op->arg))
                return -1;
        }
        n++;
        j += op->code == BF_GET ? 2 : 3;
    }
    return n;
}

static void reply_results(cmd_ctx *c, const bf_result *res, size_t n)
{
    resp_array(c->w, n);
    for (size_t i = 0; i < n; i++) {
        if (res[i].null)
            resp_null(c->w);
        else
            resp_int(c->w, res[i].v);
    }
}

static void bitfield_generic(cmd_ctx *c, bool ro)
{
    size_t cap = c->argc / 2 + 1;
    bf_op *ops = malloc(cap * sizeof(*ops));
    bf_result *res = malloc(cap * sizeof(*res));
    uint64_t max_write;
    long n;
    if (!ops || !res) {
        cmd_reply_fc_error(c, FC_ENOMEM);
        goto out;
    }
    if ((n = parse_ops(c, ops, &max_write)) < 0)
        goto out;
    cmd_key k = cmd_key_at(c, 1);
    if (max_write == 0) {
        eng_entry *e = cmd_key_get(c, &k);
        const uint8_t *s = NULL;
        size_t len = 0;
        if (e && !cmd_check_string(c, e))
            goto out;
        if (e)
            s = eng_entry_value(e, &len);
        for (long i = 0; i < n; i++)
            run_get(&ops[i], s, len, &res[i]);
        reply_results(c, res, (size_t)n);
        goto out;
    }
    if (ro) {
        resp_error(c->w, "ERR BITFIELD_RO only supports the GET subcommand");
        goto out;
    }
    /* Redis grows to the byte holding the last bit written. */
    bf_run run = {ops, res, (size_t)n};
    int rc = eng_edit(k.sh, k.h, k.p, k.n, (size_t)((max_write - 1) >> 3) + 1,
                      bf_edit, &run, c->now, NULL);
    if (rc == FC_OK)
        reply_results(c, res, (size_t)n);
    else
        cmd_reply_fc_error(c, rc);
out:
    free(ops);
    free(res);
}

void cmd_bitfield(cmd_ctx *c)
{
    bitfield_generic(c, false);
}

void cmd_bitfield_ro(cmd_ctx *c)
{
    bitfield_generic(c, true);
}
