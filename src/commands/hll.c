/*
 * hll.c — Redis's HyperLogLog, written from its documented layout (see
 * hll.h and docs/FORMATS.md).
 *
 * Sparse opcodes, each covering a run of registers:
 *   ZERO  00xxxxxx           1..64 registers at 0
 *   XZERO 01xxxxxx yyyyyyyy  1..16384 registers at 0
 *   VAL   1vvvvvxx           1..4 registers at value 1..32
 * A register update splits the opcode that covers it into at most three
 * (up to 5 bytes) and then merges equal neighbouring VALs in a window of 5
 * opcodes from the one before the change: the same steps as Redis, so the
 * bytes come out the same. Past HLL_SPARSE_MAX_BYTES, or for a value over
 * 32, the HLL becomes dense for good.
 */
#include "commands/hll.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define XZERO_BIT 0x40
#define VAL_BIT 0x80
#define IS_ZERO(b) (((b)&0xc0) == 0)
#define IS_XZERO(b) (((b)&0xc0) == XZERO_BIT)
#define IS_VAL(b) ((b)&VAL_BIT)
#define ZERO_LEN(b) (((b)&0x3f) + 1)
#define XZERO_LEN(b0, b1) (((((b0)&0x3f) << 8) | (b1)) + 1)
#define VAL_VALUE(b) ((((b) >> 2) & 0x1f) + 1)
#define VAL_LEN(b) (((b)&0x3) + 1)
#define VAL_MAX_VALUE 32
#define VAL_MAX_LEN 4
#define ZERO_MAX_LEN 64
#define XZERO_MAX_LEN 16384
#define ALPHA_INF 0.721347520444481703680 /* 0.5/ln(2) */

static inline uint8_t val_op(int value, int len)
{
    return (uint8_t)(((value - 1) << 2 | (len - 1)) | VAL_BIT);
}

bool hll_valid_header(const uint8_t *p, size_t len)
{
    if (len < HLL_HDR_SIZE || memcmp(p, "HYLL", 4) != 0)
        return false;
    if (p[4] > HLL_ENC_SPARSE)
        return false;
    return p[4] != HLL_ENC_DENSE || len == HLL_DENSE_SIZE;
}

static bool reserve(hll_buf *b, size_t need)
{
    if (b->cap >= need)
        return true;
    size_t cap = need < 64 ? 64 : need;
    uint8_t *p = realloc(b->p, cap);
    if (!p)
        return false;
    b->p = p;
    b->cap = cap;
    return true;
}

bool hll_buf_empty(hll_buf *b)
{
    b->p = NULL;
    b->len = b->cap = 0;
    if (!reserve(b, HLL_HDR_SIZE + 2 + 3))
        return false;
    memset(b->p, 0, HLL_HDR_SIZE);
    memcpy(b->p, "HYLL", 4);
    b->p[4] = HLL_ENC_SPARSE;
    /* One XZERO for all 16384 registers. */
    b->p[HLL_HDR_SIZE] = (uint8_t)(((XZERO_MAX_LEN - 1) >> 8) | XZERO_BIT);
    b->p[HLL_HDR_SIZE + 1] = (uint8_t)((XZERO_MAX_LEN - 1) & 0xff);
    b->len = HLL_HDR_SIZE + 2;
    return true;
}

bool hll_buf_copy(hll_buf *b, const uint8_t *p, size_t len)
{
    b->p = NULL;
    b->len = b->cap = 0;
    if (!reserve(b, len + 3))
        return false;
    memcpy(b->p, p, len);
    b->len = len;
    return true;
}

