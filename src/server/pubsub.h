/*
 * pubsub.h — publish/subscribe: who is subscribed to what (one registry
 * for the process), and how a PUBLISH on any worker reaches subscribers
 * on every worker.
 *
 * Design (pubsub.c explains the why): a subscription lives in one
 * process-wide registry (mutex-protected: SUBSCRIBE and PUBLISH run on
 * whatever worker their connection is on), mapping each channel, pattern
 * and shard channel to its subscribers, plus the subscriber's own sets
 * (srv_psc, one per subscribed connection). A PUBLISH looks its receivers
 * up under the lock and hands each one a delivery: written at once when
 * the subscriber is on the publisher's worker, else queued in the
 * subscriber's worker's inbox (FIFO, appended under the registry lock, so
 * every subscriber sees every publisher's messages in publish order),
 * which that worker drains into the connection's output at its next
 * iteration. Only a connection's own worker ever writes to it.
 *
 * Memory: a slow subscriber's unsent messages count in its output
 * (conn_out_pending), which the `pubsub` class of
 * client-output-buffer-limit bounds (Redis: 32mb hard, 8mb for 60 s):
 * past it the connection is closed, as Redis does. The inboxes hold only
 * what was published since their worker's last iteration.
 *
 * Threads: srv_ps_subscribe / unsubscribe / reset / conn_gone on the
 *   connection's worker; srv_ps_publish and the PUBSUB queries on any
 *   worker; srv_ps_iteration on the inbox's worker.
 * Memory: the registry and inboxes are the server's (srv_ps_init /
 *   srv_ps_destroy); an srv_psc is its connection's, freed once the
 *   connection is gone and no delivery refers to it any more.
 */
#ifndef FC_SERVER_PUBSUB_H
#define FC_SERVER_PUBSUB_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/resp.h"

struct srv_server;
struct srv_worker;
struct conn;

enum srv_ps_kind { SRV_PS_CHAN = 0, SRV_PS_PAT = 1, SRV_PS_SHARD = 2 };
#define SRV_PS_KINDS 3

/* A string-keyed hash map (pubsub.c). */
typedef struct srv_ps_map {
    struct srv_ps_node **b;
    size_t mask; /* buckets - 1; b == NULL: empty */
    size_t n;
} srv_ps_map;

/* One subscribed connection's state. n[] are its subscription counts (its
 * worker writes them, under the registry lock; CLIENT LIST reads them). */
typedef struct srv_psc {
    struct conn *c; /* NULL once the connection is gone */
    struct srv_worker *home;
    _Atomic uint32_t refs; /* the connection's + one per queued delivery */
    srv_ps_map mine[SRV_PS_KINDS];
} srv_psc;

int srv_ps_init(struct srv_server *s); /* -1 on OOM */
void srv_ps_destroy(struct srv_server *s);

/* Subscription counts of a connection (0 when it never subscribed). */
size_t srv_ps_count(const struct conn *c, enum srv_ps_kind k);
/* Redis's CLIENT_PUBSUB: subscribed to anything. In RESP2 such a client
 * may only run (P|S)(UN)SUBSCRIBE, PING, QUIT and RESET. */
bool srv_ps_active(const struct conn *c);

/* (P|S)SUBSCRIBE names[0..n): one confirmation each, written to wr. */
void srv_ps_subscribe(struct conn *c, enum srv_ps_kind k, const resp_arg *names,
                      size_t n, resp_writer *wr);
/* (P|S)UNSUBSCRIBE names[0..n), or every subscription of that kind when
 * n == 0 (a confirmation with a null name when there was none). */
void srv_ps_unsubscribe(struct conn *c, enum srv_ps_kind k,
                        const resp_arg *names, size_t n, resp_writer *wr);
/* RESET: drops every subscription, no confirmations. */
void srv_ps_reset(struct conn *c);
/* conn_destroy: drops every subscription. */
void srv_ps_conn_gone(struct conn *c);

/* PUBLISH (shard: SPUBLISH): delivers to every receiver; returns how many
 * there were (Redis's count: a client matched by a channel and by two
 * patterns counts three times). */
int64_t srv_ps_publish(struct srv_worker *w, bool shard, const resp_arg *ch,
                       const resp_arg *msg);

/* PUBSUB CHANNELS / SHARDCHANNELS [pattern] (pat NULL: all). */
void srv_ps_reply_channels(struct srv_server *s, bool shard,
                           const resp_arg *pat, resp_writer *wr);
/* PUBSUB NUMSUB / SHARDNUMSUB ch...: channel, count pairs. */
void srv_ps_reply_numsub(struct srv_server *s, bool shard, const resp_arg *chs,
                         size_t n, resp_writer *wr);
/* Distinct channels / patterns / shard channels with subscribers
 * (PUBSUB NUMPAT, INFO). */
size_t srv_ps_total(struct srv_server *s, enum srv_ps_kind k);

/* Worker loop: writes the deliveries queued for this worker's
 * connections. One relaxed load when there are none. */
void srv_ps_iteration(struct srv_worker *w);
/* Whether deliveries wait (poll must not sleep). */
bool srv_ps_pending(struct srv_worker *w);

#endif /* FC_SERVER_PUBSUB_H */
