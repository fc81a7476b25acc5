/*
 * fuzz_fcrp.c — libFuzzer harness for the FCRP codec (protocol/fcrp.h):
 * frame splitting, header checks and caps, the integrity check, zstd / lz4
 * decompression under the caps, and every payload decoder.
 *
 * Input: byte 0 chooses the receiver's settings (bit 0 accept lz4, bit 1
 * accept the check, bit 2 require it, bit 3 tiny caps), the rest is a byte
 * stream from a peer, decoded frame by frame as a transport would. Beyond
 * the sanitizers it checks what the contract promises: results inside the
 * buffer, *need a true bound, every prefix of an accepted frame waiting,
 * decoded views inside the payload, iteration agreeing with the validated
 * count, and decoded payloads surviving an encode/decode round trip through
 * every compression with the check. Payload decoders also see the raw
 * stream, so they are fuzzed without a valid header in front.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/fcrp.h"

#define CHECK(c)                                                               \
    do {                                                                       \
        if (!(c))                                                              \
            __builtin_trap();                                                  \
    } while (0)

static bool inside(const uint8_t *v, size_t n, const uint8_t *p, size_t len)
{
    return n == 0 || (v >= p && n <= len && v - p <= (ptrdiff_t)(len - n));
}

/* Re-encodes a batch record by record; the bytes must be the payload's
 * (the encoding is canonical) unless a record holds what our encoder
 * refuses (a value on a non-SET), which the decoder tolerates. */
static void batch_roundtrip(const uint8_t *p, size_t len, fcrp_batch it)
{
    fc_buf b = {0};
    size_t at;
    fcrp_record r;
    bool exact = true;
    CHECK(fcrp_batch_put_count(&b, &at) == FCRP_OK);
    while (fcrp_batch_next(&it, &r))
        if (fcrp_record_put(&b, &r) != FCRP_OK)
            exact = false;
    fcrp_batch_set_count(&b, at, it.count);
    if (exact)
        CHECK(b.len == len && memcmp(b.data, p, len) == 0);
    fc_buf_free(&b);
}

static void payload_decoders(const uint8_t *p, size_t len)
{
    fcrp_wm w;
    if (fcrp_wm_decode(p, len, &w) == FCRP_OK) {
        CHECK(4 + (size_t)w.n * 8 == len);
        uint64_t *a = malloc(((size_t)w.n + 1) * 8);
        CHECK(a != NULL);
        for (uint32_t i = 0; i < w.n; i++)
            a[i] = fcrp_wm_get(&w, i);
        CHECK(fcrp_wm_get(&w, w.n) == 0);
        fc_buf b = {0};
        CHECK(fcrp_wm_put(&b, a, w.n) == FCRP_OK);
        CHECK(b.len == len && memcmp(b.data, p, len) == 0);
        fc_buf_free(&b);
        free(a);
    }

    fcrp_hello h;
    if (fcrp_hello_decode(p, len, &h) == FCRP_OK) {
        CHECK(inside((const uint8_t *)h.token, h.token_len, p, len));
        CHECK(!h.has_since || inside(h.since.p, (size_t)h.since.n * 8, p, len));
        CHECK(h.role == FCRP_ROLE_REPLICA || h.role == FCRP_ROLE_SUBSCRIBER);
    }

    fcrp_error e;
    if (fcrp_error_decode(p, len, &e) == FCRP_OK) {
        CHECK(e.code < FCRP_ERR_COUNT_);
        CHECK(inside((const uint8_t *)e.msg, e.msg_len, p, len));
        CHECK(inside((const uint8_t *)e.detail, e.detail_len, p, len));
        if (e.code == FCRP_ERR_OTHER)
            CHECK(e.detail == e.msg && e.detail_len == e.msg_len);
        /* code + detail survive a round trip */
        fc_buf b = {0};
        fcrp_error e2;
        CHECK(fcrp_error_put(&b, e.code, e.detail, e.detail_len) == FCRP_OK);
        CHECK(fcrp_error_decode((uint8_t *)b.data, b.len, &e2) == FCRP_OK);
        if (e.code != FCRP_ERR_OTHER) {
            CHECK(e2.code == e.code && e2.detail_len == e.detail_len);
            CHECK(memcmp(e2.detail, e.detail, e.detail_len) == 0);
        }
        fc_buf_free(&b);
    }

    fcrp_batch bt;
    if (fcrp_batch_open(p, len, &bt) == FCRP_OK) {
        fcrp_batch it = bt;
        fcrp_record r;
        uint32_t n = 0;
        while (fcrp_batch_next(&it, &r)) {
            n++;
            CHECK(inside(r.key, r.key_len, p, len));
            CHECK(inside(r.value, r.value_len, p, len));
            uint8_t op = fcrp_record_effective_op(&r, 1700000000000ull);
            CHECK(op == r.op || op == FCRP_OP_DEL);
        }
        CHECK(n == bt.count);
        batch_roundtrip(p, len, bt);
    }

    fcrp_chunk ch;
    if (fcrp_chunk_open(p, len, &ch) == FCRP_OK) {
        fcrp_entry en;
        uint32_t n = 0;
        CHECK(inside(ch.wm.p, (size_t)ch.wm.n * 8, p, len));
        while (fcrp_chunk_next(&ch, &en)) {
            n++;
            CHECK(inside(en.key, en.key_len, p, len));
            CHECK(inside(en.value, en.value_len, p, len));
        }
        CHECK(n == ch.count);
    }
}

