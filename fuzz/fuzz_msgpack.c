/* fuzz_msgpack.c — libFuzzer target for the MessagePack decoder
 * (src/protocol/msgpack.c) that scripts' cmsgpack.unpack runs over any
 * string a script hands it.
 *
 * The input is read as a flat stream of items (mp_next: containers give
 * their count, their elements follow) until the end or an error. It must
 * never read out of bounds, and every step must advance. Then the items
 * are encoded again with the encoder (canonical forms) and decoded: the
 * same items must come back, and an input that decoded to its end without
 * error must decode so again. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/msgpack.h"

#define MAX_ITEMS 4096

static size_t decode_all(const void *p, size_t n, mp_item *items, int *status)
{
    size_t at = 0, k = 0;
    *status = MP_OK;
    while (at < n && k < MAX_ITEMS) {
        size_t before = at;
        int rc = mp_next(p, n, &at, &items[k]);
        if (rc) {
            if (at != before)
                abort(); /* an error consumes nothing */
            *status = rc;
            break;
        }
        if (at <= before || at > n)
            abort();
        k++;
    }
    return k;
}

static int same(const mp_item *a, const mp_item *b)
{
    if (a->kind != b->kind)
        return 0;
    switch (a->kind) {
    case MP_NIL:
        return 1;
    case MP_BOOL:
        return a->b == b->b;
    case MP_INT:
        return a->i == b->i;
    case MP_UINT:
        return a->u == b->u;
    case MP_FLOAT:
        return (isnan(a->d) && isnan(b->d)) || a->d == b->d;
    case MP_STR:
        return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
    case MP_ARRAY:
    case MP_MAP:
        return a->n == b->n;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static mp_item first[MAX_ITEMS], again[MAX_ITEMS];
    int st1, st2;
    size_t n1 = decode_all(data, size, first, &st1);
    fc_buf b = {0};
    for (size_t i = 0; i < n1; i++) {
        const mp_item *it = &first[i];
        switch (it->kind) {
        case MP_NIL:
            mp_put_nil(&b);
            break;
        case MP_BOOL:
            mp_put_bool(&b, it->b);
            break;
        case MP_INT:
            mp_put_int(&b, it->i);
            break;
        case MP_UINT: { /* the encoder has no uint64 above INT64_MAX */
            unsigned char u[9] = {0xcf};
            for (int j = 0; j < 8; j++)
                u[1 + j] = (unsigned char)(it->u >> (56 - 8 * j));
            fc_buf_append(&b, u, 9);
            break;
        }
        case MP_FLOAT:
            mp_put_double(&b, it->d);
            break;
        case MP_STR:
            mp_put_str(&b, it->s, it->len);
            break;
        case MP_ARRAY:
            if (it->n > 0xffffffffu)
                abort(); /* a header holds at most 32 bits */
            mp_put_array(&b, it->n);
            break;
        case MP_MAP:
            mp_put_map(&b, it->n);
            break;
        }
    }
    size_t n2 = decode_all(b.data ? b.data : "", b.len, again, &st2);
    if (n2 != n1 || st2 != MP_OK)
        abort();
    for (size_t i = 0; i < n1; i++)
        if (!same(&first[i], &again[i]))
            abort();
    (void)st1;
    fc_buf_free(&b);
    return 0;
}
