/*
 * test_spsc.c — the server's bounded SPSC ring and its overflow channel:
 * FIFO order, the bound, wrap-around, and a two-thread run in which every
 * message arrives exactly once and in order.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "server/route/spsc.h"

static void *tok(uintptr_t i)
{
    return (void *)(i + 1); /* never NULL */
}

static uintptr_t untok(void *p)
{
    return (uintptr_t)p - 1;
}

static void test_ring_fifo_and_bound(void **state)
{
    spsc_ring *r = spsc_ring_new(5); /* rounds up to 8 */
    assert_non_null(r);
    assert_true(spsc_ring_empty(r));
    assert_null(spsc_ring_pop(r));
    size_t pushed = 0;
    while (spsc_ring_push(r, tok(pushed)))
        pushed++;
    assert_int_equal(pushed, 8);
    assert_false(spsc_ring_empty(r));
    for (uintptr_t i = 0; i < 8; i++)
        assert_int_equal(untok(spsc_ring_pop(r)), i);
    assert_null(spsc_ring_pop(r));
    assert_true(spsc_ring_empty(r));
    spsc_ring_free(r);
}

static void test_ring_wraps(void **state)
{
    spsc_ring *r = spsc_ring_new(4);
    assert_non_null(r);
    uintptr_t next_in = 0, next_out = 0;
    /* Many laps around a small ring with varying fill levels. */
    for (int round = 0; round < 1000; round++) {
        int n = 1 + round % 4;
        for (int i = 0; i < n; i++)
            assert_true(spsc_ring_push(r, tok(next_in++)));
        for (int i = 0; i < n; i++)
            assert_int_equal(untok(spsc_ring_pop(r)), next_out++);
    }
    assert_null(spsc_ring_pop(r));
    spsc_ring_free(r);
}

static void test_chan_overflow_keeps_order(void **state)
{
    spsc_chan ch;
    assert_int_equal(spsc_chan_init(&ch, 4), 0);
    for (uintptr_t i = 0; i < 100; i++)
        assert_int_equal(spsc_chan_send(&ch, tok(i)), 0);
    assert_int_equal(ch.ovf_len, 96); /* 4 in the ring, the rest waits */
    uintptr_t expect = 0;
    size_t left;
    bool sent_late = false;
    do {
        void *p;
        while ((p = spsc_ring_pop(ch.ring)))
            assert_int_equal(untok(p), expect++);
        left = spsc_chan_flush(&ch);
        /* A send while overflow waits must queue behind it. */
        if (left < 50 && !sent_late) {
            assert_int_equal(spsc_chan_send(&ch, tok(100)), 0);
            sent_late = true;
        }
    } while (left > 0 || !spsc_ring_empty(ch.ring));
    assert_int_equal(expect, 101);
    assert_null(spsc_chan_take_overflow(&ch));
    spsc_chan_destroy(&ch);
}

static void test_chan_take_overflow(void **state)
{
    spsc_chan ch;
    assert_int_equal(spsc_chan_init(&ch, 2), 0);
    for (uintptr_t i = 0; i < 5; i++)
        assert_int_equal(spsc_chan_send(&ch, tok(i)), 0);
    assert_int_equal(untok(spsc_ring_pop(ch.ring)), 0);
    assert_int_equal(untok(spsc_ring_pop(ch.ring)), 1);
    assert_int_equal(untok(spsc_chan_take_overflow(&ch)), 2);
    assert_int_equal(untok(spsc_chan_take_overflow(&ch)), 3);
    assert_int_equal(untok(spsc_chan_take_overflow(&ch)), 4);
    assert_null(spsc_chan_take_overflow(&ch));
    spsc_chan_destroy(&ch);
}

#define N_MSGS 200000

typedef struct payload {
    uintptr_t seq;
    uintptr_t check; /* written before the push: must be visible after */
} payload;

static void *producer(void *arg)
{
    spsc_chan *ch = arg;
    payload *msgs = malloc(N_MSGS * sizeof(*msgs));
    if (!msgs)
        return (void *)1;
    for (uintptr_t i = 0; i < N_MSGS; i++) {
        msgs[i].seq = i;
        msgs[i].check = i * 2654435761u;
        if (spsc_chan_send(ch, &msgs[i]))
            return (void *)1;
        if (i % 64 == 0)
            spsc_chan_flush(ch);
    }
    while (spsc_chan_flush(ch) > 0)
        ;
    return msgs; /* freed by the test once everything arrived */
}

static void test_two_threads(void **state)
{
    spsc_chan ch;
    assert_int_equal(spsc_chan_init(&ch, 64), 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, producer, &ch), 0);
    uintptr_t expect = 0;
    while (expect < N_MSGS) {
        payload *p = spsc_ring_pop(ch.ring);
        if (!p)
            continue;
        assert_int_equal(p->seq, expect);
        assert_int_equal(p->check, expect * 2654435761u);
        expect++;
    }
    void *msgs;
    assert_int_equal(pthread_join(t, &msgs), 0);
    assert_true(msgs != (void *)1);
    assert_null(spsc_ring_pop(ch.ring));
    free(msgs);
    spsc_chan_destroy(&ch);
}

/* A bounded channel holds ring + ovf_max messages, in order, and then
 * refuses instead of growing; room freed by the consumer is reused. */
static void test_chan_bounded(void **state)
{
    (void)state;
    spsc_chan ch;
    assert_int_equal(spsc_chan_init_bounded(&ch, 4, 3), 0);
    for (int i = 0; i < 7; i++)
        assert_int_equal(spsc_chan_send(&ch, tok(i)), 0);
    assert_int_equal(spsc_chan_send(&ch, tok(7)), -1);
    assert_int_equal(ch.ovf_cap, 3); /* never reallocated */
    assert_int_equal(untok(spsc_ring_pop(ch.ring)), 0);
    assert_int_equal(untok(spsc_ring_pop(ch.ring)), 1);
    assert_int_equal(spsc_chan_flush(&ch), 1);
    assert_int_equal(spsc_chan_send(&ch, tok(7)), 0);
    assert_int_equal(spsc_chan_send(&ch, tok(8)), 0);
    assert_int_equal(spsc_chan_send(&ch, tok(9)), -1);
    for (int expect = 2; expect <= 8; expect++) {
        void *p = spsc_ring_pop(ch.ring);
        if (!p) {
            spsc_chan_flush(&ch);
            p = spsc_ring_pop(ch.ring);
        }
        assert_int_equal(untok(p), expect);
    }
    assert_null(spsc_ring_pop(ch.ring));
    assert_int_equal(spsc_chan_flush(&ch), 0);
    spsc_chan_destroy(&ch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ring_fifo_and_bound),
        cmocka_unit_test(test_ring_wraps),
        cmocka_unit_test(test_chan_overflow_keeps_order),
        cmocka_unit_test(test_chan_take_overflow),
        cmocka_unit_test(test_chan_bounded),
        cmocka_unit_test(test_two_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
