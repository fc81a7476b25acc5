"""List commands, with the exact replies and errors Redis 7.0 gives.

Every test runs against fast-cache and redis-server alike (FC_SERVER);
@fast_cache_only marks our encoding names."""

import random
import threading
import time
import unittest

from fcserver import Null, RespError, ServerTestCase, fast_cache_only, is_redis

SYNTAX = "ERR syntax error"
NOT_INT = "ERR value is not an integer or out of range"
WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


def arity(cmd):
    return "ERR wrong number of arguments for '%s' command" % cmd


class ListTest(ServerTestCase):
    server_kwargs = {"threads": 4}

    def setUp(self):
        super().setUp()
        self.c = self.raw()
        self.call = self.c.call

    def enc(self, key):
        return self.call("OBJECT", "ENCODING", key)


class TestPushPop(ListTest):
    def test_push_pop_basic(self):
        self.assertEqual(self.call("RPUSH", "k", "a", "b", "c"), 3)
        self.assertEqual(self.call("LPUSH", "k", "x", "y"), 5)
        self.assertEqual(self.call("LRANGE", "k", 0, -1),
                         [b"y", b"x", b"a", b"b", b"c"])
        self.assertEqual(self.call("LPOP", "k"), b"y")
        self.assertEqual(self.call("RPOP", "k"), b"c")
        self.assertEqual(self.call("LLEN", "k"), 3)
        self.assertEqual(self.call("LPUSHX", "nokey", "a"), 0)
        self.assertEqual(self.call("RPUSHX", "nokey", "a", "b"), 0)
        self.assertEqual(self.call("EXISTS", "nokey"), 0)
        self.assertEqual(self.call("RPUSHX", "k", "z"), 4)
        self.assertEqual(self.call("LPUSHX", "k", "w"), 5)
        self.assertEqual(self.call("LRANGE", "k", 0, -1),
                         [b"w", b"x", b"a", b"b", b"z"])
        self.assertEqual(self.call("TYPE", "k"), b"list")

    def test_pop_count(self):
        self.call("RPUSH", "k", "a", "b", "c", "d", "e")
        self.assertEqual(self.call("LPOP", "k", 2), [b"a", b"b"])
        self.assertEqual(self.call("RPOP", "k", 2), [b"e", b"d"])
        self.assertEqual(self.call("LPOP", "k", 0), [])
        self.assertEqual(self.call("RPOP", "k", 10), [b"c"])
        self.assertEqual(self.call("EXISTS", "k"), 0)
        self.assertIsNone(self.call("LPOP", "k"))
        self.assertIsNone(self.call("LPOP", "k", 3))
        self.assertIsNone(self.call("LPOP", "k", 0))
        self.c.send_cmd("LPOP", "k", 2)
        self.assertEqual(self.c.read_raw_line(), b"*-1")
        self.c.send_cmd("LPOP", "k")
        self.assertEqual(self.c.read_raw_line(), b"$-1")
        msg = "ERR value is out of range, must be positive"
        self.assertErr(self.call("LPOP", "k", -1), msg)
        self.assertErr(self.call("RPOP", "k", "x"), msg)
        self.assertErr(self.call("LPOP", "k", 1, 2), arity("lpop"))

    def test_last_pop_deletes(self):
        self.call("RPUSH", "k", "a")
        self.assertEqual(self.call("RPOP", "k"), b"a")
        self.assertEqual(self.call("EXISTS", "k"), 0)
        self.assertEqual(self.call("LLEN", "k"), 0)

    def test_arity(self):
        for cmd, args in [("LPUSH", ["k"]), ("RPUSH", ["k"]), ("LLEN", []),
                          ("LINDEX", ["k"]), ("LSET", ["k", 0]),
                          ("LRANGE", ["k", 0]), ("LTRIM", ["k", 0]),
                          ("LINSERT", ["k", "before", "a"]),
                          ("LREM", ["k", 0]), ("LPOS", ["k"]),
                          ("LMOVE", ["a", "b", "left"]),
                          ("RPOPLPUSH", ["a"]), ("LMPOP", [1, "k"]),
                          ("BLPOP", ["k"]), ("BLMOVE", ["a", "b", "left",
                                                         "left"]),
                          ("BRPOPLPUSH", ["a", "b"]),
                          ("BLMPOP", [0, 1, "k"])]:
            self.assertErr(self.call(cmd, *args), arity(cmd.lower()))


