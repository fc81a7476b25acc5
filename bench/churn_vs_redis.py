#!/usr/bin/env python3
"""churn_vs_redis.py — RSS against maxmemory after a long churn of mixed
value sizes, fast-cache beside redis-server, in one run (make bench calls
it).

The load: SETs of random keys over a keyspace KEYSPACE_X (5) times what
fits under the limit, each value a random size in VMIN..VMAX bytes (16..2000:
about a quarter of the entries are 512 B or less, the slab's sizes where
their class is common enough in a shard, the rest malloc'd blocks),
ROUNDS passes of as many SETs as the keyspace has keys. Every server runs
at the same maxmemory (MAXMEM, 64 MiB) with allkeys eviction, so its data
is held at the limit while the writes keep replacing and evicting entries
of other sizes: the pattern that fragments an allocator. A second load
(shift) fills the limit with small values, then writes large ones over
another keyspace: the evictions leave the small values' pages sparse, the
case defragmentation exists for.

Printed per server: the idle process's RSS before the load (its baseline:
binary, thread stacks, the empty tables, and what a warm-up load of 16 MiB
over 1000 keys, flushed, leaves: network buffers, malloc arenas),
used_memory and RSS at the end of the load and again after IDLE_S seconds
without writes (background work, ours the defrag step and Redis's
activedefrag when enabled, has run), and the ratios RSS / maxmemory and
(RSS - baseline) / maxmemory. Nothing is asserted here;
tests/integration/test_memory_churn.py holds the bound.

Servers: fast-cache with THREADS workers (2) and its default shard count
(or SHARDS), once with defrag on (the default) and once with
`--activedefrag no` (the slab's moves off; rare classes still start on
malloc); redis-server as packaged (jemalloc), once with activedefrag no
(its default) and once yes (CONFIG SET after start; a build whose jemalloc
lacks the support refuses it, and that is printed instead). Also printed:
the SET throughput of the load on each (the client is one Python process:
the figures are low and compare the servers, they do not measure them).

Env: FC_SERVER, REDIS_SERVER, MAXMEM (64mb), ROUNDS (3), KEYSPACE_X (5),
VMIN (16), VMAX (2000), THREADS (2), SHARDS (server default), IDLE_S (3),
SEED (1). 127.0.0.1 only, no persistence; every loop is bounded and every
process started is stopped.
"""

import os
import random
import shutil
import sys
import time

from benchutil import enc, free_port, spawn, stop

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FC = os.environ.get("FC_SERVER", os.path.join(ROOT, "build",
                                              "fast-cache-server"))
REDIS = os.environ.get("REDIS_SERVER", shutil.which("redis-server") or "")
MAXMEM = os.environ.get("MAXMEM", "64mb")
ROUNDS = int(os.environ.get("ROUNDS", "3"))
KEYSPACE_X = int(os.environ.get("KEYSPACE_X", "5"))
VMIN = int(os.environ.get("VMIN", "16"))
VMAX = int(os.environ.get("VMAX", "2000"))
THREADS = int(os.environ.get("THREADS", "2"))
SHARDS = os.environ.get("SHARDS", "")
IDLE_S = float(os.environ.get("IDLE_S", "3"))
SEED = int(os.environ.get("SEED", "1"))
BATCH = 1000


def parse_size(s):
    s = s.strip().lower()
    for unit, mul in (("gb", 1 << 30), ("mb", 1 << 20), ("kb", 1 << 10)):
        if s.endswith(unit):
            return int(s[:-len(unit)]) * mul
    return int(s)


def start(kind, port, extra=()):
    if kind == "redis":
        args = [REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save",
                "", "--appendonly", "no", "--daemonize", "no"]
    else:
        args = [FC, "--bind", "127.0.0.1", "--port", str(port), "--threads",
                str(THREADS), "--pin-threads", "no"]
        if SHARDS:
            args += ["--shards", SHARDS]
    return spawn(args + list(extra), kind, port)


def churn(c, limit, rounds, keyspace_x=KEYSPACE_X, vmin=VMIN, vmax=VMAX,
          seed=SEED, keys=None):
    """The load (keys: the keyspace, else keyspace_x times what fits in
    limit; as many SETs per round as bytes of limit would take when given);
    returns (SETs sent, seconds)."""
    rnd = random.Random(seed)
    blob = bytes(rnd.getrandbits(8) for _ in range(vmax))
    avg = (vmin + vmax) // 2 + 40  # value + key + entry + table, about
    total = rounds * keyspace_x * limit // avg
    if keys is None:
        keys = keyspace_x * limit // avg
    t0 = time.monotonic()
    for i in range(0, total, BATCH):
        n = min(BATCH, total - i)
        payload = b"".join(
            enc(b"SET", b"c:%d" % rnd.randrange(keys),
                blob[:rnd.randint(vmin, vmax)]) for _ in range(n))
        c.sets(payload, n)
    return total, time.monotonic() - t0


