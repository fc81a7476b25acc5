/*
 * link_int.h — the replica link's state, shared by link.c (thread,
 * session, frames) and link_conn.c (socket I/O, backoff). Private to those
 * two files.
 *
 * Owns: nothing beyond struct repl_link's layout.
 * Threads: everything but `mu` and `pub` is the link thread's alone; `pub`
 *   is the copy of the stats other threads read, under `mu`.
 */
#ifndef FC_REPL_LINK_INT_H
#define FC_REPL_LINK_INT_H

#include <pthread.h>
#include <sys/types.h>
#include <time.h>

#include "repl/link.h"
#include "util/buf.h"

/* A primary announcing more shards than this is refused (FC_MAX_SHARDS). */
#define LINK_MAX_SHARDS 65536u
/* Idle Ack period with a fast-cache primary. */
#define LINK_ACK_PERIOD_MS 1000
/* Acks for applied records go out at most this often, unless the primary
 * asks (an Ack frame from it: a WAIT is pending there). An Ack per read
 * would wake the primary's replication thread thousands of times a
 * second under load, on the core its workers need. */
#define LINK_ACK_MIN_MS 100
/* Bytes of room a read asks for beyond what the current frame needs. */
#define LINK_READ_MIN ((size_t)64 << 10)
/* A buffer grown past this by a large frame is freed once empty again. */
#define LINK_BUF_KEEP ((size_t)1 << 20)

/* How a session ended. */
enum link_end {
    LINK_GO_ON = 0,      /* not ended */
    LINK_END_FAIL = 1,   /* failure: back off, then reconnect */
    LINK_END_RESYNC = 2, /* our watermarks were forgotten: reconnect now */
    LINK_END_STOP = 3,   /* repl_link_stop: leave */
};

/* Returns of the I/O helpers besides byte counts. */
#define LINK_IO_FAIL (-1)    /* error or EOF, st.last_error says */
#define LINK_IO_STOP (-2)    /* the stop pipe became readable */
#define LINK_IO_TIMEOUT (-3) /* poll timed out */

struct repl_link {
    repl_link_cfg cfg; /* host and token are our copies */
    pthread_t thread;
    int stop_rd, stop_wr; /* stop pipe: readable once stopping */

    pthread_mutex_t mu;
    repl_link_stats pub; /* under mu */
    repl_link_stats st;  /* the thread's working copy, published to pub */

    /* Session. */
    int fd;
    fc_buf in; /* reassembly: unparsed bytes are in[in_off, len) */
    size_t in_off;
    fc_buf scratch; /* decompressed payloads */
    fc_buf out;     /* the frame being written */
    fcrp_rx rx;
    fcrp_tx tx;
    bool fc;             /* both Hellos had FCRP_F_CAP_FC: Acks */
    bool sent_since;     /* this session's Hello had has_since */
    bool snap_seen;      /* a snapshot started in this session */
    bool ack_due;        /* records applied since the last Ack */
    bool ack_asked;      /* the primary asked for an Ack */
    bool applier_failed; /* no callback after an applier error */
    int64_t last_ack_mono;
    size_t need; /* bytes the frame at in_off needs in all */

    /* Replication position, kept across sessions. */
    uint64_t *wm;     /* applied, per primary shard [n] */
    uint64_t *target; /* CATCHUP: what the primary had [n] */
    uint32_t n;       /* the primary's shards (0: never learnt) */
    uint64_t base;    /* the primary's sequence base (0: seed primary) */
    bool have_wm;     /* wm describes what the applier holds: has_since */
    bool dirty;       /* the applier may hold data */
    bool in_snap;     /* between SnapshotBegin and SnapshotEnd */
    bool snap_last;   /* the is_last chunk arrived */
    uint64_t next_chunk;

    uint32_t backoff_cur;
    uint64_t rng;
};

static inline int64_t link_clock_ms(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}
static inline int64_t link_mono_ms(void)
{
    return link_clock_ms(CLOCK_MONOTONIC);
}
static inline int64_t link_unix_ms(void)
{
    return link_clock_ms(CLOCK_REALTIME);
}

/* --- link.c --- */
void link_log(repl_link *l, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Records why the session ends (st.last_error) and logs it. Returns
 * LINK_END_FAIL, so callers can `return link_fail(...)`. */
int link_fail(repl_link *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Copies the working stats to the published ones. */
void link_publish(repl_link *l);

/* --- link_conn.c --- */
/* Connects (the stop pipe aborts the wait) and makes the socket
 * non-blocking. 0, LINK_IO_FAIL or LINK_IO_STOP. */
int link_connect(repl_link *l);
void link_disconnect(repl_link *l);
/* Writes all of l->out within write_timeout_ms, then empties it. 0,
 * LINK_IO_FAIL or LINK_IO_STOP. */
int link_send(repl_link *l);
/* Waits up to timeout_ms (-1: forever) for bytes, and reads what is there
 * into l->in, with room for at least `need` unparsed bytes in all. Bytes
 * read (> 0; 0 after a spurious wake-up), LINK_IO_TIMEOUT, LINK_IO_FAIL
 * (EOF too) or LINK_IO_STOP. */
ssize_t link_read(repl_link *l, size_t need, int timeout_ms);
/* Sends our Hello (plain, with our capabilities). */
int link_send_hello(repl_link *l);
/* Sends an Ack with the watermarks (fast-cache primaries only). */
int link_send_ack(repl_link *l);
/* The next reconnect delay (jittered), doubling the base up to the cap. */
uint32_t link_backoff_next(repl_link *l);
void link_backoff_reset(repl_link *l);
/* Sleeps ms unless stopped first: true when stopped. */
bool link_sleep(repl_link *l, uint32_t ms);
bool link_stopping(repl_link *l);

#endif /* FC_REPL_LINK_INT_H */
