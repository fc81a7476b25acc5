/*
 * pubsub.c — publish/subscribe (pubsub.h).
 *
 * Who owns the subscriber lists. One registry for the process, under one
 * mutex, rather than per worker: a PUBLISH must find every receiver
 * whatever worker it sits on, and count them before it replies (Redis's
 * reply is the number of receivers). Asking every worker by message
 * (srv_every) would make PUBLISH wait for the slowest worker's iteration;
 * a lookup under a lock is a hash probe plus one glob match per pattern,
 * as in Redis. The registry maps each channel (and each shard channel,
 * and each pattern) to an array of its subscribers' srv_psc; each srv_psc
 * holds its connection's own sets, so UNSUBSCRIBE without arguments and
 * the counts in the confirmations need no scan of the registry.
 *
 * How a message crosses workers. Only a connection's worker may write
 * its output. PUBLISH therefore makes one delivery per receiver (the
 * message's bytes are shared by all of them, refcounted): for a receiver
 * on the publisher's own worker it is written right after the lookup; for
 * one on another worker it is appended to that worker's inbox, and the
 * worker is woken when its inbox was empty (srv_worker_wake: its eventfd,
 * which poll always watches). The worker drains its inbox in its loop
 * (srv_ps_iteration), writing each message into the connection's output
 * with the connection's protocol (RESP2 array, RESP3 push).
 *
 * Ordering. Deliveries are appended to inboxes under the registry lock,
 * so the inbox of each worker receives messages in the order the
 * publishes took the lock: one publisher's messages (one connection runs
 * one command at a time) arrive in publish order, and a PUBLISH that
 * returned is ahead of any later PUBLISH from anywhere. Before writing
 * its local deliveries, a publisher drains its own worker's inbox, so a
 * message queued there earlier is not overtaken by a local one.
 *
 * Lifetime. A delivery points at its receiver's srv_psc, never at the
 * connection: the srv_psc is refcounted (the connection holds one
 * reference, each delivery one) and its `c` is cleared when the
 * connection goes (under the lock, as it leaves the registry, so no new
 * delivery can find it), after which queued deliveries are dropped.
 * Every reference is released on the receiver's worker.
 *
 * Memory bound. A delivery's bytes join the connection's output
 * immediately, and conn_obuf_check then applies the pubsub class of
 * client-output-buffer-limit (conn.c picks the class from
 * srv_ps_active), closing a subscriber that does not read. The inbox
 * holds what was published to the worker's subscribers since its last
 * iteration.
 */
#include "server/pubsub.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "commands/cmd_util.h"
#include "server/client.h"
#include "server/worker.h"

/* --- a string-keyed hash map ------------------------------------------- */

typedef struct srv_ps_node {
    struct srv_ps_node *next;
    uint64_t h;
    void *val;
    size_t len;
    char key[];
} ps_node;

static uint64_t ps_hash(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)p[i]) * 1099511628211ULL;
    return h;
}

static ps_node *map_find(const srv_ps_map *m, const char *p, size_t n,
                         uint64_t h)
{
    if (!m->b)
        return NULL;
    for (ps_node *x = m->b[h & m->mask]; x; x = x->next)
        if (x->h == h && x->len == n && memcmp(x->key, p, n) == 0)
            return x;
    return NULL;
}

static int map_grow(srv_ps_map *m)
{
    size_t nb = m->b ? (m->mask + 1) * 2 : 8;
    ps_node **b = calloc(nb, sizeof(*b));
    if (!b)
        return -1;
    if (m->b) {
        for (size_t i = 0; i <= m->mask; i++)
            for (ps_node *x = m->b[i], *nx; x; x = nx) {
                nx = x->next;
                x->next = b[x->h & (nb - 1)];
                b[x->h & (nb - 1)] = x;
            }
        free(m->b);
    }
    m->b = b;
    m->mask = nb - 1;
    return 0;
}

