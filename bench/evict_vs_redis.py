#!/usr/bin/env python3
"""evict_vs_redis.py — hit ratio under a memory limit, fast-cache beside
redis-server, in one run (make bench calls it).

A cache-aside client replays a trace: GET each key, SET it on a miss. Two
traces over KEYS distinct keys of VALUE bytes (the working set):
  zipf   Zipf(0.99) over the keys (ranks shuffled, so popularity has
         nothing to do with hash order);
  scan   the same Zipf requests with a sequential scan over as many other
         keys mixed in (3 in 10 requests): one-hit wonders that an LRU lets
         push the popular keys out.
Each server gets maxmemory = its own empty footprint + 10% of what the
whole working set takes in it (measured first, without a limit): "the
cache at 10% of the working set" in each server's own bytes, so that the
policies are compared, not the per-key overheads; the keys each one held
at the end are printed too. Policies: fast-cache's default (clock) and
allkeys-lru, redis-server's allkeys-lru and allkeys-lfu (Redis's defaults:
maxmemory-samples 5, its eviction pool). The first 20% of requests warm the
cache and are not counted. Also printed: RSS / maxmemory at the end (at
these small limits the process's fixed RSS, binary and buffers, dominates
it: it says little about fragmentation here).

Both servers' LRU clocks tick once a second (Redis's LRU_CLOCK_RESOLUTION,
and ours, evict.c), so over a replay of a few seconds most keys share a
timestamp and sampled LRU is close to random eviction, for both alike.

Then the cost of eviction in throughput: redis-benchmark SET then GET
over 1M random keys of 100 B (-r 1000000 -d 100) against each server with
no limit and with maxmemory TPUT_LIMIT (8 MiB, a fraction of what the
keys take, so nearly every SET evicts), per core: the server pinned to CPU
0 (fast-cache --threads 1), redis-benchmark to CPU 1; -P 1 and -P 16.
Printed as rps and as limit / no-limit ratios per server (issue 11's
target: >= 0.9 for fast-cache's default policy).

Env: FC_SERVER, REDIS_SERVER, KEYS (100000), REQUESTS (500000), VALUE
(100), TPUT_N (requests per redis-benchmark run at -P 16; -P 1 runs a
fifth of it), TPUT_LIMIT (bytes). Servers listen on 127.0.0.1 only, one worker thread for fast-cache
(4 shards: the limit's accounting is exact to 4 KiB per shard), no
persistence; every loop is bounded and every process started is stopped.
"""

import os
import random
import shutil
import subprocess
import sys

from benchutil import free_port, spawn, stop

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FC = os.environ.get("FC_SERVER", os.path.join(ROOT, "build", "fast-cache-server"))
REDIS = os.environ.get("REDIS_SERVER", shutil.which("redis-server") or "")
KEYS = int(os.environ.get("KEYS", "100000"))
REQUESTS = int(os.environ.get("REQUESTS", "500000"))
VALUE = b"v" * int(os.environ.get("VALUE", "100"))
BATCH = 1000
WARM = 0.2
BENCH = shutil.which("redis-benchmark")
TASKSET = shutil.which("taskset")
TPUT_N = int(os.environ.get("TPUT_N", "2000000"))
TPUT_LIMIT = int(os.environ.get("TPUT_LIMIT", str(8 << 20)))


def start(kind, port, extra=(), cpu=None):
    pin = ["taskset", "-c", cpu] if cpu else []
    if kind == "redis":
        args = [REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save",
                "", "--appendonly", "no", "--daemonize", "no"]
    else:
        args = [FC, "--bind", "127.0.0.1", "--port", str(port), "--threads",
                "1", "--shards", "4", "--pin-threads", "no"]
    return spawn(pin + args + list(extra), kind, port, errors_as_values=True)


def zipf_ranks(n, count, rnd):
    cdf, acc = [], 0.0
    for i in range(1, n + 1):
        acc += 1.0 / i ** 0.99
        cdf.append(acc)
    perm = list(range(n))
    rnd.shuffle(perm)
    return [perm[r] for r in rnd.choices(range(n), cum_weights=cdf, k=count)]


def traces():
    rnd = random.Random(42)
    z = zipf_ranks(KEYS, REQUESTS, rnd)
    zipf = [b"k:%d" % r for r in z]
    scan, s = [], 0
    for i, r in enumerate(z):
        if i % 10 < 3:
            scan.append(b"s:%d" % (s % KEYS))
            s += 1
        else:
            scan.append(b"k:%d" % r)
    return {"zipf": zipf, "scan": scan}


def footprint(kind):
    """(empty used_memory, used_memory with the whole working set)."""
    port = free_port()
    p, c = start(kind, port)
    try:
        base = int(c.info("memory")["used_memory"])
        for i in range(0, KEYS, BATCH):
            c.pipe([("SET", b"k:%d" % j, VALUE)
                    for j in range(i, min(KEYS, i + BATCH))])
        return base, int(c.info("memory")["used_memory"])
    finally:
        stop(p, c)


