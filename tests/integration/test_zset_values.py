"""Sorted set values: 1M elements, encoding conversions both ways, multi-key
commands across workers, a seeded random sequence checked against a Python
model, and (once src/persist carries typed values) snapshot + WAL replay.
The per-command checks are in test_zset.py."""

import random
import unittest

from fcserver import fast_cache_only
from persistutil import PersistCase, info, wait_info
from test_zset import Model, ZsetCase, fmt


class TestLarge(ZsetCase):
    def test_large_value(self):
        n = 1000000
        batch = 10000
        c = self.c
        sent = 0
        for start in range(0, n, batch):
            args = ["ZADD", "big"]
            for i in range(start, start + batch):
                args += [str(i * 2), "member:%d" % i]
            c.send_cmd(*args)
            sent += 1
        for _ in range(sent):
            self.assertEqual(c.read_reply(), batch)
        r = self.call
        self.assertEqual(r("ZCARD", "big"), n)
        self.assertEqual(r("ZSCORE", "big", "member:777777"), b"1555554")
        self.assertEqual(r("ZRANK", "big", "member:500000"), 500000)
        self.assertEqual(r("ZREVRANK", "big", "member:0"), n - 1)
        self.assertEqual(r("ZRANGE", "big", 300000, 300002, "WITHSCORES"),
                         [b"member:300000", b"600000", b"member:300001",
                          b"600002", b"member:300002", b"600004"])
        self.assertEqual(r("ZCOUNT", "big", 1000, "(2000"), 500)
        self.assertEqual(r("ZRANGEBYSCORE", "big", "(1999996", "+inf"),
                         [b"member:999999"])
        self.assertEqual(r("ZREM", "big", "member:1", "member:3"), 2)
        self.assertEqual(r("ZRANK", "big", "member:4"), 2)
        self.assertEqual(r("ZREMRANGEBYRANK", "big", 0, 99999), 100000)
        self.assertEqual(r("ZCARD", "big"), n - 100002)
        self.assertEqual(r("ZRANGE", "big", 0, 0), [b"member:100002"])
        self.assertEqual(r("ZPOPMAX", "big"), [b"member:999999", b"1999998"])
        self.assertEqual(r("ZADD", "big", 1, "member:999998"), 0)
        self.assertEqual(r("ZRANGE", "big", 0, 0), [b"member:999998"])
        self.assertEqual(r("DEL", "big"), 1)


class TestEncoding(ZsetCase):
    @fast_cache_only
    def test_conversions(self):
        r = self.call
        for i in range(128):
            self.zadd("z", i, "m%d" % i)
        self.assertEqual(r("OBJECT", "ENCODING", "z"), b"pack")
        self.zadd("z", 200, "m200")
        self.assertEqual(r("OBJECT", "ENCODING", "z"), b"btree")
        self.assertEqual(r("ZCARD", "z"), 129)
        # back to the pack at half the limits
        r("ZREMRANGEBYRANK", "z", 0, 64)
        self.assertEqual(r("ZCARD", "z"), 64)
        self.assertEqual(r("OBJECT", "ENCODING", "z"), b"pack")
        self.assertEqual(r("ZRANGE", "z", 0, 1), [b"m65", b"m66"])
        self.assertEqual(r("ZRANGE", "z", -1, -1), [b"m200"])
        # a long member converts at once
        self.zadd("y", 1, "a")
        self.zadd("y", 2, "x" * 65)
        self.assertEqual(r("OBJECT", "ENCODING", "y"), b"btree")
        r("ZREM", "y", "x" * 65)
        self.assertEqual(r("OBJECT", "ENCODING", "y"), b"pack")
        self.assertEqual(r("ZRANGE", "y", 0, -1, "WITHSCORES"), [b"a", b"1"])
        # a store result is packed when small
        self.assertEqual(r("ZUNIONSTORE", "u", 1, "z"), 64)
        self.assertEqual(r("OBJECT", "ENCODING", "u"), b"pack")

    def test_same_replies_across_encodings(self):
        """The same operations on a packed and a tree-encoded value."""
        r = self.call
        pad = ["%d" % i for i in range(200)]
        args = []
        for i in pad:
            args += [1000 + int(i), "pad" + i]
        self.zadd("big", *args)
        for key in ("small", "big"):
            self.zadd(key, 1, "a", 2, "b", 2, "c", -3.5, "d", "inf", "e")
        r("ZREMRANGEBYSCORE", "big", 1000, "(1200")
        self.assertEqual(r("ZRANGE", "small", 0, -1, "WITHSCORES"),
                         r("ZRANGE", "big", 0, -1, "WITHSCORES"))
        for cmd in [("ZRANGEBYSCORE", "(1", 2), ("ZRANK", "c"),
                    ("ZREVRANGE", 0, 2), ("ZRANGEBYLEX", "-", "+")]:
            self.assertEqual(r(cmd[0], "small", *cmd[1:]),
                             r(cmd[0], "big", *cmd[1:]))