/* Adds a key known to be absent. NULL on OOM. */
static ps_node *map_add(srv_ps_map *m, const char *p, size_t n, uint64_t h,
                        void *val)
{
    if ((!m->b || m->n >= m->mask + 1) && map_grow(m) && !m->b)
        return NULL; /* a failed grow of a non-empty map only costs speed */
    ps_node *x = malloc(sizeof(*x) + (n ? n : 1));
    if (!x)
        return NULL;
    x->h = h;
    x->val = val;
    x->len = n;
    memcpy(x->key, p, n);
    x->next = m->b[h & m->mask];
    m->b[h & m->mask] = x;
    m->n++;
    return x;
}

/* Unlinks and frees x (its val is the caller's). */
static void map_del(srv_ps_map *m, ps_node *x)
{
    ps_node **pp = &m->b[x->h & m->mask];
    while (*pp != x)
        pp = &(*pp)->next;
    *pp = x->next;
    m->n--;
    free(x);
}

static void map_free(srv_ps_map *m)
{
    if (m->b)
        for (size_t i = 0; i <= m->mask; i++)
            for (ps_node *x = m->b[i], *nx; x; x = nx) {
                nx = x->next;
                free(x);
            }
    free(m->b);
    memset(m, 0, sizeof(*m));
}

/* --- the registry ------------------------------------------------------ */

/* The subscribers of one channel, pattern or shard channel. */
typedef struct ps_subs {
    srv_psc **v;
    size_t n, cap;
} ps_subs;

/* One PUBLISH's bytes (channel, then message), shared by its deliveries. */
typedef struct ps_pub {
    _Atomic uint32_t refs;
    bool shard;
    size_t clen, mlen;
    char data[];
} ps_pub;

/* One message for one receiver; a pmessage carries its pattern. */
typedef struct ps_dlv {
    struct ps_dlv *next;
    srv_psc *to;
    ps_pub *pub;
    bool pat;
    size_t plen;
    char pattern[];
} ps_dlv;

/* A worker's inbox. */
typedef struct ps_box {
    pthread_mutex_t mu;
    ps_dlv *head, *tail;
    _Atomic int poke; /* non-empty */
    char pad[64];
} ps_box;

typedef struct srv_pubsub {
    pthread_mutex_t mu;
    srv_ps_map reg[SRV_PS_KINDS]; /* name -> ps_subs */
    uint32_t nworkers;
    ps_box *box; /* [nworkers] */
    bool *wake;  /* [nworkers * nworkers]: publisher's scratch */
} ps_reg;

int srv_ps_init(srv_server *s)
{
    ps_reg *ps = calloc(1, sizeof(*ps));
    if (!ps)
        return -1;
    ps->nworkers = s->nworkers;
    ps->box = calloc(s->nworkers, sizeof(*ps->box));
    ps->wake = calloc((size_t)s->nworkers * s->nworkers, sizeof(bool));
    if (!ps->box || !ps->wake) {
        free(ps->box);
        free(ps->wake);
        free(ps);
        return -1;
    }
    pthread_mutex_init(&ps->mu, NULL);
    for (uint32_t i = 0; i < s->nworkers; i++)
        pthread_mutex_init(&ps->box[i].mu, NULL);
    s->pubsub = ps;
    return 0;
}

static void pub_unref(ps_pub *p)
{
    if (atomic_fetch_sub(&p->refs, 1) == 1)
        free(p);
}

static void psc_unref(srv_psc *p)
{
    if (atomic_fetch_sub(&p->refs, 1) != 1)
        return;
    for (int k = 0; k < SRV_PS_KINDS; k++)
        map_free(&p->mine[k]);
    free(p);
}

