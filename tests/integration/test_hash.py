"""Hash commands, with the exact replies and errors Redis 7.0 prints.

Every test passes against fast-cache and redis-server (FC_SERVER picks);
encoding names differ ("pack" is our compact form, Redis's "listpack"), so
the conversion test maps them.
"""

import random
import time
import unittest

from fcserver import Map, Null, RespError, ServerTestCase, is_redis

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INT = "ERR value is not an integer or out of range"
NOT_FLOAT = "ERR value is not a valid float"
SYNTAX = "ERR syntax error"


def arity(cmd):
    return RespError("ERR wrong number of arguments for '%s' command" % cmd)


def pairs(flat):
    return dict(zip(flat[0::2], flat[1::2]))


class HashTest(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.c = self.raw()
        self.addCleanup(self.c.close)
        self.call = self.c.call

    def limit(self, name, default):
        """A threshold as the server has it (CONFIG GET; both servers
        default hash-max-listpack-entries to 512)."""
        got = self.call("CONFIG", "GET", name)
        if isinstance(got, list) and len(got) == 2:
            return int(got[1])
        if isinstance(got, dict) and got:
            return int(list(got.values())[0])
        return default

    def enc(self, key):
        e = self.call("OBJECT", "ENCODING", key)
        return {b"listpack": b"pack"}.get(e, e) if is_redis() else e


class TestHashBasics(HashTest):
    def test_set_get_del(self):
        self.assertEqual(self.call("HSET", "h", "a", "1", "b", "2"), 2)
        self.assertEqual(self.call("HSET", "h", "a", "x", "c", "3"), 1)
        self.assertEqual(self.call("HGET", "h", "a"), b"x")
        self.assertIsNone(self.call("HGET", "h", "zz"))
        self.assertIsNone(self.call("HGET", "nokey", "a"))
        self.assertEqual(self.call("HMGET", "h", "a", "zz", "c"),
                         [b"x", None, b"3"])
        self.assertEqual(self.call("HMGET", "nokey", "a", "b"), [None, None])
        self.assertEqual(self.call("HLEN", "h"), 3)
        self.assertEqual(self.call("HLEN", "nokey"), 0)
        self.assertEqual(self.call("HEXISTS", "h", "b"), 1)
        self.assertEqual(self.call("HEXISTS", "h", "q"), 0)
        self.assertEqual(self.call("HEXISTS", "nokey", "q"), 0)
        self.assertEqual(self.call("HSTRLEN", "h", "a"), 1)
        self.assertEqual(self.call("HSTRLEN", "h", "q"), 0)
        self.assertEqual(self.call("TYPE", "h"), b"hash")
        self.assertEqual(self.call("HDEL", "h", "a", "a", "q"), 1)
        self.assertEqual(self.call("HDEL", "nokey", "a"), 0)
        self.assertEqual(self.call("HDEL", "h", "b", "c"), 2)
        self.assertEqual(self.call("EXISTS", "h"), 0)  # emptied: removed
        self.assertEqual(self.call("HSET", "h", "", ""), 1)  # empty field
        self.assertEqual(self.call("HGET", "h", ""), b"")

    def test_setnx_mset_all(self):
        self.assertEqual(self.call("HSETNX", "h", "a", "1"), 1)
        self.assertEqual(self.call("HSETNX", "h", "a", "2"), 0)
        self.assertEqual(self.call("HGET", "h", "a"), b"1")
        self.assertEqual(self.call("HMSET", "h", "b", "2", "c", "3"), b"OK")
        self.assertEqual(sorted(self.call("HKEYS", "h")), [b"a", b"b", b"c"])
        self.assertEqual(sorted(self.call("HVALS", "h")), [b"1", b"2", b"3"])
        self.assertEqual(pairs(self.call("HGETALL", "h")),
                         {b"a": b"1", b"b": b"2", b"c": b"3"})
        self.assertEqual(self.call("HGETALL", "nokey"), [])
        self.assertEqual(self.call("HKEYS", "nokey"), [])
        self.assertEqual(self.call("HVALS", "nokey"), [])

    def test_arity(self):
        self.assertEqual(self.call("HSET", "h", "f"), arity("hset"))
        self.assertEqual(self.call("HSET", "h", "f", "v", "g"), arity("hset"))
        self.assertEqual(self.call("HMSET", "h", "f", "v", "g"),
                         arity("hmset"))
        self.assertEqual(self.call("HGET", "h"), arity("hget"))
        self.assertEqual(self.call("HSETNX", "h", "f"), arity("hsetnx"))
        self.assertEqual(self.call("HDEL", "h"), arity("hdel"))
        self.assertEqual(self.call("HINCRBY", "h", "f"), arity("hincrby"))
        self.assertEqual(self.call("HSCAN", "h"), arity("hscan"))
        self.assertEqual(self.call("EXISTS", "h"), 0)

    def test_wrongtype(self):
        self.call("SET", "s", "v")
        wt = RespError(WRONGTYPE)
        for cmd in (("HSET", "s", "f", "v"), ("HSETNX", "s", "f", "v"),
                    ("HMSET", "s", "f", "v"), ("HGET", "s", "f"),
                    ("HMGET", "s", "f"), ("HDEL", "s", "f"), ("HLEN", "s"),
                    ("HSTRLEN", "s", "f"), ("HEXISTS", "s", "f"),
                    ("HKEYS", "s"), ("HVALS", "s"), ("HGETALL", "s"),
                    ("HINCRBY", "s", "f", "1"),
                    ("HINCRBYFLOAT", "s", "f", "1"), ("HRANDFIELD", "s"),
                    ("HRANDFIELD", "s", "2"), ("HRANDFIELD", "s", "-2",
                                               "WITHVALUES"),
                    ("HSCAN", "s", "0")):
            self.assertEqual(self.call(*cmd), wt, cmd)
        self.assertEqual(self.call("GET", "s"), b"v")
        self.call("HSET", "h", "f", "1")
        for cmd in (("GET", "h"), ("INCR", "h"), ("APPEND", "h", "x"),
                    ("STRLEN", "h"), ("GETRANGE", "h", "0", "1"),
                    ("SETRANGE", "h", "0", "x")):
            self.assertEqual(self.call(*cmd), wt, cmd)
        self.assertEqual(self.call("SET", "h", "str"), b"OK")  # overwrites
        self.assertEqual(self.call("GET", "h"), b"str")


class TestHashTtl(HashTest):
    def test_expire_keeps_value(self):
        self.call("HSET", "h", *[x for i in range(200) for x in ("f%d" % i, "v")])
        self.call("HSET", "p", "a", "1")
        for key in ("h", "p"):
            self.assertEqual(self.call("EXPIRE", key, "100"), 1)
            self.assertTrue(0 < self.call("TTL", key) <= 100)
            # A change to the value keeps its TTL, as in Redis.
            self.assertEqual(self.call("HSET", key, "new", "x"), 1)
            self.assertTrue(0 < self.call("TTL", key) <= 100)
            self.assertEqual(self.call("HGET", key, "new"), b"x")
            self.assertEqual(self.call("PERSIST", key), 1)
            self.assertEqual(self.call("TTL", key), -1)
            self.assertEqual(self.call("PEXPIRE", key, "50"), 1)
        self.assertEqual(self.call("HLEN", "h"), 201)
        time.sleep(0.2)
        self.assertEqual(self.call("EXISTS", "h", "p"), 0)
        self.assertIsNone(self.call("HGET", "h", "f1"))
        self.assertEqual(self.call("HSET", "h", "a", "1"), 1)
        self.assertEqual(self.call("TTL", "h"), -1)


class TestHashRenameCopy(HashTest):
    server_kwargs = {"threads": 4}  # keys on several workers (fast-cache)

    def test_rename_copy(self):
        big = {b"f%d" % i: b"v%d" % i for i in range(300)}
        self.call("HSET", "big", *[x for kv in big.items() for x in kv])
        self.call("HSET", "small", "a", "1")
        for i in range(8):  # destinations on every worker
            self.assertEqual(self.call("COPY", "big", "c%d" % i), 1)
            self.assertEqual(pairs(self.call("HGETALL", "c%d" % i)), big)
        self.assertEqual(self.call("HSET", "c0", "new", "x"), 1)
        self.assertEqual(self.call("HLEN", "big"), 300)  # a real copy
        self.assertEqual(self.call("COPY", "small", "c1"), 0)
        self.assertEqual(self.call("COPY", "small", "c1", "REPLACE"), 1)
        self.assertEqual(self.call("HGETALL", "c1"), [b"a", b"1"])
        self.call("EXPIRE", "big", "100")
        self.assertEqual(self.call("RENAME", "big", "moved"), b"OK")
        self.assertEqual(self.call("EXISTS", "big"), 0)
        self.assertEqual(pairs(self.call("HGETALL", "moved")), big)
        self.assertTrue(0 < self.call("TTL", "moved") <= 100)
        self.assertEqual(self.call("RENAMENX", "small", "moved"), 0)
        self.assertEqual(self.call("RENAME", "small", "c2"), b"OK")
        self.assertEqual(self.call("HGETALL", "c2"), [b"a", b"1"])
        self.call("SET", "str", "v")
        self.assertEqual(self.call("RENAME", "c3", "str"), b"OK")
        self.assertEqual(self.call("TYPE", "str"), b"hash")


class TestHashIncr(HashTest):
    def test_hincrby(self):
        self.assertEqual(self.call("HINCRBY", "h", "n", "5"), 5)
        self.assertEqual(self.call("HINCRBY", "h", "n", "-7"), -2)
        self.assertEqual(self.call("HGET", "h", "n"), b"-2")
        self.call("HSET", "h", "s", "abc", "m", "9223372036854775807",
                  "sp", " 1")
        self.assertEqual(self.call("HINCRBY", "h", "s", "1"),
                         RespError("ERR hash value is not an integer"))
        self.assertEqual(self.call("HINCRBY", "h", "sp", "1"),
                         RespError("ERR hash value is not an integer"))
        self.assertEqual(self.call("HINCRBY", "h", "m", "1"),
                         RespError("ERR increment or decrement would overflow"))
        self.assertEqual(self.call("HINCRBY", "h", "n", "1.5"),
                         RespError(NOT_INT))
        self.assertEqual(self.call("HINCRBY", "nokey", "n", "x"),
                         RespError(NOT_INT))
        self.assertEqual(self.call("EXISTS", "nokey"), 0)
        self.assertEqual(self.call("HGET", "h", "m"), b"9223372036854775807")

    def test_hincrbyfloat_format(self):
        # The sums Redis prints with its long doubles ("%.17Lf", trimmed).
        want = [("10.5", b"10.5"), ("5.0e3", b"5010.5"),
                ("0.1", b"5010.60000000000000009"),
                ("0.2", b"5010.80000000000000027"),
                ("-5010.8", b"0.00000000000000044"),
                ("1e-5", b"0.00001000000000044"),
                ("3.0000000000000004", b"3.00001000000000084"),
                ("-0.00001", b"3.00000000000000084")]
        for inc, out in want:
            self.assertEqual(self.call("HINCRBYFLOAT", "h", "f", inc), out,
                             inc)
        self.assertEqual(self.call("HGET", "h", "f"), b"3.00000000000000084")
        self.call("HSET", "h", "g", "1e3", "z", " 1", "i", "7")
        self.assertEqual(self.call("HINCRBYFLOAT", "h", "g", "0"), b"1000")
        self.assertEqual(self.call("HINCRBYFLOAT", "h", "i", "-7"), b"0")
        self.assertEqual(self.call("HINCRBYFLOAT", "h", "z", "1"),
                         RespError("ERR hash value is not a float"))
        self.assertEqual(self.call("HINCRBYFLOAT", "h", "q", " 1"),
                         RespError(NOT_FLOAT))
        self.assertEqual(self.call("HINCRBYFLOAT", "h", "q", "inf"),
                         RespError("ERR value is NaN or Infinity"))
        self.call("HSET", "h", "big", "1e4932")
        self.assertEqual(self.call("HINCRBYFLOAT", "h", "big", "1e4932"),
                         RespError("ERR increment would produce NaN or "
                                   "Infinity"))
        self.assertEqual(self.call("HINCRBYFLOAT", "h", "n", "1.5e300")[:6],
                         b"150000")


class TestHashRandScan(HashTest):
    def test_hrandfield(self):
        self.assertIsNone(self.call("HRANDFIELD", "nokey"))
        self.assertEqual(self.call("HRANDFIELD", "nokey", "3"), [])
        self.assertEqual(self.call("HRANDFIELD", "nokey", "-3",
                                   "WITHVALUES"), [])
        for key, n in (("small", 10), ("large", 400)):
            data = {b"f%d" % i: b"v%d" % i for i in range(n)}
            args = []
            for f, v in data.items():
                args += [f, v]
            self.call("HSET", key, *args)
            self.assertIn(self.call("HRANDFIELD", key), data)
            self.assertEqual(self.call("HRANDFIELD", key, "0"), [])
            got = self.call("HRANDFIELD", key, "5")
            self.assertEqual(len(got), 5)
            self.assertEqual(len(set(got)), 5)
            self.assertTrue(set(got) <= set(data))
            got = self.call("HRANDFIELD", key, str(n // 2))  # the other path
            self.assertEqual(len(set(got)), n // 2)
            got = self.call("HRANDFIELD", key, str(n + 5))
            self.assertEqual(sorted(got), sorted(data))
            got = self.call("HRANDFIELD", key, "-30")
            self.assertEqual(len(got), 30)
            self.assertTrue(set(got) <= set(data))
            got = self.call("HRANDFIELD", key, "-7", "WITHVALUES")
            self.assertEqual(len(got), 14)
            for f, v in zip(got[0::2], got[1::2]):
                self.assertEqual(data[f], v)
            got = self.call("HRANDFIELD", key, "3", "withvalues")
            self.assertEqual(len(pairs(got)), 3)
            # Over many draws every field of the small hash shows up.
            if n == 10:
                seen = set(self.call("HRANDFIELD", key, "-500"))
                self.assertEqual(seen, set(data))
        self.assertEqual(self.call("HRANDFIELD", "small", "1", "foo"),
                         RespError(SYNTAX))
        self.assertEqual(self.call("HRANDFIELD", "small", "1", "withvalues",
                                   "x"), RespError(SYNTAX))
        self.assertEqual(self.call("HRANDFIELD", "small", "x"),
                         RespError(NOT_INT))
        self.assertEqual(self.call("HRANDFIELD", "small",
                                   "-9223372036854775808"),
                         RespError("ERR value is out of range, value must "
                                   "between -9223372036854775807 and "
                                   "9223372036854775807"))
        self.assertEqual(self.call("HRANDFIELD", "small",
                                   "4611686018427387904", "WITHVALUES"),
                         RespError("ERR value is out of range"))

    def scan_all(self, key, *opts):
        cursor, seen, calls = b"0", {}, 0
        while True:
            cursor, items = self.call("HSCAN", key, cursor, *opts)
            seen.update(pairs(items))
            calls += 1
            self.assertLess(calls, 100000)
            if cursor == b"0":
                return seen, calls

    def test_hscan(self):
        self.assertEqual(self.call("HSCAN", "nokey", "0"), [b"0", []])
        self.assertEqual(self.call("HSCAN", "nokey", "0", "COUNT", "0"),
                         [b"0", []])
        self.call("HSET", "h", "a", "1", "b", "2", "ab", "3")
        cur, items = self.call("HSCAN", "h", "0", "COUNT", "1")
        self.assertEqual(cur, b"0")  # a compact hash comes whole
        self.assertEqual(pairs(items), {b"a": b"1", b"b": b"2", b"ab": b"3"})
        self.assertEqual(pairs(self.call("HSCAN", "h", "0", "MATCH",
                                         "a*")[1]),
                         {b"a": b"1", b"ab": b"3"})
        self.assertEqual(self.call("HSCAN", "h", "0", "COUNT", "0"),
                         RespError(SYNTAX))
        self.assertEqual(self.call("HSCAN", "h", "0", "COUNT"),
                         RespError(SYNTAX))
        self.assertEqual(self.call("HSCAN", "h", "0", "TYPE", "string"),
                         RespError(SYNTAX))
        self.assertEqual(self.call("HSCAN", "h", "0", "COUNT", "x"),
                         RespError(NOT_INT))
        self.assertEqual(self.call("HSCAN", "h", "abc"),
                         RespError("ERR invalid cursor"))
        data = {b"f%d" % i: b"v%d" % i for i in range(1000)}
        args = []
        for f, v in data.items():
            args += [f, v]
        self.call("HSET", "big", *args)
        seen, calls = self.scan_all("big", "COUNT", "20")
        self.assertEqual(seen, data)
        self.assertGreater(calls, 10)
        seen, _ = self.scan_all("big", "MATCH", "f1*", "COUNT", "50")
        self.assertEqual(set(seen), {f for f in data if f.startswith(b"f1")})

    def test_hscan_while_growing(self):
        # Fields present for the whole scan are returned at least once,
        # across the table's grows and shrinks.
        base = {b"keep%d" % i: b"1" for i in range(300)}
        args = []
        for f, v in base.items():
            args += [f, v]
        self.call("HSET", "h", *args)
        cursor, seen, i = b"0", set(), 0
        while True:
            cursor, items = self.call("HSCAN", "h", cursor, "COUNT", "10")
            seen.update(items[0::2])
            extra = [b"tmp%d" % (i * 50 + j) for j in range(50)]
            if i % 2 == 0:
                self.call("HSET", "h", *[x for f in extra for x in (f, b"1")])
            else:
                self.call("HDEL", "h", *[b"tmp%d" % ((i - 1) * 50 + j)
                                         for j in range(50)])
            i += 1
            self.assertLess(i, 5000)
            if cursor == b"0":
                break
        self.assertTrue(set(base) <= seen)


class TestHashEncodings(HashTest):
    def test_conversions(self):
        n = self.limit("hash-max-listpack-entries", 512)
        vmax = self.limit("hash-max-listpack-value", 64)
        self.assertEqual(vmax, 64)
        self.call("HSET", "h", *[x for i in range(n) for x in ("f%d" % i, "v")])
        self.assertEqual(self.enc("h"), b"pack")
        self.call("HSET", "h", "f%d" % n, "v")
        self.assertEqual(self.enc("h"), b"hashtable")
        self.assertEqual(self.call("HLEN", "h"), n + 1)
        for i in range(n + 1):
            self.assertEqual(self.call("HGET", "h", "f%d" % i), b"v")
        self.call("HSET", "long", "f", "x" * 64)
        self.assertEqual(self.enc("long"), b"pack")
        self.call("HSET", "long", "f", "x" * 30)
        self.call("HSET", "long", "g", "x" * 65)
        self.assertEqual(self.enc("long"), b"hashtable")
        self.call("HSET", "longf", "y" * 65, "1")
        self.assertEqual(self.enc("longf"), b"hashtable")
        self.assertEqual(self.call("HGET", "longf", "y" * 65), b"1")
        if is_redis():
            return  # Redis never converts back
        # Back to the pack at half the limits (no flip-flop on the edge).
        for i in range(n, n // 2, -1):
            self.call("HDEL", "h", "f%d" % i)
        self.assertEqual(self.enc("h"), b"hashtable")
        self.call("HDEL", "h", "f%d" % (n // 2))
        self.assertEqual(self.enc("h"), b"pack")
        self.assertEqual(sorted(self.call("HKEYS", "h")),
                         sorted(b"f%d" % i for i in range(n // 2)))
        self.call("HDEL", "long", "g")
        self.assertEqual(self.enc("long"), b"pack")
        self.assertEqual(self.call("HGETALL", "long"), [b"f", b"x" * 30])


class TestHashModel(HashTest):
    def test_random_against_model(self):
        rnd = random.Random(1234)
        model = {}
        keys = ["m%d" % i for i in range(6)]
        for step in range(4000):
            k = rnd.choice(keys)
            h = model.setdefault(k, {})
            # Wide key spaces on some keys push them over the thresholds.
            span = 300 if k in ("m0", "m1") else 40
            f = b"f%d" % rnd.randrange(span)
            op = rnd.randrange(10)
            if op < 3:
                v = b"v%d" % rnd.randrange(1000) * rnd.choice((1, 1, 10))
                f2 = b"f%d" % rnd.randrange(span)
                want = (f not in h) + (f2 not in h and f2 != f)
                self.assertEqual(self.call("HSET", k, f, v, f2, v), want)
                h[f] = v
                h[f2] = v
            elif op < 5:
                fs = [b"f%d" % rnd.randrange(span) for _ in range(3)]
                want = len({x for x in fs if x in h})
                self.assertEqual(self.call("HDEL", k, *fs), want)
                for x in fs:
                    h.pop(x, None)
            elif op == 5:
                inc = rnd.randrange(-100, 100)
                cur = h.get(f, b"0")
                try:
                    n = int(cur)
                except ValueError:
                    n = None
                got = self.call("HINCRBY", k, f, inc)
                if n is None or str(n).encode() != cur:
                    self.assertIsInstance(got, RespError)
                else:
                    self.assertEqual(got, n + inc)
                    h[f] = str(n + inc).encode()
            elif op == 6:
                self.assertEqual(self.call("HSETNX", k, f, b"nx"),
                                 0 if f in h else 1)
                h.setdefault(f, b"nx")
            elif op == 7:
                self.assertEqual(self.call("HGET", k, f), h.get(f))
            elif op == 8:
                self.assertEqual(self.call("HLEN", k), len(h))
            else:
                self.assertEqual(pairs(self.call("HGETALL", k)), h)
            if not h:
                model.pop(k)
        for k in keys:
            self.assertEqual(pairs(self.call("HGETALL", k)), model.get(k, {}))
            self.assertEqual(self.call("EXISTS", k), 1 if k in model else 0)


class TestHashLarge(HashTest):
    def test_100k_fields(self):
        n = 100000
        for base in range(0, n, 2000):
            args = []
            for i in range(base, base + 2000):
                args += [b"field:%d" % i, b"value:%d" % i]
            self.c.send_cmd("HSET", "big", *args)
        for base in range(0, n, 2000):
            self.assertEqual(self.c.read_reply(), 2000)
        self.assertEqual(self.call("HLEN", "big"), n)
        self.assertEqual(self.call("HGET", "big", "field:77777"),
                         b"value:77777")
        flat = self.call("HGETALL", "big")
        self.assertEqual(len(flat), 2 * n)
        d = pairs(flat)
        self.assertEqual(len(d), n)
        self.assertEqual(d[b"field:12345"], b"value:12345")
        cursor, seen = b"0", set()
        while True:
            cursor, items = self.call("HSCAN", "big", cursor, "COUNT", "1000")
            seen.update(items[0::2])
            if cursor == b"0":
                break
        self.assertEqual(len(seen), n)
        self.assertEqual(self.call("HDEL", "big",
                                   *[b"field:%d" % i for i in range(0, n, 2)]),
                         n // 2)
        self.assertEqual(self.call("HLEN", "big"), n // 2)
        self.assertIsNone(self.call("HGET", "big", "field:2"))
        self.assertEqual(self.call("HGET", "big", "field:3"), b"value:3")
        self.assertEqual(self.call("DEL", "big"), 1)


class TestHashMultiKey(HashTest):
    server_kwargs = {"threads": 4}  # keys on several workers (fast-cache)

    def test_many_keys_across_workers(self):
        keys = ["hk:%d" % i for i in range(64)]
        for i, k in enumerate(keys):
            self.assertEqual(self.call("HSET", k, "f", i, "g", "x"), 2)
        self.assertEqual(self.call("EXISTS", *keys), 64)
        for i, k in enumerate(keys):
            self.assertEqual(self.call("HGET", k, "f"), str(i).encode())
        self.call("SET", "str", "v")
        self.assertEqual(self.call("DEL", *(keys[:32] + ["str"])), 33)
        self.assertEqual(self.call("EXISTS", *keys), 32)
        self.assertEqual(self.call("DBSIZE"), 32)


class TestHashResp3(HashTest):
    def test_resp3_forms(self):
        self.assertIsInstance(self.call("HELLO", "3"), Map)
        self.call("HSET", "h", "a", "1", "b", "2")
        got = self.call("HGETALL", "h")
        self.assertIsInstance(got, Map)
        self.assertEqual(dict(got), {b"a": b"1", b"b": b"2"})
        self.assertEqual(self.call("HGETALL", "nokey"), Map())
        self.assertIsInstance(self.call("HGETALL", "nokey"), Map)
        self.assertEqual(self.call("HGET", "h", "zz"), Null())
        self.assertIsInstance(self.call("HRANDFIELD", "nokey"), Null)
        got = self.call("HRANDFIELD", "h", "-3", "WITHVALUES")
        self.assertEqual(len(got), 3)
        for pair in got:
            self.assertEqual(len(pair), 2)
            self.assertEqual({b"a": b"1", b"b": b"2"}[pair[0]], pair[1])
        got = self.call("HRANDFIELD", "h", "5", "WITHVALUES")
        self.assertEqual(sorted(got), [[b"a", b"1"], [b"b", b"2"]])
        got = self.call("HRANDFIELD", "h", "1", "WITHVALUES")
        self.assertEqual(len(got), 1)
        self.assertEqual(len(got[0]), 2)
        cur, items = self.call("HSCAN", "h", "0")
        self.assertEqual(cur, b"0")
        self.assertEqual(sorted(items), [b"1", b"2", b"a", b"b"])
        self.assertEqual(self.call("HMGET", "h", "a", "zz"), [b"1", None])
        self.assertEqual(self.call("HINCRBYFLOAT", "h", "a", "0.5"), b"1.5")


if __name__ == "__main__":
    unittest.main()
