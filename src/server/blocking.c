/*
 * blocking.c — blocked clients (blocking.h).
 *
 * Why the waiter lives on its connection's worker (its home) and not on
 * the key's owner: only the home may touch the connection and its reply
 * slots, and a request whose keys span workers (BLMOVE src dst, BLPOP
 * k1 k2) has no single owner anyway. The owner's part is to tell the
 * home that a key changed (srv_blk_touch, which runs wherever the write
 * runs) and, for a request on its keys alone, to run the attempts.
 *
 * Where a blocking request runs, first and on each retry (exec.c routes
 * the first; retry() the others), by where its keys live:
 *  - all on the home: inline there (block(), a local retry);
 *  - all on one other worker W: by message to W, as any request. When W
 *    finds nothing, it queues the waiter itself (block_remote: no write
 *    can slip between its empty try and the queueing) and answers a mark
 *    with the waiter's address, and the home takes the waiter on
 *    (srv_blk_adopt), its slot still pending. A retry is the same request
 *    sent to W again with m->blk set (send_retry): W answers the reply, or
 *    the mark when still nothing (srv_blk_returned). Nobody is parked;
 *  - on several workers: exclusively (every other worker parked), first
 *    and on each retry.
 *
 * Why one registry with a mutex: FIFO among clients of different workers
 * needs one order per key. The registry is only looked at while someone
 * waits (blk_waiting, one relaxed load per write command otherwise), and
 * each look is a short critical section (hash, compare, set a flag).
 *
 * Turns: a write on a key marks the key's first waiter ready (not a later
 * one: FIFO), sets its home's blk_poke and writes the home's eventfd
 * (unless the home is the caller: it runs srv_blk_iteration this very
 * iteration). While the first waiter's retry runs (`serving`) a write
 * marks nobody: the retry either finds the element and the waiter leaves
 * the queues before the keys are touched again (finish() for a local or
 * exclusive retry, the owner's dequeue then srv_execute's touch for a
 * remote one), which passes the turn to the next waiter; or it finds
 * nothing, changes nothing and touches nothing (an empty retry waking the
 * next waiter, whose empty retry woke the first again, would never end),
 * and the waiter is markable again. A waiter that leaves while ready
 * (timeout, disconnect) passes its turn on. So N pushed elements reach
 * the first N waiters, in order, whatever worker each one is on.
 *
 * Concurrency: the queues and ready marks are under mu. While a waiter's
 * retry runs, no other thread writes its keys (a local retry runs on the
 * keys' owner, a remote one is run by the owner, an exclusive one parks
 * everyone). `serving` is set by the home before a retry and cleared by
 * whoever ran it; `dequeued` is written by the owner before its reply
 * goes back (the channel orders it).
 */
#define _GNU_SOURCE
#include "server/blocking.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "commands/t_list.h"
#include "commands/t_zset.h"
#include "server/client.h"
#include "server/worker.h"

/* One attempt of a blocking command, and its empty answer: the sorted
 * sets' (BZPOPMIN BZPOPMAX BZMPOP) or the lists'. */
static bool zset_kind(const cmd_ctx *c)
{
    const resp_arg *a = &c->argv[0];
    return a->len >= 2 && (a->ptr[0] | 0x20) == 'b' &&
           (a->ptr[1] | 0x20) == 'z';
}

static int blk_attempt(cmd_ctx *c, bool retry, int64_t *timeout_ms)
{
    return zset_kind(c) ? cmd_zset_block(c, retry, timeout_ms)
                        : cmd_list_block(c, retry, timeout_ms);
}

static void blk_empty(cmd_ctx *c, bool timed_out)
{
    if (zset_kind(c))
        cmd_zset_block_empty(c, timed_out);
    else
        cmd_list_block_empty(c, timed_out);
}

#define REG_BUCKETS 4096 /* power of two */
#define MAX_WAIT_KEYS 256

typedef struct blk_key blk_key;
typedef struct srv_blkw srv_blkw;

/* One waiter in one key's queue. */
typedef struct blk_ent {
    struct blk_ent *prev, *next;
    blk_key *k;
    srv_blkw *w;
} blk_ent;

struct blk_key {
    blk_key *next; /* bucket chain */
    uint64_t hash;
    blk_ent *head, *tail;
    size_t klen;
    char key[];
};

