#!/usr/bin/env python3
"""suite_vs_redis.py — redis-benchmark's default suite (every test it runs
when given no -t: PING_INLINE, PING_MBULK, SET, GET, INCR, LPUSH, RPUSH,
LPOP, RPOP, SADD, HSET, SPOP, ZADD, ZPOPMIN, LRANGE_100/300/500/600, MSET)
against fast-cache and redis-server in one run, at -P 1 and -P 16, as
fc/redis ratios (make bench calls it).

Each test runs on its own (-t NAME), in the suite's order, alternating which
server goes first, against two servers that stay up for the whole run, so
the keys later tests read (the list LPOP pops, the set SPOP pops) were
written the same way on both. Per test it gives requests per second and
each server's CPU time per request (/proc schedstat): 1e9 / ns is what one
core of that server can serve at most, which matters at -P 16, where the
client's core is the limit for both (see types_vs_redis.py).

Two configurations: per core (each server on CPU 0, fast-cache --threads
1, redis-benchmark on CPU 1, with taskset; skipped on a 1-CPU machine) and
default (fast-cache with its default threads, nothing pinned).

Env: FC_SERVER, REDIS_SERVER, BENCH_N (100000), BENCH_C (50), TESTS (the
suite, comma separated). Servers listen on 127.0.0.1 only, no persistence;
every run is bounded (-n, and a 600 s timeout per test) and every process
started is stopped.
"""

import os
import shutil
import sys

from benchutil import cpu_ns, free_port, load, spawn, stop

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FC = os.environ.get("FC_SERVER", os.path.join(ROOT, "build", "fast-cache-server"))
REDIS = os.environ.get("REDIS_SERVER", shutil.which("redis-server") or "")
BENCH = shutil.which("redis-benchmark")
BENCH_N = int(os.environ.get("BENCH_N", "100000"))
BENCH_C = int(os.environ.get("BENCH_C", "50"))
SUITE = ("ping_inline,ping_mbulk,set,get,incr,lpush,rpush,lpop,rpop,sadd,"
         "hset,spop,zadd,zpopmin,lrange_100,lrange_300,lrange_500,lrange_600,"
         "mset")
TESTS = os.environ.get("TESTS", SUITE).split(",")
PIN = (os.cpu_count() or 1) >= 2


def start(kind, port, pinned):
    if kind == "redis":
        args = [REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--daemonize", "no"]
    else:
        args = [FC, "--bind", "127.0.0.1", "--port", str(port)]
        if pinned:
            args += ["--threads", "1"]
    if pinned:
        args = ["taskset", "-c", "0"] + args
    return spawn(args, kind, port)


def run(pinned, pipe):
    rp, fp = free_port(), free_port()
    servers = {"r": (rp,) + start("redis", rp, pinned),
               "f": (fp,) + start("fc", fp, pinned)}
    rows = []
    try:
        for i, test in enumerate(TESTS):
            order = ["r", "f"] if i % 2 == 0 else ["f", "r"]
            got = {}
            for who in order:
                port, proc, _ = servers[who]
                c0 = cpu_ns(proc.pid)
                rps, _client = load(BENCH, port, test, pipe, BENCH_N, BENCH_C,
                                    pinned)
                got[who] = (rps, (cpu_ns(proc.pid) - c0) / BENCH_N)
            rows.append((test, got["r"], got["f"]))
    finally:
        for port, proc, conn in servers.values():
            stop(proc, conn)
    return rows


def main():
    if not REDIS or not os.path.exists(FC) or not BENCH:
        print("suite_vs_redis: needs redis-server, redis-benchmark and %s" % FC)
        return 1
    for pinned in ([True, False] if PIN else [False]):
        label = ("per core (servers on CPU 0, fast-cache --threads 1, "
                 "redis-benchmark on CPU 1)" if pinned else
                 "default configuration (fast-cache's default threads, "
                 "nothing pinned)")
        for pipe in (1, 16):
            print("redis-benchmark default suite, -c %d -n %d -P %d: %s"
                  % (BENCH_C, BENCH_N, pipe, label))
            print("%-12s %10s %10s %8s | %12s %8s %6s" % (
                "test", "redis rps", "fc rps", "fc/redis", "srv ns/req r",
                "fc", "r/fc"))
            ratios = []
            for test, (r, rn), (f, fn) in run(pinned, pipe):
                ratios.append(f / r if r else 0)
                print("%-12s %10.0f %10.0f %8.2f | %12.0f %8.0f %6.2f" % (
                    test, r, f, f / r if r else 0, rn, fn,
                    rn / fn if fn else 0))
            ratios.sort()
            print("fc/redis rps: median %.2f, min %.2f, max %.2f\n" % (
                ratios[len(ratios) // 2], ratios[0], ratios[-1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
