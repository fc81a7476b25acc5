/*
 * walk.c — snapshot walker (walk.h).
 */
#include "repl/walk.h"

#include <fastcache.h>
#include <stdlib.h>
#include <string.h>

#define SCAN_STEP 128

int repl_walker_init(repl_walker *wk, uint32_t nshards, size_t chunk_bytes)
{
    memset(wk, 0, sizeof *wk);
    wk->pos = calloc(nshards, sizeof *wk->pos);
    wk->state = calloc(nshards, 1);
    if (!wk->pos || !wk->state) {
        repl_walker_free(wk);
        return FC_ENOMEM;
    }
    wk->nshards = nshards;
    wk->chunk_bytes = chunk_bytes < 4096 ? 4096 : chunk_bytes;
    return FC_OK;
}

void repl_walker_free(repl_walker *wk)
{
    free(wk->pos);
    free(wk->state);
    fc_buf_free(&wk->chunk);
    memset(wk, 0, sizeof *wk);
}

typedef struct enc_ctx {
    repl_walker *wk;
    int64_t wall_offset;
} enc_ctx;

static void encode_entry(void *ctx, const eng_entry *e)
{
    enc_ctx *x = ctx;
    if (eng_entry_type(e) != ENG_TYPE_STRING)
        return; /* v1 chunks carry strings only (none other exist yet) */
    size_t kl, vl;
    const uint8_t *k = eng_entry_key(e, &kl);
    const uint8_t *v = eng_entry_value(e, &vl);
    int64_t exp = eng_entry_expire_at(e);
    fcrp_entry en = {
        .expire_at_ms = exp ? (uint64_t)(exp + x->wall_offset)
                            : FCRP_NO_EXPIRY,
        .key = k,
        .key_len = (uint32_t)kl,
        .value = v,
        .value_len = (uint32_t)vl,
    };
    if (fcrp_entry_put(&x->wk->chunk, &en) == FCRP_OK)
        x->wk->count++;
}

static void hand_over(repl_walker *wk, repl_hub *h, uint32_t done)
{
    if (wk->count || done)
        repl_hub_walk_put(h, wk->gen, wk->chunk.data, wk->chunk.len,
                          wk->count, done);
    wk->chunk.len = 0;
    wk->chunk.oom = false;
    wk->count = 0;
}

int repl_walker_step(repl_walker *wk, repl_hub *h, eng_shard **shards,
                      uint32_t first, uint32_t stride, size_t budget,
                      int64_t now, int64_t wall_offset_ms)
{
    uint64_t gen = repl_hub_walk_gen(h);
    if (!gen)
        return REPL_WALK_IDLE;
    if (gen != wk->gen) {
        memset(wk->pos, 0, wk->nshards * sizeof *wk->pos);
        memset(wk->state, 0, wk->nshards);
        wk->chunk.len = 0;
        wk->count = 0;
        wk->gen = gen;
    }
    if (repl_hub_walk_busy(h))
        return REPL_WALK_BUSY;
    enc_ctx x = {.wk = wk, .wall_offset = wall_offset_ms};
    size_t slots = 0;
    bool left = false;
    uint32_t done = 0;
    uint32_t step = stride ? stride : wk->nshards;
    for (uint32_t s = first; s < wk->nshards; s += step) {
        if (wk->state[s] == 2)
            continue;
        if (slots >= budget) {
            left = true;
            break;
        }
        wk->state[s] = 1;
        do {
            wk->pos[s] = eng_scan(shards[s], wk->pos[s], SCAN_STEP, now,
                                  encode_entry, &x);
            slots += SCAN_STEP;
            if (wk->chunk.len >= wk->chunk_bytes) {
                hand_over(wk, h, done);
                done = 0;
            }
        } while (wk->pos[s] != 0 && slots < budget);
        if (wk->pos[s] == 0) {
            wk->state[s] = 2;
            done++; /* counted with the put that carries its last entries */
        } else {
            left = true;
        }
    }
    if (!left || done) /* else the chunk keeps filling next turn */
        hand_over(wk, h, done);
    return left ? REPL_WALK_MORE : REPL_WALK_IDLE;
}