struct srv_blkw {
    srv_blkw *prev, *next; /* the home worker's list */
    conn *c;
    conn_slot *slot;
    srv_worker *home;
    const srv_cmdent *cmd;
    int64_t deadline; /* monotonic ms; INT64_MAX = none */
    _Atomic int ready;
    _Atomic bool serving; /* its retry runs: touches skip it */
    bool local; /* home owns every key of the request */
    int owner;  /* the one worker owning its keys, -1 when several */
    bool inflight; /* a retry is on its way to the owner (owner >= 0) */
    bool gone;     /* its client left while the retry was out */
    bool dequeued; /* the owner took it out of the queues (served) */
    int64_t tmo_ms; /* registered by the keys' owner: the home starts the
                       clock when it adopts the waiter (srv_blk_adopt) */
    size_t nkeys;
    blk_ent *ents;
    size_t argc;
    resp_arg *argv; /* followed by the argument bytes */
};

typedef struct srv_blk {
    pthread_mutex_t mu;
    blk_key *bucket[REG_BUCKETS];
} srv_blk;

int srv_blk_init(srv_server *s)
{
    srv_blk *b = calloc(1, sizeof(*b));
    if (!b)
        return -1;
    pthread_mutex_init(&b->mu, NULL);
    s->blk = b;
    return 0;
}

void srv_blk_destroy(srv_server *s)
{
    srv_blk *b = s->blk;
    if (!b)
        return;
    /* Whatever is still queued (a waiter its owner queued whose adoption
     * message was dropped at shutdown) is freed with its last key. */
    for (size_t i = 0; i < REG_BUCKETS; i++)
        for (blk_key *k = b->bucket[i], *n; k; k = n) {
            n = k->next;
            for (blk_ent *e = k->head, *en; e; e = en) {
                en = e->next;
                e->k = NULL;
                srv_blkw *x = e->w;
                bool left = false;
                for (size_t j = 0; j < x->nkeys && !left; j++)
                    left = x->ents[j].k != NULL;
                if (!left) {
                    free(x->ents);
                    free(x->argv);
                    free(x);
                }
            }
            free(k);
        }
    pthread_mutex_destroy(&b->mu);
    free(b);
    s->blk = NULL;
}

static uint64_t key_hash(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)p[i]) * 1099511628211ULL;
    return h;
}

/* Under mu. create: adds the key when absent (NULL on OOM). */
static blk_key *reg_find(srv_blk *b, const char *p, size_t n, bool create)
{
    uint64_t h = key_hash(p, n);
    blk_key **pp = &b->bucket[h & (REG_BUCKETS - 1)];
    for (blk_key *k = *pp; k; k = k->next)
        if (k->hash == h && k->klen == n && memcmp(k->key, p, n) == 0)
            return k;
    if (!create)
        return NULL;
    blk_key *k = calloc(1, sizeof(*k) + (n ? n : 1));
    if (!k)
        return NULL;
    k->hash = h;
    k->klen = n;
    memcpy(k->key, p, n);
    k->next = *pp;
    *pp = k;
    return k;
}

static void reg_drop_key(srv_blk *b, blk_key *k)
{
    blk_key **pp = &b->bucket[k->hash & (REG_BUCKETS - 1)];
    while (*pp && *pp != k)
        pp = &(*pp)->next;
    if (*pp)
        *pp = k->next;
    free(k);
}

/* Under mu: marks the first waiter of k ready and wakes its home (me: the
 * caller's worker, which needs no wake). A first waiter being served gets
 * nothing: whoever serves it touches the keys again once it left the
 * queues (or clears `serving` when it found nothing), so the turn passes
 * in queue order, one retry at a time per key. */
static void reg_notify(srv_worker *me, blk_key *k)
{
    srv_blkw *x = k->head ? k->head->w : NULL;
    if (!x || atomic_load(&x->serving))
        return;
    atomic_store(&x->ready, 1);
    atomic_store(&x->home->blk_poke, 1);
    if (x->home != me)
        srv_worker_wake(x->home);
}

/* Removes x from every queue (under the lock); when it leaves while its
 * turn was pending, the turn passes on. */
static void reg_remove(srv_worker *me, srv_blkw *x)
{
    srv_server *s = x->home->srv;
    srv_blk *b = s->blk;
    bool pass = atomic_load(&x->ready);
    pthread_mutex_lock(&b->mu);
    for (size_t i = 0; i < x->nkeys; i++) {
        blk_ent *e = &x->ents[i];
        blk_key *k = e->k;
        if (!k)
            continue;
        if (e->prev)
            e->prev->next = e->next;
        else
            k->head = e->next;
        if (e->next)
            e->next->prev = e->prev;
        else
            k->tail = e->prev;
        if (!k->head)
            reg_drop_key(b, k);
        else if (pass)
            reg_notify(me, k);
    }
    pthread_mutex_unlock(&b->mu);
    atomic_fetch_sub_explicit(&s->blk_waiting, 1, memory_order_relaxed);
}