class TestIndexRange(ListTest):
    def test_lindex_lset(self):
        self.call("RPUSH", "k", "a", "b", "c")
        self.assertEqual(self.call("LINDEX", "k", 0), b"a")
        self.assertEqual(self.call("LINDEX", "k", -1), b"c")
        self.assertIsNone(self.call("LINDEX", "k", 3))
        self.assertIsNone(self.call("LINDEX", "k", -4))
        self.assertIsNone(self.call("LINDEX", "nokey", 0))
        self.assertErr(self.call("LINDEX", "k", "x"), NOT_INT)
        self.assertEqual(self.call("LSET", "k", 1, "B"), b"OK")
        self.assertEqual(self.call("LSET", "k", -1, "C"), b"OK")
        self.assertEqual(self.call("LRANGE", "k", 0, -1), [b"a", b"B", b"C"])
        self.assertErr(self.call("LSET", "k", 3, "x"),
                       "ERR index out of range")
        self.assertErr(self.call("LSET", "nokey", 0, "x"), "ERR no such key")
        self.assertErr(self.call("LSET", "nokey", "x", "x"),
                       "ERR no such key")
        self.assertErr(self.call("LSET", "k", "x", "x"), NOT_INT)

    def test_lrange_ltrim(self):
        self.call("RPUSH", "k", *"abcdef")
        self.assertEqual(self.call("LRANGE", "k", 1, 2), [b"b", b"c"])
        self.assertEqual(self.call("LRANGE", "k", -2, 100), [b"e", b"f"])
        self.assertEqual(self.call("LRANGE", "k", -100, 0), [b"a"])
        self.assertEqual(self.call("LRANGE", "k", 4, 2), [])
        self.assertEqual(self.call("LRANGE", "k", 6, 10), [])
        self.assertEqual(self.call("LRANGE", "nokey", 0, -1), [])
        self.assertErr(self.call("LRANGE", "nokey", "a", 1), NOT_INT)
        self.assertEqual(self.call("LTRIM", "k", 1, -2), b"OK")
        self.assertEqual(self.call("LRANGE", "k", 0, -1),
                         [b"b", b"c", b"d", b"e"])
        self.assertEqual(self.call("LTRIM", "k", -2, 10), b"OK")
        self.assertEqual(self.call("LRANGE", "k", 0, -1), [b"d", b"e"])
        self.assertEqual(self.call("LTRIM", "nokey", 0, 1), b"OK")
        self.assertEqual(self.call("LTRIM", "k", 5, 1), b"OK")
        self.assertEqual(self.call("EXISTS", "k"), 0)
        self.assertErr(self.call("LTRIM", "k", 0, "x"), NOT_INT)

    def test_linsert_lrem(self):
        self.call("RPUSH", "k", "a", "b", "a", "c", "a")
        self.assertEqual(self.call("LINSERT", "k", "BEFORE", "b", "x"), 6)
        self.assertEqual(self.call("LINSERT", "k", "after", "c", "y"), 7)
        self.assertEqual(self.call("LINSERT", "k", "after", "zz", "y"), -1)
        self.assertEqual(self.call("LINSERT", "nokey", "after", "a", "y"), 0)
        self.assertErr(self.call("LINSERT", "k", "middle", "a", "y"), SYNTAX)
        self.assertEqual(self.call("LRANGE", "k", 0, -1),
                         [b"a", b"x", b"b", b"a", b"c", b"y", b"a"])
        self.assertEqual(self.call("LREM", "k", -1, "a"), 1)
        self.assertEqual(self.call("LRANGE", "k", 0, -1),
                         [b"a", b"x", b"b", b"a", b"c", b"y"])
        self.assertEqual(self.call("LREM", "k", 1, "a"), 1)
        self.assertEqual(self.call("LRANGE", "k", 0, -1),
                         [b"x", b"b", b"a", b"c", b"y"])
        self.call("RPUSH", "k", "a", "a")
        self.assertEqual(self.call("LREM", "k", 0, "a"), 3)
        self.assertEqual(self.call("LREM", "k", 0, "zz"), 0)
        self.assertEqual(self.call("LREM", "nokey", 0, "zz"), 0)
        self.assertErr(self.call("LREM", "k", "x", "a"), NOT_INT)
        self.assertEqual(self.call("LRANGE", "k", 0, -1),
                         [b"x", b"b", b"c", b"y"])

    def test_lpos(self):
        self.call("RPUSH", "k", "a", "b", "c", "1", "2", "3", "c", "c")
        self.assertEqual(self.call("LPOS", "k", "c"), 2)
        self.assertEqual(self.call("LPOS", "k", "c", "RANK", 2), 6)
        self.assertEqual(self.call("LPOS", "k", "c", "RANK", -1), 7)
        self.assertEqual(self.call("LPOS", "k", "c", "RANK", -3), 2)
        self.assertIsNone(self.call("LPOS", "k", "c", "RANK", 4))
        self.assertEqual(self.call("LPOS", "k", "c", "COUNT", 0), [2, 6, 7])
        self.assertEqual(self.call("LPOS", "k", "c", "COUNT", 2), [2, 6])
        self.assertEqual(self.call("LPOS", "k", "c", "COUNT", 2, "RANK", -1),
                         [7, 6])
        self.assertEqual(self.call("LPOS", "k", "c", "COUNT", 0, "MAXLEN", 7),
                         [2, 6])
        self.assertEqual(self.call("LPOS", "k", "c", "RANK", -1, "MAXLEN", 3,
                                   "COUNT", 0), [7, 6])
        self.assertEqual(self.call("LPOS", "k", "zz", "COUNT", 0), [])
        self.assertIsNone(self.call("LPOS", "k", "zz"))
        self.assertIsNone(self.call("LPOS", "nokey", "zz"))
        self.assertEqual(self.call("LPOS", "nokey", "zz", "COUNT", 1), [])
        self.assertErr(self.call("LPOS", "k", "c", "RANK", 0),
                       "ERR RANK can't be zero: use 1 to start from the "
                       "first match, 2 from the second ... or use negative "
                       "to start from the end of the list")
        self.assertErr(self.call("LPOS", "k", "c", "COUNT", -1),
                       "ERR COUNT can't be negative")
        self.assertErr(self.call("LPOS", "k", "c", "MAXLEN", -1),
                       "ERR MAXLEN can't be negative")
        self.assertErr(self.call("LPOS", "k", "c", "RANK"), SYNTAX)
        self.assertErr(self.call("LPOS", "k", "c", "FOO", 1), SYNTAX)
        self.assertErr(self.call("LPOS", "k", "c", "RANK", "x"), NOT_INT)


