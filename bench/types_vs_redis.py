#!/usr/bin/env python3
"""types_vs_redis.py — hashes, lists, sets and sorted sets, fast-cache
beside redis-server in one run (make bench calls it).

1. Throughput: redis-benchmark's LPUSH, LPOP, SADD, HSET, ZADD and
   LRANGE_100 at -P 1 and -P 16, as fc/redis ratios:
   - per core: each server pinned to CPU 0 (fast-cache --threads 1) and
     redis-benchmark to CPU 1 with taskset, so the client never steals the
     server's core (on a machine with fewer than 2 CPUs, unpinned);
   - default: fast-cache with its default threads, nothing pinned.
   Besides requests per second, each row gives each server's CPU time per
   request (/proc schedstat, every thread): 1e9 / that is what one core of
   it can serve at most, whatever the client manages. redis-benchmark
   spends about as much of its own core per pipelined request as
   fast-cache spends serving it, so at -P 16 the client's core is the
   limit for both servers and the rps ratio understates the server's; the
   per core run is repeated with fast-cache-load (bench/fast-cache-load.c:
   the same commands, replies counted, not parsed into objects), a client
   about 1.5x cheaper per request. The client's CPU per request is shown
   too.
2. Memory per element: used_memory (INFO memory) before and after building
   values of each type, divided by the elements stored: many values of 100
   elements (the compact encodings) and one value of 100k elements (the
   large ones). Elements are 10-byte strings (hash fields and values alike);
   set members also as integers (Redis's intset). Lower is better;
   fc/redis < 1 means fewer bytes than Redis.

Env: FC_SERVER, REDIS_SERVER, BENCH_N (200000), BENCH_C (50), TESTS
(lpush,lpop,sadd,hset,zadd,lrange_100), SMALL_KEYS (1000). Servers listen on
127.0.0.1 only, no persistence; every loop is bounded and every process
started is stopped.
"""

import os
import shutil
import subprocess
import sys
import time

from benchutil import cpu_ns, free_port, load, spawn, stop

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FC = os.environ.get("FC_SERVER", os.path.join(ROOT, "build", "fast-cache-server"))
REDIS = os.environ.get("REDIS_SERVER", shutil.which("redis-server") or "")
BENCH = shutil.which("redis-benchmark")
LOADGEN = os.environ.get("FC_LOAD", os.path.join(ROOT, "build", "fast-cache-load"))
BENCH_N = int(os.environ.get("BENCH_N", "200000"))
BENCH_C = int(os.environ.get("BENCH_C", "50"))
TESTS = os.environ.get("TESTS", "lpush,lpop,sadd,hset,zadd,lrange_100").split(",")
SMALL_KEYS = int(os.environ.get("SMALL_KEYS", "1000"))
PIN = (os.cpu_count() or 1) >= 2