void srv_ps_destroy(srv_server *s)
{
    ps_reg *ps = s->pubsub;
    if (!ps)
        return;
    /* Every connection is gone (the workers closed them): the registry is
     * empty; what is left in the inboxes refers to gone connections. */
    for (uint32_t i = 0; i < ps->nworkers; i++) {
        for (ps_dlv *d = ps->box[i].head, *n; d; d = n) {
            n = d->next;
            psc_unref(d->to);
            pub_unref(d->pub);
            free(d);
        }
        pthread_mutex_destroy(&ps->box[i].mu);
    }
    for (int k = 0; k < SRV_PS_KINDS; k++) {
        srv_ps_map *m = &ps->reg[k];
        if (m->b)
            for (size_t i = 0; i <= m->mask; i++)
                for (ps_node *x = m->b[i]; x; x = x->next) {
                    ps_subs *sb = x->val;
                    free(sb->v);
                    free(sb);
                }
        map_free(m);
    }
    pthread_mutex_destroy(&ps->mu);
    free(ps->box);
    free(ps->wake);
    free(ps);
    s->pubsub = NULL;
}

size_t srv_ps_count(const conn *c, enum srv_ps_kind k)
{
    return c->ps ? c->ps->mine[k].n : 0;
}

bool srv_ps_active(const conn *c)
{
    const srv_psc *p = c->ps;
    return p && p->mine[0].n + p->mine[1].n + p->mine[2].n > 0;
}

/* The count a confirmation carries: Redis counts channels and patterns
 * together, shard channels apart. */
static size_t confirm_count(const srv_psc *p, enum srv_ps_kind k)
{
    if (!p)
        return 0;
    return k == SRV_PS_SHARD ? p->mine[SRV_PS_SHARD].n
                             : p->mine[SRV_PS_CHAN].n + p->mine[SRV_PS_PAT].n;
}

static void confirm(resp_writer *wr, const char *what, const resp_arg *name,
                    size_t count)
{
    resp_push(wr, 3);
    resp_bulk_cstr(wr, what);
    if (name)
        resp_bulk(wr, name->ptr, name->len);
    else
        resp_null(wr);
    resp_int(wr, (int64_t)count);
}

static srv_psc *psc_get(conn *c)
{
    if (!c->ps) {
        srv_psc *p = calloc(1, sizeof(*p));
        if (!p)
            return NULL;
        p->c = c;
        p->home = c->w;
        atomic_init(&p->refs, 1);
        c->ps = p;
    }
    return c->ps;
}

/* Under mu: p joins name's subscribers. -1 on OOM (nothing changed). */
static int reg_join(ps_reg *ps, srv_psc *p, enum srv_ps_kind k,
                    const resp_arg *name, uint64_t h)
{
    srv_ps_map *m = &ps->reg[k];
    ps_node *x = map_find(m, name->ptr, name->len, h);
    if (!x) {
        ps_subs *sb = calloc(1, sizeof(*sb));
        if (!sb || !(x = map_add(m, name->ptr, name->len, h, sb))) {
            free(sb);
            return -1;
        }
    }
    ps_subs *sb = x->val;
    if (sb->n == sb->cap) {
        size_t cap = sb->cap ? sb->cap * 2 : 4;
        srv_psc **v = realloc(sb->v, cap * sizeof(*v));
        if (!v)
            goto oom;
        sb->v = v;
        sb->cap = cap;
    }
    if (!map_add(&p->mine[k], name->ptr, name->len, h, NULL))
        goto oom;
    sb->v[sb->n++] = p;
    return 0;
oom:
    if (sb->n == 0) {
        free(sb->v);
        free(sb);
        map_del(m, x);
    }
    return -1;
}

/* Under mu: p leaves the subscribers of key (of its own set, node mx). */
static void reg_leave(ps_reg *ps, srv_psc *p, enum srv_ps_kind k, ps_node *mx)
{
    srv_ps_map *m = &ps->reg[k];
    ps_node *x = map_find(m, mx->key, mx->len, mx->h);
    if (x) {
        ps_subs *sb = x->val;
        for (size_t i = 0; i < sb->n; i++)
            if (sb->v[i] == p) {
                sb->v[i] = sb->v[--sb->n];
                break;
            }
        if (sb->n == 0) {
            free(sb->v);
            free(sb);
            map_del(m, x);
        }
    }
    map_del(&p->mine[k], mx);
}