class TestMove(ListTest):
    def test_lmove_rpoplpush(self):
        self.call("RPUSH", "src", "a", "b", "c")
        self.assertEqual(self.call("LMOVE", "src", "dst", "LEFT", "RIGHT"),
                         b"a")
        self.assertEqual(self.call("LMOVE", "src", "dst", "right", "left"),
                         b"c")
        self.assertEqual(self.call("RPOPLPUSH", "src", "dst"), b"b")
        self.assertEqual(self.call("EXISTS", "src"), 0)
        self.assertEqual(self.call("LRANGE", "dst", 0, -1),
                         [b"b", b"c", b"a"])
        self.assertIsNone(self.call("LMOVE", "src", "dst", "left", "left"))
        self.assertIsNone(self.call("RPOPLPUSH", "src", "dst"))
        self.assertErr(self.call("LMOVE", "src", "dst", "up", "left"), SYNTAX)
        # rotations of one key
        self.assertEqual(self.call("LMOVE", "dst", "dst", "left", "right"),
                         b"b")
        self.assertEqual(self.call("LRANGE", "dst", 0, -1),
                         [b"c", b"a", b"b"])
        self.assertEqual(self.call("RPOPLPUSH", "dst", "dst"), b"b")
        self.assertEqual(self.call("LRANGE", "dst", 0, -1),
                         [b"b", b"c", b"a"])
        self.assertEqual(self.call("LMOVE", "dst", "dst", "left", "left"),
                         b"b")
        self.assertEqual(self.call("LMOVE", "dst", "dst", "right", "right"),
                         b"a")
        self.assertEqual(self.call("LRANGE", "dst", 0, -1),
                         [b"b", b"c", b"a"])
        self.call("RPUSH", "one", "x")
        self.assertEqual(self.call("RPOPLPUSH", "one", "one"), b"x")
        self.assertEqual(self.call("LRANGE", "one", 0, -1), [b"x"])

    def test_lmove_wrongtype_dst(self):
        self.call("RPUSH", "src", "a")
        self.call("SET", "str", "v")
        self.assertErr(self.call("LMOVE", "src", "str", "left", "left"),
                       WRONGTYPE)
        self.assertEqual(self.call("LRANGE", "src", 0, -1), [b"a"])
        self.assertIsNone(self.call("LMOVE", "nokey", "str", "left", "left"))

    def test_lmpop(self):
        self.call("RPUSH", "b", "1", "2", "3")
        self.assertEqual(self.call("LMPOP", 2, "a", "b", "LEFT"),
                         [b"b", [b"1"]])
        self.assertEqual(self.call("LMPOP", 2, "a", "b", "RIGHT", "COUNT", 5),
                         [b"b", [b"3", b"2"]])
        self.assertIsNone(self.call("LMPOP", 2, "a", "b", "LEFT"))
        self.assertErr(self.call("LMPOP", 0, "a", "LEFT"),
                       "ERR numkeys should be greater than 0")
        self.assertErr(self.call("LMPOP", "x", "a", "LEFT"),
                       "ERR numkeys should be greater than 0")
        self.assertErr(self.call("LMPOP", 3, "a", "LEFT"), SYNTAX)
        self.assertErr(self.call("LMPOP", 1, "a", "UP"), SYNTAX)
        self.assertErr(self.call("LMPOP", 1, "a", "LEFT", "COUNT", 0),
                       "ERR count should be greater than 0")
        self.assertErr(self.call("LMPOP", 1, "a", "LEFT", "COUNT", 1,
                                 "COUNT", 1), SYNTAX)
        self.assertErr(self.call("LMPOP", 1, "a", "LEFT", "FOO"), SYNTAX)

    def test_keys_across_workers(self):
        """Moves and LMPOP whose keys live on different workers."""
        keys = ["key:%d" % i for i in range(16)]
        for i, k in enumerate(keys):
            self.call("RPUSH", k, "v%d" % i)
        for i in range(len(keys) - 1):  # v0 travels along the keys
            self.assertEqual(self.call("LMOVE", keys[i], keys[i + 1], "left",
                                       "left"), b"v0")
        self.assertEqual(self.call("LRANGE", keys[-1], 0, -1),
                         [b"v0", b"v15"])
        self.assertEqual(self.call("LMPOP", len(keys), *keys, "RIGHT",
                                   "COUNT", 3), [keys[1].encode(), [b"v1"]])
        self.assertEqual(self.call("RPOPLPUSH", keys[-1], keys[0]), b"v15")
        self.assertEqual(self.call("BRPOPLPUSH", keys[-1], keys[0], 0), b"v0")
        self.assertEqual(self.call("LRANGE", keys[0], 0, -1), [b"v0", b"v15"])
        self.assertEqual(self.call("EXISTS", keys[1], keys[-1]), 0)