void hll_buf_free(hll_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

uint64_t hll_murmur64a(const void *key, size_t len, uint64_t seed)
{
    const uint64_t m = 0xc6a4a7935bd1e995ULL;
    const int r = 47;
    const uint8_t *data = key;
    uint64_t h = seed ^ ((uint64_t)len * m);
    size_t blocks = len / 8;

    for (size_t i = 0; i < blocks; i++, data += 8) {
        uint64_t k = 0;
        for (int j = 7; j >= 0; j--) /* little endian on every host */
            k = (k << 8) | data[j];
        k *= m;
        k ^= k >> r;
        k *= m;
        h ^= k;
        h *= m;
    }
    size_t tail = len & 7;
    if (tail) {
        for (size_t j = tail; j-- > 0;)
            h ^= (uint64_t)data[j] << (8 * j);
        h *= m;
    }
    h ^= h >> r;
    h *= m;
    h ^= h >> r;
    return h;
}

int hll_pattern(const void *ele, size_t n, long *index)
{
    uint64_t hash = hll_murmur64a(ele, n, 0xadc83b19ULL);
    int count = 1;
    *index = (long)(hash & (HLL_REGISTERS - 1));
    hash >>= HLL_P;
    hash |= (uint64_t)1 << HLL_Q; /* the run ends by Q + 1 */
    while (!(hash & 1)) {
        count++;
        hash >>= 1;
    }
    return count;
}

/* --- dense --- */

static unsigned dense_get(const uint8_t *r, long i)
{
    size_t byte = (size_t)i * HLL_BITS / 8;
    unsigned fb = (unsigned)(i * HLL_BITS) & 7;
    unsigned v = r[byte] >> fb;
    if (fb > 8 - HLL_BITS) /* the register spills into the next byte */
        v |= (unsigned)r[byte + 1] << (8 - fb);
    return v & 63;
}

static void dense_put(uint8_t *r, long i, unsigned v)
{
    size_t byte = (size_t)i * HLL_BITS / 8;
    unsigned fb = (unsigned)(i * HLL_BITS) & 7;
    r[byte] = (uint8_t)((r[byte] & ~(63u << fb)) | (v << fb));
    if (fb > 8 - HLL_BITS)
        r[byte + 1] =
            (uint8_t)((r[byte + 1] & ~(63u >> (8 - fb))) | (v >> (8 - fb)));
}

static int dense_set(uint8_t *r, long index, uint8_t count)
{
    if (count <= dense_get(r, index))
        return 0;
    dense_put(r, index, count);
    return 1;
}

/* --- sparse --- */

/* max[i] = MAX(max[i], register i) over a sparse body; -1 when the runs
 * do not cover exactly HLL_REGISTERS registers. */
static int sparse_max(const uint8_t *p, size_t n, uint8_t *max)
{
    const uint8_t *end = p + n;
    long idx = 0;
    while (p < end) {
        long run;
        if (IS_ZERO(*p)) {
            run = ZERO_LEN(*p);
            p++;
        } else if (IS_XZERO(*p)) {
            /* A cut-off XZERO reads a 0 second byte, as Redis's sds
             * terminator gives it. */
            run = XZERO_LEN(p[0], p + 1 < end ? p[1] : 0);
            p += 2;
        } else {
            int v = VAL_VALUE(*p);
            run = VAL_LEN(*p);
            if (idx + run > HLL_REGISTERS)
                return -1;
            for (long j = 0; j < run; j++) {
                if (v > max[idx + j])
                    max[idx + j] = (uint8_t)v;
            }
            p++;
        }
        idx += run;
        if (idx > HLL_REGISTERS)
            return -1;
    }
    return idx == HLL_REGISTERS ? 0 : -1;
}

int hll_to_dense(hll_buf *b)
{
    uint8_t regs[HLL_REGISTERS];
    if (b->p[4] == HLL_ENC_DENSE)
        return 0;
    memset(regs, 0, sizeof(regs));
    if (sparse_max(b->p + HLL_HDR_SIZE, b->len - HLL_HDR_SIZE, regs) < 0 ||
        !reserve(b, HLL_DENSE_SIZE))
        return -1;
    /* The header (magic, cached cardinality) stays. */
    b->p[4] = HLL_ENC_DENSE;
    memset(b->p + HLL_HDR_SIZE, 0, HLL_DENSE_SIZE - HLL_HDR_SIZE);
    for (long i = 0; i < HLL_REGISTERS; i++) {
        if (regs[i])
            dense_put(b->p + HLL_HDR_SIZE, i, regs[i]);
    }
    b->len = HLL_DENSE_SIZE;
    return 0;
}

/* Writes a ZERO or XZERO of len registers at n; returns the bytes. */
static int put_zero(uint8_t *n, long len)
{
    if (len > ZERO_MAX_LEN) {
        n[0] = (uint8_t)(((len - 1) >> 8) | XZERO_BIT);
        n[1] = (uint8_t)((len - 1) & 0xff);
        return 2;
    }
    n[0] = (uint8_t)(len - 1);
    return 1;
}

/* Merges equal neighbouring VALs in up to 5 opcodes from p. */
static void sparse_merge(hll_buf *b, uint8_t *p)
{
    uint8_t *end = b->p + b->len;
    int scan = 5;
    while (p < end && scan--) {
        if (IS_XZERO(*p)) {
            p += 2;
            continue;
        }
        if (IS_ZERO(*p)) {
            p++;
            continue;
        }
        if (p + 1 < end && IS_VAL(p[1]) && VAL_VALUE(p[0]) == VAL_VALUE(p[1])) {
            int len = VAL_LEN(p[0]) + VAL_LEN(p[1]);
            if (len <= VAL_MAX_LEN) {
                p[1] = val_op(VAL_VALUE(p[0]), len);
                memmove(p, p + 1, (size_t)(end - p - 1));
                b->len--;
                end--;
                continue; /* try the merged one with its right neighbour */
            }
        }
        p++;
    }
}

static int sparse_set(hll_buf *b, long index, uint8_t count)
{
    if (count > VAL_MAX_VALUE)
        goto promote;
    /* An XZERO split in three grows the body by at most 3 bytes; one more
     * holds a 0 past the end, which a cut-off XZERO reads as its second
     * byte (Redis's sds terminator: corrupt values behave as there). */
    if (!reserve(b, b->len + 4))
        return -1;
    b->p[b->len] = 0;
    uint8_t *sparse = b->p + HLL_HDR_SIZE, *p = sparse, *end = b->p + b->len;
    uint8_t *prev = NULL, *next;
    long first = 0, span = 0;
    int oplen = 1;
    while (p < end) {
        oplen = 1;
        if (IS_ZERO(*p)) {
            span = ZERO_LEN(*p);
        } else if (IS_VAL(*p)) {
            span = VAL_LEN(*p);
        } else {
            span = XZERO_LEN(p[0], p[1]);
            oplen = 2;
        }
        if (index <= first + span - 1)
            break;
        prev = p;
        p += oplen;
        first += span;
    }
    if (span == 0 || p >= end)
        return -1;
    next = p + oplen < end ? p + oplen : NULL;
    bool is_val = IS_VAL(*p), is_zero = IS_ZERO(*p);
    if (is_val) {
        if (VAL_VALUE(*p) >= count)
            return 0;
        if (span == 1) {
            *p = val_op(count, 1);
            goto updated;
        }
    }
    if (is_zero && span == 1) {
        *p = val_op(count, 1);
        goto updated;
    }
    uint8_t seq[5];
    int n = 0;
    long last = first + span - 1;
    if (!is_val) {
        if (index != first)
            n += put_zero(seq + n, index - first);
        seq[n++] = val_op(count, 1);
        if (index != last)
            n += put_zero(seq + n, last - index);
    } else {
        int cur = VAL_VALUE(*p);
        if (index != first)
            seq[n++] = val_op(cur, (int)(index - first));
        seq[n++] = val_op(count, 1);
        if (index != last)
            seq[n++] = val_op(cur, (int)(last - index));
    }
    long delta = n - oplen;
    if (delta > 0 && b->len + (size_t)delta > HLL_SPARSE_MAX_BYTES)
        goto promote;
    if (delta && next)
        memmove(next + delta, next, (size_t)(end - next));
    b->len = (size_t)((long)b->len + delta);
    memcpy(p, seq, (size_t)n);
updated:
    sparse_merge(b, prev ? prev : sparse);
    return 1;
promote:
    if (hll_to_dense(b) < 0)
        return -1;
    return dense_set(b->p + HLL_HDR_SIZE, index, count);
}

int hll_set(hll_buf *b, long index, uint8_t count)
{
    if (count == 0 || count > 63 || index < 0 || index >= HLL_REGISTERS)
        return count == 0 ? 0 : -1; /* no register is lowered or widened */
    if (b->p[4] == HLL_ENC_DENSE)
        return dense_set(b->p + HLL_HDR_SIZE, index, count);
    if (b->p[4] == HLL_ENC_SPARSE)
        return sparse_set(b, index, count);
    return -1;
}

int hll_add(hll_buf *b, const void *ele, size_t n)
{
    long index;
    int count = hll_pattern(ele, n, &index);
    return hll_set(b, index, (uint8_t)count);
}

int hll_merge(uint8_t *max, const uint8_t *p, size_t len)
{
    if (len < HLL_HDR_SIZE)
        return -1;
    if (p[4] == HLL_ENC_DENSE) {
        if (len != HLL_DENSE_SIZE)
            return -1;
        for (long i = 0; i < HLL_REGISTERS; i++) {
            unsigned v = dense_get(p + HLL_HDR_SIZE, i);
            if (v > max[i])
                max[i] = (uint8_t)v;
        }
        return 0;
    }
    if (p[4] != HLL_ENC_SPARSE)
        return -1;
    return sparse_max(p + HLL_HDR_SIZE, len - HLL_HDR_SIZE, max);
}

/* Ertl's sigma and tau ("New cardinality estimation algorithms for
 * HyperLogLog sketches", arXiv:1702.01284), iterated to a fixed point in
 * the same order of operations as Redis so the doubles agree. */
static double sigma(double x)
{
    if (x == 1.)
        return INFINITY;
    double zp, y = 1, z = x;
    do {
        x *= x;
        zp = z;
        z += x * y;
        y += y;
    } while (zp != z);
    return z;
}

static double tau(double x)
{
    if (x == 0. || x == 1.)
        return 0.;
    double zp, y = 1.0, z = 1 - x;
    do {
        x = sqrt(x);
        zp = z;
        y *= 0.5;
        z -= pow(1 - x, 2) * y;
    } while (zp != z);
    return z / 3;
}

uint64_t hll_count_raw(const uint8_t *regs)
{
    int histo[64] = {0};
    double m = HLL_REGISTERS;
    for (long i = 0; i < HLL_REGISTERS; i++)
        histo[regs[i] & 63]++;
    double z = m * tau((m - histo[HLL_Q + 1]) / m);
    for (int j = HLL_Q; j >= 1; --j) {
        z += histo[j];
        z *= 0.5;
    }
    z += m * sigma(histo[0] / m);
    double x = ALPHA_INF * m * m / z;
    /* Registers of 51 and up only (a crafted dense value) leave z at 0:
     * llroundl then gives LLONG_MIN on x86-64 glibc, which Redis's cast to
     * uint64_t turns into 2^63 (PFCOUNT prints it as a negative number).
     * Answer the same without the undefined conversion. */
    if (!(x < 9223372036854775808.0))
        return (uint64_t)1 << 63;
    double e = (double)llroundl(x);
    return (uint64_t)e;
}

int hll_count(const uint8_t *p, size_t len, uint64_t *card)
{
    uint8_t regs[HLL_REGISTERS];
    memset(regs, 0, sizeof(regs));
    if (hll_merge(regs, p, len) < 0)
        return -1;
    *card = hll_count_raw(regs);
    return 0;
}

bool hll_cache_valid(const uint8_t *p)
{
    return (p[15] & 0x80) == 0;
}

uint64_t hll_cache_get(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[8 + i];
    return v;
}

void hll_cache_set(uint8_t *p, uint64_t card)
{
    for (int i = 0; i < 8; i++)
        p[8 + i] = (uint8_t)(card >> (8 * i));
}

void hll_invalidate(uint8_t *p)
{
    p[15] |= 0x80;
}