/* Key positions a write touches, or a blocked request waits on
 * (wait_only: BLMOVE/BRPOPLPUSH wait on their source alone). */
static size_t key_positions(const cmd_def *d, const resp_arg *argv,
                            size_t argc, bool wait_only, size_t *pos)
{
    if (d->keys) {
        int n = d->keys(argv, argc, pos, MAX_WAIT_KEYS);
        return n > 0 ? (size_t)n : 0;
    }
    if (d->first_key <= 0 || (size_t)d->first_key >= argc)
        return 0;
    size_t first = (size_t)d->first_key;
    size_t last = d->last_key < 0 ? (size_t)((long)argc + d->last_key)
                                  : (size_t)d->last_key;
    size_t step = d->key_step > 0 ? (size_t)d->key_step : 1, n = 0;
    if (last >= argc)
        last = argc - 1;
    if (wait_only && (d->fn == cmd_blmove || d->fn == cmd_brpoplpush))
        last = first;
    for (size_t k = first; k <= last && n < MAX_WAIT_KEYS; k += step)
        pos[n++] = k;
    return n;
}

int srv_blk_owner(const srv_worker *w, const cmd_def *d,
                  const resp_arg *argv, size_t argc)
{
    size_t pos[MAX_WAIT_KEYS];
    size_t n = key_positions(d, argv, argc, false, pos);
    if (n == 0)
        return -1; /* malformed: exclusive, where the command errs */
    uint32_t o = srv_key_owner(&w->srv->mesh, &argv[pos[0]]);
    for (size_t i = 1; i < n; i++)
        if (srv_key_owner(&w->srv->mesh, &argv[pos[i]]) != o)
            return -1;
    return (int)o;
}

void srv_blk_touch_slow(srv_worker *w, const cmd_def *d, const resp_arg *argv,
                        size_t argc)
{
    size_t pos[MAX_WAIT_KEYS];
    if (d->flags & CMD_ALLKEYS)
        return; /* FLUSHALL and friends add no elements */
    size_t n = key_positions(d, argv, argc, false, pos);
    if (n == 0)
        return;
    srv_blk *b = w->srv->blk;
    pthread_mutex_lock(&b->mu);
    for (size_t i = 0; i < n; i++) {
        blk_key *k = reg_find(b, argv[pos[i]].ptr, argv[pos[i]].len, false);
        if (k)
            reg_notify(w, k);
    }
    pthread_mutex_unlock(&b->mu);
}

static void home_unlink(srv_blkw *x)
{
    srv_worker *w = x->home;
    if (x->prev)
        x->prev->next = x->next;
    else
        w->blk_head = x->next;
    if (x->next)
        x->next->prev = x->prev;
}

static void waiter_free(srv_blkw *x)
{
    free(x->ents);
    free(x->argv);
    free(x);
}

/* A waiter for request argv (its keys at pos[0..n)), queued at the end of
 * each key's queue. NULL on OOM. */
static srv_blkw *waiter_new(srv_server *s, srv_worker *home,
                            const srv_cmdent *e, const resp_arg *argv,
                            size_t argc, const size_t *pos, size_t n)
{
    size_t bytes = 0;
    for (size_t i = 0; i < argc; i++)
        bytes += argv[i].len;
    srv_blkw *bw = calloc(1, sizeof(*bw));
    if (bw) {
        bw->argv = malloc(argc * sizeof(resp_arg) + bytes + 1);
        bw->ents = calloc(n ? n : 1, sizeof(blk_ent));
    }
    if (!bw || !bw->argv || !bw->ents || n == 0) {
        if (bw)
            waiter_free(bw);
        return NULL;
    }
    char *dst = (char *)(bw->argv + argc);
    for (size_t i = 0; i < argc; i++) {
        memcpy(dst, argv[i].ptr, argv[i].len);
        bw->argv[i].ptr = dst;
        bw->argv[i].len = argv[i].len;
        dst += argv[i].len;
    }
    bw->argc = argc;
    bw->cmd = e;
    bw->nkeys = n;
    bw->home = home; /* before it is queued: touches read it */
    srv_blk *b = s->blk;
    pthread_mutex_lock(&b->mu);
    for (size_t i = 0; i < n; i++) {
        blk_key *k = reg_find(b, bw->argv[pos[i]].ptr, bw->argv[pos[i]].len,
                              true);
        blk_ent *en = &bw->ents[i];
        en->w = bw;
        if (!k)
            continue; /* OOM: this key cannot wake it; the timeout still can */
        bool twice = false; /* BLPOP k k: queued once */
        for (blk_ent *o = k->head; o && !twice; o = o->next)
            twice = o->w == bw;
        if (twice)
            continue;
        en->k = k;
        en->prev = k->tail;
        if (k->tail)
            k->tail->next = en;
        else
            k->head = en;
        k->tail = en;
    }
    pthread_mutex_unlock(&b->mu);
    atomic_fetch_add_explicit(&s->blk_waiting, 1, memory_order_relaxed);
    return bw;
}

