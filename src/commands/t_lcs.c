/*
 * t_lcs.c — LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN], as
 * Redis 7: the classic O(n*m) dynamic programming table, then one walk back
 * from its corner that rebuilds the string and the matched ranges.
 *
 * The keys may live on two shards (the router runs LCS exclusively then);
 * the table is a transient malloc freed before returning.
 */
#include <stdlib.h>

#include "commands/cmd_fns.h"
#include "commands/cmd_util.h"

typedef struct lcs_job {
    const uint8_t *a, *b;
    uint32_t alen, blen;
    uint32_t *dp; /* (alen+1) x (blen+1), row-major by a */
    int64_t minlen;
    bool withlen;
} lcs_job;

#define LCS_AT(j, i, k) ((j)->dp[(size_t)(k) + (size_t)(i) * ((j)->blen + 1)])

static void lcs_fill(lcs_job *j)
{
    for (uint32_t i = 0; i <= j->alen; i++) {
        for (uint32_t k = 0; k <= j->blen; k++) {
            if (i == 0 || k == 0) {
                LCS_AT(j, i, k) = 0;
            } else if (j->a[i - 1] == j->b[k - 1]) {
                LCS_AT(j, i, k) = LCS_AT(j, i - 1, k - 1) + 1;
            } else {
                uint32_t l1 = LCS_AT(j, i - 1, k), l2 = LCS_AT(j, i, k - 1);
                LCS_AT(j, i, k) = l1 > l2 ? l1 : l2;
            }
        }
    }
}

static void emit_range(resp_writer *w, const lcs_job *j, uint32_t as,
                       uint32_t ae, uint32_t bs, uint32_t be)
{
    resp_array(w, 2 + (j->withlen ? 1 : 0));
    resp_array(w, 2);
    resp_int(w, as);
    resp_int(w, ae);
    resp_array(w, 2);
    resp_int(w, bs);
    resp_int(w, be);
    if (j->withlen)
        resp_int(w, ae - as + 1);
}

/* Walks back from the table's corner, as Redis's lcsCommand: writes the
 * common string into out (when non-NULL) and the ranges of at least
 * minlen bytes through w (when non-NULL). Returns the number of ranges. */
static size_t lcs_walk(const lcs_job *j, uint8_t *out, resp_writer *w)
{
    uint32_t i = j->alen, k = j->blen, idx = LCS_AT(j, j->alen, j->blen);
    uint32_t as = j->alen, ae = 0, bs = 0, be = 0; /* as == alen: unset */
    size_t ranges = 0;
    while (i > 0 && k > 0) {
        bool emit = false;
        if (j->a[i - 1] == j->b[k - 1]) {
            if (out)
                out[idx - 1] = j->a[i - 1];
            if (as == j->alen) {
                as = ae = i - 1;
                bs = be = k - 1;
            } else if (as == i && bs == k) {
                as--;
                bs--;
            } else {
                emit = true;
            }
            if (as == 0 || bs == 0)
                emit = true;
            idx--;
            i--;
            k--;
        } else {
            if (LCS_AT(j, i - 1, k) > LCS_AT(j, i, k - 1))
                i--;
            else
                k--;
            if (as != j->alen)
                emit = true;
        }
        if (emit) {
            if (j->minlen == 0 || ae - as + 1 >= j->minlen) {
                if (w)
                    emit_range(w, j, as, ae, bs, be);
                ranges++;
            }
            as = j->alen;
        }
    }
    return ranges;
}

/* Parses the options from argv[3]; false (error replied) when bad. */
static bool lcs_opts(cmd_ctx *c, lcs_job *j, bool *getlen, bool *getidx)
{
    for (size_t i = 3; i < c->argc; i++) {
        const resp_arg *o = &c->argv[i];
        if (cmd_arg_is(o, "idx")) {
            *getidx = true;
        } else if (cmd_arg_is(o, "len")) {
            *getlen = true;
        } else if (cmd_arg_is(o, "withmatchlen")) {
            j->withlen = true;
        } else if (cmd_arg_is(o, "minmatchlen") && i + 1 < c->argc) {
            if (!cmd_arg_ll(c, ++i, &j->minlen))
                return false;
            if (j->minlen < 0)
                j->minlen = 0;
        } else {
            resp_error(c->w, CMD_ERR_SYNTAX);
            return false;
        }
    }
    if (*getidx && *getlen) {
        resp_error(c->w, "ERR If you want both the length and indexes, "
                         "please just use IDX.");
        return false;
    }
    return true;
}

/* Looks up both keys; false (error replied) when one is not a string.
 * Missing keys read as "". */
static bool lcs_inputs(cmd_ctx *c, lcs_job *j, size_t *alen, size_t *blen)
{
    cmd_key ka = cmd_key_at(c, 1), kb = cmd_key_at(c, 2);
    eng_entry *ea = cmd_key_get(c, &ka);
    eng_entry *eb = cmd_key_get(c, &kb);
    /* Looking up b may have expired an entry of a shared shard: look a up
     * again so that its pointer is current (a live key stays live). */
    if (ka.sh == kb.sh)
        ea = cmd_key_get(c, &ka);
    if ((ea && eng_entry_type(ea) != ENG_TYPE_STRING) ||
        (eb && eng_entry_type(eb) != ENG_TYPE_STRING)) {
        resp_error(c->w, "ERR The specified keys must contain string values");
        return false;
    }
    *alen = *blen = 0;
    j->a = ea ? eng_entry_value(ea, alen) : (const uint8_t *)"";
    j->b = eb ? eng_entry_value(eb, blen) : (const uint8_t *)"";
    return true;
}

static void lcs_reply(cmd_ctx *c, lcs_job *j, bool getlen, bool getidx)
{
    uint32_t total = LCS_AT(j, j->alen, j->blen);
    if (getidx) {
        resp_map(c->w, 2);
        resp_bulk_cstr(c->w, "matches");
        resp_array(c->w, lcs_walk(j, NULL, NULL));
        lcs_walk(j, NULL, c->w);
        resp_bulk_cstr(c->w, "len");
        resp_int(c->w, total);
    } else if (getlen) {
        resp_int(c->w, total);
    } else {
        uint8_t *s = malloc(total ? total : 1);
        if (!s) {
            resp_error(c->w, "ERR Insufficient memory, failed allocating "
                             "transient memory for LCS");
            return;
        }
        lcs_walk(j, s, NULL);
        resp_bulk(c->w, s, total);
        free(s);
    }
}

void cmd_lcs(cmd_ctx *c)
{
    lcs_job j = {0};
    bool getlen = false, getidx = false;
    size_t alen, blen;
    if (!lcs_inputs(c, &j, &alen, &blen) || !lcs_opts(c, &j, &getlen, &getidx))
        return;
    if (alen >= UINT32_MAX - 1 || blen >= UINT32_MAX - 1) {
        resp_error(c->w, "ERR String too long for LCS");
        return;
    }
    j.alen = (uint32_t)alen;
    j.blen = (uint32_t)blen;
    uint64_t cells = (uint64_t)(alen + 1) * (blen + 1);
    if (cells > (uint64_t)CMD_MAX_STRING / sizeof(uint32_t)) {
        resp_error(c->w, "ERR Insufficient memory, transient memory for LCS "
                         "exceeds proto-max-bulk-len");
        return;
    }
    j.dp = malloc(cells * sizeof(uint32_t));
    if (!j.dp) {
        resp_error(c->w, "ERR Insufficient memory, failed allocating "
                         "transient memory for LCS");
        return;
    }
    lcs_fill(&j);
    lcs_reply(c, &j, getlen, getidx);
    free(j.dp);
}