def start(kind, port, pinned, threads=None):
    if kind == "redis":
        args = [REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--daemonize", "no"]
    else:
        args = [FC, "--bind", "127.0.0.1", "--port", str(port)]
        if threads:
            args += ["--threads", str(threads)]
    if pinned:
        args = ["taskset", "-c", "0"] + args
    return spawn(args, kind, port)


def throughput(pinned, gen):
    """Rows (test, pipe, redis rps, fc rps, redis ns/req, fc ns/req,
    client ns/req with redis, with fc): the servers' CPU per request is
    what a core of each can serve at most (1e9 / ns), whatever the client
    can send; the client's says how close it came to its own limit."""
    rp, fp = free_port(), free_port()
    r = start("redis", rp, pinned)
    f = start("fc", fp, pinned, threads=1 if pinned else None)
    rows = []
    try:
        n = 0
        for test in TESTS:
            for pipe in (1, 16):
                # lrange_100: both generators fill "mylist" with LPUSH first
                # (counted in its CPU figures, a small part of them).
                order = [(rp, "r", r[0]), (fp, "f", f[0])]
                if n % 2:
                    order.reverse()
                got = {}
                for port, who, proc in order:
                    c0 = cpu_ns(proc.pid)
                    rps, client = load(gen, port, test, pipe, BENCH_N, BENCH_C,
                                       pinned)
                    got[who] = (rps, (cpu_ns(proc.pid) - c0) / BENCH_N, client)
                n += 1
                rows.append((test, pipe, got["r"], got["f"]))
    finally:
        stop(*r)
        stop(*f)
    return rows


def el(i):
    return b"e%09d" % i  # 10 bytes


def build(c, typ, key, n, ints=False):
    cmds, out = [], 0
    for i in range(n):
        m = str(i).encode() if ints else el(i)
        if typ == "hash":
            cmds.append(("HSET", key, m, el(i + 7)))
        elif typ == "list":
            cmds.append(("RPUSH", key, m))
        elif typ == "set":
            cmds.append(("SADD", key, m))
        else:
            cmds.append(("ZADD", key, i, m))
        if len(cmds) == 1000:
            c.pipe(cmds)
            out += len(cmds)
            cmds = []
    if cmds:
        c.pipe(cmds)


CASES = [("hash", False), ("list", False), ("set", False), ("set", True),
         ("zset", False)]


def memory(kind):
    port = free_port()
    p, c = start(kind, port, False, threads=1)
    res = {}
    try:
        for typ, ints in CASES:
            for keys, n in ((SMALL_KEYS, 100), (1, 100000)):
                c.call("FLUSHALL")
                time.sleep(0.2)
                before = int(c.info("memory")["used_memory"])
                for k in range(keys):
                    build(c, typ, b"%s:%d" % (typ.encode(), k), n, ints)
                after = int(c.info("memory")["used_memory"])
                enc = c.call("OBJECT", "ENCODING", b"%s:0" % typ.encode())
                res[(typ, ints, n)] = ((after - before) / (keys * n),
                                       enc.decode() if enc else "?")
    finally:
        stop(p, c)
    return res


def main():
    if not REDIS or not os.path.exists(FC) or not BENCH:
        print("types_vs_redis: needs redis-server, redis-benchmark and %s" % FC)
        return 1
    runs = [(True, BENCH), (True, LOADGEN), (False, BENCH)] if PIN else [
        (False, BENCH)]
    for pinned, gen in runs:
        if not gen or not os.path.exists(gen):
            continue
        label = ("per core (servers on CPU 0, fast-cache --threads 1, "
                 "client on CPU 1)" if pinned else "default configuration")
        print("typed commands, %s -c %d -n %d -r 100000 -d 10: %s"
              % (os.path.basename(gen), BENCH_C, BENCH_N, label))
        print("%-11s %4s %10s %10s %8s | %14s %8s %8s | %s" % (
            "test", "pipe", "redis rps", "fc rps", "fc/redis",
            "srv ns/req r", "fc", "r/fc", "client ns/req r, fc"))
        for test, pipe, (r, rn, rc), (f, fn, fcl) in throughput(pinned, gen):
            print("%-11s %4d %10.0f %10.0f %8.2f | %14.0f %8.0f %8.2f | %.0f, %.0f"
                  % (test, pipe, r, f, f / r if r else 0, rn, fn,
                     rn / fn if fn else 0, rc, fcl))
        print()
    fcm, rm = memory("fc"), memory("redis")
    print("bytes per element (used_memory delta / elements; 10-byte elements)")
    print("%-12s %8s %10s %10s %8s  %s" % ("type", "elems", "redis", "fc", "fc/redis",
                                           "encodings redis / fc"))
    for typ, ints in CASES:
        for n in (100, 100000):
            rb, renc = rm[(typ, ints, n)]
            fb, fenc = fcm[(typ, ints, n)]
            name = typ + (" (ints)" if ints else "")
            print("%-12s %8d %10.1f %10.1f %8.2f  %s / %s" % (
                name, n, rb, fb, fb / rb if rb else 0, renc, fenc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
