/*
 * pubstats.c — publishing and summing per-worker keyspace figures (see
 * pubstats.h), DBSIZE answered from them, and RANDOMKEY's pick of a worker
 * weighted by them (srv_pub_pick, a hook of route/route.h).
 */
#include "server/pubstats.h"

#include <string.h>

#include "server/server.h"
#include "server/worker.h"

static void own_figures(const srv_worker *w, srv_keyspace *k)
{
    const srv_server *s = w->srv;
    k->keys = k->expires = k->memory = 0;
    for (uint32_t i = w->id; i < s->nshards; i += s->nworkers) {
        k->keys += eng_len(s->shards[i]);
        k->expires += eng_expires_count(s->shards[i]);
        k->memory += eng_memory(s->shards[i]);
    }
}

void srv_pub_refresh(srv_worker *w)
{
    srv_keyspace k;
    own_figures(w, &k);
    atomic_store_explicit(&w->pub_keys, k.keys, memory_order_relaxed);
    atomic_store_explicit(&w->pub_expires, k.expires, memory_order_relaxed);
    atomic_store_explicit(&w->pub_memory, k.memory, memory_order_relaxed);
    w->pub_dirty = false;
}

static void own_mem(const srv_worker *w, eng_mem_stats *m)
{
    const srv_server *s = w->srv;
    memset(m, 0, sizeof(*m));
    for (uint32_t i = w->id; i < s->nshards; i += s->nworkers)
        eng_mem_stats_add(s->shards[i], m);
}

static void mem_to_array(const eng_mem_stats *m, uint64_t *a)
{
    a[0] = m->slab_pages_bytes;
    a[1] = m->slab_resident_bytes;
    a[2] = m->slab_live_bytes;
    a[3] = m->heap_bytes;
    a[4] = m->defrag_moved;
    a[5] = m->defrag_pages_freed;
    a[6] = m->defrag_trimmed_bytes;
}

void srv_pub_mem_refresh(srv_worker *w)
{
    eng_mem_stats m;
    uint64_t a[SRV_PUB_MEM_N];
    own_mem(w, &m);
    mem_to_array(&m, a);
    for (int i = 0; i < SRV_PUB_MEM_N; i++)
        atomic_store_explicit(&w->pub_mem[i], a[i], memory_order_relaxed);
}

void srv_pub_mem_sum(const srv_worker *self, eng_mem_stats *out)
{
    const srv_server *s = self->srv;
    uint64_t a[SRV_PUB_MEM_N];
    own_mem(self, out);
    mem_to_array(out, a);
    for (uint32_t i = 0; i < s->nworkers; i++) {
        if (&s->workers[i] == self)
            continue;
        for (int k = 0; k < SRV_PUB_MEM_N; k++)
            a[k] += atomic_load_explicit(&s->workers[i].pub_mem[k],
                                         memory_order_relaxed);
    }
    out->slab_pages_bytes = a[0];
    out->slab_resident_bytes = a[1];
    out->slab_live_bytes = a[2];
    out->heap_bytes = a[3];
    out->defrag_moved = a[4];
    out->defrag_pages_freed = a[5];
    out->defrag_trimmed_bytes = a[6];
}

static void own_tiers(const srv_worker *w, uint64_t a[SRV_PUB_TIER_N])
{
    const srv_server *s = w->srv;
    eng_tier_stats t[ENG_TIERS];
    memset(t, 0, sizeof(t));
    for (uint32_t i = w->id; i < s->nshards; i += s->nworkers)
        eng_tier_stats_add(s->shards[i], t);
    for (int l = 0; l < ENG_TIERS; l++) {
        a[l * 5 + 0] = t[l].keys;
        a[l * 5 + 1] = t[l].capacity;
        a[l * 5 + 2] = t[l].hits;
        a[l * 5 + 3] = t[l].promotions;
        a[l * 5 + 4] = t[l].demotions;
    }
}