/* The home takes x on: it waits from now, on conn c, in slot s. */
static void home_link(srv_worker *w, srv_blkw *x, conn *c, conn_slot *s,
                      int64_t timeout_ms)
{
    x->c = c;
    x->slot = s;
    x->deadline = timeout_ms > 0 ? w->now + timeout_ms : INT64_MAX;
    x->prev = NULL;
    x->next = w->blk_head;
    if (w->blk_head)
        w->blk_head->prev = x;
    w->blk_head = x;
    c->blk = x;
}

static const srv_cmdent *entry_of(srv_worker *w, const cmd_ctx *c)
{
    return srv_cmdtab_find(&w->srv->cmds, c->argv[0].ptr, c->argv[0].len);
}

/* Blocks the request of x on its own connection's worker (the try found
 * nothing). */
static void block(srv_exec *x, int64_t timeout_ms)
{
    cmd_ctx *c = x->c;
    srv_worker *w = x->w;
    size_t pos[MAX_WAIT_KEYS];
    const srv_cmdent *e = entry_of(w, c);
    size_t n = key_positions(e->def, c->argv, c->argc, true, pos);
    conn_slot *s = NULL;
    srv_blkw *bw = NULL;
    if (n && (s = conn_slot_open(x->conn, SLOT_REMOTE, 1)))
        bw = waiter_new(w->srv, w, e, c->argv, c->argc, pos, n);
    if (!bw) {
        if (s) { /* complete it with the error */
            resp_writer wr = {.out = &s->out, .proto = c->w->proto};
            resp_error(&wr, "ERR out of memory");
            conn_slot_part_done(s);
        } else {
            resp_error(c->w, "ERR out of memory");
        }
        return;
    }
    bw->owner = srv_blk_owner(w, e->def, c->argv, c->argc);
    bw->local = bw->owner == (int)w->id;
    home_link(w, bw, x->conn, s, timeout_ms);
    w->blk_blocked = true;
}

/* Blocks a request that came from worker `origin` to the owner of its
 * keys (x->w): the waiter is queued here and now, while no write can slip
 * in between the empty try and the queueing, and the reply tells the
 * origin to take it on (srv_blk_adopt). */
static void block_remote(srv_exec *x, int64_t timeout_ms, uint32_t origin)
{
    cmd_ctx *c = x->c;
    srv_worker *w = x->w;
    size_t pos[MAX_WAIT_KEYS];
    const srv_cmdent *e = entry_of(w, c);
    size_t n = key_positions(e->def, c->argv, c->argc, true, pos);
    srv_blkw *bw = waiter_new(w->srv, &w->srv->workers[origin], e, c->argv,
                              c->argc, pos, n);
    if (!bw) {
        resp_error(c->w, "ERR out of memory");
        return;
    }
    bw->local = false;
    bw->owner = (int)w->id;
    bw->tmo_ms = timeout_ms;
    w->blk_blocked = true;
    char mark = SRV_BLK_MARK;
    fc_buf_append(c->w->out, &mark, 1);
    fc_buf_append(c->w->out, &bw, sizeof(bw));
}

void srv_blk_adopt(srv_worker *w, conn_slot *s, const void *reply,
                   size_t len)
{
    srv_blkw *x;
    if (len != 1 + sizeof(x))
        abort(); /* only block_remote writes the mark */
    memcpy(&x, (const char *)reply + 1, sizeof(x));
    if (!s->conn) { /* the client left meanwhile */
        reg_remove(w, x);
        waiter_free(x);
        conn_slot_part_done(s);
        return;
    }
    home_link(w, x, s->conn, s, x->tmo_ms);
    if (atomic_load(&x->ready)) /* woken before it got here */
        atomic_store(&w->blk_poke, 1);
}