class TestTypes(ListTest):
    def test_wrongtype(self):
        self.call("SET", "s", "v")
        for cmd in [("LPUSH", "s", "a"), ("RPUSH", "s", "a"),
                    ("LPUSHX", "s", "a"), ("RPUSHX", "s", "a"),
                    ("LPOP", "s"), ("RPOP", "s", 2), ("LLEN", "s"),
                    ("LINDEX", "s", 0), ("LSET", "s", 0, "a"),
                    ("LRANGE", "s", 0, -1), ("LTRIM", "s", 0, 1),
                    ("LINSERT", "s", "before", "a", "b"),
                    ("LREM", "s", 0, "a"), ("LPOS", "s", "a"),
                    ("LMOVE", "s", "d", "left", "left"),
                    ("RPOPLPUSH", "s", "d"), ("LMPOP", 1, "s", "left"),
                    ("BLPOP", "s", 0), ("BRPOP", "s", 0),
                    ("BLMOVE", "s", "d", "left", "left", 0),
                    ("BRPOPLPUSH", "s", "d", 0),
                    ("BLMPOP", 0, 1, "s", "left")]:
            self.assertErr(self.call(*cmd), WRONGTYPE)
        self.call("RPUSH", "l", "1")
        for cmd in [("GET", "l"), ("INCR", "l"), ("APPEND", "l", "x"),
                    ("STRLEN", "l"), ("SETRANGE", "l", 0, "x")]:
            self.assertErr(self.call(*cmd), WRONGTYPE)
        self.assertEqual(self.call("TYPE", "l"), b"list")

    def test_resp3(self):
        self.assertIsInstance(self.call("HELLO", "3"), dict)
        self.call("RPUSH", "k", "a", "b")
        self.assertEqual(self.call("LPOP", "nokey"), Null())
        self.assertEqual(self.call("LPOP", "nokey", 2), Null())
        self.assertEqual(self.call("LINDEX", "k", 9), Null())
        self.assertEqual(self.call("LPOS", "k", "z"), Null())
        self.assertEqual(self.call("LMPOP", 1, "nokey", "left"), Null())
        self.assertEqual(self.call("BLPOP", "nokey", "0.01"), Null())
        self.assertEqual(self.call("LRANGE", "k", 0, -1), [b"a", b"b"])
        self.assertEqual(self.call("LMPOP", 1, "k", "left"), [b"k", [b"a"]])
        self.c.send_cmd("LPOP", "nokey", 1)
        self.assertEqual(self.c.read_raw_line(), b"_")

    def test_other_commands_on_lists(self):
        self.call("RPUSH", "k", "a", "b")
        self.assertEqual(self.call("EXPIRE", "k", 100), 1)
        self.assertEqual(self.call("LRANGE", "k", 0, -1), [b"a", b"b"])
        self.assertTrue(0 < self.call("TTL", "k") <= 100)
        self.assertIsInstance(self.call("MEMORY", "USAGE", "k"), int)
        self.assertEqual(self.call("DEL", "k"), 1)
        self.assertEqual(self.call("EXISTS", "k"), 0)


class TestEncodings(ListTest):
    @fast_cache_only
    def test_conversions(self):
        self.call("RPUSH", "k", "a")
        self.assertEqual(self.enc("k"), b"pack")
        self.call("RPUSH", "k", *(["x" * 100] * 100))  # 10 KB > 8 KiB
        self.assertEqual(self.enc("k"), b"chunked")
        self.call("LTRIM", "k", 0, 9)
        self.assertEqual(self.enc("k"), b"pack")
        r = self.call("CONFIG", "SET", "list-max-listpack-size", "4")
        if isinstance(r, RespError):  # CONFIG of the thresholds: on main
            self.skipTest("list-max-listpack-size not settable here")
        try:
            self.call("RPUSH", "c", 1, 2, 3, 4)
            self.assertEqual(self.enc("c"), b"pack")
            self.call("RPUSH", "c", 5)
            self.assertEqual(self.enc("c"), b"chunked")
            self.call("LINSERT", "c", "before", 3, "x")
            self.call("LSET", "c", 0, "y" * 9000)
            self.assertEqual(self.call("LRANGE", "c", 0, -1),
                             [b"y" * 9000, b"2", b"x", b"3", b"4", b"5"])
            self.call("LPOP", "c", 4)
            self.assertEqual(self.enc("c"), b"pack")
        finally:
            self.call("CONFIG", "SET", "list-max-listpack-size", "-2")

    def test_integer_like_elements_round_trip(self):
        vals = ["0", "1", "-1", "127", "128", "-128", "-129", "007", "+5",
                "-0", "00", "1e3", " 1", "1 ", "", "-", "0x10", "3.0",
                "9223372036854775807", "-9223372036854775808",
                "9223372036854775808", "-9223372036854775809",
                "12345678901234567890123", "65535", "65536", "-32768",
                "4294967296", "1099511627776"]
        self.call("RPUSH", "k", *vals)
        want = [v.encode() for v in vals]
        self.assertEqual(self.call("LRANGE", "k", 0, -1), want)
        self.assertEqual(self.call("RPOP", "k", 4), want[::-1][:4])
        self.assertEqual(self.call("LPOS", "k", "-1"), 2)
        self.assertEqual(self.call("LPOS", "k", "007"), 7)
        self.assertEqual(self.call("LPOS", "k", "7"), None)
        self.assertEqual(self.call("LINSERT", "k", "AFTER", "128", "x"),
                         len(vals) - 3)
        self.assertEqual(self.call("LREM", "k", 0, "0"), 1)
        self.assertEqual(self.call("LREM", "k", 0, "00"), 1)
        self.assertEqual(self.call("LSET", "k", 0, "999999"), b"OK")
        self.assertEqual(self.call("LINDEX", "k", 0), b"999999")
        self.assertEqual(self.call("LSET", "k", 0, "abc"), b"OK")
        self.assertEqual(self.call("LINDEX", "k", -1), b"65535")
        self.assertEqual(self.call("LMOVE", "k", "k2", "RIGHT", "LEFT"),
                         b"65535")
        self.assertEqual(self.call("LRANGE", "k2", 0, -1), [b"65535"])
        self.assertEqual(self.call("LINDEX", "k", -1),
                         b"12345678901234567890123")

    def test_big_elements_and_middle_edits(self):
        big = "z" * 20000
        self.call("RPUSH", "k", *["e%d" % i for i in range(2000)])
        self.call("LINSERT", "k", "after", "e1000", big)
        self.call("LSET", "k", 5, big)
        self.assertEqual(self.call("LINDEX", "k", 1001), big.encode())
        self.assertEqual(self.call("LINDEX", "k", 5), big.encode())
        self.assertEqual(self.call("LINDEX", "k", 1002), b"e1001")
        self.assertEqual(self.call("LLEN", "k"), 2001)
        self.assertEqual(self.call("LREM", "k", 0, big), 2)
        self.assertEqual(self.call("LRANGE", "k", 999, 1000),
                         [b"e1000", b"e1001"])