class TestCrossWorker(ZsetCase):
    server_kwargs = {"threads": 4}

    def test_multi_key(self):
        r = self.call
        keys = ["k%d" % i for i in range(16)]  # spread over the workers
        for i, k in enumerate(keys):
            self.zadd(k, i, "m", 1, "k%d" % i, 2, "common")
        got = r("ZUNION", len(keys), *keys, "WITHSCORES")
        self.assertEqual(dict(zip(got[::2], got[1::2]))[b"m"],
                         b"%d" % sum(range(16)))
        self.assertEqual(r("ZINTERCARD", len(keys), *keys), 2)
        self.assertEqual(r("ZUNIONSTORE", "dst", len(keys), *keys), 18)
        self.assertEqual(r("ZCARD", "dst"), 18)
        self.assertEqual(r("ZINTERSTORE", "dst2", 2, "k1", "k2"), 2)
        self.assertEqual(r("ZDIFFSTORE", "dst3", 2, "k1", "k2"), 1)
        self.assertEqual(r("ZRANGE", "dst3", 0, -1), [b"k1"])
        self.assertEqual(r("ZRANGESTORE", "dst4", "k5", 0, -1), 3)
        self.assertEqual(r("ZMPOP", 3, "none1", "none2", "k7", "MIN"),
                         [b"k7", [[b"k7", b"1"]]])


class TestModel(ZsetCase):
    def test_random_sequence(self):
        rnd = random.Random(20261201)
        keys = ["ka", "kb", "kc"]
        model = {k: Model() for k in keys}
        pool = {"ka": ["m%d" % i for i in range(300)],
                "kb": ["n%d" % i for i in range(40)] + ["L" * 70],
                "kc": ["c%d" % i for i in range(150)]}
        r = self.call

        def score():
            return rnd.choice([rnd.randint(-50, 50), rnd.randint(-50, 50) / 2,
                               float("inf"), float("-inf")])

        def sarg(x):
            return "inf" if x == float("inf") else (
                "-inf" if x == float("-inf") else repr(x))

        for step in range(4000):
            k = rnd.choice(keys)
            m = model[k]
            op = rnd.randrange(10)
            if op <= 3:
                n = rnd.randint(1, 5)
                pairs = [(score(), rnd.choice(pool[k])) for _ in range(n)]
                flag = rnd.choice([[], ["NX"], ["XX"], ["GT"], ["LT"], ["CH"]])
                args = []
                for s, mem in pairs:
                    args += [sarg(s), mem]
                got = r("ZADD", k, *flag, *args)
                added = changed = 0
                for s, mem in pairs:
                    mb = mem.encode()
                    cur = m.d.get(mb)
                    if cur is None:
                        if "XX" not in flag:
                            m.d[mb] = s
                            added += 1
                    elif "NX" not in flag:
                        if ("GT" in flag and s <= cur) or \
                                ("LT" in flag and s >= cur):
                            continue
                        if s != cur:
                            m.d[mb] = s
                            changed += 1
                self.assertEqual(got, added + (changed if "CH" in flag else 0))
            elif op == 4:
                mem = rnd.choice(pool[k]).encode()
                inc = rnd.randint(-5, 5)
                cur = m.d.get(mem, 0.0)
                new = cur + inc
                got = r("ZINCRBY", k, inc, mem)
                if new != new:  # NaN
                    self.assertErr(got, "ERR resulting score is not a number "
                                   "(NaN)")
                else:
                    m.d[mem] = new
                    self.assertEqual(got, fmt(new))
            elif op == 5:
                mems = [rnd.choice(pool[k]).encode() for _ in range(3)]
                exp = len({x for x in mems if x in m.d})
                self.assertEqual(r("ZREM", k, *mems), exp)
                for x in mems:
                    m.d.pop(x, None)
            elif op == 6:
                cnt = rnd.randint(0, 4)
                mx = rnd.random() < 0.5
                got = r("ZPOPMAX" if mx else "ZPOPMIN", k, cnt)
                items = m.items()
                items = items[::-1] if mx else items
                exp = []
                for mem, s in items[:cnt]:
                    exp += [mem, fmt(s)]
                    del m.d[mem]
                self.assertEqual(got, exp)
            elif op == 7:
                lo, hi = sorted([rnd.randint(-30, 30), rnd.randint(-30, 30)])
                got = r("ZREMRANGEBYSCORE", k, "(%d" % lo, hi)
                gone = [x for x, s in m.d.items() if lo < s <= hi]
                for x in gone:
                    del m.d[x]
                self.assertEqual(got, len(gone))
            elif op == 8:
                a, bb = rnd.randint(-20, 20), rnd.randint(-20, 20)
                items = m.items()
                got = r("ZRANGE", k, a, bb, "WITHSCORES")
                n = len(items)
                s0 = a + n if a < 0 else a
                e0 = bb + n if bb < 0 else bb
                s0 = max(s0, 0)
                exp = []
                if not (s0 > e0 or s0 >= n):
                    for mem, s in items[s0:min(e0, n - 1) + 1]:
                        exp += [mem, fmt(s)]
                self.assertEqual(got, exp)
            else:
                mem = rnd.choice(pool[k]).encode()
                got = r("ZRANK", k, mem)
                items = [x for x, _ in m.items()]
                self.assertEqual(got, items.index(mem) if mem in m.d else None)
            if step % 250 == 0:
                for kk in keys:
                    self.assertEqual(r("ZRANGE", kk, 0, -1, "WITHSCORES"),
                                     model[kk].flat())
        for kk in keys:
            self.assertEqual(r("ZRANGE", kk, 0, -1, "WITHSCORES"),
                             model[kk].flat())
            self.assertEqual(r("ZCARD", kk), len(model[kk].d))
        items = model["ka"].items()
        want = {}
        # Redis sums the sources smallest first (a stable sort)
        for kk in sorted(keys, key=lambda x: len(model[x].d)):
            for mem, s in model[kk].items():
                want[mem] = want.get(mem, 0) + s
                if want[mem] != want[mem]:
                    want[mem] = 0.0
        del items
        got = r("ZUNION", 3, *keys, "WITHSCORES")
        self.assertEqual(dict(zip(got[::2], got[1::2])),
                         {k2: fmt(v) for k2, v in want.items()})


