/*
 * ev_uring.h — private to the io_uring backend: its loop object, operation
 * tags and state bits, shared by the I/O path (ev_uring.c) and ring setup
 * and probing (ev_uring_setup.c). Nothing else includes this header; the
 * rest of the server sees only ev_uring_backend (ev.h).
 *
 * Ring flavours, best first (ur_ring_init):
 *  - SINGLE_ISSUER | DEFER_TASKRUN (6.1+): completions are posted only
 *    when the worker itself enters the kernel to wait for them, so the
 *    kernel never interrupts a busy worker to run io_uring task work, and
 *    a sleeping worker is woken once per batch rather than per event. The
 *    ring must then be entered by one thread only: it is created disabled
 *    (on the main thread, so setup errors are reported at start) and
 *    enabled by the worker thread on its first poll, which makes that
 *    thread the ring's single issuer.
 *  - COOP_TASKRUN | TASKRUN_FLAG (5.19+): task work without IPIs.
 *  - plain rings for older kernels.
 * FC_URING_NO_DEFER=1 skips the first flavour (to test the second on a new
 * kernel), as FC_URING_NO_MULTISHOT=1 forces the single-shot operations.
 *
 * Threads: a loop belongs to its worker's thread (see ev.h); ur_probe runs
 *   once on the main thread.
 */
#ifndef FC_SERVER_EV_URING_H
#define FC_SERVER_EV_URING_H

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>

#include "server/net/ev.h"

#define UR_SQ_ENTRIES 1024u /* the CQ gets 8x: multishot ops post many */
#define UR_CQE_BATCH 256u
#define UR_CQE_ROUNDS 16 /* batches per poll, so channels are not starved */
#ifndef UR_NBUFS      /* overridable so tests can exhaust the ring (ENOBUFS) */
#define UR_NBUFS 256u /* provided buffers per loop (a power of two) */
#endif
#define UR_BUF_SIZE EV_READ_CHUNK
#define UR_BGID 0

/* Operation tags in user_data's low bits. */
enum ur_tag {
    T_NONE = 0,   /* loop-level cancels, wakeups from other rings: ignored */
    T_RECV = 1,   /* ptr = ev_conn */
    T_SEND = 2,   /* ptr = ev_conn */
    T_CANCEL = 3, /* ptr = ev_conn whose op is being cancelled */
    T_ACCEPT = 4, /* ptr = loop */
    T_LPOLL = 5,  /* ptr = loop: listening socket readable, then accept */
    T_WAKE = 6,   /* ptr = loop */
    T_MSG = 7,    /* ptr = the loop we woke: only a failure posts this */
};
#define UR_TAG_MASK 7u

/* Loop features (ur_loop.feat). */
#define UF_MS_ACCEPT 1u  /* multishot accept (5.19) */
#define UF_MS_RECV 2u    /* multishot recv + provided buffer ring (6.0) */
#define UF_MS_POLL 4u    /* multishot poll (5.13) */
#define UF_POLL_FIRST 8u /* IORING_RECVSEND_POLL_FIRST (5.19) */
#define UF_MSG_RING 16u  /* MSG_RING + CQE_SKIP_SUCCESS: wake another ring */

typedef struct ur_cqe {
    uint64_t ud;
    int32_t res;
    uint32_t flags;
} ur_cqe;

typedef struct ur_loop {
    ev_loop base;
    struct io_uring ring;
    int listen_fd;
    int wake_fd;
    unsigned feat;
    bool disabled;     /* created R_DISABLED: enabled by the first poll */
    bool listening;    /* until listen_stop */
    bool accept_armed; /* an accept (or its poll) is in flight */
    bool wake_armed;   /* a poll on the wake eventfd is in flight */
    ev_conn *in_read;  /* conn_on_read running for this one */
    ev_conn *closed;   /* finalized, linked through be_priv */
    struct io_uring_buf_ring *br;
    char *bufs; /* UR_NBUFS * UR_BUF_SIZE */
    ur_cqe cqes[UR_CQE_BATCH];
} ur_loop;

/* A ring of the best flavour the kernel accepts (above); sets
 * l->disabled when it must be enabled by its thread. -errno. */
int ur_ring_init(ur_loop *l);
/* Enables a ring created disabled; the calling thread becomes its single
 * issuer. -errno. */
int ur_ring_enable(ur_loop *l);
/* UF_* flags the kernel supports (the environment may veto some). */
unsigned ur_detect_features(struct io_uring *ring);
/* Registers the provided buffers of multishot recv. false if refused. */
bool ur_bufring_init(ur_loop *l);
/* ev_backend.probe. */
bool ur_probe(char *why, size_t whylen);

#endif /* FC_SERVER_EV_URING_H */
