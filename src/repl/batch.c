/*
 * batch.c — the per-shard MutationBatch builder of batch.h. Records are
 * encoded straight into the frame buffer as they are pushed; taking a batch
 * patches the record count, lets fcrp_frame_finish compress it (kept only
 * when smaller) and append the check, and hands the buffer over.
 */
#include "repl/batch.h"

#include <assert.h>
#include <fastcache.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define INITIAL_CAP ((size_t)2048) /* grows by doubling; a big start costs malloc time per batch */

void repl_batch_cfg_default(repl_batch_cfg *c)
{
    memset(c, 0, sizeof *c);
    c->max_records = 512;
    c->max_bytes = 1u << 20;
    c->max_delay_us = 750;
    c->max_frame = FCRP_DEFAULT_MAX_PAYLOAD;
    c->tx.comp = FCRP_COMP_NONE;
}

void repl_frame_free(repl_frame *f)
{
    free(f->data);
    memset(f, 0, sizeof *f);
}

int repl_batcher_init(repl_batcher *b, uint32_t nshards,
                      const repl_batch_cfg *cfg)
{
    memset(b, 0, sizeof *b);
    if (!nshards || !cfg->max_records || !cfg->max_bytes ||
        cfg->max_frame < 4 + FCRP_CHECK_LEN + FCRP_RECORD_FIXED)
        return FC_EINVAL;
    b->shard = calloc(nshards, sizeof *b->shard);
    if (!b->shard)
        return FC_ENOMEM;
    b->cfg = *cfg;
    b->nshards = nshards;
    return FC_OK;
}

void repl_batcher_free(repl_batcher *b)
{
    for (uint32_t i = 0; b->shard && i < b->nshards; i++)
        fc_buf_free(&b->shard[i].buf);
    free(b->shard);
    memset(b, 0, sizeof *b);
}

/* Empties a pending batch; its buffer is either handed out or freed. */
static void reset(repl_batcher *b, repl_pending *p, bool free_buf)
{
    if (free_buf)
        fc_buf_free(&p->buf);
    memset(&p->buf, 0, sizeof p->buf);
    if (p->records)
        b->npending--;
    p->records = 0;
    p->bytes = 0;
    p->count_at = 0;
}

/* Room for records in one frame: the cap less the count and the check
 * (peers cap payload_len with the check included). */
static size_t record_room(const repl_batcher *b)
{
    return b->cfg.max_frame - 4 - (b->cfg.tx.check ? FCRP_CHECK_LEN : 0);
}

static int start(const repl_batcher *b, repl_pending *p)
{
    /* the seed's hint: clamp(max_bytes, .., 64 KiB); a one-record batch
     * (immediate) grows to its record instead */
    size_t cap = b->cfg.immediate                 ? 0
                 : b->cfg.max_bytes < INITIAL_CAP ? b->cfg.max_bytes
                                                  : INITIAL_CAP;
    size_t mark;
    if (!fc_buf_reserve(&p->buf, cap + FCRP_HEADER_LEN + 4 + FCRP_CHECK_LEN) ||
        fcrp_frame_begin(&p->buf, &mark) != FCRP_OK ||
        fcrp_batch_put_count(&p->buf, &p->count_at) != FCRP_OK)
        return FC_ENOMEM;
    return FC_OK;
}

int repl_batcher_push(repl_batcher *b, const fcrp_record *r, uint64_t now_us)
{
    if (r->shard >= b->nshards)
        return FC_EINVAL;
    repl_pending *p = &b->shard[r->shard];
    if (r->seq <= p->last_seq)
        return FC_EINVAL;
    size_t size = fcrp_record_size(r->key_len, r->value_len);
    if (size > record_room(b))
        return FC_ETOOBIG;
    if (p->records && p->bytes + size > record_room(b))
        return REPL_BATCH_FLUSH_FIRST;
    bool first = p->records == 0;
    if (first && p->buf.len == 0 && start(b, p) != FC_OK) {
        reset(b, p, true);
        return FC_ENOMEM;
    }
    int rc = fcrp_record_put(&p->buf, r);
    if (rc == FCRP_EINVAL)
        return FC_EINVAL; /* checked before anything was appended */
    if (rc != FCRP_OK) {
        reset(b, p, true); /* the batch is lost: the caller sees a gap */
        return FC_ENOMEM;
    }
    if (first) {
        p->first_us = now_us;
        p->min_seq = r->seq;
        b->npending++;
    }
    p->records++;
    p->bytes += size;
    assert(p->bytes <= record_room(b) &&
           p->buf.len == FCRP_HEADER_LEN + 4 + p->bytes);
    p->max_seq = p->last_seq = r->seq;
    if (b->cfg.immediate || p->records >= b->cfg.max_records ||
        p->bytes >= b->cfg.max_bytes)
        return REPL_BATCH_FULL;
    return REPL_BATCH_OK;
}