@fast_cache_only
class TestPersistence(PersistCase, unittest.TestCase):
    """Snapshot (serialized values) plus WAL (op records) across SIGKILL."""

    def dump_zsets(self, c, keys):
        return {k: c.call("ZRANGE", k, 0, -1, "WITHSCORES") for k in keys}

    def test_snapshot_then_ops_then_sigkill(self):
        s = self.srv()
        keys = ["small", "big", "gone", "store", "other"]
        with s.raw() as c:
            c.call("ZADD", "small", 1, "a", 2.5, "b", "inf", "c")
            args = []
            for i in range(5000):
                args += [i * 0.5, "m%d" % i]
            c.call("ZADD", "big", *args)
            c.call("ZADD", "gone", 1, "x")
            saves = int(info(c)["rdb_saves"])
            self.assertEqual(c.call("BGSAVE"), b"Background saving started")
            wait_info(c, "rdb_bgsave_in_progress", "0")
            wait_info(c, "rdb_saves", str(saves + 1))
            # after the snapshot: op records only
            c.call("ZINCRBY", "small", 0.1, "a")
            c.call("ZADD", "small", "GT", 10, "b", 0, "new")
            c.call("ZREM", "big", "m1", "m2")
            c.call("ZPOPMIN", "big", 3)
            c.call("ZREMRANGEBYSCORE", "big", 100, "(200")
            c.call("ZREMRANGEBYRANK", "big", -10, -1)
            c.call("ZREM", "gone", "x")
            c.call("ZUNIONSTORE", "store", 2, "small", "big",
                   "WEIGHTS", 2, 1)
            c.call("ZMPOP", 1, "small", "MAX")
            for i in range(300):
                c.call("ZADD", "other", i, "o%d" % i)
            c.call("ZREMRANGEBYRANK", "other", 0, 250)
            want = self.dump_zsets(c, keys)
        s.kill9()
        s = self.srv()
        with s.raw() as c:
            self.assertEqual(self.dump_zsets(c, keys), want)
            self.assertEqual(c.call("EXISTS", "gone"), 0)
            self.assertEqual(c.call("ZSCORE", "small", "a"),
                             b"1.1000000000000001")
        # and once more from a fresh snapshot of the replayed state
        with s.raw() as c:
            self.assertEqual(c.call("SAVE"), b"OK")
        s.kill9()
        s = self.srv()
        with s.raw() as c:
            self.assertEqual(self.dump_zsets(c, keys), want)


if __name__ == "__main__":
    unittest.main()

