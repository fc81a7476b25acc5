/*
 * fake_primary.h — a scripted FCRP primary for unit tests: a loopback
 * listener thread that runs a test's script on each connection it
 * accepts, one connection at a time, with helpers written on the fcrp
 * codec (read the replica's Hello, answer it, send snapshot and batch
 * frames, read Acks).
 *
 * Owns: its thread, the listening socket, each connection's socket and
 *   buffers (closed when the script returns).
 * Threads: scripts run on the fake's thread; they must not call cmocka's
 *   assertions (those jump across threads): they record what they saw in
 *   their context and the test asserts afterwards. fp_* helpers return 0,
 *   or -1 when the peer closed, timed out or sent something unexpected.
 */
#ifndef FC_TEST_FAKE_PRIMARY_H
#define FC_TEST_FAKE_PRIMARY_H

#include <stdbool.h>
#include <stdint.h>

#include "protocol/fcrp.h"
#include "util/buf.h"

#define FP_MAX_CONNS 64
#define FP_MAX_WM 16

typedef struct fp fp;

typedef struct fp_conn {
    fp *owner;
    int fd;
    int index;     /* 0 for the first connection */
    fcrp_rx rx;    /* what we accept from the replica */
    fcrp_tx tx;    /* how we send */
    fc_buf in, pl; /* reassembly; last payload read */
    uint8_t kind;  /* last frame read */
    bool trickle;  /* send one byte per write, with a pause */

    /* The replica's Hello (fp_read_hello). */
    uint8_t hello_flags, version, role;
    bool has_since;
    uint32_t nsince;
    uint64_t since[FP_MAX_WM];
    char token[64];
} fp_conn;

typedef void (*fp_script)(fp_conn *c, void *ctx);

/* Listens on 127.0.0.1, a free port. 0 or -1. */
int fp_start(fp **out, fp_script fn, void *ctx);
uint16_t fp_port(const fp *f);
/* Connections accepted so far, and when (monotonic ms) each was. */
int fp_conns(fp *f);
int64_t fp_accept_ms(fp *f, int i);
/* Connections whose script has returned. */
int fp_done(fp *f);
/* Ends the thread (a running script's waits give up within ~20 ms). */
void fp_stop(fp *f);
bool fp_stopping(const fp *f);

/* The next frame within timeout_ms: c->kind, c->pl. */
int fp_read_frame(fp_conn *c, int timeout_ms);
int fp_read_hello(fp_conn *c, int timeout_ms);
/* Answers with watermarks wm[n] (plus base when the replica advertised
 * FCRP_F_CAP_FC and caps has it) and the Hello flags `caps`; then
 * switches to what both sides can do (LZ4 compression when agreed). */
int fp_send_hello(fp_conn *c, const uint64_t *wm, uint32_t n, uint8_t caps,
                  uint64_t base);
int fp_send_error(fp_conn *c, uint8_t code);
/* SnapshotBegin / SnapshotEnd / Ack style payload. */
int fp_send_wm(fp_conn *c, uint8_t kind, const uint64_t *wm, uint32_t n);
int fp_send_chunk(fp_conn *c, uint64_t index, bool last, const uint64_t *wm,
                  uint32_t nwm, const fcrp_entry *e, uint32_t ne);
int fp_send_batch(fp_conn *c, const fcrp_record *r, uint32_t nr);
/* Reads frames until an Ack; its watermarks into wm (at most max). */
int fp_read_ack(fp_conn *c, uint64_t *wm, uint32_t max, uint32_t *n,
                int timeout_ms);
/* Until the replica closes the connection (0) or timeout (-1). */
int fp_wait_closed(fp_conn *c, int timeout_ms);
/* Keeps the connection open, discarding what arrives, until the replica
 * closes it or the fake stops. */
void fp_hold(fp_conn *c);

/* Record / entry builders for scripts. */
fcrp_record fp_rec(uint32_t shard, uint64_t seq, uint8_t op, const char *key,
                   const char *val, uint64_t expire_unix_ms);
fcrp_entry fp_entry(const char *key, const char *val, uint64_t expire_unix_ms);
int64_t fp_unix_ms(void);
int64_t fp_mono_ms(void);

#endif /* FC_TEST_FAKE_PRIMARY_H */