int repl_batcher_take(repl_batcher *b, uint32_t shard, repl_frame *out)
{
    memset(out, 0, sizeof *out);
    if (shard >= b->nshards)
        return FC_EINVAL;
    repl_pending *p = &b->shard[shard];
    if (!p->records)
        return 0;
    fcrp_batch_set_count(&p->buf, p->count_at, p->records);
    if (fcrp_frame_finish(&p->buf, 0, FCRP_MUTATION_BATCH, &b->cfg.tx) !=
        FCRP_OK) {
        reset(b, p, true);
        return FC_ENOMEM;
    }
    out->len = p->buf.len;
    out->data = (uint8_t *)p->buf.data;
    if (p->buf.cap - p->buf.len > 4096) { /* the backlog keeps it: trim */
        uint8_t *t = realloc(out->data, out->len);
        if (t)
            out->data = t;
    }
    out->shard = shard;
    out->min_seq = p->min_seq;
    out->max_seq = p->max_seq;
    out->records = p->records;
    out->raw_bytes = 4 + p->bytes;
    reset(b, p, false);
    return 1;
}

bool repl_batcher_due(const repl_batcher *b, uint32_t shard, uint64_t now_us)
{
    if (shard >= b->nshards)
        return false;
    const repl_pending *p = &b->shard[shard];
    if (!p->records)
        return false;
    uint64_t age = now_us > p->first_us ? now_us - p->first_us : 0;
    return b->cfg.immediate || p->records >= b->cfg.max_records ||
           p->bytes >= b->cfg.max_bytes || age >= b->cfg.max_delay_us;
}

uint64_t repl_batcher_next_due(const repl_batcher *b, uint64_t now_us)
{
    uint64_t best = UINT64_MAX;
    for (uint32_t s = 0; b->npending && s < b->nshards; s++) {
        const repl_pending *p = &b->shard[s];
        if (!p->records)
            continue;
        if (repl_batcher_due(b, s, now_us))
            return 0;
        uint64_t age = now_us > p->first_us ? now_us - p->first_us : 0;
        uint64_t wait = b->cfg.max_delay_us - age;
        if (wait < best)
            best = wait;
    }
    return best;
}

_Static_assert((int)FCRP_OP_SET == (int)PF_REC_SET &&
                   (int)FCRP_OP_DEL == (int)PF_REC_DEL &&
                   (int)FCRP_OP_EXPIRE == (int)PF_REC_EXPIRE &&
                   (int)FCRP_OP_CLEAR == (int)PF_REC_CLEAR,
               "FCRP ops are the WAL's record kinds");

void repl_record_from_wal(fcrp_record *out, const pf_rec *w,
                          uint64_t now_unix_ms)
{
    memset(out, 0, sizeof *out);
    out->shard = w->shard;
    out->seq = w->seq;
    out->timestamp_ms = now_unix_ms;
    out->op = w->kind; /* PF_REC_* and FCRP_OP_* share their codes */
    out->vtype = w->vtype;
    out->key = w->key;
    out->key_len = w->klen;
    out->key_hash = w->klen ? XXH3_64bits(w->key, w->klen) : 0;
    out->expire_at_ms = w->expire_unix_ms == 0  ? FCRP_NO_EXPIRY
                        : w->expire_unix_ms < 0 ? 0
                                                : (uint64_t)w->expire_unix_ms;
    if (w->kind == PF_REC_SET) {
        out->value = w->value;
        out->value_len = w->vlen;
    }
}
