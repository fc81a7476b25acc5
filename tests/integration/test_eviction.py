"""maxmemory and eviction on the server: the limit from the flag, the config
file (the seed's names too) and CONFIG SET; churn stays within it (INFO's
used_memory, with a slack asserted below) while evicted_keys grows; a lower
limit set at run time evicts down at once; noeviction answers Redis's OOM
error and still serves reads and deletes; volatile-lru evicts only keys
with a TTL; OBJECT FREQ and IDLETIME report real figures.

No timing is asserted: loops are bounded by counts; the one sleep gives
IDLETIME a lower bound that only the clock can provide.
"""

import os
import random
import tempfile
import time
import unittest

from fcserver import RespError, Server, ServerTestCase, fast_cache_only
from persistutil import pipeline
from replutil import ReplCase

LIMIT = 2 * 1024 * 1024
SHARDS = 8
# The budget's total is exact to 4 KiB per shard; a write may go over by
# its own entry and a table that starts to grow adds its new array before
# the next writes evict for it (a shard's array is ~20 KiB here).
SLACK = SHARDS * 4096 + 64 * 1024
VALUE = b"v" * 200
OOM = "OOM command not allowed when used memory > 'maxmemory'."


def info(c, section):
    text = c.call("INFO", section).decode()
    out = {}
    for line in text.split("\r\n"):
        if ":" in line and not line.startswith("#"):
            k, _, v = line.partition(":")
            out[k] = v
    return out


def fill(r, n, prefix="k", ex=None, seed=1):
    """n SETs of random keys, pipelined in batches."""
    rnd = random.Random(seed)
    p = r.pipeline(transaction=False)
    for i in range(n):
        p.set("%s:%d" % (prefix, rnd.randrange(1 << 30)), VALUE, ex=ex)
        if i % 500 == 499:
            p.execute()
    p.execute()


