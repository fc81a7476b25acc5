/*
 * tsc.c — calibration of the time-stamp counter clock (tsc.h).
 */
#include "util/tsc.h"

#include <stdio.h>
#include <string.h>

fc_tsc_clock fc_tsc;

/* Whether /proc/cpuinfo's flags name both constant_tsc and nonstop_tsc:
 * a counter that ticks at one rate whatever the frequency and sleep state
 * (the kernel's own test before it trusts the TSC as a clocksource). */
static bool tsc_is_steady(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return false;
    char line[4096];
    bool constant = false, nonstop = false;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "flags", 5) != 0)
            continue;
        constant = strstr(line, " constant_tsc") != NULL;
        nonstop = strstr(line, " nonstop_tsc") != NULL;
        break;
    }
    fclose(f);
    return constant && nonstop;
}

bool fc_tsc_init(unsigned ms, bool force_clock)
{
    memset(&fc_tsc, 0, sizeof fc_tsc);
#if defined(__x86_64__)
    if (force_clock || !tsc_is_steady())
        return false;
    uint64_t n0 = fc_clock_ns(), t0 = __rdtsc();
    uint64_t want = (uint64_t)(ms ? ms : 1) * 1000000u, n1, t1;
    do {
        n1 = fc_clock_ns();
        t1 = __rdtsc();
    } while (n1 - n0 < want);
    if (t1 <= t0)
        return false;
    fc_tsc.mult = (uint64_t)(((unsigned __int128)(n1 - n0) << 32) / (t1 - t0));
    if (fc_tsc.mult == 0)
        return false;
    fc_tsc.base_tsc = t1;
    fc_tsc.base_ns = n1;
    fc_tsc.use_tsc = true;
    return true;
#else
    (void)ms;
    (void)force_clock;
    return false;
#endif
}
