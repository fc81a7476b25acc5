/*
 * hub_internal.h — the hub's state, shared by hub.c (producers, walk,
 * stats, the thread's loop) and hub_session.c (one peer: handshake, reads,
 * writes). Not for use outside src/repl/hub*.c.
 *
 * Locking: `mu` guards the backlog, the session list and every session
 * field that another thread reads (state, acks), and the walk. Session I/O
 * buffers belong to the hub thread alone; socket calls happen without mu.
 */
#ifndef FC_REPL_HUB_INTERNAL_H
#define FC_REPL_HUB_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "repl/backlog.h"
#include "repl/hub.h"

#define HUB_LIVE_OUT_MAX ((size_t)512 << 10) /* refill below this */
#define HUB_SNAP_OUT_MAX ((size_t)2 << 20)   /* chunks wait above this */

enum sess_state {
    SS_HELLO = 0,
    SS_WAIT_SNAP = 1,
    SS_SNAP = 2,
    SS_LIVE = 3,
    SS_CLOSING = 4, /* flushing an Error frame, then closed */
    SS_DEAD = 5,    /* to be freed */
};

typedef struct walk_chunk {
    struct walk_chunk *next;
    size_t len;
    uint32_t count;
    uint8_t data[];
} walk_chunk;

typedef struct session {
    struct session *next;
    int fd;
    char addr[64];
    int state; /* enum sess_state; written under mu */
    uint8_t role;
    uint8_t agreed; /* FCRP_F_CAP_* both sides have */
    fcrp_rx rx;
    fcrp_tx tx; /* frames we encode for this peer */
    fc_buf in, scratch, out;
    size_t out_off;
    int64_t hello_deadline;
    int64_t stall_since; /* output pending without progress since; 0 */
    int64_t close_deadline;
    uint64_t *since; /* [nshards]: frames at or below are not sent */
    uint64_t cursor; /* next backlog id to consider */
    uint64_t *ack;   /* [nshards]: highest acknowledged */
    bool has_ack;
    int64_t last_ack_ms;
    uint64_t walk_gen;
    uint64_t chunk_index;
    bool caught_up; /* reached the backlog's head once */
    uint32_t events; /* epoll interest registered */
    _Atomic uint64_t bytes_sent, frames_sent;
} session;

struct repl_hub {
    repl_hub_head head; /* first: repl_hub_active reads it */
    repl_hub_cfg cfg;
    uint16_t port;
    int lfd, efd, epfd;
    pthread_t th;
    bool started;
    _Atomic int stop;
    _Atomic int sleeping;
    _Atomic uint64_t published; /* frames published, ever */
    uint64_t seen_published;    /* hub thread: at its last pump */
    _Atomic uint64_t walk_puts; /* chunks put, ever */
    _Atomic uint32_t nfed; /* sessions past the handshake (kicks wake) */
    _Atomic int ack_ask;   /* repl_hub_ask_acks since the last pump */
    uint64_t seen_walk_puts;

    pthread_mutex_t mu;
    repl_backlog bl;
    session *sessions;
    uint32_t nsessions;
    /* walk */
    _Atomic uint64_t walk_gen; /* running walk, 0 none */
    uint64_t walk_seq;
    uint64_t *walk_wb; /* [nshards] Begin watermarks */
    uint64_t *walk_cut; /* [nshards] each shard's cut (the last chunk's) */
    uint32_t walk_done;
    walk_chunk *wq_head, *wq_tail;
    _Atomic size_t walk_queued;

    /* statistics (relaxed atomics) */
    _Atomic uint64_t st_frames_pub, st_records_pub, st_bytes_pub,
        st_frames_dropped, st_bytes_sent, st_frames_sent, st_snapshots,
        st_catchups, st_snap_bytes, st_rej_auth, st_rej_version,
        st_rej_proto, st_rej_full, st_dropped_slow;
};

int64_t hub_now_ms(void);
void hub_log(repl_hub *h, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* hub_session.c (hub thread) */
session *sess_new(repl_hub *h, int fd, int64_t now);
void sess_free(session *s);
/* Reads what the socket has and handles the frames (handshake, Acks). */
void sess_on_readable(repl_hub *h, session *s, int64_t now);
/* Writes pending output; false when the socket failed. */
bool sess_flush(repl_hub *h, session *s, int64_t now);
/* Appends an Error frame and closes once it is written. */
void sess_fail(repl_hub *h, session *s, uint8_t code, const char *detail);
/* Appends one backlog frame as this peer needs it (check kept or not). */
void sess_put_frame(session *s, const repl_frame *f);
/* Encodes a frame with this peer's tx; false on no memory. */
bool sess_put_payload(session *s, uint8_t kind, const void *p, size_t len,
                      bool plain);
static inline size_t sess_pending(const session *s)
{
    return s->out.len - s->out_off;
}

#endif /* FC_REPL_HUB_INTERNAL_H */
