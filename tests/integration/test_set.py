"""Set commands, with the exact replies and errors Redis 7.0 prints.

Every test passes against fast-cache and redis-server (FC_SERVER picks).
Members of a hash-table set come back in an order of the server's own, so
replies are compared as sets, except an integer set's, which both servers
keep sorted. Encoding names: Redis 7.0 has no compact form for sets of
strings (they are hash tables from the first member); ours is "pack".
"""

import random
import time
import unittest

from fcserver import Null, RespError, ServerTestCase, Set, is_redis

WRONGTYPE = RespError("WRONGTYPE Operation against a key holding the wrong "
                      "kind of value")
SYNTAX = RespError("ERR syntax error")
NOT_INT = RespError("ERR value is not an integer or out of range")


def arity(cmd):
    return RespError("ERR wrong number of arguments for '%s' command" % cmd)


class SetTest(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.c = self.raw()
        self.addCleanup(self.c.close)
        self.call = self.c.call

    def members(self, key):
        got = self.call("SMEMBERS", key)
        self.assertEqual(len(got), len(set(got)))
        return set(got)

    def limit(self, name, default):
        got = self.call("CONFIG", "GET", name)
        if isinstance(got, list) and len(got) == 2:
            return int(got[1])
        return default

    def enc(self, key):
        return self.call("OBJECT", "ENCODING", key)


class TestSetBasics(SetTest):
    def test_add_rem_member(self):
        self.assertEqual(self.call("SADD", "s", "a", "b", "a", "c"), 3)
        self.assertEqual(self.call("SADD", "s", "a", "d"), 1)
        self.assertEqual(self.call("SCARD", "s"), 4)
        self.assertEqual(self.call("SCARD", "nokey"), 0)
        self.assertEqual(self.call("SISMEMBER", "s", "a"), 1)
        self.assertEqual(self.call("SISMEMBER", "s", "z"), 0)
        self.assertEqual(self.call("SISMEMBER", "nokey", "z"), 0)
        self.assertEqual(self.call("SMISMEMBER", "s", "a", "z", "d"),
                         [1, 0, 1])
        self.assertEqual(self.call("SMISMEMBER", "nokey", "a"), [0])
        self.assertEqual(self.members("s"), {b"a", b"b", b"c", b"d"})
        self.assertEqual(self.call("SMEMBERS", "nokey"), [])
        self.assertEqual(self.call("TYPE", "s"), b"set")
        self.assertEqual(self.call("SREM", "s", "a", "a", "z"), 1)
        self.assertEqual(self.call("SREM", "nokey", "a"), 0)
        self.assertEqual(self.call("SREM", "s", "b", "c", "d"), 3)
        self.assertEqual(self.call("EXISTS", "s"), 0)  # emptied: removed
        self.assertEqual(self.call("SADD", "s", ""), 1)
        self.assertEqual(self.call("SISMEMBER", "s", ""), 1)

    def test_intset_sorted_and_canonical(self):
        nums = ["5", "-3", "70000", "0", "-9223372036854775808",
                "9223372036854775807", "12", "-40000", "300"]
        self.assertEqual(self.call("SADD", "i", *nums), len(nums))
        want = [str(x).encode() for x in sorted(int(n) for n in nums)]
        self.assertEqual(self.call("SMEMBERS", "i"), want)  # sorted, as Redis
        self.assertEqual(self.call("SISMEMBER", "i", "70000"), 1)
        self.assertEqual(self.call("SISMEMBER", "i", "070000"), 0)
        self.assertEqual(self.call("SISMEMBER", "i", "+5"), 0)
        self.assertEqual(self.call("SREM", "i", "05", "5"), 1)
        self.assertEqual(self.call("SCARD", "i"), len(nums) - 1)
        # Non-canonical integers are strings: "07" and "7" are two members.
        self.assertEqual(self.call("SADD", "j", "7", "07", "-0", "0"), 4)
        self.assertEqual(self.members("j"), {b"7", b"07", b"-0", b"0"})
        self.assertEqual(self.call("SMEMBERS", "i")[0],
                         b"-9223372036854775808")

    def test_arity(self):
        self.assertEqual(self.call("SADD", "s"), arity("sadd"))
        self.assertEqual(self.call("SREM", "s"), arity("srem"))
        self.assertEqual(self.call("SISMEMBER", "s"), arity("sismember"))
        self.assertEqual(self.call("SMISMEMBER", "s"), arity("smismember"))
        self.assertEqual(self.call("SMOVE", "a", "b"), arity("smove"))
        self.assertEqual(self.call("SINTERSTORE", "d"), arity("sinterstore"))
        self.assertEqual(self.call("SINTERCARD", "1"), arity("sintercard"))
        self.assertEqual(self.call("SSCAN", "s"), arity("sscan"))
        self.assertEqual(self.call("SPOP"), arity("spop"))

    def test_wrongtype(self):
        self.call("SET", "str", "v")
        self.call("SADD", "s", "a")
        for cmd in (("SADD", "str", "a"), ("SREM", "str", "a"),
                    ("SISMEMBER", "str", "a"), ("SMISMEMBER", "str", "a"),
                    ("SCARD", "str"), ("SMEMBERS", "str"),
                    ("SRANDMEMBER", "str"), ("SRANDMEMBER", "str", "3"),
                    ("SPOP", "str"), ("SPOP", "str", "2"),
                    ("SMOVE", "str", "s", "a"), ("SMOVE", "s", "str", "a"),
                    ("SINTER", "s", "str"), ("SINTER", "nokey", "str"),
                    ("SUNION", "str"), ("SDIFF", "nokey", "str"),
                    ("SDIFF", "str", "nokey"), ("SINTERCARD", "2", "nokey",
                                                "str"),
                    ("SINTERSTORE", "d", "nokey", "str"),
                    ("SUNIONSTORE", "d", "s", "str"),
                    ("SDIFFSTORE", "d", "s", "str"), ("SSCAN", "str", "0")):
            self.assertEqual(self.call(*cmd), WRONGTYPE, cmd)
        self.assertEqual(self.members("s"), {b"a"})
        self.assertEqual(self.call("EXISTS", "d"), 0)
        for cmd in (("GET", "s"), ("INCR", "s"), ("APPEND", "s", "x"),
                    ("HGET", "s", "f"), ("HSET", "s", "f", "v")):
            self.assertEqual(self.call(*cmd), WRONGTYPE, cmd)
        self.call("HSET", "h", "f", "v")
        self.assertEqual(self.call("SADD", "h", "a"), WRONGTYPE)
        self.assertEqual(self.call("SMOVE", "no", "str", "a"), 0)


class TestSetTtl(SetTest):
    def test_expire_keeps_value(self):
        self.call("SADD", "i", "1", "2")
        self.call("SADD", "p", "a", "b")
        self.call("SADD", "t", *["m%d" % i for i in range(300)])
        for key in ("i", "p", "t"):
            self.assertEqual(self.call("EXPIRE", key, "100"), 1)
            self.assertEqual(self.call("SADD", key, "new"), 1)
            self.assertTrue(0 < self.call("TTL", key) <= 100)
            self.assertEqual(self.call("SISMEMBER", key, "new"), 1)
            self.assertEqual(self.call("PERSIST", key), 1)
            self.assertEqual(self.call("PEXPIRE", key, "50"), 1)
        time.sleep(0.2)
        self.assertEqual(self.call("EXISTS", "i", "p", "t"), 0)
        self.assertEqual(self.call("SCARD", "t"), 0)
        self.assertEqual(self.call("SMOVE", "t", "x", "m1"), 0)


class TestSetRenameCopy(SetTest):
    server_kwargs = {"threads": 4}  # keys on several workers (fast-cache)

    def test_rename_copy(self):
        self.call("SADD", "i", "3", "1", "2")
        self.call("SADD", "t", *["m%d" % i for i in range(300)])
        for i in range(8):
            self.assertEqual(self.call("COPY", "i", "ci%d" % i), 1)
            self.assertEqual(self.call("SMEMBERS", "ci%d" % i),
                             [b"1", b"2", b"3"])
            self.assertEqual(self.call("COPY", "t", "ct%d" % i), 1)
            self.assertEqual(self.call("SCARD", "ct%d" % i), 300)
        self.call("SREM", "ct0", "m1")
        self.assertEqual(self.call("SCARD", "t"), 300)
        self.assertEqual(self.call("RENAME", "t", "moved"), b"OK")
        self.assertEqual(self.call("EXISTS", "t"), 0)
        self.assertEqual(self.members("moved"),
                         {b"m%d" % i for i in range(300)})
        self.assertEqual(self.call("RENAME", "i", "ct1"), b"OK")
        self.assertEqual(self.call("SMEMBERS", "ct1"), [b"1", b"2", b"3"])


class TestSetRandom(SetTest):
    def test_srandmember(self):
        self.assertIsNone(self.call("SRANDMEMBER", "nokey"))
        self.assertEqual(self.call("SRANDMEMBER", "nokey", "3"), [])
        for key, data in (("ints", {b"%d" % i for i in range(20)}),
                          ("small", {b"m%d" % i for i in range(20)}),
                          ("large", {b"m%d" % i for i in range(1000)})):
            self.call("SADD", key, *data)
            n = len(data)
            self.assertIn(self.call("SRANDMEMBER", key), data)
            self.assertEqual(self.call("SRANDMEMBER", key, "0"), [])
            for count in (1, 3, n // 2, n - 1):
                got = self.call("SRANDMEMBER", key, count)
                self.assertEqual(len(got), count)
                self.assertEqual(len(set(got)), count)
                self.assertTrue(set(got) <= data)
            self.assertEqual(set(self.call("SRANDMEMBER", key, n + 10)), data)
            got = self.call("SRANDMEMBER", key, "-50")
            self.assertEqual(len(got), 50)
            self.assertTrue(set(got) <= data)
            self.assertEqual(self.call("SCARD", key), n)  # nothing removed
        seen = set(self.call("SRANDMEMBER", "small", "-2000"))
        self.assertEqual(seen, {b"m%d" % i for i in range(20)})
        self.assertEqual(self.call("SRANDMEMBER", "small", "1", "2"), SYNTAX)
        self.assertEqual(self.call("SRANDMEMBER", "small", "x"), NOT_INT)
        self.assertEqual(self.call("SRANDMEMBER", "small",
                                   "-9223372036854775808"),
                         RespError("ERR value is out of range, value must "
                                   "between -9223372036854775807 and "
                                   "9223372036854775807"))

    def test_spop(self):
        self.assertIsNone(self.call("SPOP", "nokey"))
        self.assertEqual(self.call("SPOP", "nokey", "3"), [])
        positive = RespError("ERR value is out of range, must be positive")
        self.call("SADD", "s", *range(10))
        self.assertEqual(self.call("SPOP", "s", "-1"), positive)
        self.assertEqual(self.call("SPOP", "s", "x"), positive)
        self.assertEqual(self.call("SPOP", "s", "1", "2"), SYNTAX)
        self.assertEqual(self.call("SPOP", "s", "0"), [])
        left = {b"%d" % i for i in range(10)}
        m = self.call("SPOP", "s")
        self.assertIn(m, left)
        left.discard(m)
        got = self.call("SPOP", "s", "4")
        self.assertEqual(len(set(got)), 4)
        self.assertTrue(set(got) <= left)
        left -= set(got)
        self.assertEqual(self.members("s"), left)
        self.assertEqual(set(self.call("SPOP", "s", "100")), left)
        self.assertEqual(self.call("EXISTS", "s"), 0)
        data = {b"m%d" % i for i in range(2000)}
        self.call("SADD", "big", *data)
        got = set(self.call("SPOP", "big", "300"))
        self.assertEqual(len(got), 300)
        got |= set(self.call("SPOP", "big", "1500"))
        self.assertEqual(len(got), 1800)
        self.assertEqual(self.members("big") | got, data)
        self.assertEqual(self.call("SCARD", "big"), 200)


class TestSetMove(SetTest):
    def test_smove(self):
        self.call("SADD", "a", "1", "2", "x")
        self.assertEqual(self.call("SMOVE", "a", "b", "1"), 1)
        self.assertEqual(self.call("SMOVE", "a", "b", "1"), 0)
        self.assertEqual(self.call("SMOVE", "a", "b", "zz"), 0)
        self.assertEqual(self.call("SMOVE", "nokey", "b", "1"), 0)
        self.assertEqual(self.members("b"), {b"1"})
        self.assertEqual(self.call("SMOVE", "a", "a", "2"), 1)
        self.assertEqual(self.call("SMOVE", "a", "a", "9"), 0)
        self.call("SADD", "b", "x")
        self.assertEqual(self.call("SMOVE", "a", "b", "x"), 1)  # already there
        self.assertEqual(self.members("b"), {b"1", b"x"})
        self.assertEqual(self.call("SMOVE", "a", "b", "2"), 1)
        self.assertEqual(self.call("EXISTS", "a"), 0)  # emptied
        self.assertEqual(self.members("b"), {b"1", b"2", b"x"})


class TestSetAlgebra(SetTest):
    server_kwargs = {"threads": 4}  # keys on several workers (fast-cache)

    def setUp(self):
        super().setUp()
        self.call("SADD", "s", "1", "2", "3", "-5", "100000", "9999999999")
        self.call("SADD", "t", "a", "b", "c", "1")
        self.call("SADD", "u", "3", "2", "x")

    def test_inter_union_diff(self):
        c = self.call
        self.assertEqual(set(c("SINTER", "s", "u")), {b"2", b"3"})
        self.assertEqual(c("SINTER", "s", "u", "nokey"), [])
        self.assertEqual(set(c("SINTER", "s", "s")), self.members("s"))
        self.assertEqual(c("SINTER", "s", "t", "u"), [])
        self.assertEqual(set(c("SUNION", "s", "t", "nokey")),
                         self.members("s") | self.members("t"))
        self.assertEqual(set(c("SDIFF", "s", "u", "t")),
                         {b"-5", b"100000", b"9999999999"})
        self.assertEqual(c("SDIFF", "nokey", "s"), [])
        self.assertEqual(c("SDIFF", "s", "s"), [])
        self.assertEqual(c("SUNION", "nokey"), [])
        # An integer result comes back sorted from both servers.
        self.assertEqual(c("SINTER", "s", "s"),
                         [b"-5", b"1", b"2", b"3", b"100000",
                          b"9999999999"])

    def test_store(self):
        c = self.call
        self.assertEqual(c("SINTERSTORE", "d", "s", "u"), 2)
        self.assertEqual(self.members("d"), {b"2", b"3"})
        self.assertEqual(c("SUNIONSTORE", "d", "t", "u"), 7)
        self.assertEqual(self.members("d"),
                         self.members("t") | self.members("u"))
        self.assertEqual(c("SDIFFSTORE", "d", "s", "u"), 4)
        self.assertEqual(self.members("d"),
                         {b"1", b"-5", b"100000", b"9999999999"})
        # An empty result deletes the destination.
        self.assertEqual(c("SINTERSTORE", "d", "s", "nokey"), 0)
        self.assertEqual(c("EXISTS", "d"), 0)
        c("SET", "str", "v", "EX", "100")
        self.assertEqual(c("SDIFFSTORE", "str", "s", "s"), 0)
        self.assertEqual(c("EXISTS", "str"), 0)
        # The destination is overwritten whatever it held, TTL included.
        c("SET", "str", "v", "EX", "100")
        self.assertEqual(c("SUNIONSTORE", "str", "u"), 3)
        self.assertEqual(c("TYPE", "str"), b"set")
        self.assertEqual(c("TTL", "str"), -1)
        # The destination may be a source.
        self.assertEqual(c("SUNIONSTORE", "u", "u", "t"), 7)
        self.assertEqual(c("SCARD", "u"), 7)
        self.assertEqual(c("SINTERSTORE", "s", "s", "t"), 1)
        self.assertEqual(self.members("s"), {b"1"})
        self.assertEqual(c("SDIFFSTORE", "t", "t", "t"), 0)
        self.assertEqual(c("EXISTS", "t"), 0)

    def test_sintercard(self):
        c = self.call
        self.assertEqual(c("SINTERCARD", "2", "s", "u"), 2)
        self.assertEqual(c("SINTERCARD", "2", "s", "u", "LIMIT", "1"), 1)
        self.assertEqual(c("SINTERCARD", "2", "s", "u", "limit", "0"), 2)
        self.assertEqual(c("SINTERCARD", "1", "s"), 6)
        self.assertEqual(c("SINTERCARD", "2", "s", "nokey"), 0)
        self.assertEqual(c("SINTERCARD", "3", "s", "t", "u"), 0)
        self.assertEqual(c("SINTERCARD", "0", "s"),
                         RespError("ERR numkeys should be greater than 0"))
        self.assertEqual(c("SINTERCARD", "x", "s"),
                         RespError("ERR numkeys should be greater than 0"))
        self.assertEqual(c("SINTERCARD", "-1", "s"),
                         RespError("ERR numkeys should be greater than 0"))
        self.assertEqual(c("SINTERCARD", "3", "s"),
                         RespError("ERR Number of keys can't be greater "
                                   "than number of args"))
        neg = RespError("ERR LIMIT can't be negative")
        self.assertEqual(c("SINTERCARD", "1", "s", "LIMIT", "-1"), neg)
        self.assertEqual(c("SINTERCARD", "1", "s", "LIMIT", "x"), neg)
        self.assertEqual(c("SINTERCARD", "1", "s", "LIMIT"), SYNTAX)
        self.assertEqual(c("SINTERCARD", "1", "s", "FOO", "1"), SYNTAX)

    def test_across_workers(self):
        # Keys spread over every worker: the commands run atomically over
        # all of them.
        keys = ["ms:%d" % i for i in range(16)]
        for i, k in enumerate(keys):
            self.call("SADD", k, *["m%d" % j for j in range(i, i + 20)])
            self.call("SADD", k, "common")
        self.assertEqual(set(self.call("SINTER", *keys)),
                         {b"common"} | {b"m%d" % j for j in range(15, 20)})
        self.assertEqual(self.call("SINTERCARD", len(keys), *keys), 6)
        self.assertEqual(len(self.call("SUNION", *keys)), 36)
        self.assertEqual(self.call("SUNIONSTORE", "ms:dst", *keys), 36)
        self.assertEqual(self.call("SDIFFSTORE", "ms:dst2", "ms:dst",
                                   *keys[1:]), 1)
        self.assertEqual(self.members("ms:dst2"), {b"m0"})
        for i in range(len(keys) - 1):
            self.assertEqual(self.call("SMOVE", keys[i], keys[i + 1],
                                       "m%d" % i), 1)
        self.assertEqual(self.call("SCARD", keys[-1]), 22)  # 21 + m14


class TestSetScan(SetTest):
    def scan_all(self, key, *opts):
        cursor, seen, calls = b"0", set(), 0
        while True:
            cursor, items = self.call("SSCAN", key, cursor, *opts)
            seen.update(items)
            calls += 1
            self.assertLess(calls, 100000)
            if cursor == b"0":
                return seen, calls

    def test_sscan(self):
        self.assertEqual(self.call("SSCAN", "nokey", "0"), [b"0", []])
        self.call("SADD", "i", "3", "1", "2")
        self.assertEqual(self.call("SSCAN", "i", "0", "COUNT", "1"),
                         [b"0", [b"1", b"2", b"3"]])
        self.call("SADD", "s", "a", "ab", "b")
        cur, items = self.call("SSCAN", "s", "0", "MATCH", "a*")
        self.assertEqual((cur, set(items)), (b"0", {b"a", b"ab"}))
        self.assertEqual(self.call("SSCAN", "s", "0", "COUNT", "0"), SYNTAX)
        self.assertEqual(self.call("SSCAN", "s", "x"),
                         RespError("ERR invalid cursor"))
        data = {b"m%d" % i for i in range(1000)}
        self.call("SADD", "big", *data)
        seen, calls = self.scan_all("big", "COUNT", "25")
        self.assertEqual(seen, data)
        self.assertGreater(calls, 10)
        seen, _ = self.scan_all("big", "MATCH", "m9*")
        self.assertEqual(seen, {m for m in data if m.startswith(b"m9")})


class TestSetEncodings(SetTest):
    def test_conversions(self):
        ints = self.limit("set-max-intset-entries", 512)
        self.call("SADD", "i", *range(ints))
        self.assertEqual(self.enc("i"), b"intset")
        self.call("SADD", "i", ints)
        self.assertEqual(self.enc("i"), b"hashtable")
        self.assertEqual(self.call("SCARD", "i"), ints + 1)
        self.call("SADD", "j", "1", "2")
        self.assertEqual(self.enc("j"), b"intset")
        self.call("SADD", "j", "abc")
        small = b"hashtable" if is_redis() else b"pack"
        self.assertEqual(self.enc("j"), small)
        self.assertEqual(self.members("j"), {b"1", b"2", b"abc"})
        if is_redis():
            return  # no pack, and Redis never converts back
        n = self.limit("set-max-listpack-entries", 128)
        self.call("SADD", "p", *["m%d" % i for i in range(n)])
        self.assertEqual(self.enc("p"), b"pack")
        self.call("SADD", "p", "one-more")
        self.assertEqual(self.enc("p"), b"hashtable")
        self.call("SADD", "l", "x")
        self.call("SADD", "l", "y" * 65)
        self.assertEqual(self.enc("l"), b"hashtable")
        self.call("SREM", "l", "y" * 65)
        self.assertEqual(self.enc("l"), b"pack")
        # Back at half the limits.
        self.call("SREM", "p", "one-more", *["m%d" % i for i in range(n // 2)])
        self.assertEqual(self.enc("p"), b"pack")
        self.assertEqual(self.call("SCARD", "p"), n // 2)
        self.call("SREM", "i", *range(ints // 2, ints + 1))
        self.assertEqual(self.enc("i"), b"intset")
        self.assertEqual(self.call("SMEMBERS", "i"),
                         [b"%d" % v for v in range(ints // 2)])


class TestSetModel(SetTest):
    def test_random_against_model(self):
        rnd = random.Random(99)
        model = {}
        keys = ["r%d" % i for i in range(5)]

        def member(k):
            span = 800 if k == "r0" else 60
            if k in ("r1", "r2") and rnd.random() < 0.7:
                return str(rnd.randrange(-span, span)).encode()  # intsets
            return b"m%d" % rnd.randrange(span)

        for _ in range(4000):
            k = rnd.choice(keys)
            s = model.setdefault(k, set())
            op = rnd.randrange(10)
            if op < 4:
                ms = [member(k) for _ in range(rnd.randrange(1, 4))]
                self.assertEqual(self.call("SADD", k, *ms),
                                 len(set(ms) - s))
                s.update(ms)
            elif op < 6:
                ms = [member(k) for _ in range(rnd.randrange(1, 4))]
                self.assertEqual(self.call("SREM", k, *ms),
                                 len(set(ms) & s))
                s.difference_update(ms)
            elif op == 6:
                got = self.call("SPOP", k, 2)
                self.assertTrue(set(got) <= s)
                self.assertEqual(len(got), min(2, len(s)))
                s.difference_update(got)
            elif op == 7:
                m = member(k)
                self.assertEqual(self.call("SISMEMBER", k, m), int(m in s))
            elif op == 8:
                k2 = rnd.choice(keys)
                s2 = model.setdefault(k2, set())
                self.assertEqual(self.call("SINTERCARD", 2, k, k2),
                                 len(s & s2))
                if rnd.random() < 0.2:
                    dst = rnd.choice(keys)
                    self.assertEqual(self.call("SUNIONSTORE", dst, k, k2),
                                     len(s | s2))
                    model[dst] = s | s2
            else:
                self.assertEqual(self.members(k), s)
            for key in list(model):
                if not model[key]:
                    del model[key]
        for k in keys:
            self.assertEqual(self.members(k), model.get(k, set()))
            self.assertEqual(self.call("EXISTS", k), int(k in model))


class TestSetLarge(SetTest):
    def test_100k_members(self):
        n = 100000
        for base in range(0, n, 5000):
            self.c.send_cmd("SADD", "big",
                            *[b"member:%d" % i for i in range(base, base + 5000)])
            self.c.send_cmd("SADD", "ibig", *range(base, base + 5000))
        for _ in range(0, n, 5000):
            self.assertEqual(self.c.read_reply(), 5000)
            self.assertEqual(self.c.read_reply(), 5000)
        self.assertEqual(self.call("SCARD", "big"), n)
        self.assertEqual(self.call("SISMEMBER", "big", "member:99999"), 1)
        self.assertEqual(self.call("SISMEMBER", "ibig", "4242"), 1)
        self.assertEqual(len(self.call("SMEMBERS", "big")), n)
        self.assertEqual(self.call("SINTERCARD", 2, "big", "ibig"), 0)
        seen, cursor = set(), b"0"
        while True:
            cursor, items = self.call("SSCAN", "ibig", cursor, "COUNT", 1000)
            seen.update(items)
            if cursor == b"0":
                break
        self.assertEqual(len(seen), n)
        self.assertEqual(len(set(self.call("SPOP", "big", 1000))), 1000)
        self.assertEqual(self.call("SCARD", "big"), n - 1000)
        self.assertEqual(self.call("SUNIONSTORE", "u", "big", "ibig"),
                         2 * n - 1000)
        self.assertEqual(self.call("DEL", "big", "ibig", "u"), 3)


class TestSetResp3(SetTest):
    def test_resp3_forms(self):
        self.call("HELLO", "3")
        self.call("SADD", "s", "1", "2", "3")
        self.call("SADD", "t", "a", "b")
        got = self.call("SMEMBERS", "s")
        self.assertIsInstance(got, Set)
        self.assertEqual(got, [b"1", b"2", b"3"])
        self.assertIsInstance(self.call("SMEMBERS", "nokey"), Set)
        self.assertIsInstance(self.call("SINTER", "s", "t"), Set)
        self.assertIsInstance(self.call("SUNION", "s", "t"), Set)
        self.assertIsInstance(self.call("SDIFF", "s", "t"), Set)
        self.assertIsInstance(self.call("SPOP", "t", "1"), Set)
        self.assertIsInstance(self.call("SPOP", "nokey", "1"), Set)
        got = self.call("SRANDMEMBER", "s", "2")
        self.assertNotIsInstance(got, Set)
        self.assertEqual(len(got), 2)
        self.assertNotIsInstance(self.call("SRANDMEMBER", "s", "9"), Set)
        self.assertEqual(self.call("SMISMEMBER", "s", "1", "9"), [1, 0])
        self.assertIsInstance(self.call("SPOP", "nokey"), Null)
        self.assertIsInstance(self.call("SRANDMEMBER", "nokey"), Null)
        cur, items = self.call("SSCAN", "s", "0")
        self.assertEqual((cur, items), (b"0", [b"1", b"2", b"3"]))


if __name__ == "__main__":
    unittest.main()