class TestModel(ListTest):
    def test_random_against_model(self):
        rnd = random.Random(1234)
        model = {}
        keys = ["m%d" % i for i in range(4)]

        def check(reply, want):
            self.assertEqual(reply, want)

        for step in range(4000):
            k = rnd.choice(keys)
            lst = model.get(k, [])
            op = rnd.randrange(13)
            if rnd.random() < 0.4:  # integers (stored in binary by us)
                v = str(rnd.randrange(-20, 20) *
                        rnd.choice([1, 1000, 10 ** 12])).encode()
            else:
                v = ("v%d" % rnd.randrange(30)).encode() * rnd.choice(
                    [1, 1, 1, 40])
            if op == 0:
                vals = [v] * rnd.randrange(1, 4)
                check(self.call("RPUSH", k, *vals), len(lst) + len(vals))
                lst = lst + vals
            elif op == 1:
                check(self.call("LPUSH", k, v), len(lst) + 1)
                lst = [v] + lst
            elif op == 2:
                n = rnd.randrange(0, 4)
                r = self.call("LPOP", k, n)
                if not lst:
                    check(r, None)
                else:
                    check(r, lst[:n])
                    lst = lst[n:]
            elif op == 3:
                r = self.call("RPOP", k)
                check(r, lst[-1] if lst else None)
                lst = lst[:-1]
            elif op == 4 and lst:
                i = rnd.randrange(-len(lst), len(lst))
                check(self.call("LSET", k, i, v), b"OK")
                lst[i] = v
            elif op == 5 and lst:
                piv = rnd.choice(lst)
                where = rnd.choice(["BEFORE", "AFTER"])
                j = lst.index(piv) + (where == "AFTER")
                check(self.call("LINSERT", k, where, piv, v), len(lst) + 1)
                lst.insert(j, v)
            elif op == 6:
                cnt = rnd.randrange(-2, 3)
                r = self.call("LREM", k, cnt, v)
                idx = [i for i, x in enumerate(lst) if x == v]
                if cnt > 0:
                    idx = idx[:cnt]
                elif cnt < 0:
                    idx = idx[cnt:]
                check(r, len(idx))
                lst = [x for i, x in enumerate(lst) if i not in set(idx)]
            elif op == 7:
                a, b = rnd.randrange(-5, 10), rnd.randrange(-5, 10)
                check(self.call("LTRIM", k, a, b), b"OK")
                n = len(lst)
                s = a + n if a < 0 else a
                e = b + n if b < 0 else b
                s = max(s, 0)
                lst = [] if s > e or s >= n else lst[s:min(e, n - 1) + 1]
            elif op == 8:
                d = rnd.choice(keys)
                r = self.call("LMOVE", k, d, "LEFT", "RIGHT")
                if not lst:
                    check(r, None)
                else:
                    x = lst[0]
                    check(r, x)
                    lst = lst[1:]
                    model[k] = lst
                    model[d] = model.get(d, []) + [x]
                    lst = model[k]
            elif op == 9:
                i = rnd.randrange(-6, 6)
                n = len(lst)
                want = lst[i] if -n <= i < n else None
                check(self.call("LINDEX", k, i), want)
            elif op == 10:
                r = self.call("LPOS", k, v, "COUNT", 0)
                check(r, [i for i, x in enumerate(lst) if x == v])
            elif op == 11:
                a, b = rnd.randrange(-8, 8), rnd.randrange(-8, 8)
                n = len(lst)
                s = max(a + n if a < 0 else a, 0)
                e = b + n if b < 0 else b
                want = [] if s > e or s >= n else lst[s:min(e, n - 1) + 1]
                check(self.call("LRANGE", k, a, b), want)
            else:
                check(self.call("LLEN", k), len(lst))
            model[k] = lst
        for k in keys:
            self.assertEqual(self.call("LRANGE", k, 0, -1), model.get(k, []))
            self.assertEqual(self.call("EXISTS", k), 1 if model.get(k) else 0)