def replay(kind, policy, limit, trace):
    port = free_port()
    p, c = start(kind, port, ["--maxmemory", str(limit),
                              "--maxmemory-policy", policy])
    try:
        hits = counted = 0
        warm = int(len(trace) * WARM)
        for i in range(0, len(trace), BATCH):
            keys = trace[i:i + BATCH]
            got = c.pipe([("GET", k) for k in keys])
            miss = []
            for j, (k, v) in enumerate(zip(keys, got)):
                if isinstance(v, RuntimeError):
                    sys.exit("%s %s: %s" % (kind, policy, v))
                if i + j >= warm:
                    counted += 1
                    hits += v is not None
                if v is None:
                    miss.append(("SET", k, VALUE))
            for r in c.pipe(miss):
                if isinstance(r, RuntimeError):
                    sys.exit("%s %s: SET: %s" % (kind, policy, r))
        m = c.info("memory")
        keys_held = c.call("DBSIZE")
        return (hits / counted, keys_held,
                int(m["used_memory_rss"]) / limit)
    finally:
        stop(p, c)


def rb_rps(port, test, pipe, n):
    """redis-benchmark's requests per second for one test, pinned to CPU 1."""
    out = subprocess.run(
        ["taskset", "-c", "1", BENCH, "-h", "127.0.0.1", "-p", str(port),
         "-c", "50", "-d", "100", "-r", "1000000", "-n", str(n), "-P",
         str(pipe), "-t", test, "--csv"],
        capture_output=True, text=True, timeout=900).stdout
    for line in out.splitlines()[1:]:
        return float(line.split('","')[1].strip('"'))
    return 0.0


def throughput(kind, policy, limit, pipe):
    """(SET rps, GET rps, evicted_keys) of one pinned server."""
    port = free_port()
    extra = ["--maxmemory-policy", policy]
    if limit:
        extra += ["--maxmemory", str(limit)]
    p, c = start(kind, port, extra, cpu="0")
    try:
        n = TPUT_N if pipe > 1 else TPUT_N // 5
        st = rb_rps(port, "set", pipe, n)
        gt = rb_rps(port, "get", pipe, n)
        return st, gt, int(c.info("stats")["evicted_keys"])
    finally:
        stop(p, c)


def throughput_table(kinds):
    print("\n== throughput with and without a limit (SET then GET, -r 1000000 "
          "-d 100 -c 50; server on CPU 0, redis-benchmark on CPU 1; "
          "maxmemory %d)" % TPUT_LIMIT)
    print("%-13s %-12s %3s %11s %11s %11s %11s %9s %9s" % (
        "server", "policy", "-P", "SET nolim", "SET limit", "GET nolim",
        "GET limit", "SET ratio", "GET ratio"))
    for label, kind, policy in kinds:
        for pipe in (1, 16):
            s0, g0, _ = throughput(kind, policy, 0, pipe)
            s1, g1, ev = throughput(kind, policy, TPUT_LIMIT, pipe)
            if not ev:
                sys.exit("%s: no key evicted at maxmemory %d" % (kind,
                                                                TPUT_LIMIT))
            print("%-13s %-12s %3d %11.0f %11.0f %11.0f %11.0f %9.2f %9.2f" % (
                label, policy, pipe, s0, s1, g0, g1, s1 / s0 if s0 else 0,
                g1 / g0 if g0 else 0))


def main():
    if not os.access(FC, os.X_OK):
        sys.exit("no fast-cache-server at %s (FC_SERVER)" % FC)
    kinds = [("fast-cache", "fc", "clock"), ("fast-cache", "fc", "allkeys-lru")]
    if REDIS:
        kinds += [("redis-server", "redis", "allkeys-lru"),
                  ("redis-server", "redis", "allkeys-lfu")]
    else:
        print("(no redis-server: fast-cache only)")
    limits = {}
    for kind in sorted({k for _, k, _ in kinds}):
        base, full = footprint(kind)
        limits[kind] = base + (full - base) // 10
        print("%-6s working set %d keys x %d B: used_memory %d -> %d; "
              "maxmemory %d" % (kind, KEYS, len(VALUE), base, full,
                                limits[kind]))
    tr = traces()
    print("%-13s %-12s %-6s %9s %10s %10s" % ("server", "policy", "trace",
                                             "hit ratio", "keys held",
                                             "rss/maxmem"))
    res = {}
    for name in tr:
        for label, kind, policy in kinds:
            hr, held, rss = replay(kind, policy, limits[kind], tr[name])
            res[(kind, policy, name)] = hr
            print("%-13s %-12s %-6s %9.4f %10d %10.2f" % (label, policy, name,
                                                         hr, held, rss))
    if REDIS:
        for name in tr:
            ours = 1 - res[("fc", "clock", name)]
            theirs = 1 - res[("redis", "allkeys-lru", name)]
            print("%s: miss ratio fast-cache clock / redis allkeys-lru = %.3f "
                  "(issue 11's target: <= 0.9)" % (name, ours / theirs))
    if BENCH and TASKSET and os.cpu_count() and os.cpu_count() >= 2:
        throughput_table([k for k in kinds if k[2] in ("clock", "allkeys-lru")])
    else:
        print("(no redis-benchmark, taskset or second CPU: throughput skipped)")


if __name__ == "__main__":
    main()
