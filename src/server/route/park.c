/*
 * park.c — exclusive execution: the cross-worker token and parking (the
 * protocol is described in mesh.h).
 *
 * Waiting is spin-then-sleep: a parked worker gives its core back after a
 * short spin, because exclusive sections (KEYS, FLUSHALL, MSET ...) are rare
 * and can be long, and the section's own worker may share that core.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <time.h>

#include "server/route/mesh.h"

static void backoff(unsigned *spins)
{
    if (*spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    } else if (*spins < 128) {
        sched_yield();
    } else {
        struct timespec ts = {0, 50 * 1000};
        nanosleep(&ts, NULL);
    }
    (*spins)++;
}

void srv_park_point(srv_router *rt)
{
    uint64_t gen;
    while ((gen = atomic_load_explicit(&rt->park_req, memory_order_acquire))) {
        /* The holder may write our shards: our records must be queued
         * before its own (durable.h). */
        srv_on_park(rt->worker);
        atomic_store_explicit(&rt->parked, gen, memory_order_release);
        unsigned spins = 0;
        while (atomic_load_explicit(&rt->park_req, memory_order_acquire) == gen)
            backoff(&spins);
    }
}

static void park_others(srv_router *rt);

void srv_excl_begin(srv_router *rt)
{
    srv_mesh *m = rt->mesh;
    if (m->nworkers == 1 || rt->holds_token)
        return; /* the token still lingers from this turn's last section */
    unsigned spins = 0;
    int expected = -1;
    while (!atomic_compare_exchange_weak_explicit(
        &m->token, &expected, (int)rt->id, memory_order_acquire,
        memory_order_relaxed)) {
        expected = -1;
        /* The holder may be waiting for us: keep answering. */
        srv_park_point(rt);
        backoff(&spins);
    }
    park_others(rt);
}

bool srv_excl_try_begin(srv_router *rt)
{
    srv_mesh *m = rt->mesh;
    if (m->nworkers == 1 || rt->holds_token)
        return true;
    int expected = -1;
    if (!atomic_compare_exchange_strong_explicit(&m->token, &expected,
                                                 (int)rt->id,
                                                 memory_order_acquire,
                                                 memory_order_relaxed))
        return false;
    park_others(rt);
    return true;
}

/* With the token: asks every other worker to park and waits for it. */
static void park_others(srv_router *rt)
{
    srv_mesh *m = rt->mesh;
    unsigned spins;
    uint64_t gen = ++m->park_gen;
    /* Counted (INFO stats exclusive_sections) so that operators and tests
     * can see which commands stop the world. */
    atomic_store_explicit(
        &rt->stat_excl,
        atomic_load_explicit(&rt->stat_excl, memory_order_relaxed) + 1,
        memory_order_relaxed);
    for (uint32_t i = 0; i < m->nworkers; i++) {
        if (i == rt->id)
            continue;
        atomic_store_explicit(&m->routers[i]->park_req, gen,
                              memory_order_release);
        srv_worker_wake(m->routers[i]->worker);
    }
    for (uint32_t i = 0; i < m->nworkers; i++) {
        srv_router *o = m->routers[i];
        spins = 0;
        while (i != rt->id &&
               atomic_load_explicit(&o->parked, memory_order_acquire) != gen &&
               !atomic_load_explicit(&o->exited, memory_order_acquire))
            backoff(&spins);
    }
    rt->holds_token = true;
}

void srv_excl_end(srv_router *rt)
{
    (void)rt; /* the token lingers until srv_excl_release (mesh.h) */
}

void srv_excl_release(srv_router *rt)
{
    srv_mesh *m = rt->mesh;
    if (!rt->holds_token)
        return;
    rt->holds_token = false;
    srv_on_park(rt->worker); /* before the owners write their shards again */
    for (uint32_t i = 0; i < m->nworkers; i++)
        if (i != rt->id)
            atomic_store_explicit(&m->routers[i]->park_req, 0,
                                  memory_order_release);
    atomic_store_explicit(&m->token, -1, memory_order_release);
}