void srv_pub_tier_refresh(srv_worker *w)
{
    uint64_t a[SRV_PUB_TIER_N];
    own_tiers(w, a);
    for (int i = 0; i < SRV_PUB_TIER_N; i++)
        atomic_store_explicit(&w->pub_tier[i], a[i], memory_order_relaxed);
}

void srv_pub_tier_sum(const srv_worker *self, eng_tier_stats out[ENG_TIERS])
{
    const srv_server *s = self->srv;
    uint64_t a[SRV_PUB_TIER_N];
    own_tiers(self, a);
    for (uint32_t i = 0; i < s->nworkers; i++) {
        if (&s->workers[i] == self)
            continue;
        for (int k = 0; k < SRV_PUB_TIER_N; k++)
            a[k] += atomic_load_explicit(&s->workers[i].pub_tier[k],
                                         memory_order_relaxed);
    }
    for (int l = 0; l < ENG_TIERS; l++)
        out[l] = (eng_tier_stats){.keys = a[l * 5 + 0],
                                  .capacity = a[l * 5 + 1],
                                  .hits = a[l * 5 + 2],
                                  .promotions = a[l * 5 + 3],
                                  .demotions = a[l * 5 + 4]};
}

void srv_pub_refresh_all(srv_server *s)
{
    for (uint32_t i = 0; i < s->nworkers; i++)
        srv_pub_refresh(&s->workers[i]);
}

void srv_pub_sum(const srv_worker *self, srv_keyspace *out)
{
    const srv_server *s = self->srv;
    own_figures(self, out);
    for (uint32_t i = 0; i < s->nworkers; i++) {
        const srv_worker *o = &s->workers[i];
        if (o == self)
            continue;
        out->keys += atomic_load_explicit(&o->pub_keys, memory_order_relaxed);
        out->expires +=
            atomic_load_explicit(&o->pub_expires, memory_order_relaxed);
        out->memory +=
            atomic_load_explicit(&o->pub_memory, memory_order_relaxed);
    }
}

uint64_t srv_pub_keys(const srv_worker *self, uint32_t i)
{
    const srv_server *s = self->srv;
    if (i != self->id)
        return atomic_load_explicit(&s->workers[i].pub_keys,
                                    memory_order_relaxed);
    uint64_t n = 0;
    for (uint32_t k = self->id; k < s->nshards; k += s->nworkers)
        n += eng_len(s->shards[k]);
    return n;
}

uint32_t srv_pub_pick(srv_worker *w)
{
    srv_server *s = w->srv;
    uint64_t total = 0, pick;
    uint32_t owner = w->id;
    for (uint32_t i = 0; i < s->nworkers; i++)
        total += srv_pub_keys(w, i);
    if (total) {
        uint64_t x = w->rng ? w->rng : 0x9e3779b97f4a7c15ULL;
        x ^= x << 13; /* xorshift64, the worker's RANDOMKEY state */
        x ^= x >> 7;
        x ^= x << 17;
        w->rng = x;
        pick = x % total;
        for (owner = 0; owner + 1 < s->nworkers; owner++) {
            uint64_t k = srv_pub_keys(w, owner);
            if (pick < k)
                break;
            pick -= k;
        }
    }
    return owner;
}

/* Overrides the data command of the same name (server families come first
 * in the table): same definition, answered from published figures. */
static void cmd_dbsize_pub(srv_exec *x)
{
    srv_keyspace k;
    srv_pub_sum(x->w, &k);
    resp_int(x->c->w, (int64_t)k.keys);
}

static const srv_cmd cmds[] = {
    {{"dbsize", 1, CMD_READONLY | CMD_FAST | CMD_ALLKEYS, 0, 0, 0,
      CMD_SPLIT_NONE, NULL, "server",
      "Return the number of keys in the selected database", "1.0.0"},
     cmd_dbsize_pub,
     SRV_CMD_PUBLISHED,
     NULL},
};

const srv_cmd *srv_cmds_pub(size_t *n)
{
    *n = sizeof(cmds) / sizeof(cmds[0]);
    return cmds;
}