@fast_cache_only
class TestEviction(ServerTestCase):
    server_kwargs = {"threads": 2,
                     "extra_args": ["--maxmemory", "2mb", "--shards",
                                    str(SHARDS)]}

    def setUp(self):
        super().setUp()
        c = self.raw()
        # Every test starts from the flag's settings.
        self.assertEqual(c.call("CONFIG", "SET", "maxmemory", str(LIMIT),
                                "maxmemory-policy", "clock",
                                "maxmemory-samples", "5"), b"OK")

    def used(self, c):
        return int(info(c, "memory")["used_memory"])

    def test_flag_and_config_get(self):
        c = self.raw()
        self.assertEqual(c.call("CONFIG", "GET", "maxmemory"),
                         [b"maxmemory", str(LIMIT).encode()])
        self.assertEqual(c.call("CONFIG", "GET", "maxmemory-policy"),
                         [b"maxmemory-policy", b"clock"])
        m = info(c, "memory")
        self.assertEqual(int(m["maxmemory"]), LIMIT)
        self.assertEqual(m["maxmemory_human"], "2.00M")
        self.assertEqual(m["maxmemory_policy"], "clock")
        for name in ("lfu-log-factor", "lfu-decay-time", "maxmemory-samples"):
            self.assertEqual(len(c.call("CONFIG", "GET", name)), 2)
        self.assertEqual(c.call("CONFIG", "SET", "maxmemory-policy", "lru"),
                         b"OK")  # the seed's alias
        self.assertEqual(c.call("CONFIG", "GET", "maxmemory-policy")[1],
                         b"allkeys-lru")
        self.assertIsInstance(
            c.call("CONFIG", "SET", "maxmemory-policy", "lifo"), RespError)
        self.assertIsInstance(
            c.call("CONFIG", "SET", "maxmemory-samples", "0"), RespError)

    def churn_within(self, c, policy):
        c.call("CONFIG", "SET", "maxmemory-policy", policy)
        before = int(info(c, "stats")["evicted_keys"])
        worst = 0
        for round_ in range(10):  # 20000 writes of ~216 B: twice the limit
            fill(self.r, 2000, seed=round_)
            worst = max(worst, self.used(c))
        m = info(c, "memory")
        self.assertLessEqual(worst, LIMIT + SLACK)
        self.assertGreater(int(m["used_memory"]), LIMIT // 2)
        self.assertGreaterEqual(int(m["used_memory_peak"]),
                                int(m["used_memory"]))
        self.assertGreater(float(m["mem_fragmentation_ratio"]), 0)
        evicted = int(info(c, "stats")["evicted_keys"]) - before
        self.assertGreater(evicted, 5000)
        self.assertLess(self.r.dbsize(), 20000 - 5000)

    def test_churn_stays_within_clock(self):
        self.churn_within(self.raw(), "clock")

    def test_churn_stays_within_lru(self):
        self.churn_within(self.raw(), "allkeys-lru")

    def test_churn_stays_within_lfu(self):
        self.churn_within(self.raw(), "allkeys-lfu")

    def test_config_set_lower_evicts_down(self):
        c = self.raw()
        fill(self.r, 6000)  # ~1.3 MB: under the limit, nothing evicted
        self.assertEqual(self.r.dbsize(), 6000)
        self.assertGreater(self.used(c), 1024 * 1024)
        self.assertEqual(c.call("CONFIG", "SET", "maxmemory", "512kb"), b"OK")
        self.assertEqual(c.call("CONFIG", "GET", "maxmemory")[1], b"524288")
        # Evicted at once, by the CONFIG SET itself.
        self.assertLessEqual(self.used(c), 512 * 1024 + SLACK)
        self.assertLess(self.r.dbsize(), 6000 // 2)

    def test_noeviction_oom(self):
        c = self.raw()
        c.call("CONFIG", "SET", "maxmemory-policy", "noeviction")
        c.call("SET", "first", "x")
        before = int(info(c, "stats")["evicted_keys"])
        # The total is exact to 4 KiB per shard: until each shard has
        # refused once (and so added its exact figure), a write to another
        # one may still fit. 200 refusals in a row cover all 8 shards.
        err, refused, i = None, 0, 0
        while refused < 200 and i < 30000:
            r = c.call("SET", "k:%d" % i, VALUE)
            i += 1
            if isinstance(r, RespError):
                err = r
                refused += 1
            else:
                refused = 0
        self.assertEqual(refused, 200, "no steady OOM after 30000 writes")
        self.assertEqual(err.msg, OOM)
        self.assertLessEqual(self.used(c), LIMIT + SLACK)
        self.assertEqual(int(info(c, "stats")["evicted_keys"]), before)
        # Reads and deletes work; other growing writes are refused.
        self.assertEqual(c.call("GET", "first"), b"x")
        self.assertEqual(c.call("GET", "k:0"), VALUE)
        self.assertErr(c.call("APPEND", "first", "y"), OOM)
        self.assertErr(c.call("INCR", "n"), OOM)
        n = self.r.dbsize()
        self.assertEqual(c.call("DEL", *["k:%d" % j for j in range(500)]),
                         500)  # k:0..k:499 were written before any OOM
        self.assertEqual(self.r.dbsize(), n - 500)
        self.assertEqual(c.call("SET", "after", "x"), b"OK")

    def test_volatile_lru_only_ttl_keys(self):
        c = self.raw()
        c.call("CONFIG", "SET", "maxmemory-policy", "volatile-lru")
        fill(self.r, 2000, prefix="keep")  # no TTL, ~0.4 MB
        keep = self.r.dbsize()
        fill(self.r, 20000, prefix="tmp", ex=3600, seed=2)
        self.assertGreater(int(info(c, "stats")["evicted_keys"]), 5000)
        kept = sum(1 for _ in self.r.scan_iter(match="keep:*", count=1000))
        self.assertEqual(kept, keep)
        self.assertLessEqual(self.used(c), LIMIT + SLACK)

    def test_object_freq(self):
        c = self.raw()
        c.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
        c.call("SET", "f", "v")
        self.assertEqual(c.call("OBJECT", "FREQ", "f"), 5)  # LFU_INIT_VAL
        for _ in range(200):
            c.call("GET", "f")
        hot = c.call("OBJECT", "FREQ", "f")
        # Logarithmic: 200 hits at lfu-log-factor 10 are a few points.
        self.assertGreater(hot, 6)
        self.assertLess(hot, 30)
        self.assertEqual(c.call("OBJECT", "FREQ", "f"), hot)  # no touch
        self.assertTrue(c.call("OBJECT", "IDLETIME", "f").msg.startswith(
            "ERR An LFU maxmemory policy is selected"))
        c.call("CONFIG", "SET", "lfu-log-factor", "0")  # every hit counts
        for _ in range(50):
            c.call("GET", "f")
        self.assertGreaterEqual(c.call("OBJECT", "FREQ", "f"), hot + 50)
        c.call("CONFIG", "SET", "lfu-log-factor", "10")

    def test_object_idletime(self):
        c = self.raw()
        c.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
        c.call("SET", "i", "v")
        self.assertTrue(c.call("OBJECT", "FREQ", "i").msg.startswith(
            "ERR An LFU maxmemory policy is not selected"))
        time.sleep(2.2)
        idle = c.call("OBJECT", "IDLETIME", "i")
        self.assertGreaterEqual(idle, 2)
        self.assertEqual(c.call("GET", "i"), b"v")  # an access resets it
        self.assertLess(c.call("OBJECT", "IDLETIME", "i"), idle)


@fast_cache_only
class TestClientMemory(ServerTestCase):
    server_kwargs = {"threads": 1}

    def test_mem_clients_normal(self):
        c = self.raw()
        base = int(info(c, "memory")["mem_clients_normal"])
        self.assertGreater(base, 0)  # this connection
        used = int(info(c, "memory")["used_memory"])
        # A half-sent 600 KB value sits in another client's read buffer:
        # counted there, not in used_memory.
        with self.server.raw() as other:
            other.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1000000\r\n" +
                       b"x" * 600000)
            got = base
            for _ in range(200):  # until the server has read it (bounded)
                got = int(info(c, "memory")["mem_clients_normal"])
                if got >= base + 600000:
                    break
                time.sleep(0.05)
            self.assertGreaterEqual(got, base + 600000)
            self.assertLess(int(info(c, "memory")["used_memory"]),
                            used + 100000)


@fast_cache_only
class TestEvictionConfigFile(unittest.TestCase):
    def test_seed_names(self):
        with tempfile.NamedTemporaryFile("w", suffix=".toml",
                                         delete=False) as f:
            f.write('max_memory_bytes = "1mb"\neviction_policy = "lfu"\n'
                    "maxmemory_samples = 7\n")
        self.addCleanup(os.unlink, f.name)
        srv = Server(threads=1, extra_args=["--config", f.name]).start()
        try:
            with srv.raw() as c:
                self.assertEqual(c.call("CONFIG", "GET", "maxmemory")[1],
                                 b"1048576")
                self.assertEqual(c.call("CONFIG", "GET", "maxmemory-policy")[1],
                                 b"allkeys-lfu")
                self.assertEqual(
                    c.call("CONFIG", "GET", "maxmemory-samples")[1], b"7")
        finally:
            srv.stop_and_check()
        # The flag wins over the file, under either name.
        srv = Server(threads=1, extra_args=[
            "--config", f.name, "--eviction-policy", "none",
            "--max-memory-bytes", "3mb"]).start()
        try:
            with srv.raw() as c:
                self.assertEqual(c.call("CONFIG", "GET", "maxmemory-policy")[1],
                                 b"noeviction")
                self.assertEqual(c.call("CONFIG", "GET", "maxmemory")[1],
                                 b"3145728")
        finally:
            srv.stop_and_check()


@fast_cache_only
class TestEvictionReplicated(ReplCase):
    def test_replica_applies_evictions_and_never_evicts(self):
        p = self.primary(extra=("--maxmemory", "1mb"))
        # A smaller limit of its own: ignored while it is a replica.
        r = self.replica(p.rport, extra=("--maxmemory", "256kb",
                                         "--maxmemory-policy", "noeviction"))
        self.wait_online(r)
        pc = self.client(p)
        rnd = random.Random(3)
        replies = pipeline(pc, [("SET", "k:%d" % rnd.randrange(1 << 30),
                                 VALUE) for _ in range(10000)])
        self.assertEqual(set(replies), {b"OK"})
        self.assertGreater(int(info(pc, "stats")["evicted_keys"]), 3000)
        # The primary's evictions reached the replica as deletes: same keys.
        self.assert_converged(p, r)
        rc = self.client(r)
        self.assertEqual(int(info(rc, "stats")["evicted_keys"]), 0)
        self.assertGreater(int(info(rc, "memory")["used_memory"]), 256 * 1024)


if __name__ == "__main__":
    unittest.main()