static const char *const sub_names[] = {"subscribe", "psubscribe",
                                        "ssubscribe"};
static const char *const unsub_names[] = {"unsubscribe", "punsubscribe",
                                          "sunsubscribe"};

void srv_ps_subscribe(conn *c, enum srv_ps_kind k, const resp_arg *names,
                      size_t n, resp_writer *wr)
{
    ps_reg *ps = c->w->srv->pubsub;
    srv_psc *p = psc_get(c);
    if (!p) {
        resp_error(wr, "ERR out of memory");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t h = ps_hash(names[i].ptr, names[i].len);
        int rc = 0;
        pthread_mutex_lock(&ps->mu);
        if (!map_find(&p->mine[k], names[i].ptr, names[i].len, h))
            rc = reg_join(ps, p, k, &names[i], h);
        pthread_mutex_unlock(&ps->mu);
        if (rc)
            resp_error(wr, "ERR out of memory");
        else
            confirm(wr, sub_names[k], &names[i], confirm_count(p, k));
    }
}

void srv_ps_unsubscribe(conn *c, enum srv_ps_kind k, const resp_arg *names,
                        size_t n, resp_writer *wr)
{
    ps_reg *ps = c->w->srv->pubsub;
    srv_psc *p = c->ps;
    if (n == 0) {
        if (!p || p->mine[k].n == 0) {
            confirm(wr, unsub_names[k], NULL, confirm_count(p, k));
            return;
        }
        srv_ps_map *m = &p->mine[k];
        pthread_mutex_lock(&ps->mu);
        for (size_t b = 0; m->b && b <= m->mask; b++)
            for (ps_node *x = m->b[b], *nx; x; x = nx) {
                nx = x->next;
                resp_arg name = {x->key, x->len};
                /* The confirmation before the node goes (it holds the
                 * name); the count is the one after. */
                size_t after = confirm_count(p, k) - 1;
                confirm(wr, unsub_names[k], &name, after);
                reg_leave(ps, p, k, x);
            }
        pthread_mutex_unlock(&ps->mu);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (p) {
            uint64_t h = ps_hash(names[i].ptr, names[i].len);
            pthread_mutex_lock(&ps->mu);
            ps_node *x = map_find(&p->mine[k], names[i].ptr, names[i].len, h);
            if (x)
                reg_leave(ps, p, k, x);
            pthread_mutex_unlock(&ps->mu);
        }
        confirm(wr, unsub_names[k], &names[i], confirm_count(p, k));
    }
}

/* Under mu: every subscription of p leaves the registry. */
static void leave_all(ps_reg *ps, srv_psc *p)
{
    for (int k = 0; k < SRV_PS_KINDS; k++) {
        srv_ps_map *m = &p->mine[k];
        for (size_t b = 0; m->b && b <= m->mask; b++)
            for (ps_node *x = m->b[b], *nx; x; x = nx) {
                nx = x->next;
                reg_leave(ps, p, (enum srv_ps_kind)k, x);
            }
    }
}

void srv_ps_conn_gone(conn *c)
{
    srv_psc *p = c->ps;
    if (!p)
        return;
    ps_reg *ps = c->w->srv->pubsub;
    pthread_mutex_lock(&ps->mu);
    leave_all(ps, p);
    p->c = NULL; /* queued deliveries are dropped from now on */
    pthread_mutex_unlock(&ps->mu);
    c->ps = NULL;
    psc_unref(p);
}

void srv_ps_reset(conn *c)
{
    /* Messages still queued for it were published while it was
     * subscribed; Redis would have sent them before the RESET reply, we
     * drop them with the subscriptions. */
    srv_ps_conn_gone(c);
}

/* --- delivery ---------------------------------------------------------- */

