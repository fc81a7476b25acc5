/*
 * mesh.c — building the mesh (channels, routers), key placement, and
 * messages: allocation, sending within the in-flight bounds (mesh.h).
 * Exclusive execution is in park.c.
 */
#include "server/route/mesh.h"

#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "server/route/route.h"

int srv_mesh_init(srv_mesh *m, uint32_t nworkers, uint32_t nshards,
                  uint64_t hash_seed, int route_mode)
{
    memset(m, 0, sizeof(*m));
    m->nworkers = nworkers;
    m->nshards = nshards;
    m->hash_seed = hash_seed;
    m->route_mode = route_mode;
    atomic_init(&m->token, -1);
    size_t n = (size_t)nworkers * nworkers;
    m->chans = calloc(n, sizeof(*m->chans));
    m->routers = calloc(nworkers, sizeof(*m->routers));
    if (!m->chans || !m->routers)
        return -1;
    for (uint32_t a = 0; a < nworkers; a++)
        for (uint32_t b = 0; b < nworkers; b++)
            if (a != b &&
                spsc_chan_init_bounded(srv_mesh_chan(m, a, b),
                                       SRV_CHAN_CAPACITY, SRV_CHAN_OVERFLOW))
                return -1;
    return 0;
}

void srv_mesh_discard(srv_mesh *m)
{
    size_t n = (size_t)m->nworkers * m->nworkers;
    for (size_t i = 0; m->chans && i < n; i++) {
        spsc_chan *ch = &m->chans[i];
        void *msg;
        if (!ch->ring)
            continue;
        while ((msg = spsc_ring_pop(ch->ring)))
            srv_msg_discard(msg);
        while ((msg = spsc_chan_take_overflow(ch)))
            srv_msg_discard(msg);
    }
}

void srv_mesh_destroy(srv_mesh *m)
{
    if (m->chans)
        for (size_t i = 0; i < (size_t)m->nworkers * m->nworkers; i++)
            spsc_chan_destroy(&m->chans[i]);
    free(m->chans);
    free(m->routers);
    m->chans = NULL;
    m->routers = NULL;
}

uint32_t srv_key_owner(const srv_mesh *m, const resp_arg *key)
{
    uint64_t h = eng_route_hash(m->hash_seed, m->route_mode, key->ptr, key->len);
    return srv_mesh_owner(m, (uint32_t)(h & (m->nshards - 1)));
}

int srv_router_init(srv_router *rt, srv_mesh *m, struct srv_worker *w,
                    uint32_t id)
{
    memset(rt, 0, sizeof(*rt));
    rt->mesh = m;
    rt->worker = w;
    rt->id = id;
    rt->wake_dst = calloc(m->nworkers, sizeof(*rt->wake_dst));
    rt->inflight = calloc(m->nworkers, sizeof(*rt->inflight));
    rt->inflight_bytes = calloc(m->nworkers, sizeof(*rt->inflight_bytes));
    if (!rt->wake_dst || !rt->inflight || !rt->inflight_bytes)
        return -1;
    m->routers[id] = rt;
    return 0;
}

void srv_router_destroy(srv_router *rt)
{
    free(rt->wake_dst);
    free(rt->inflight);
    free(rt->inflight_bytes);
    free(rt->sub_argv);
    rt->wake_dst = NULL;
    rt->inflight = NULL;
    rt->inflight_bytes = NULL;
    rt->sub_argv = NULL;
}

srv_msg *srv_msg_alloc(const struct srv_cmdent *e, size_t argc, size_t bytes)
{
    srv_msg *m = malloc(sizeof(*m) + argc * sizeof(resp_arg) + bytes);
    if (!m)
        return NULL;
    memset(m, 0, sizeof(*m));
    m->cmd = e;
    m->bytes = bytes;
    m->argc = 0;
    return m;
}

char *srv_msg_push(srv_msg *m, char *dst, const resp_arg *a)
{
    memcpy(dst, a->ptr, a->len);
    m->argv[m->argc].ptr = dst;
    m->argv[m->argc].len = a->len;
    m->argc++;
    return dst + a->len;
}

int srv_msg_send(srv_router *rt, uint32_t dst, srv_msg *m)
{
    /* Read before the push: once in the channel, a reply may be freed by
     * its origin at any moment. */
    bool request = m->origin == rt->id;
    size_t bytes = m->bytes;
    if (request)
        m->owner = dst;
    if (spsc_chan_send(srv_mesh_chan(rt->mesh, rt->id, dst), m))
        return -1;
    if (request) {
        /* Single writer: a plain load + store, no locked RMW. */
        atomic_store_explicit(
            &rt->stat_hops,
            atomic_load_explicit(&rt->stat_hops, memory_order_relaxed) + 1,
            memory_order_relaxed);
        rt->inflight[dst]++;
        rt->inflight_bytes[dst] += bytes;
    }
    rt->wake_dst[dst] = true;
    return 0;
}

bool srv_msg_can_send(const srv_router *rt, uint32_t dst, size_t bytes)
{
    if (rt->inflight[dst] == 0)
        return true; /* one always goes, however large */
    return rt->inflight[dst] < SRV_CHAN_INFLIGHT &&
           rt->inflight_bytes[dst] + bytes <= SRV_CHAN_INFLIGHT_BYTES;
}

bool srv_msg_can_send_all(const srv_router *rt, size_t bytes)
{
    for (uint32_t d = 0; d < rt->mesh->nworkers; d++)
        if (d != rt->id && !srv_msg_can_send(rt, d, bytes))
            return false;
    return true;
}

void srv_msg_back(srv_router *rt, const srv_msg *m)
{
    rt->inflight[m->owner]--;
    rt->inflight_bytes[m->owner] -= m->bytes;
}