/* An accepted payload re-framed with every compression and the check comes
 * back byte for byte. */
static void frame_roundtrip(uint8_t kind, const uint8_t *p, size_t len)
{
    fcrp_rx rx;
    fcrp_rx_default(&rx);
    rx.lim.max_hello = rx.lim.max_payload;
    rx.accept = FCRP_F_LZ4 | FCRP_F_CHECK;
    rx.require_check = true;
    for (uint8_t comp = FCRP_COMP_NONE; comp <= FCRP_COMP_LZ4; comp++) {
        fcrp_tx tx = {.comp = comp, .check = true, .zstd_level = 1};
        fc_buf b = {0}, scratch = {0};
        fcrp_frame f;
        size_t used, need, n;
        const uint8_t *q;
        CHECK(fcrp_frame_encode(&b, kind, &tx, p, len) == FCRP_OK);
        CHECK(b.len <= FCRP_HEADER_LEN + len + FCRP_CHECK_LEN);
        CHECK(fcrp_frame_decode((uint8_t *)b.data, b.len, &rx, &f, &used,
                                &need) == FCRP_OK);
        CHECK(used == b.len);
        CHECK(fcrp_frame_payload(&f, &scratch, &q, &n) == FCRP_OK);
        CHECK(n == len && (len == 0 || memcmp(q, p, len) == 0));
        fc_buf_free(&scratch);
        fc_buf_free(&b);
    }
}

static void check_stream(const uint8_t *s, size_t size, const fcrp_rx *rx)
{
    size_t pos = 0;
    fc_buf scratch = {0};
    while (pos < size) {
        const uint8_t *p = s + pos;
        size_t avail = size - pos, used = 0, need = 0;
        fcrp_frame f;
        int rc = fcrp_frame_decode(p, avail, rx, &f, &used, &need);
        if (rc == FCRP_MORE) {
            CHECK(need > avail);
            CHECK(need <= FCRP_HEADER_LEN + (size_t)rx->lim.max_payload);
            break;
        }
        if (rc != FCRP_OK) {
            CHECK(rc < 0 && strcmp(fcrp_strerror(rc), "unknown FCRP status"));
            break;
        }
        CHECK(used >= FCRP_HEADER_LEN && used <= avail);
        CHECK(f.stored >= p && f.stored + f.stored_len <= p + used);
        CHECK(f.h.payload_len <= rx->lim.max_payload);
        CHECK(f.h.uncompressed_len <= rx->lim.max_uncompressed);
        /* every strict prefix waits (a few, to stay fast) */
        size_t cuts[3] = {0, used / 2, used - 1};
        for (int i = 0; i < 3; i++) {
            fcrp_frame g;
            size_t u2, n2;
            CHECK(fcrp_frame_decode(p, cuts[i], rx, &g, &u2, &n2) == FCRP_MORE);
            CHECK(n2 > cuts[i] && n2 <= used);
        }
        const uint8_t *pl;
        size_t pn;
        rc = fcrp_frame_payload(&f, &scratch, &pl, &pn);
        if (rc == FCRP_OK) {
            CHECK(pn == f.h.uncompressed_len);
            CHECK(scratch.cap <= 2 * (size_t)rx->lim.max_uncompressed + 64);
            payload_decoders(pl, pn);
            frame_roundtrip(f.h.kind, pl, pn);
        } else {
            CHECK(rc == FCRP_ECOMPRESS || rc == FCRP_ETOOBIG);
        }
        pos += used;
    }
    fc_buf_free(&scratch);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t cfg = data[0];
    fcrp_rx rx;
    fcrp_rx_default(&rx);
    /* caps small enough that a hostile length cannot make an iteration
     * slow, large enough for -max_len inputs */
    uint32_t cap = (cfg & 8) ? 4096 : (1u << 20);
    rx.lim.max_payload = rx.lim.max_uncompressed = rx.lim.max_hello = cap;
    rx.accept = (uint8_t)(((cfg & 1) ? FCRP_F_LZ4 : 0) |
                          ((cfg & 2) ? FCRP_F_CHECK : 0));
    rx.require_check = (cfg & 6) == 6;
    /* the payload decoders over the raw stream: only bounded by memory */
    char *copy = malloc(size - 1 ? size - 1 : 1); /* ASan sees over-reads */
    CHECK(copy != NULL);
    memcpy(copy, data + 1, size - 1);
    payload_decoders((const uint8_t *)copy, size - 1);
    check_stream((const uint8_t *)copy, size - 1, &rx);
    free(copy);
    return 0;
}