static void write_dlv(ps_dlv *d)
{
    conn *c = d->to->c;
    if (c && !c->io.closing) {
        const ps_pub *pb = d->pub;
        /* A client blocked (BLPOP in RESP3) gets its messages meanwhile,
         * as in Redis: ahead of the pending reply when nothing else is
         * pending before it. */
        fc_buf *out = c->blk_slot && c->slot_head == c->blk_slot ? &c->io.wbuf
                                                                 : conn_out(c);
        resp_writer wr = {.out = out, .proto = c->wr.proto};
        if (d->pat) {
            resp_push(&wr, 4);
            resp_bulk_cstr(&wr, "pmessage");
            resp_bulk(&wr, d->pattern, d->plen);
        } else {
            resp_push(&wr, 3);
            resp_bulk_cstr(&wr, pb->shard ? "smessage" : "message");
        }
        resp_bulk(&wr, pb->data, pb->clen);
        resp_bulk(&wr, pb->data + pb->clen, pb->mlen);
        conn_want_write(c);
        conn_obuf_check(c);
    }
    psc_unref(d->to);
    pub_unref(d->pub);
    free(d);
}

bool srv_ps_pending(srv_worker *w)
{
    ps_reg *ps = w->srv->pubsub;
    return atomic_load_explicit(&ps->box[w->id].poke, memory_order_relaxed);
}

void srv_ps_iteration(srv_worker *w)
{
    ps_reg *ps = w->srv->pubsub;
    ps_box *b = &ps->box[w->id];
    if (!atomic_load_explicit(&b->poke, memory_order_relaxed))
        return;
    pthread_mutex_lock(&b->mu);
    ps_dlv *d = b->head;
    b->head = b->tail = NULL;
    atomic_store_explicit(&b->poke, 0, memory_order_relaxed);
    pthread_mutex_unlock(&b->mu);
    while (d) {
        ps_dlv *n = d->next;
        write_dlv(d);
        d = n;
    }
}

/* Under mu: one delivery to p (local: appended to the lh..lt list; else p's
 * inbox). */
static bool deliver(ps_reg *ps, srv_worker *w, srv_psc *p, ps_pub *pb,
                    const ps_node *pat, ps_dlv **lh, ps_dlv **lt)
{
    size_t plen = pat ? pat->len : 0;
    ps_dlv *d = malloc(sizeof(*d) + plen);
    if (!d)
        return false;
    d->next = NULL;
    d->to = p;
    d->pub = pb;
    d->pat = pat != NULL;
    d->plen = plen;
    if (pat)
        memcpy(d->pattern, pat->key, plen);
    atomic_fetch_add(&p->refs, 1);
    atomic_fetch_add(&pb->refs, 1);
    if (p->home == w) {
        if (*lt)
            (*lt)->next = d;
        else
            *lh = d;
        *lt = d;
        return true;
    }
    ps_box *b = &ps->box[p->home->id];
    pthread_mutex_lock(&b->mu);
    bool was_empty = b->head == NULL;
    if (b->tail)
        b->tail->next = d;
    else
        b->head = d;
    b->tail = d;
    atomic_store_explicit(&b->poke, 1, memory_order_relaxed);
    pthread_mutex_unlock(&b->mu);
    if (was_empty)
        ps->wake[(size_t)w->id * ps->nworkers + p->home->id] = true;
    return true;
}

static int64_t deliver_all(ps_reg *ps, srv_worker *w, const ps_subs *sb,
                           ps_pub *pb, const ps_node *pat, ps_dlv **lh,
                           ps_dlv **lt)
{
    int64_t n = 0;
    for (size_t i = 0; i < sb->n; i++)
        n += deliver(ps, w, sb->v[i], pb, pat, lh, lt);
    return n;
}

