/*
 * hll.h — Redis's HyperLogLog representation, byte for byte, over plain
 * buffers: no engine, no sockets (t_hll.c holds the commands).
 *
 * A value is a string: a 16-byte header ("HYLL", encoding 0 dense or 1
 * sparse, 3 unused bytes, an 8-byte little-endian cached cardinality whose
 * top bit set means "stale") followed by 16384 6-bit registers, either
 * dense (12288 bytes, LSB first) or sparse (ZERO / XZERO / VAL run-length
 * opcodes). Elements hash with MurmurHash64A, seed 0xadc83b19; the estimate
 * is Ertl's improved estimator, as Redis 5+ computes it, so that the same
 * elements give the same value bytes and the same PFCOUNT as Redis, and
 * values move between the two servers as raw strings.
 *
 * The sparse decoder reads user data (any string with a valid header):
 * every read is bounds-checked (fuzz/fuzz_hll.c); the byte past the end
 * reads as 0, as Redis's sds terminator does.
 *
 * Threads: none shared; the functions are pure over the caller's buffers.
 * Memory: an hll_buf owns p (malloc'd); hll_* may realloc it.
 */
#ifndef FC_HLL_H
#define FC_HLL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HLL_P 14
#define HLL_Q (64 - HLL_P)
#define HLL_REGISTERS (1 << HLL_P)
#define HLL_BITS 6
#define HLL_HDR_SIZE 16
#define HLL_DENSE_SIZE (HLL_HDR_SIZE + (HLL_REGISTERS * HLL_BITS + 7) / 8)
#define HLL_ENC_DENSE 0
#define HLL_ENC_SPARSE 1
/* Redis's hll-sparse-max-bytes default. */
#define HLL_SPARSE_MAX_BYTES 3000

typedef struct hll_buf {
    uint8_t *p;
    size_t len, cap;
} hll_buf;

/* Redis's isHLLObjectOrReply checks: length, magic, encoding, dense
 * length. A sparse body is only checked when it is decoded. */
bool hll_valid_header(const uint8_t *p, size_t len);

/* An empty sparse HLL (18 bytes) in b, or a copy of len bytes of p; false
 * when out of memory. */
bool hll_buf_empty(hll_buf *b);
bool hll_buf_copy(hll_buf *b, const uint8_t *p, size_t len);
void hll_buf_free(hll_buf *b);

uint64_t hll_murmur64a(const void *key, size_t len, uint64_t seed);
/* Register index and run length (1..Q+1) of an element. */
int hll_pattern(const void *ele, size_t n, long *index);

/* Adds an element: 1 a register changed, 0 not, -1 corrupt (or out of
 * memory). May promote sparse to dense. Does not touch the cache. */
int hll_add(hll_buf *b, const void *ele, size_t n);
/* Raises register index to count if lower: as hll_add. */
int hll_set(hll_buf *b, long index, uint8_t count);
/* Rewrites a sparse b as dense: 0, or -1 when corrupt. */
int hll_to_dense(hll_buf *b);

/* max[i] = MAX(max[i], register i of the HLL at p): 0, -1 corrupt. */
int hll_merge(uint8_t *max, const uint8_t *p, size_t len);
/* Cardinality estimate: 0 with *card, -1 corrupt. */
int hll_count(const uint8_t *p, size_t len, uint64_t *card);
/* The estimate of HLL_REGISTERS byte registers. */
uint64_t hll_count_raw(const uint8_t *regs);

bool hll_cache_valid(const uint8_t *p);
uint64_t hll_cache_get(const uint8_t *p);
void hll_cache_set(uint8_t *p, uint64_t card);
void hll_invalidate(uint8_t *p);

#endif /* FC_HLL_H */