class TestLarge(ListTest):
    def test_million_elements(self):
        n = 1000000
        batch = 10000
        for i in range(0, n, batch):
            self.c.send_cmd("RPUSH", "big",
                            *[str(j) for j in range(i, i + batch)])
        for i in range(0, n, batch):
            self.c.read_reply()
        self.assertEqual(self.call("LLEN", "big"), n)
        self.assertEqual(self.enc("big") in (b"chunked", b"quicklist"), True)
        self.assertEqual(self.call("LINDEX", "big", 500000), b"500000")
        self.assertEqual(self.call("LINDEX", "big", -1), b"999999")
        self.assertEqual(self.call("LRANGE", "big", 999998, -1),
                         [b"999998", b"999999"])
        self.assertEqual(self.call("LPOS", "big", "999999", "RANK", -1),
                         999999)
        self.assertEqual(self.call("LINSERT", "big", "before", "500000", "x"),
                         n + 1)
        self.assertEqual(self.call("LINDEX", "big", 500000), b"x")
        self.assertEqual(self.call("LPOP", "big", 3), [b"0", b"1", b"2"])
        self.assertEqual(self.call("RPOP", "big", 2), [b"999999", b"999998"])
        self.assertEqual(self.call("RPOP", "big", 3000),
                         [str(j).encode() for j in range(999997, 996997, -1)])
        self.assertEqual(self.call("LMPOP", 1, "big", "RIGHT", "COUNT", 1000),
                         [b"big", [str(j).encode()
                                   for j in range(996997, 995997, -1)]])
        self.assertEqual(self.call("LTRIM", "big", 100000, 199999), b"OK")
        self.assertEqual(self.call("LLEN", "big"), 100000)
        self.assertEqual(self.call("LINDEX", "big", 0), b"100003")
        got = self.call("LRANGE", "big", 0, -1)
        self.assertEqual(got, [str(j).encode() for j in range(100003, 200003)])
        self.assertEqual(self.call("DEL", "big"), 1)