/* The blocking commands' function. */
static void blk_cmd(srv_exec *x)
{
    int64_t tmo = 0;
    srv_blkw *retry = x->w->blk_retry;
    if (retry) {
        /* A woken waiter's retry: nothing written = still nothing there. */
        blk_attempt(x->c, true, &tmo);
        return;
    }
    if (x->w->exec_blk) {
        /* A waiter's retry sent by its home, here on its keys' owner.
         * Still nothing: the mark (the waiter stays queued, and may be
         * woken again from now on), no touch (nothing changed). Served:
         * out of the queues now, so that srv_execute's touch right after
         * passes the turn to the next waiter. */
        srv_blkw *bw = x->w->exec_blk;
        if (blk_attempt(x->c, true, &tmo) == CMD_BLK_EMPTY) {
            char mark = SRV_BLK_MARK;
            x->w->blk_blocked = true;
            atomic_store(&bw->serving, false);
            fc_buf_append(x->c->w->out, &mark, 1);
        } else {
            reg_remove(x->w, bw);
            bw->dequeued = true;
        }
        return;
    }
    if (blk_attempt(x->c, false, &tmo) == CMD_BLK_DONE)
        return;
    if (x->w->blk_deny) { /* inside EXEC: never blocks */
        blk_empty(x->c, false);
        return;
    }
    if (x->conn)
        block(x, tmo);
    else if (x->w->exec_origin != UINT32_MAX)
        block_remote(x, tmo, x->w->exec_origin);
    else
        blk_empty(x->c, false);
}

/* Replies and frees x: its slot completes and the connection goes on.
 * served: x changed its keys, so their next waiters get their turn (x
 * out of the queues first). */
static void finish(srv_blkw *x, bool served)
{
    conn *c = x->c;
    reg_remove(x->home, x);
    if (served)
        srv_blk_touch_slow(x->home, x->cmd->def, x->argv, x->argc);
    home_unlink(x);
    c->blk = NULL;
    conn_slot *s = x->slot;
    waiter_free(x);
    conn_slot_part_done(s);
}

/* Sends x's request to the owner of its keys again, as a retry (m->blk):
 * false when there is no room towards it now (the caller retries here,
 * exclusively). */
static bool send_retry(srv_worker *w, srv_blkw *x)
{
    size_t bytes = 0;
    for (size_t i = 0; i < x->argc; i++)
        bytes += x->argv[i].len;
    uint32_t owner = (uint32_t)x->owner;
    if (!srv_msg_can_send(&w->rt, owner, bytes))
        return false;
    srv_msg *m = srv_msg_alloc(x->cmd, x->argc, bytes);
    if (!m)
        return false;
    char *dst = (char *)(m->argv + x->argc);
    for (size_t i = 0; i < x->argc; i++)
        dst = srv_msg_push(m, dst, &x->argv[i]);
    m->slot = x->slot;
    m->origin = w->id;
    m->proto = (uint8_t)x->c->wr.proto;
    m->blk = x;
    if (srv_msg_send(&w->rt, owner, m)) {
        free(m);
        return false;
    }
    x->inflight = true;
    x->serving = true;
    return true;
}

bool srv_blk_returned(srv_worker *w, conn_slot *s, const srv_msg *m)
{
    srv_blkw *x = m->blk;
    bool empty = !m->reply.oom && m->reply.len == 1 &&
                 m->reply.data[0] == SRV_BLK_MARK;
    x->inflight = false;
    if (x->gone) { /* its client left (srv_blk_conn_gone) */
        if (!x->dequeued)
            reg_remove(w, x);
        waiter_free(x);
        if (empty)
            conn_slot_part_done(s); /* frees the orphan */
        return empty;
    }
    if (empty) {
        if (atomic_load(&x->ready)) /* woken again meanwhile */
            atomic_store(&w->blk_poke, 1);
        return true;
    }
    /* Served (or an error): the reply goes into the slot as usual; the
     * owner's touch of the keys already passed the turn on. */
    conn *c = x->c;
    if (!x->dequeued)
        reg_remove(w, x);
    home_unlink(x);
    c->blk = NULL;
    waiter_free(x);
    return false;
}

