#!/usr/bin/env python3
"""types_vs_redis.py — hashes, lists, sets and sorted sets, fast-cache
beside redis-server in one run (make bench calls it).

1. Throughput: redis-benchmark's LPUSH, LPOP, SADD, HSET, ZADD and
   LRANGE_100 at -P 1 and -P 16, as fc/redis ratios:
   - per core: each server pinned to CPU 0 (fast-cache --threads 1) and
     redis-benchmark to CPU 1 with taskset, so the client never steals the
     server's core (on a machine with fewer than 2 CPUs, unpinned);
   - default: fast-cache with its default threads, nothing pinned.
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

from benchutil import free_port, spawn, stop

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FC = os.environ.get("FC_SERVER", os.path.join(ROOT, "build", "fast-cache-server"))
REDIS = os.environ.get("REDIS_SERVER", shutil.which("redis-server") or "")
BENCH = shutil.which("redis-benchmark")
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


def bench(port, test, pipe, pinned):
    args = [BENCH, "-h", "127.0.0.1", "-p", str(port), "-c", str(BENCH_C),
            "-n", str(BENCH_N), "-P", str(pipe), "-r", "100000", "-d", "10",
            "-t", test, "--csv"]
    if pinned:
        args = ["taskset", "-c", "1"] + args
    out = subprocess.run(args, capture_output=True, text=True, timeout=600).stdout
    for line in out.splitlines()[1:]:
        f = [x.strip('"') for x in line.split('","')]
        if len(f) > 1:
            return float(f[1])
    return 0.0


def throughput(pinned):
    rp, fp = free_port(), free_port()
    r = start("redis", rp, pinned)
    f = start("fc", fp, pinned, threads=1 if pinned else None)
    rows = []
    try:
        n = 0
        for test in TESTS:
            for pipe in (1, 16):
                # lrange_100 needs a list: redis-benchmark's own LPUSH fills
                # "mylist" first when the test is lrange_*.
                order = [(rp, "r"), (fp, "f")] if n % 2 == 0 else [(fp, "f"), (rp, "r")]
                got = {}
                for port, who in order:
                    got[who] = bench(port, test, pipe, pinned)
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
    for pinned in ([True, False] if PIN else [False]):
        label = ("per core (servers on CPU 0, fast-cache --threads 1, "
                 "client on CPU 1)" if pinned else "default configuration")
        print("typed commands, redis-benchmark -c %d -n %d -r 100000 -d 10: %s"
              % (BENCH_C, BENCH_N, label))
        print("%-11s %4s %12s %12s %8s" % ("test", "pipe", "redis rps", "fc rps", "fc/redis"))
        for test, pipe, r, f in throughput(pinned):
            print("%-11s %4d %12.0f %12.0f %8.2f" % (test, pipe, r, f, f / r if r else 0))
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
