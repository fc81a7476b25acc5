/*
 * test_fold.c — util/fold.h: fc_fold8 against a byte-by-byte ASCII
 * lower-casing for every byte value in every lane (the neighbours of the
 * letters, '@' '[' '`' '{', and bytes from 0x80 up must stay as they are),
 * with random bytes in the other lanes (a carry between lanes would show);
 * fc_fold_words equal for case variants of a name and different for a
 * byte more, a byte less or one byte changed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/fold.h"

static uint64_t rng = 12345;

static uint64_t next(void)
{
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return rng ^ (rng >> 29);
}

static uint64_t ref_fold8(uint64_t x)
{
    uint64_t out = 0;
    for (int i = 0; i < 8; i++) {
        unsigned c = (unsigned)(x >> (8 * i)) & 0xff;
        if (c >= 'A' && c <= 'Z')
            c |= 0x20;
        out |= (uint64_t)c << (8 * i);
    }
    return out;
}

static void test_fold8_every_byte_every_lane(void **state)
{
    (void)state;
    for (int lane = 0; lane < 8; lane++)
        for (unsigned b = 0; b < 256; b++)
            for (int k = 0; k < 64; k++) {
                uint64_t x = next();
                x &= ~(0xffULL << (8 * lane));
                x |= (uint64_t)b << (8 * lane);
                assert_true(fc_fold8(x) == ref_fold8(x));
            }
}

static uint64_t hash_of(const char *p, size_t n, uint64_t *w, size_t *nw)
{
    uint64_t h;
    memset(w, 0, 4 * sizeof *w);
    *nw = fc_fold_words(p, n, w, &h);
    return h;
}

static void test_words_case_variants_and_neighbours(void **state)
{
    (void)state;
    char name[33], other[34];
    for (int it = 0; it < 20000; it++) {
        size_t n = 1 + next() % 32;
        for (size_t j = 0; j < n; j++)
            name[j] = (char)('a' + next() % 26);
        uint64_t w1[4], w2[4];
        size_t n1, n2;
        uint64_t h1 = hash_of(name, n, w1, &n1);
        for (size_t j = 0; j < n; j++) /* random case */
            other[j] = (char)(next() & 1 ? name[j] - 32 : name[j]);
        uint64_t h2 = hash_of(other, n, w2, &n2);
        assert_true(h1 == h2);
        assert_int_equal(n1, n2);
        assert_memory_equal(w1, w2, sizeof w1);
        /* one byte changed to a neighbour of the letters, or high */
        static const unsigned char odd[] = {'@', '[', '`', '{', 0xc1, 0};
        memcpy(other, name, n);
        size_t at = next() % n;
        other[at] = (char)odd[next() % sizeof odd];
        hash_of(other, n, w2, &n2);
        assert_memory_not_equal(w1, w2, sizeof w1);
        /* a byte more: other words (a zero byte appended differs only
         * in the length, which the hash mixes in) */
        memcpy(other, name, n);
        other[n] = 'a';
        if (n < 32) {
            hash_of(other, n + 1, w2, &n2);
            assert_memory_not_equal(w1, w2, sizeof w1);
        }
        if (n < 32) { /* names are at most 32 bytes (4 words) */
            other[n] = '\0';
            uint64_t h3 = hash_of(other, n + 1, w2, &n2);
            assert_true(h3 != h1);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fold8_every_byte_every_lane),
        cmocka_unit_test(test_words_case_variants_and_neighbours),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