int64_t srv_ps_publish(srv_worker *w, bool shard, const resp_arg *ch,
                       const resp_arg *msg)
{
    ps_reg *ps = w->srv->pubsub;
    ps_pub *pb = malloc(sizeof(*pb) + ch->len + msg->len + 1);
    if (!pb)
        return 0;
    atomic_init(&pb->refs, 1);
    pb->shard = shard;
    pb->clen = ch->len;
    pb->mlen = msg->len;
    memcpy(pb->data, ch->ptr, ch->len);
    memcpy(pb->data + ch->len, msg->ptr, msg->len);
    ps_dlv *lh = NULL, *lt = NULL;
    int64_t n = 0;
    uint64_t h = ps_hash(ch->ptr, ch->len);
    pthread_mutex_lock(&ps->mu);
    enum srv_ps_kind k = shard ? SRV_PS_SHARD : SRV_PS_CHAN;
    ps_node *x = map_find(&ps->reg[k], ch->ptr, ch->len, h);
    if (x)
        n += deliver_all(ps, w, x->val, pb, NULL, &lh, &lt);
    srv_ps_map *pm = &ps->reg[SRV_PS_PAT];
    for (size_t b = 0; !shard && pm->b && b <= pm->mask; b++)
        for (ps_node *p = pm->b[b]; p; p = p->next)
            if (cmd_glob_match(p->key, p->len, ch->ptr, ch->len, false))
                n += deliver_all(ps, w, p->val, pb, p, &lh, &lt);
    pthread_mutex_unlock(&ps->mu);
    bool *wake = &ps->wake[(size_t)w->id * ps->nworkers];
    for (uint32_t i = 0; i < ps->nworkers; i++)
        if (wake[i]) {
            wake[i] = false;
            srv_worker_wake(&w->srv->workers[i]);
        }
    pub_unref(pb);
    if (lh)
        srv_ps_iteration(w); /* earlier messages first (see the top) */
    while (lh) {
        ps_dlv *nx = lh->next;
        write_dlv(lh);
        lh = nx;
    }
    return n;
}

/* --- PUBSUB ------------------------------------------------------------ */

void srv_ps_reply_channels(srv_server *s, bool shard, const resp_arg *pat,
                           resp_writer *wr)
{
    ps_reg *ps = s->pubsub;
    srv_ps_map *m = &ps->reg[shard ? SRV_PS_SHARD : SRV_PS_CHAN];
    fc_buf names = {0};
    size_t count = 0;
    resp_writer nw = {.out = &names, .proto = wr->proto};
    pthread_mutex_lock(&ps->mu);
    for (size_t b = 0; m->b && b <= m->mask; b++)
        for (ps_node *x = m->b[b]; x; x = x->next)
            if (!pat ||
                cmd_glob_match(pat->ptr, pat->len, x->key, x->len, false)) {
                resp_bulk(&nw, x->key, x->len);
                count++;
            }
    pthread_mutex_unlock(&ps->mu);
    if (names.oom) {
        resp_error(wr, "ERR out of memory");
    } else {
        resp_array(wr, count);
        if (names.len)
            fc_buf_append(wr->out, names.data, names.len);
    }
    fc_buf_free(&names);
}

void srv_ps_reply_numsub(srv_server *s, bool shard, const resp_arg *chs,
                         size_t n, resp_writer *wr)
{
    ps_reg *ps = s->pubsub;
    srv_ps_map *m = &ps->reg[shard ? SRV_PS_SHARD : SRV_PS_CHAN];
    resp_array(wr, n * 2);
    for (size_t i = 0; i < n; i++) {
        uint64_t h = ps_hash(chs[i].ptr, chs[i].len);
        pthread_mutex_lock(&ps->mu);
        ps_node *x = map_find(m, chs[i].ptr, chs[i].len, h);
        size_t count = x ? ((ps_subs *)x->val)->n : 0;
        pthread_mutex_unlock(&ps->mu);
        resp_bulk(wr, chs[i].ptr, chs[i].len);
        resp_int(wr, (int64_t)count);
    }
}

size_t srv_ps_total(srv_server *s, enum srv_ps_kind k)
{
    ps_reg *ps = s->pubsub;
    pthread_mutex_lock(&ps->mu);
    size_t n = ps->reg[k].n;
    pthread_mutex_unlock(&ps->mu);
    return n;
}
