"""HyperLogLog (PFADD PFCOUNT PFMERGE): the same commands to fast-cache
(--threads 2) and to a redis-server; replies, estimates and the raw value
bytes (sparse and dense) must be equal, and a value copied from one server
to the other with GET/SET must keep working there.
"""

import random
import unittest

from fcserver import RespError, fast_cache_only
from pairutil import PairTestCase
from replutil import ReplCase

NOT_HLL = RespError("WRONGTYPE Key is not a valid HyperLogLog string value.")
CORRUPT = RespError("INVALIDOBJ Corrupted HLL object detected")


def elements(prefix, n):
    return ["%s:%d" % (prefix, i) for i in range(n)]


class TestPfadd(PairTestCase):
    def add_all(self, key, els, batch=500):
        cmds = [("PFADD", key) + tuple(els[i:i + batch])
                for i in range(0, len(els), batch)]
        self.many(cmds)

    def test_small_and_empty(self):
        b = self.both
        self.assertEqual(b("PFADD", "h"), 1)  # creates an empty HLL
        self.assertEqual(b("PFADD", "h"), 0)
        b("GET", "h")
        b("PFCOUNT", "h")
        self.assertEqual(b("PFADD", "h", "a", "b", "c"), 1)
        self.assertEqual(b("PFADD", "h", "a", "b"), 0)
        b("GET", "h")  # sparse bytes, stale cache bit set
        self.assertEqual(b("PFCOUNT", "h"), 3)
        b("GET", "h")  # the cache written back
        b("PFCOUNT", "nokey")
        b("PFADD", "x", "")
        b("PFCOUNT", "x")

    def test_sizes_match_redis(self):
        b = self.both
        for n in (10, 1000, 100000):
            key = "h%d" % n
            self.add_all(key, elements(key, n))
            est = b("PFCOUNT", key)
            self.assertLess(abs(est - n), max(3, n * 0.03))
            b("GET", key)  # same bytes: sparse at 10 and 1000, dense after
            b("STRLEN", key)

    def test_one_by_one(self):
        """Single-element PFADDs walk the sparse edits one register at a
        time (splits, merges, the promotion to dense at 3000 bytes)."""
        rnd = random.Random(3)
        cmds = []
        for i in range(4000):
            cmds.append(("PFADD", "s", "e%d" % rnd.randrange(10 ** 9)))
            if i % 97 == 0:
                cmds.append(("GET", "s"))
                cmds.append(("PFCOUNT", "s"))
        cmds.append(("GET", "s"))
        self.many(cmds)

    def test_wrong_types(self):
        b = self.both
        b("RPUSH", "l", "x")
        b("PFADD", "l", "a")
        b("PFCOUNT", "l")
        b("SET", "s", "not an hll")
        self.assertEqual(b("PFADD", "s", "a"), NOT_HLL)
        self.assertEqual(b("PFCOUNT", "s"), NOT_HLL)
        b("PFMERGE", "s", "nokey")
        b("PFMERGE", "d", "s")
        b("EXISTS", "d")
        b("SET", "n", "1234567890123456789")
        b("PFADD", "n", "a")
        b("PFADD")


class TestPfcountMerge(PairTestCase):
    def fill(self, key, n, seed):
        els = elements("%s-%d" % (key, seed), n)
        self.many([("PFADD", key) + tuple(els[i:i + 500])
                   for i in range(0, n, 500)])

    def test_count_many_keys(self):
        b = self.both
        self.fill("a", 50, 1)
        self.fill("b", 5000, 2)
        self.fill("c", 20, 1)  # shares elements with a
        before = [b("GET", k) for k in ("a", "b", "c")]
        b("PFCOUNT", "a", "b")
        b("PFCOUNT", "a", "c")
        b("PFCOUNT", "a", "b", "c", "missing")
        b("PFCOUNT", "missing", "missing2")
        # several keys: nothing is written (the caches stay stale)
        self.assertEqual([b("GET", k) for k in ("a", "b", "c")], before)
        b("SET", "s", "x")
        b("PFCOUNT", "a", "s")

    def test_merge(self):
        b = self.both
        self.fill("a", 100, 1)
        self.fill("b", 3000, 2)
        self.fill("c", 30, 3)
        self.assertEqual(b("PFMERGE", "m1", "a", "c"), b"OK")
        b("GET", "m1")
        b("PFCOUNT", "m1")
        b("PFMERGE", "m2", "a", "b", "c")  # a dense source: dense result
        b("GET", "m2")
        b("PFCOUNT", "m2")
        b("PFMERGE", "a", "c")  # the destination is a source too
        b("GET", "a")
        b("PFCOUNT", "a")
        b("PFMERGE", "empty")
        b("GET", "empty")
        b("PFMERGE", "e2", "nokey1", "nokey2")
        b("GET", "e2")
        b("SET", "t", b("GET", "c"), "EX", "100")
        b("PFMERGE", "t", "a")
        self.assertGreater(self.a.call("TTL", "t"), 0)
        b("GET", "t")


