/*
 * t_hll.c — PFADD PFCOUNT PFMERGE over HLL string values (hll.h holds the
 * representation).
 *
 * Each command works on a private copy of the value and writes the result
 * back with one engine call (eng_set keeping the TTL, or eng_setrange of the
 * 8 cache bytes when PFCOUNT refreshes the cached cardinality, as Redis
 * does even though PFCOUNT is a read command), so a WAL and replicas see the
 * resulting value. PFCOUNT of several keys merges into a scratch register
 * array and writes nothing.
 */
#include <string.h>

#include "commands/cmd_fns.h"
#include "commands/cmd_util.h"
#include "commands/hll.h"

static const char err_nothll[] =
    "WRONGTYPE Key is not a valid HyperLogLog string value.";
static const char err_corrupt[] = "INVALIDOBJ Corrupted HLL object detected";

/* The HLL at key k: 1 (*p and *n set), 0 missing, -1 after an error reply. */
static int get_hll(cmd_ctx *c, const cmd_key *k, const uint8_t **p, size_t *n)
{
    eng_entry *e = cmd_key_get(c, k);
    if (!e)
        return 0;
    if (!cmd_check_string(c, e))
        return -1;
    *p = eng_entry_value(e, n);
    if (!hll_valid_header(*p, *n)) {
        resp_error(c->w, err_nothll);
        return -1;
    }
    return 1;
}

/* k's HLL as a working copy in b (an empty HLL when k is absent): 1 or
 * 0 as get_hll, -1 after replying (not an HLL, out of memory). */
static int open_hll(cmd_ctx *c, const cmd_key *k, hll_buf *b)
{
    const uint8_t *p;
    size_t n;
    int have = get_hll(c, k, &p, &n);
    if (have < 0)
        return -1;
    if (!(have ? hll_buf_copy(b, p, n) : hll_buf_empty(b))) {
        cmd_reply_fc_error(c, FC_ENOMEM);
        return -1;
    }
    return have;
}

static void store(cmd_ctx *c, const cmd_key *k, const hll_buf *b,
                  const char *reply_ok, int64_t reply_int)
{
    int rc = eng_set(k->sh, k->h, k->p, k->n, b->p, b->len, 0, ENG_SET_KEEPTTL,
                     c->now, NULL, NULL);
    if (rc != FC_OK)
        cmd_reply_fc_error(c, rc);
    else if (reply_ok)
        resp_ok(c->w);
    else
        resp_int(c->w, reply_int);
}

void cmd_pfadd(cmd_ctx *c)
{
    cmd_key k = cmd_key_at(c, 1);
    hll_buf b;
    int updated = 0;
    int have = open_hll(c, &k, &b);
    if (have < 0)
        return;
    if (!have)
        updated++; /* the new key counts as a change, as in Redis */
    for (size_t j = 2; j < c->argc; j++) {
        int rc = hll_add(&b, c->argv[j].ptr, c->argv[j].len);
        if (rc < 0) {
            resp_error(c->w, err_corrupt);
            hll_buf_free(&b);
            return;
        }
        updated += rc;
    }
    if (updated) {
        hll_invalidate(b.p);
        store(c, &k, &b, NULL, 1);
    } else {
        resp_int(c->w, 0);
    }
    hll_buf_free(&b);
}

/* Merges the registers of the HLLs at argv[1..] into max (absent keys add
 * nothing); *dense, when given, is set if any source is dense. 0, or -1
 * with the error replied. */
static int merge_sources(cmd_ctx *c, uint8_t max[HLL_REGISTERS], bool *dense)
{
    memset(max, 0, HLL_REGISTERS);
    for (size_t j = 1; j < c->argc; j++) {
        cmd_key k = cmd_key_at(c, j);
        const uint8_t *p;
        size_t n;
        int have = get_hll(c, &k, &p, &n);
        if (have < 0)
            return -1;
        if (!have)
            continue;
        if (dense && p[4] == HLL_ENC_DENSE)
            *dense = true;
        if (hll_merge(max, p, n) < 0) {
            resp_error(c->w, err_corrupt);
            return -1;
        }
    }
    return 0;
}

static void pfcount_many(cmd_ctx *c)
{
    uint8_t max[HLL_REGISTERS];
    if (merge_sources(c, max, NULL) == 0)
        resp_int(c->w, (int64_t)hll_count_raw(max));
}

void cmd_pfcount(cmd_ctx *c)
{
    if (c->argc > 2) {
        pfcount_many(c);
        return;
    }
    cmd_key k = cmd_key_at(c, 1);
    const uint8_t *p;
    size_t n;
    int have = get_hll(c, &k, &p, &n);
    if (have <= 0) {
        if (have == 0)
            resp_int(c->w, 0);
        return;
    }
    if (hll_cache_valid(p)) {
        resp_int(c->w, (int64_t)hll_cache_get(p));
        return;
    }
    uint64_t card;
    if (hll_count(p, n, &card) < 0) {
        resp_error(c->w, err_corrupt);
        return;
    }
    /* Refresh the cache in the value, as Redis does; not on a replica,
     * whose values only its primary's stream changes. */
    if (c->replica) {
        resp_int(c->w, (int64_t)card);
        return;
    }
    uint8_t cache[HLL_HDR_SIZE];
    hll_cache_set(cache, card);
    int rc = eng_setrange(k.sh, k.h, k.p, k.n, 8, cache + 8, 8, c->now, NULL);
    if (rc != FC_OK)
        cmd_reply_fc_error(c, rc);
    else
        resp_int(c->w, (int64_t)card);
}

void cmd_pfmerge(cmd_ctx *c)
{
    uint8_t max[HLL_REGISTERS];
    bool dense = false;
    /* The destination is a source too (argv[1] onwards). */
    if (merge_sources(c, max, &dense) < 0)
        return;
    cmd_key k = cmd_key_at(c, 1);
    hll_buf b;
    if (open_hll(c, &k, &b) < 0)
        return;
    if (dense && hll_to_dense(&b) < 0) {
        resp_error(c->w, err_corrupt);
        hll_buf_free(&b);
        return;
    }
    for (long j = 0; j < HLL_REGISTERS; j++) {
        if (max[j])
            hll_set(&b, j, max[j]);
    }
    hll_invalidate(b.p);
    store(c, &k, &b, "OK", 0);
    hll_buf_free(&b);
}