static void retry(srv_worker *w, srv_blkw *x)
{
    if (x->c->io.closing)
        return; /* conn_destroy is coming: srv_blk_conn_gone frees it */
    /* Keys on one other worker: the request goes there again, by message
     * (no exclusive section), when the channel has room. */
    if (!x->local && x->owner >= 0 && send_retry(w, x))
        return; /* srv_blk_returned sees how it went */
    fc_buf *out = &x->slot->out;
    size_t before = out->len;
    resp_writer wr = {.out = out, .proto = x->c->wr.proto};
    x->serving = true;
    w->blk_retry = x;
    w->exec_mark_ns = 0;
    if (x->local) {
        srv_execute(w, x->cmd, x->argv, x->argc, &wr, x->c);
    } else {
        srv_excl_begin(&w->rt);
        srv_execute(w, x->cmd, x->argv, x->argc, &wr, x->c);
        srv_excl_end(&w->rt);
    }
    w->blk_retry = NULL;
    x->serving = false;
    if (out->len > before)
        finish(x, true);
}

static void time_out(srv_blkw *x)
{
    resp_writer wr = {.out = &x->slot->out, .proto = x->c->wr.proto};
    cmd_ctx ctx = {.argv = x->argv, .argc = x->argc, .w = &wr};
    blk_empty(&ctx, true);
    finish(x, false);
}

/* The oldest waiter (the list is pushed at its head) that wants a turn:
 * ready ones when `ready`, else timed-out ones. */
static srv_blkw *pick(srv_worker *w, bool ready)
{
    srv_blkw *got = NULL;
    for (srv_blkw *x = w->blk_head; x; x = x->next) {
        if (x->c->io.closing || x->inflight)
            continue; /* srv_blk_conn_gone frees it; its retry is out */
        if (ready ? atomic_load(&x->ready) != 0 : w->now >= x->deadline)
            got = x;
    }
    return got;
}

/* Rescans after each turn: a turn may complete a slot, which runs the
 * connection's next requests, which may block (a new waiter) or serve
 * others. Bounded per iteration; what is left keeps blk_poke set. */
void srv_blk_iteration(srv_worker *w)
{
    if (!atomic_exchange(&w->blk_poke, 0) && srv_blk_timers(w) != 0)
        return;
    srv_blkw *x;
    for (int turns = 0; (x = pick(w, true)); turns++) {
        if (turns == 1024) {
            atomic_store(&w->blk_poke, 1);
            break;
        }
        atomic_store(&x->ready, 0);
        retry(w, x);
    }
    while ((x = pick(w, false)))
        time_out(x);
}

int srv_blk_timers(srv_worker *w)
{
    int64_t next = INT64_MAX;
    if (atomic_load(&w->blk_poke))
        return 0; /* turns are waiting: no sleep */
    for (srv_blkw *x = w->blk_head; x; x = x->next)
        if (x->deadline < next)
            next = x->deadline;
    if (next == INT64_MAX)
        return -1;
    int64_t d = next - w->now;
    return d <= 0 ? 0 : d > 100000 ? 100000 : (int)d;
}

void srv_blk_conn_gone(conn *c)
{
    srv_blkw *x = c->blk;
    if (!x)
        return;
    if (x->inflight) {
        /* The retry's reply still comes back to the slot, which
         * conn_destroy orphans: srv_blk_returned frees x then (the owner
         * may be dequeuing it right now: the queues are left to it). */
        home_unlink(x);
        c->blk = NULL;
        x->gone = true;
        return;
    }
    reg_remove(x->home, x);
    home_unlink(x);
    c->blk = NULL;
    /* The slot is complete (empty): conn_destroy frees it with the rest. */
    x->slot->pending = 0;
    c->nwaiting--;
    waiter_free(x);
}

/* --- the family ------------------------------------------------------- */

static const char *const names[] = {"blpop",    "brpop",    "blmove",
                                    "brpoplpush", "blmpop", "bzpopmin",
                                    "bzpopmax", "bzmpop"};
#define NBLK (sizeof(names) / sizeof(names[0]))
static srv_cmd table[NBLK];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

/* The rows are the data table's (one definition of arity, flags, keys),
 * with the blocking function. */
static void build(void)
{
    for (size_t i = 0; i < NBLK; i++) {
        const cmd_def *d = cmd_lookup(names[i], strlen(names[i]));
        table[i].def = *d;
        table[i].fn = blk_cmd;
        table[i].sflags = SRV_CMD_BLOCK;
    }
}

const srv_cmd *srv_cmds_block(size_t *n)
{
    pthread_once(&table_once, build);
    *n = NBLK;
    return table;
}