class TestRawValues(PairTestCase):
    def test_round_trip_both_ways(self):
        a, r = self.a, self.b
        for n in (5, 800, 20000):
            els = elements("rt%d" % n, n)
            for side in (a, r):
                for i in range(0, n, 1000):
                    side.call("PFADD", "src", *els[i:i + 1000])
            raw_a, raw_r = a.call("GET", "src"), r.call("GET", "src")
            self.assertEqual(raw_a, raw_r)
            # fast-cache's bytes into redis, redis's into fast-cache
            r.call("SET", "copy", raw_a)
            a.call("SET", "copy", raw_r)
            self.assertEqual(a.call("PFCOUNT", "copy"),
                             r.call("PFCOUNT", "copy"))
            more = elements("more%d" % n, 300)
            self.assertEqual(a.call("PFADD", "copy", *more),
                             r.call("PFADD", "copy", *more))
            self.assertEqual(a.call("GET", "copy"), r.call("GET", "copy"))
            self.assertEqual(a.call("PFCOUNT", "copy", "src"),
                             r.call("PFCOUNT", "copy", "src"))
            a.call("DEL", "src", "copy")
            r.call("DEL", "src", "copy")


class TestCorrupted(PairTestCase):
    def raw(self, n):
        self.many([("PFADD", "h") + tuple(elements("c", n))])
        return self.a.call("GET", "h")

    def check_all(self, value):
        b = self.both
        b("SET", "bad", value)
        b("PFCOUNT", "bad")
        b("PFCOUNT", "bad", "h")
        b("PFADD", "bad", "x", "y", "z")
        b("PFMERGE", "out", "bad")
        b("EXISTS", "out")
        b("DEL", "out")

    def test_headers(self):
        sparse = self.raw(20)
        self.check_all(b"HYLL")
        self.check_all(b"HYLL" + b"\x00" * 11)
        self.check_all(b"HYLX" + sparse[4:])
        self.check_all(sparse[:4] + b"\x02" + sparse[5:])
        self.check_all(b"HYLL\x00" + sparse[5:])  # dense, wrong length
        self.check_all(sparse[:16])  # sparse, no registers at all

    def test_dense_bodies(self):
        """Any 12288 bytes are a dense HLL; registers of 51 and up only
        overflow the estimator (Redis prints -2^63)."""
        for fill in (b"\xff", b"\xcc", b"\x00", b"\x41", b"\xc3\x30"):
            body = (fill * 12288)[:12288]
            self.check_all(b"HYLL\x00" + b"\x00" * 10 + b"\x80" + body)
            self.check_all(b"HYLL\x00" + b"\x00" * 7 + b"\x07" * 8 + body)

    def test_sparse_bodies(self):
        sparse = self.raw(30)
        body = sparse[16:]
        cases = [
            body[:-1],              # short by a few registers
            body + b"\x00",         # one ZERO too many
            body + b"\x80",         # one VAL too many
            body[:1],               # cut inside an XZERO
            b"\x7f\xff\x00",        # 16384 + 1 registers
            b"\x7f\xfe",            # 16383 registers
            b"\x7f\xfe\xfc",        # 16383 + a VAL of 32
            b"\x7f\xfd\xff",        # 16382 + a VAL run of 4: overflow
            b"\xff" * 4096,         # 16384 VAL registers of 32
            b"\x3f" * 256,          # 16384 in ZEROs
            b"\x7f",                # cut-off XZERO alone
        ]
        for body2 in cases:
            # with a stale cache (recomputed) and a valid one (trusted)
            stale = sparse[:15] + bytes([sparse[15] | 0x80])
            self.check_all(stale[:16] + body2)
            self.check_all(sparse[:8] + b"\x05" + b"\x00" * 7 + body2)

    def test_random_corruption(self):
        rnd = random.Random(9)
        sparse = self.raw(200)
        for _ in range(150):
            v = bytearray(sparse)
            for _ in range(rnd.randint(1, 4)):
                v[rnd.randrange(16, len(v))] = rnd.randrange(256)
            v[15] |= 0x80
            self.check_all(bytes(v))


@fast_cache_only
class TestReplica(ReplCase):
    """HLL and bitmap writes replicate as their resulting values; PFCOUNT
    on a replica answers without refreshing the cache there (a replica's
    values change only by its primary's stream)."""

    def test_replicated_values(self):
        p = self.primary()
        r = self.replica(p.rport)
        self.wait_online(r)
        pc, rc = self.client(p), self.client(r)
        pc.call("PFADD", "h", *elements("r", 1500))
        pc.call("PFADD", "h2", "a", "b", "c")
        pc.call("PFMERGE", "m", "h", "h2")
        pc.call("SETBIT", "b", 999, 1)
        pc.call("BITFIELD", "f", "INCRBY", "i12", "#7", -100)
        pc.call("BITOP", "OR", "o", "b", "f")
        self.assert_converged(p, r)
        stale = rc.call("GET", "h")
        self.assertEqual(rc.call("PFCOUNT", "h"), pc.call("PFCOUNT", "h"))
        self.assertEqual(rc.call("GET", "h"), stale)  # not written there
        self.assert_converged(p, r)  # the primary's refresh replicated
        self.assertEqual(rc.call("PFADD", "h", "x"),
                         RespError("READONLY You can't write against a "
                                   "read only replica."))
        pc.call("PFADD", "h", "more", "elements")
        self.assert_converged(p, r)


if __name__ == "__main__":
    unittest.main()
