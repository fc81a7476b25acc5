/*
 * test_tsc.c — util/tsc.h: the counter clock agrees with CLOCK_MONOTONIC
 * over an interval (within 2%: a wrong rate, origin or scale would be
 * far off; three tries, since the machine may preempt between the paired
 * reads), never goes backwards, and the clock_gettime fallback is what
 * force_clock gives.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "util/tsc.h"

static bool agrees(void)
{
    uint64_t a0 = fc_tsc_ns(), c0 = fc_clock_ns();
    struct timespec ts = {0, 150 * 1000 * 1000};
    nanosleep(&ts, NULL);
    uint64_t a1 = fc_tsc_ns(), c1 = fc_clock_ns();
    double da = (double)(a1 - a0), dc = (double)(c1 - c0);
    /* and the origin: close to CLOCK_MONOTONIC's */
    double off = (double)c1 - (double)a1;
    return dc > 0 && da / dc > 0.98 && da / dc < 1.02 && off < 5e7 &&
           off > -5e7;
}

static void test_counter_clock(void **state)
{
    (void)state;
    fc_tsc_init(20, false);
    bool ok = false;
    for (int i = 0; i < 3 && !ok; i++)
        ok = agrees();
    assert_true(ok);
    uint64_t prev = fc_tsc_ns();
    for (int i = 0; i < 1000000; i++) {
        uint64_t t = fc_tsc_ns();
        assert_true(t >= prev);
        prev = t;
    }
}

static void test_forced_fallback(void **state)
{
    (void)state;
    assert_false(fc_tsc_init(20, true));
    assert_false(fc_tsc.use_tsc);
    bool ok = false;
    for (int i = 0; i < 3 && !ok; i++)
        ok = agrees();
    assert_true(ok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter_clock),
        cmocka_unit_test(test_forced_fallback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