class TestBlocking(ListTest):
    """Blocking pops: two clients on their own connections (the server has
    four workers, so a waiter and a pusher sit on different ones for most
    keys)."""

    def waiter(self, *cmd):
        c = self.raw()
        c.send_cmd(*cmd)
        return c

    def settle(self):
        time.sleep(0.15)  # the waiter's request reached the server

    def test_served_immediately_and_timeout(self):
        self.call("RPUSH", "k", "a", "b")
        self.assertEqual(self.call("BLPOP", "nokey", "k", 0), [b"k", b"a"])
        self.assertEqual(self.call("BRPOP", "k", 0), [b"k", b"b"])
        t0 = time.monotonic()
        self.assertIsNone(self.call("BLPOP", "k", "0.1"))
        el = time.monotonic() - t0
        self.assertTrue(0.08 <= el < 2.0, el)
        self.c.send_cmd("BRPOP", "k", "0.05")
        self.assertEqual(self.c.read_raw_line(), b"*-1")
        self.c.send_cmd("BLMOVE", "k", "d", "left", "left", "0.05")
        self.assertEqual(self.c.read_raw_line(), b"*-1")
        self.assertIsNone(self.call("BLMPOP", "0.05", 1, "k", "left"))
        self.assertEqual(self.call("EXISTS", "d"), 0)

    def test_timeout_errors(self):
        for t in ["-1", "-0.5", "abc", "1e", ""]:
            r = self.call("BLPOP", "k", t)
            self.assertIsInstance(r, RespError, t)
        self.assertErr(self.call("BLPOP", "k", "-1"), "ERR timeout is negative")
        self.assertErr(self.call("BRPOP", "k", "abc"),
                       "ERR timeout is not a float or out of range")
        self.assertErr(self.call("BLMOVE", "a", "b", "left", "left", "x"),
                       "ERR timeout is not a float or out of range")
        self.assertErr(self.call("BLMOVE", "a", "b", "up", "left", "x"),
                       SYNTAX)
        self.assertErr(self.call("BRPOPLPUSH", "a", "b", "-2"),
                       "ERR timeout is negative")
        self.assertErr(self.call("BLMPOP", "-1", 1, "k", "left"),
                       "ERR timeout is negative")
        self.assertErr(self.call("BLMPOP", 0, 0, "k", "left"),
                       "ERR numkeys should be greater than 0")
        self.assertErr(self.call("BLMPOP", "x", 1, "k", "up"), SYNTAX)
        self.assertErr(self.call("BLMPOP", 0, 1, "k", "left", "count", 0),
                       "ERR count should be greater than 0")

    def test_woken_by_push_on_other_connection(self):
        for i in range(8):  # keys on every worker
            k = "wake:%d" % i
            w = self.waiter("BLPOP", k, 0)
            self.settle()
            self.assertEqual(self.call("RPUSH", k, "v%d" % i), 1)
            self.assertEqual(w.read_reply(), [k.encode(), b"v%d" % i])
            self.assertEqual(self.call("EXISTS", k), 0)

    def test_multi_key_wait(self):
        keys = ["mk:%d" % i for i in range(6)]
        w = self.waiter("BRPOP", *keys, 5)
        self.settle()
        self.call("RPUSH", keys[4], "x", "y")
        self.assertEqual(w.read_reply(), [keys[4].encode(), b"y"])
        self.assertEqual(self.call("LRANGE", keys[4], 0, -1), [b"x"])
        w = self.waiter("BLMPOP", 5, 4, *keys[:4], "left", "count", 5)
        self.settle()
        self.call("LPUSH", keys[2], "p", "q")
        self.assertEqual(w.read_reply(), [keys[2].encode(), [b"q", b"p"]])

    def test_fifo_three_waiters(self):
        ws = []
        for i in range(3):
            ws.append(self.waiter("BLPOP", "fifo", 10))
            self.settle()
        self.assertEqual(self.call("RPUSH", "fifo", "a", "b", "c"), 3)
        self.assertEqual([w.read_reply() for w in ws],
                         [[b"fifo", b"a"], [b"fifo", b"b"], [b"fifo", b"c"]])
        for i in range(3):
            ws[i].send_cmd("BLPOP", "fifo2", 10)
            self.settle()
        for v in ["1", "2", "3"]:
            self.call("RPUSH", "fifo2", v)
        self.assertEqual([w.read_reply() for w in ws],
                         [[b"fifo2", b"1"], [b"fifo2", b"2"],
                          [b"fifo2", b"3"]])
        self.assertEqual(self.call("EXISTS", "fifo", "fifo2"), 0)

    def test_fifo_pipelined_pushes(self):
        """Six waiters (on several workers), six pushes sent at once: the
        turn passes in queue order however the retries race."""
        for rnd in range(3):
            key = "fifo3:%d" % rnd
            ws = []
            for i in range(6):
                ws.append(self.waiter("BRPOP", key, 10))
                self.settle()
            p = self.raw()
            p.send(b"".join(p.encode("LPUSH", key, "e%d" % i)
                            for i in range(6)))
            for _ in range(6):
                p.read_reply()
            self.assertEqual([w.read_reply() for w in ws],
                             [[key.encode(), b"e%d" % i] for i in range(6)])

    @fast_cache_only
    def test_remote_keys_park_nobody(self):
        """A blocking pop on a key of another worker runs there: served at
        once or later, no exclusive section (every worker parked)."""
        def excl():
            info = self.call("INFO", "stats").decode()
            for line in info.split("\r\n"):
                if line.startswith("exclusive_sections:"):
                    return int(line.split(":")[1])
            self.fail("no exclusive_sections in INFO")
        before = excl()
        for i in range(16):
            k = "rk:%d" % i
            self.call("RPUSH", k, "a")
            self.assertEqual(self.call("BLPOP", k, 0), [k.encode(), b"a"])
            w = self.waiter("BRPOP", k, 5)
            self.settle()
            self.call("RPUSH", k, "b")
            self.assertEqual(w.read_reply(), [k.encode(), b"b"])
        self.assertEqual(excl(), before)

    def test_producers_consumers_lose_nothing(self):
        """Consumers blocked on several keys, producers pushing from other
        connections: every element is popped exactly once (bounded)."""
        keys = ["pc:%d" % i for i in range(5)]
        n_prod, per_prod, n_cons = 3, 400, 5
        got, errors = [], []
        lock = threading.Lock()
        done = threading.Event()

        def consumer(ci):
            try:
                c = self.server.raw(timeout=10)
                rnd = random.Random(ci)
                while True:
                    ks = rnd.sample(keys, rnd.randrange(1, 4))
                    cmd = rnd.choice(["BLPOP", "BRPOP", "BLMPOP"])
                    if cmd == "BLMPOP":
                        r = c.call("BLMPOP", "0.05", len(ks), *ks, "LEFT",
                                   "COUNT", 2)
                        vals = r[1] if r else []
                    else:
                        r = c.call(cmd, *ks, "0.05")
                        vals = [r[1]] if r else []
                    with lock:
                        got.extend(vals)
                    if not r and done.is_set():
                        break
                c.close()
            except Exception as e:  # reported below
                errors.append(e)

        def producer(pi):
            try:
                c = self.server.raw(timeout=10)
                rnd = random.Random(100 + pi)
                for i in range(per_prod):
                    c.call(rnd.choice(["LPUSH", "RPUSH"]), rnd.choice(keys),
                           "p%d:%d" % (pi, i))
                    if i % 50 == 0:
                        time.sleep(0.01)
                c.close()
            except Exception as e:
                errors.append(e)

        cons = [threading.Thread(target=consumer, args=(i,))
                for i in range(n_cons)]
        prods = [threading.Thread(target=producer, args=(i,))
                 for i in range(n_prod)]
        for t in cons + prods:
            t.start()
        for t in prods:
            t.join(60)
        done.set()
        for t in cons:
            t.join(60)
        self.assertEqual(errors, [])
        self.assertGreater(len(got), n_prod * per_prod // 2)  # most blocked
        for k in keys:
            while True:
                v = self.call("LPOP", k)
                if v is None:
                    break
                got.append(v)
        want = sorted(b"p%d:%d" % (p, i) for p in range(n_prod)
                      for i in range(per_prod))
        self.assertEqual(sorted(got), want)

    def test_churn_disconnects_and_timeouts(self):
        """Waiters that time out or vanish mid-wait while producers push:
        nothing is popped twice, the server stays up, and every waiter is
        gone from INFO afterwards (bounded)."""
        keys = ["ch:%d" % i for i in range(4)]
        got, errors = [], []
        lock = threading.Lock()

        def churner(ci):
            try:
                rnd = random.Random(ci)
                for _ in range(25):
                    c = self.server.raw(timeout=10)
                    ks = rnd.sample(keys, rnd.randrange(1, 3))
                    if rnd.random() < 0.4:  # leave while blocked
                        c.send_cmd("BLPOP", *ks, 0)
                        time.sleep(rnd.random() * 0.02)
                        c.close()
                        continue
                    r = c.call(rnd.choice(["BLPOP", "BRPOP"]), *ks, "0.02")
                    if r:
                        with lock:
                            got.append(r[1])
                    c.close()
            except Exception as e:
                errors.append(e)

        def producer():
            try:
                c = self.server.raw(timeout=10)
                for i in range(400):
                    c.call("RPUSH", keys[i % len(keys)], "x%d" % i)
                    if i % 20 == 0:
                        time.sleep(0.005)
                c.close()
            except Exception as e:
                errors.append(e)

        ts = [threading.Thread(target=churner, args=(i,)) for i in range(4)]
        ts.append(threading.Thread(target=producer))
        for t in ts:
            t.start()
        for t in ts:
            t.join(120)
        self.assertEqual(errors, [])
        left = []
        for k in keys:
            left += self.call("LRANGE", k, 0, -1)
        self.assertEqual(len(set(got + left)), len(got + left))  # no twice
        self.assertLessEqual(len(got + left), 400)
        deadline = time.monotonic() + 5
        while self.blocked_clients() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.blocked_clients(), 0)
        self.assertAlive()

    def test_disconnect_while_blocked(self):
        for i in range(4):
            k = "gone:%d" % i
            w = self.waiter("BLPOP", k, 0)
            self.settle()
            w.close()
            time.sleep(0.15)
            self.assertEqual(self.call("RPUSH", k, "kept"), 1)
            time.sleep(0.05)
            self.assertEqual(self.call("LRANGE", k, 0, -1), [b"kept"])
        # the waiter behind a departed one is served
        a = self.waiter("BLPOP", "q", 0)
        self.settle()
        b = self.waiter("BLPOP", "q", 0)
        self.settle()
        a.close()
        time.sleep(0.15)
        self.call("RPUSH", "q", "x")
        self.assertEqual(b.read_reply(), [b"q", b"x"])
        self.assertAlive()

    def test_blmove_and_brpoplpush(self):
        for i in range(4):
            src, dst = "src:%d" % i, "dst:%d" % (i * 7)
            w = self.waiter("BLMOVE", src, dst, "RIGHT", "LEFT", 5)
            self.settle()
            self.call("RPUSH", src, "a", "b")
            self.assertEqual(w.read_reply(), b"b")
            self.assertEqual(self.call("LRANGE", src, 0, -1), [b"a"])
            self.assertEqual(self.call("LRANGE", dst, 0, -1), [b"b"])
            w.send_cmd("BRPOPLPUSH", "empty:%d" % i, dst, 5)
            self.settle()
            self.call("LPUSH", "empty:%d" % i, "c")
            self.assertEqual(w.read_reply(), b"c")
            self.assertEqual(self.call("LRANGE", dst, 0, -1), [b"c", b"b"])
        # a waiter on a BLMOVE's destination is woken by the move
        w2 = self.waiter("BLPOP", "chain:dst", 5)
        w1 = self.waiter("BLMOVE", "chain:src", "chain:dst", "left", "left",
                         5)
        self.settle()
        self.call("RPUSH", "chain:src", "z")
        self.assertEqual(w1.read_reply(), b"z")
        self.assertEqual(w2.read_reply(), [b"chain:dst", b"z"])

    def blocked_clients(self):
        info = self.call("INFO", "clients").decode()
        for line in info.split("\r\n"):
            if line.startswith("blocked_clients:"):
                return int(line.split(":")[1])
        self.fail("no blocked_clients in INFO")

    def test_info_blocked_clients(self):
        self.assertEqual(self.blocked_clients(), 0)
        ws = [self.waiter("BLPOP", "ib:%d" % i, 5) for i in range(3)]
        self.settle()
        self.assertEqual(self.blocked_clients(), 3)
        self.call("RPUSH", "ib:0", "x")
        self.assertEqual(ws[0].read_reply(), [b"ib:0", b"x"])
        ws[1].close()
        time.sleep(0.15)
        self.assertEqual(self.blocked_clients(), 1)
        self.call("RPUSH", "ib:2", "y")
        self.assertEqual(ws[2].read_reply(), [b"ib:2", b"y"])
        self.assertEqual(self.blocked_clients(), 0)

    def test_in_multi_does_not_block(self):
        self.assertEqual(self.call("MULTI"), b"OK")
        for cmd in [("BLPOP", "k", 0), ("BRPOP", "k", 0),
                    ("BLMOVE", "k", "d", "left", "left", 0),
                    ("BRPOPLPUSH", "k", "d", 0),
                    ("BLMPOP", 0, 1, "k", "left")]:
            self.assertEqual(self.call(*cmd), b"QUEUED")
        self.c.send_cmd("EXEC")
        self.assertEqual(self.c.read_raw_line(), b"*5")
        self.assertEqual([self.c.read_raw_line() for _ in range(5)],
                         [b"*-1", b"*-1", b"$-1", b"$-1", b"*-1"])
        self.call("RPUSH", "k", "v")
        self.call("MULTI")
        self.call("BLPOP", "k", 0)
        self.assertEqual(self.call("EXEC"), [[b"k", b"v"]])

    def test_blocked_client_runs_nothing_else(self):
        w = self.raw()
        w.send(w.encode("BLPOP", "pipe", 5) + w.encode("RPUSH", "pipe", "own"))
        self.settle()
        self.assertEqual(self.call("LLEN", "pipe"), 0)
        self.call("RPUSH", "pipe", "other")
        self.assertEqual(w.read_reply(), [b"pipe", b"other"])
        self.assertEqual(w.read_reply(), 1)
        self.assertEqual(self.call("LRANGE", "pipe", 0, -1), [b"own"])

    def test_key_of_another_type_keeps_waiting(self):
        w = self.waiter("BLPOP", "t", 5)
        self.settle()
        self.call("SET", "t", "str")
        self.settle()
        self.call("DEL", "t")
        self.call("RPUSH", "t", "v")
        self.assertEqual(w.read_reply(), [b"t", b"v"])

    def test_resp3_timeout(self):
        self.call("HELLO", "3")
        self.c.send_cmd("BLPOP", "k", "0.05")
        self.assertEqual(self.c.read_raw_line(), b"_")
        w = self.raw()
        w.call("HELLO", "3")
        w.send_cmd("BLPOP", "k3", 5)
        self.settle()
        self.call("RPUSH", "k3", "v")
        self.assertEqual(w.read_reply(), [b"k3", b"v"])


if __name__ == "__main__":
    unittest.main()