def load(c, limit, scenario):
    """mixed: ROUNDS passes of 16..2000 B values over KEYSPACE_X times
    what fits; shift: the limit filled twice over with small values (16..400
    B) then as many bytes of large ones (600..2000 B) over another
    keyspace, so that evictions leave the small values' pages sparse.
    Returns (SETs sent, seconds)."""
    if scenario == "mixed":
        return churn(c, limit, ROUNDS)
    n1, t1 = churn(c, limit, 1, keyspace_x=2, vmin=16, vmax=400, seed=SEED + 2)
    n2, t2 = churn(c, limit, 1, keyspace_x=1, vmin=600, vmax=2000,
                   seed=SEED + 3, keys=100000)
    return n1 + n2, t1 + t2


def measure(label, kind, extra, config=(), scenario="mixed"):
    """One server through the load; config: CONFIG SET pairs applied after
    start (None when the server refuses them)."""
    limit = parse_size(MAXMEM)
    port = free_port()
    p, c = start(kind, port, ["--maxmemory", str(limit),
                              "--maxmemory-policy", "allkeys-lru"] + extra)
    try:
        for k, v in config:
            try:
                c.call("CONFIG", "SET", k, v)
            except RuntimeError as e:
                print("%-28s (CONFIG SET %s %s: %s)" % (label, k, v, e))
                return None
        # The baseline after a warm-up load, flushed: what the process keeps
        # of a pipelined load whatever the data (buffers, arenas).
        churn(c, 16 << 20, 1, keyspace_x=1, seed=SEED + 1, keys=1000)
        c.call("FLUSHALL")
        base = int(c.info()["used_memory_rss"])
        n, secs = load(c, limit, scenario)
        m1 = c.info()
        time.sleep(IDLE_S)
        m2 = c.info()
        rss1, rss2 = int(m1["used_memory_rss"]), int(m2["used_memory_rss"])
        print("%-28s %8.1f %8.1f %8.1f %8.1f %7.3f %7.3f %7.3f %9.0f" % (
            label, base / 2**20, int(m2["used_memory"]) / 2**20,
            rss1 / 2**20, rss2 / 2**20, rss1 / limit, rss2 / limit,
            (rss2 - base) / limit, n / secs))
        extra_f = {k: v for k, v in m2.items() if k.startswith("fc_")}
        if extra_f:
            print("    " + " ".join("%s=%s" % kv for kv in
                                    sorted(extra_f.items())))
        sys.stdout.flush()
        return rss2 / limit
    finally:
        stop(p, c)


def main():
    if not os.access(FC, os.X_OK):
        sys.exit("no fast-cache-server at %s (FC_SERVER)" % FC)
    for scenario in ("mixed", "shift"):
        if scenario == "mixed":
            print("churn (mixed): maxmemory %s, values %d..%d B, keyspace "
                  "%dx what fits, %d rounds, idle %.0fs before the last "
                  "sample" % (MAXMEM, VMIN, VMAX, KEYSPACE_X, ROUNDS, IDLE_S))
        else:
            print("churn (shift): maxmemory %s filled twice with 16..400 B "
                  "values, then as many bytes of 600..2000 B ones" % MAXMEM)
        print("%-28s %8s %8s %8s %8s %7s %7s %7s %9s" % (
            "server", "base MiB", "used MiB", "rss MiB", "idle MiB",
            "rss/max", "idle/mx", "(i-b)/mx", "SET/s"))
        res = {}
        res["fc"] = measure("fast-cache (defrag)", "fc", [],
                            scenario=scenario)
        res["fc0"] = measure("fast-cache (activedefrag no)", "fc",
                             ["--activedefrag", "no"], scenario=scenario)
        if REDIS:
            res["redis"] = measure("redis-server", "redis", [],
                                   scenario=scenario)
            res["redis_ad"] = measure("redis-server activedefrag", "redis",
                                      [], [("activedefrag", "yes")],
                                      scenario=scenario)
            print("%s: RSS/maxmemory after idle, fast-cache / redis-server "
                  "= %.3f" % (scenario, res["fc"] / res["redis"]))
            if res["redis_ad"]:
                print("%s: fast-cache / redis-server activedefrag = %.3f" %
                      (scenario, res["fc"] / res["redis_ad"]))
        else:
            print("(no redis-server: fast-cache only)")
        print()


if __name__ == "__main__":
    main()
