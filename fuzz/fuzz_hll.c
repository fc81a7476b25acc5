/* fuzz_hll.c — libFuzzer target for the HyperLogLog decoder and sparse
 * editor (src/commands/hll.c): PFADD, PFCOUNT and PFMERGE run them over any
 * string value with an "HYLL" header, so the bytes are never trusted.
 *
 * Input: byte 0 selects a header variant (bit 0 dense, bit 1 cache
 * stale), the rest is the register body (repeated to the dense size for a
 * dense one). The value must not crash or read
 * out of bounds in hll_count / hll_merge / hll_add / hll_set /
 * hll_to_dense; when the decoder accepts it, the register arrays from
 * hll_merge before and after a dense conversion must be equal, and every
 * add must leave a value the decoder still accepts with registers no lower
 * than before. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "commands/hll.h"

/* True when a sparse body ends inside an XZERO: its missing second byte
 * reads as 0, as in Redis, and an edit of that opcode leaves a body Redis
 * would also find short (so "valid stays valid" does not hold there). */
static bool cut_off(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n)
        i += (p[i] & 0xc0) == 0x40 ? 2 : 1;
    return i > n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    /* A dense body is always 12288 bytes: the input repeats to fill it
     * (inputs stay short under -max_len). */
    size_t in = size - 1;
    size_t body = (sel & 1) ? HLL_DENSE_SIZE - HLL_HDR_SIZE : in;
    uint8_t *v = malloc(HLL_HDR_SIZE + body + 1);
    if (!v)
        return 0;
    memset(v, 0, HLL_HDR_SIZE + body);
    memcpy(v, "HYLL", 4);
    v[4] = (sel & 1) ? HLL_ENC_DENSE : HLL_ENC_SPARSE;
    if (sel & 2)
        v[15] = 0x80;
    for (size_t i = 0; in && i < body; i++)
        v[HLL_HDR_SIZE + i] = data[1 + i % in];
    size_t len = HLL_HDR_SIZE + body;
    if (!hll_valid_header(v, len)) {
        free(v);
        return 0;
    }
    static uint8_t before[HLL_REGISTERS], after[HLL_REGISTERS];
    uint64_t card;
    memset(before, 0, sizeof(before));
    int ok = hll_merge(before, v, len);
    if ((hll_count(v, len, &card) == 0) != (ok == 0))
        abort(); /* count and merge must agree on validity */
    hll_buf b;
    if (!hll_buf_copy(&b, v, len)) {
        free(v);
        return 0;
    }
    const char *els[] = {"a", "b", "hello", "", "0123456789abcdefX"};
    for (size_t i = 0; i < sizeof(els) / sizeof(els[0]); i++)
        (void)hll_add(&b, els[i], strlen(els[i]));
    (void)hll_set(&b, (long)(sel * 64u) % HLL_REGISTERS, (uint8_t)(sel % 52));
    if (ok == 0 &&
        !(v[4] == HLL_ENC_SPARSE && cut_off(v + HLL_HDR_SIZE, body))) {
        memset(after, 0, sizeof(after));
        if (hll_merge(after, b.p, b.len) != 0)
            abort(); /* a valid HLL stays valid */
        for (long i = 0; i < HLL_REGISTERS; i++) {
            if (after[i] < before[i])
                abort(); /* registers only grow */
        }
        if (hll_to_dense(&b) != 0)
            abort();
        static uint8_t dense[HLL_REGISTERS];
        memset(dense, 0, sizeof(dense));
        if (hll_merge(dense, b.p, b.len) != 0 ||
            memcmp(dense, after, sizeof(dense)) != 0)
            abort();
    } else {
        (void)hll_to_dense(&b);
    }
    hll_buf_free(&b);
    free(v);
    return 0;
}
