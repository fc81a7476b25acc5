/*
 * walk.c — snapshot walker (walk.h).
 */
#include "repl/walk.h"

#include <fastcache.h>
#include "engine/obj.h"
#include <stdlib.h>
#include <string.h>

#define SCAN_STEP 128

int repl_walker_init(repl_walker *wk, uint32_t nshards, size_t chunk_bytes)
{
    memset(wk, 0, sizeof *wk);
    wk->pos = calloc(nshards, sizeof *wk->pos);
    wk->state = calloc(nshards, 1);
    wk->cut = calloc(nshards, sizeof *wk->cut);
    wk->done = calloc(nshards, sizeof *wk->done);
    wk->done_cut = calloc(nshards, sizeof *wk->done_cut);
    if (!wk->pos || !wk->state || !wk->cut || !wk->done || !wk->done_cut) {
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
    free(wk->cut);
    free(wk->done);
    free(wk->done_cut);
    fc_buf_free(&wk->chunk);
    memset(wk, 0, sizeof *wk);
}

typedef struct enc_ctx {
    repl_walker *wk;
    repl_hub *h;
    int64_t wall_offset;
} enc_ctx;

static void hand_over(repl_walker *wk, repl_hub *h);

static void encode_entry(void *ctx, const eng_entry *e)
{
    enc_ctx *x = ctx;
    static _Thread_local fc_buf ser; /* a typed value, serialized */
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
    if (eng_entry_type(e) != ENG_TYPE_STRING) {
        const eng_obj *o = eng_entry_obj(e);
        ser.len = 0;
        ser.oom = false;
        if (eng_obj_serialize(o, &ser) != FC_OK) {
            x->wk->chunk.oom = true; /* the walk fails, not a silent gap */
            return;
        }
        en.vtype = (uint8_t)eng_entry_type(e);
        en.obj_seq = eng_obj_snapshot_seq(o);
        en.value = (const uint8_t *)ser.data;
        en.value_len = (uint32_t)ser.len;
    }
    if (fcrp_entry_put(&x->wk->chunk, &en) == FCRP_OK)
        x->wk->count++;
    if (x->wk->chunk.len >= x->wk->chunk_bytes) /* chunks near the target */
        hand_over(x->wk, x->h);
}

static void hand_over(repl_walker *wk, repl_hub *h)
{
    if (wk->count || wk->ndone)
        repl_hub_walk_put(h, wk->gen, wk->chunk.data, wk->chunk.len,
                          wk->count, wk->done, wk->done_cut, wk->ndone);
    wk->ndone = 0;
    wk->chunk.len = 0;
    wk->chunk.oom = false;
    wk->count = 0;
}

int repl_walker_step(repl_walker *wk, repl_hub *h, repl_batcher *b,
                     eng_shard **shards, uint32_t first, uint32_t stride,
                     size_t budget, int64_t now, int64_t wall_offset_ms)
{
    uint64_t gen = repl_hub_walk_gen(h);
    if (!gen)
        return REPL_WALK_IDLE;
    if (gen != wk->gen) {
        memset(wk->pos, 0, wk->nshards * sizeof *wk->pos);
        memset(wk->state, 0, wk->nshards);
        wk->chunk.len = 0;
        wk->count = 0;
        wk->ndone = 0;
        wk->gen = gen;
    }
    if (repl_hub_walk_busy(h))
        return REPL_WALK_BUSY;
    enc_ctx x = {.wk = wk, .h = h, .wall_offset = wall_offset_ms};
    size_t slots = 0;
    bool left = false;
    uint32_t step = stride ? stride : wk->nshards;
    for (uint32_t s = first; s < wk->nshards; s += step) {
        if (wk->state[s] == 2)
            continue;
        if (slots >= budget) {
            left = true;
            break;
        }
        if (wk->state[s] == 0) {
            /* The cut: everything up to it is in the image, everything
             * after it goes through the backlog. Publish what is pending
             * first, so nothing at or below the cut is published later. */
            repl_frame f;
            if (b && repl_batcher_take(b, s, &f) == 1) {
                repl_hub_publish(h, &f);
                repl_hub_kick(h);
            }
            wk->cut[s] = eng_seq(shards[s]);
            wk->state[s] = 1;
        }
        do {
            wk->pos[s] = eng_scan(shards[s], wk->pos[s], SCAN_STEP, now,
                                  encode_entry, &x);
            slots += SCAN_STEP;
        } while (wk->pos[s] != 0 && slots < budget);
        if (wk->pos[s] == 0) {
            wk->state[s] = 2;
            /* reported with the put that carries its last entries */
            wk->done[wk->ndone] = s;
            wk->done_cut[wk->ndone++] = wk->cut[s];
        } else {
            left = true;
        }
    }
    if (!left || wk->ndone) /* else the chunk keeps filling next turn */
        hand_over(wk, h);
    return left ? REPL_WALK_MORE : REPL_WALK_IDLE;
}
