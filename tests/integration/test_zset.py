"""Sorted sets: every command with Redis 7's exact replies and errors, RESP3
forms, WRONGTYPE both ways, and the generic commands on zset keys. Values
(a large one, encodings, cross-worker commands, the random model sequence,
persistence) are in test_zset_values.py."""

import random
import time
import unittest

from fcserver import Double, Null, ServerTestCase

SYNTAX = "ERR syntax error"
NOT_INT = "ERR value is not an integer or out of range"
NOT_FLOAT = "ERR value is not a valid float"
WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
RANGE_FLOAT = "ERR min or max is not a float"
RANGE_LEX = "ERR min or max not valid string range item"


def fmt(x):
    """A score as Redis 7.0 prints it in RESP2 (%.17g, inf, -inf)."""
    if x == float("inf"):
        return b"inf"
    if x == float("-inf"):
        return b"-inf"
    return (b"%.17g" % x)


def b(x):
    return x if isinstance(x, bytes) else str(x).encode()


class Model:
    """A sorted set: member -> score, ordered by (score, member bytes)."""

    def __init__(self):
        self.d = {}

    def items(self):
        return sorted(self.d.items(), key=lambda kv: (kv[1], kv[0]))

    def flat(self):
        out = []
        for m, s in self.items():
            out += [m, fmt(s)]
        return out


class ZsetCase(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.c = self.raw()
        self.call = self.c.call

    def zadd(self, key, *pairs):
        return self.call("ZADD", key, *pairs)


class TestZadd(ZsetCase):
    def test_basic(self):
        self.assertEqual(self.zadd("z", 1, "a", 2, "b", 1.5, "c"), 3)
        self.assertEqual(self.zadd("z", 3, "a", 4, "d"), 1)
        self.assertEqual(self.call("ZCARD", "z"), 4)
        self.assertEqual(self.call("ZRANGE", "z", 0, -1, "WITHSCORES"),
                         [b"c", b"1.5", b"b", b"2", b"a", b"3", b"d", b"4"])
        self.assertEqual(self.call("ZSCORE", "z", "a"), b"3")
        self.assertIsNone(self.call("ZSCORE", "z", "nope"))
        self.assertIsNone(self.call("ZSCORE", "nokey", "a"))
        self.assertEqual(self.call("ZCARD", "nokey"), 0)
        self.assertEqual(self.call("TYPE", "z"), b"zset")

    def test_ties_by_member_bytes(self):
        self.zadd("z", 1, "b", 1, "a", 1, "ab", 1, "", 0, "z", 1, "\xff")
        self.assertEqual(self.call("ZRANGE", "z", 0, -1),
                         [b"z", b"", b"a", b"ab", b"b", "\xff".encode()])

    def test_flags(self):
        self.zadd("z", 1, "a", 5, "b")
        self.assertEqual(self.call("ZADD", "z", "NX", 9, "a", 3, "c"), 1)
        self.assertEqual(self.call("ZSCORE", "z", "a"), b"1")
        self.assertEqual(self.call("ZADD", "z", "XX", 9, "a", 3, "d"), 0)
        self.assertEqual(self.call("ZSCORE", "z", "a"), b"9")
        self.assertIsNone(self.call("ZSCORE", "z", "d"))
        self.assertEqual(self.call("ZADD", "z", "XX", "CH", 10, "a", 10, "b"),
                         2)
        self.assertEqual(self.call("ZADD", "z", "CH", 10, "a", 11, "e"), 1)
        self.assertEqual(self.call("ZADD", "z", "GT", "CH", 5, "a", 20, "b"), 1)
        self.assertEqual(self.call("ZSCORE", "z", "a"), b"10")
        self.assertEqual(self.call("ZSCORE", "z", "b"), b"20")
        self.assertEqual(self.call("ZADD", "z", "LT", "CH", 5, "a", 30, "b",
                                   1, "new"), 2)
        self.assertEqual(self.call("ZSCORE", "z", "a"), b"5")
        self.assertEqual(self.call("ZSCORE", "z", "new"), b"1")
        self.assertEqual(self.call("ZADD", "nokey", "XX", 1, "a"), 0)
        self.assertEqual(self.call("EXISTS", "nokey"), 0)
        self.assertEqual(self.call("ZADD", "z", "ch", "gt", "xx", 6, "a"), 1)

    def test_incr(self):
        self.assertEqual(self.call("ZADD", "z", "INCR", 1.5, "a"), b"1.5")
        self.assertEqual(self.call("ZADD", "z", "INCR", 1.5, "a"), b"3")
        self.assertIsNone(self.call("ZADD", "z", "INCR", "NX", 1, "a"))
        self.assertIsNone(self.call("ZADD", "z", "INCR", "XX", 1, "b"))
        self.assertIsNone(self.call("ZADD", "z", "INCR", "GT", -1, "a"))
        self.assertEqual(self.call("ZADD", "z", "INCR", "LT", -1, "a"), b"2")
        self.assertEqual(self.call("ZINCRBY", "z", 0.1, "a"),
                         b"2.1000000000000001")
        self.assertEqual(self.call("ZINCRBY", "z", "inf", "a"), b"inf")
        self.assertErr(self.call("ZINCRBY", "z", "-inf", "a"),
                       "ERR resulting score is not a number (NaN)")
        self.assertErr(self.call("ZADD", "z", "INCR", "-inf", "a"),
                       "ERR resulting score is not a number (NaN)")
        self.assertEqual(self.call("ZSCORE", "z", "a"), b"inf")
        self.assertEqual(self.call("ZINCRBY", "n", 5, "x"), b"5")
        self.assertErr(self.call("ZINCRBY", "n", "abc", "x"), NOT_FLOAT)

    def test_errors(self):
        self.assertErr(self.call("ZADD", "z", 1), "ERR wrong number of "
                       "arguments for 'zadd' command")
        self.assertErr(self.call("ZADD", "z", 1, "a", 2), SYNTAX)
        self.assertErr(self.call("ZADD", "z", "NX", "XX", 1, "a"),
                       "ERR XX and NX options at the same time are not "
                       "compatible")
        gtlt = ("ERR GT, LT, and/or NX options at the same time are not "
                "compatible")
        self.assertErr(self.call("ZADD", "z", "GT", "LT", 1, "a"), gtlt)
        self.assertErr(self.call("ZADD", "z", "GT", "NX", 1, "a"), gtlt)
        self.assertErr(self.call("ZADD", "z", "LT", "NX", 1, "a"), gtlt)
        self.assertErr(self.call("ZADD", "z", "INCR", 1, "a", 2, "b"),
                       "ERR INCR option supports a single increment-element "
                       "pair")
        for bad in ("nan", "abc", "", " 1", "1 ", "1e400", "0x"):
            self.assertErr(self.call("ZADD", "z", bad, "a"), NOT_FLOAT)
        self.assertErr(self.call("ZADD", "z", 1, "a", "x", "b"), NOT_FLOAT)
        self.assertEqual(self.call("EXISTS", "z"), 0)  # nothing half-done

    def test_score_formats(self):
        vals = [("1", b"1"), ("1.5", b"1.5"), ("0.1", b"0.10000000000000001"),
                ("3.0000000000000004", b"3.0000000000000004"),
                ("inf", b"inf"), ("-inf", b"-inf"), ("+inf", b"inf"),
                ("1e20", b"1e+20"), ("-2.5e-3", b"-0.0025000000000000001"),
                ("123456789012345678", b"1.2345678901234568e+17"),
                ("0x10", b"16"), ("9007199254740993", b"9007199254740992"),
                ("-17", b"-17"), ("0", b"0"), ("-0", b"0")]
        for i, (txt, out) in enumerate(vals):
            self.zadd("z", txt, "m%d" % i)
            self.assertEqual(self.call("ZSCORE", "z", "m%d" % i), out, txt)
        got = self.call("ZSCAN", "z", 0, "COUNT", 100)[1]
        self.assertEqual(dict(zip(got[::2], got[1::2]))[b"m2"],
                         b"0.10000000000000001")

    def test_zrem(self):
        self.zadd("z", 1, "a", 2, "b", 3, "c")
        self.assertEqual(self.call("ZREM", "z", "a", "x", "a"), 1)
        self.assertEqual(self.call("ZREM", "nokey", "a"), 0)
        self.assertEqual(self.call("ZREM", "z", "b", "c"), 2)
        self.assertEqual(self.call("EXISTS", "z"), 0)

    def test_zmscore_rank(self):
        self.zadd("z", 1, "a", 2, "b", 3, "c")
        self.assertEqual(self.call("ZMSCORE", "z", "a", "x", "c"),
                         [b"1", None, b"3"])
        self.assertEqual(self.call("ZMSCORE", "nokey", "a", "b"), [None, None])
        self.assertEqual(self.call("ZRANK", "z", "a"), 0)
        self.assertEqual(self.call("ZRANK", "z", "c"), 2)
        self.assertEqual(self.call("ZREVRANK", "z", "c"), 0)
        self.assertEqual(self.call("ZREVRANK", "z", "a"), 2)
        self.assertIsNone(self.call("ZRANK", "z", "x"))
        self.assertIsNone(self.call("ZREVRANK", "nokey", "x"))


class TestRanges(ZsetCase):
    def setUp(self):
        super().setUp()
        self.zadd("z", 1, "a", 2, "b", 3, "c", 4, "d", 5, "e")
        self.zadd("l", 0, "a", 0, "b", 0, "c", 0, "d", 0, "e", 0, "f")

    def test_rank_ranges(self):
        r = self.call
        self.assertEqual(r("ZRANGE", "z", 0, 1), [b"a", b"b"])
        self.assertEqual(r("ZRANGE", "z", -2, -1), [b"d", b"e"])
        self.assertEqual(r("ZRANGE", "z", 3, 100), [b"d", b"e"])
        self.assertEqual(r("ZRANGE", "z", 3, 1), [])
        self.assertEqual(r("ZRANGE", "z", 10, 20), [])
        self.assertEqual(r("ZRANGE", "z", -100, 0), [b"a"])
        self.assertEqual(r("ZRANGE", "z", 0, 1, "REV"), [b"e", b"d"])
        self.assertEqual(r("ZREVRANGE", "z", 0, 1, "WITHSCORES"),
                         [b"e", b"5", b"d", b"4"])
        self.assertEqual(r("ZRANGE", "nokey", 0, -1), [])
        self.assertEqual(r("ZRANGE", "z", 0, -1, "LIMIT", 1, -1),
                         [b"a", b"b", b"c", b"d", b"e"])
        self.assertErr(r("ZRANGE", "z", 0, -1, "LIMIT", 0, 1),
                       "ERR syntax error, LIMIT is only supported in "
                       "combination with either BYSCORE or BYLEX")
        self.assertErr(r("ZRANGE", "z", "a", 1), NOT_INT)
        self.assertErr(r("ZRANGE", "z", 0, 1, "foo"), SYNTAX)
        self.assertErr(r("ZREVRANGE", "z", 0, 1, "REV"), SYNTAX)

    def test_score_ranges(self):
        r = self.call
        self.assertEqual(r("ZRANGEBYSCORE", "z", 2, 4), [b"b", b"c", b"d"])
        self.assertEqual(r("ZRANGEBYSCORE", "z", "(2", "(4"), [b"c"])
        self.assertEqual(r("ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", 1,
                           2), [b"b", b"c"])
        self.assertEqual(r("ZRANGEBYSCORE", "z", "-inf", "inf", "LIMIT", 3,
                           -1), [b"d", b"e"])
        self.assertEqual(r("ZRANGEBYSCORE", "z", "-inf", "inf", "LIMIT", -1,
                           2), [])
        self.assertEqual(r("ZRANGEBYSCORE", "z", 4, 2), [])
        self.assertEqual(r("ZREVRANGEBYSCORE", "z", 4, 2, "WITHSCORES"),
                         [b"d", b"4", b"c", b"3", b"b", b"2"])
        self.assertEqual(r("ZREVRANGEBYSCORE", "z", "+inf", "-inf", "LIMIT",
                           1, 1), [b"d"])
        self.assertEqual(r("ZRANGE", "z", "(1", 3, "BYSCORE"), [b"b", b"c"])
        self.assertEqual(r("ZRANGE", "z", 3, "(1", "BYSCORE", "REV"),
                         [b"c", b"b"])
        self.assertEqual(r("ZRANGE", "z", 0, -1, "REV", "BYSCORE"), [])
        self.assertEqual(r("ZRANGEBYSCORE", "z", "", 1), [b"a"])  # "" is 0
        self.assertErr(r("ZRANGEBYSCORE", "z", "a", 2), RANGE_FLOAT)
        self.assertErr(r("ZRANGEBYSCORE", "z", 1, "nan"), RANGE_FLOAT)
        self.assertErr(r("ZRANGEBYSCORE", "z", "((1", 2), RANGE_FLOAT)
        self.assertErr(r("ZRANGEBYSCORE", "z", 1, 2, "REV"), SYNTAX)
        self.assertErr(r("ZRANGEBYSCORE", "z", 1, 2, "LIMIT", 0, "x"),
                       NOT_INT)
        self.assertErr(r("ZRANGEBYSCORE", "z", 1, 2, "LIMIT", 0), SYNTAX)
        self.assertEqual(r("ZCOUNT", "z", "(1", 4), 3)
        self.assertEqual(r("ZCOUNT", "z", "-inf", "+inf"), 5)
        self.assertEqual(r("ZCOUNT", "z", 5, 1), 0)
        self.assertEqual(r("ZCOUNT", "nokey", 0, 1), 0)
        self.assertErr(r("ZCOUNT", "z", "x", 1), RANGE_FLOAT)

    def test_lex_ranges(self):
        r = self.call
        self.assertEqual(r("ZRANGEBYLEX", "l", "-", "+"),
                         [b"a", b"b", b"c", b"d", b"e", b"f"])
        self.assertEqual(r("ZRANGEBYLEX", "l", "[b", "(d"), [b"b", b"c"])
        self.assertEqual(r("ZRANGEBYLEX", "l", "(b", "[d"), [b"c", b"d"])
        self.assertEqual(r("ZRANGEBYLEX", "l", "+", "-"), [])
        self.assertEqual(r("ZRANGEBYLEX", "l", "-", "+", "LIMIT", 2, 2),
                         [b"c", b"d"])
        self.assertEqual(r("ZREVRANGEBYLEX", "l", "[d", "-"),
                         [b"d", b"c", b"b", b"a"])
        self.assertEqual(r("ZRANGE", "l", "[e", "(b", "BYLEX", "REV"),
                         [b"e", b"d", b"c"])
        self.assertEqual(r("ZRANGEBYLEX", "l", "[", "(c"), [b"a", b"b"])
        self.assertEqual(r("ZLEXCOUNT", "l", "[b", "[e"), 4)
        self.assertEqual(r("ZLEXCOUNT", "l", "-", "+"), 6)
        self.assertEqual(r("ZLEXCOUNT", "nokey", "-", "+"), 0)
        for bad in (("a", "+"), ("-", "b"), ("--", "+"), ("", "+")):
            self.assertErr(r("ZRANGEBYLEX", "l", *bad), RANGE_LEX)
            self.assertErr(r("ZLEXCOUNT", "l", *bad), RANGE_LEX)
        self.assertErr(r("ZRANGEBYLEX", "l", "-", "+", "WITHSCORES"),
                       "ERR syntax error, WITHSCORES not supported in "
                       "combination with BYLEX")

    def test_lex_mixed_scores_small(self):
        # undefined in Redis's docs, deterministic over its listpack: ours
        # walks the same way
        r = self.call
        self.zadd("mk", 1, "b", 2, "a", 3, "c", 4, "ab")
        self.assertEqual(r("ZRANGEBYLEX", "mk", "-", "+"),
                         [b"b", b"a", b"c", b"ab"])
        self.assertEqual(r("ZRANGEBYLEX", "mk", "[b", "+"), [])
        self.assertEqual(r("ZREVRANGEBYLEX", "mk", "+", "[b"), [])
        self.assertEqual(r("ZRANGEBYLEX", "mk", "[a", "[b", "LIMIT", 1, 5),
                         [b"a"])
        self.assertEqual(r("ZLEXCOUNT", "mk", "[a", "[b"), 2)
        self.assertEqual(r("ZREVRANGEBYLEX", "mk", "[b", "-", "LIMIT", 1, 2),
                         [b"c", b"a"])

    def test_rangestore(self):
        r = self.call
        self.assertEqual(r("ZRANGESTORE", "d", "z", 1, 2), 2)
        self.assertEqual(r("ZRANGE", "d", 0, -1, "WITHSCORES"),
                         [b"b", b"2", b"c", b"3"])
        self.assertEqual(r("ZRANGESTORE", "d", "z", 5, "(2", "BYSCORE", "REV",
                           "LIMIT", 0, 2), 2)
        self.assertEqual(r("ZRANGE", "d", 0, -1), [b"d", b"e"])
        self.assertEqual(r("ZRANGESTORE", "d", "l", "[b", "[c", "BYLEX"), 2)
        self.assertEqual(r("ZRANGE", "d", 0, -1), [b"b", b"c"])
        self.assertEqual(r("ZRANGESTORE", "z", "z", 0, 0), 1)  # dst == src
        self.assertEqual(r("ZRANGE", "z", 0, -1), [b"a"])
        r("SET", "s", "x")
        self.assertEqual(r("ZRANGESTORE", "s", "nokey", 0, -1), 0)
        self.assertEqual(r("EXISTS", "s"), 0)
        r("SET", "s", "x")
        self.assertEqual(r("ZRANGESTORE", "s", "l", 0, 0), 1)
        self.assertEqual(r("TYPE", "s"), b"zset")
        self.assertEqual(r("ZRANGESTORE", "d", "l", 3, 1), 0)
        self.assertEqual(r("EXISTS", "d"), 0)
        self.assertErr(r("ZRANGESTORE", "d", "l", 0, 1, "WITHSCORES"), SYNTAX)
        r("SET", "str", "x")
        self.assertErr(r("ZRANGESTORE", "d", "str", 0, 1), WRONGTYPE)

    def test_remrange(self):
        r = self.call
        self.assertEqual(r("ZREMRANGEBYRANK", "z", 0, 1), 2)
        self.assertEqual(r("ZRANGE", "z", 0, -1), [b"c", b"d", b"e"])
        self.assertEqual(r("ZREMRANGEBYRANK", "z", 5, 10), 0)
        self.assertEqual(r("ZREMRANGEBYRANK", "z", -1, -1), 1)
        self.assertEqual(r("ZREMRANGEBYSCORE", "z", "(3", "inf"), 1)
        self.assertEqual(r("ZRANGE", "z", 0, -1), [b"c"])
        self.assertEqual(r("ZREMRANGEBYSCORE", "z", "-inf", "inf"), 1)
        self.assertEqual(r("EXISTS", "z"), 0)
        self.assertEqual(r("ZREMRANGEBYLEX", "l", "(a", "[c"), 2)
        self.assertEqual(r("ZRANGE", "l", 0, -1), [b"a", b"d", b"e", b"f"])
        self.assertEqual(r("ZREMRANGEBYLEX", "nokey", "-", "+"), 0)
        self.assertErr(r("ZREMRANGEBYRANK", "l", "a", 1), NOT_INT)
        self.assertErr(r("ZREMRANGEBYSCORE", "l", "a", 1), RANGE_FLOAT)
        self.assertErr(r("ZREMRANGEBYLEX", "l", "a", "+"), RANGE_LEX)


class TestPops(ZsetCase):
    def test_zpop(self):
        self.zadd("z", 1, "a", 2, "b", 3, "c", 4, "d")
        r = self.call
        self.assertEqual(r("ZPOPMIN", "z"), [b"a", b"1"])
        self.assertEqual(r("ZPOPMAX", "z", 2), [b"d", b"4", b"c", b"3"])
        self.assertEqual(r("ZPOPMIN", "z", 0), [])
        self.assertEqual(r("ZPOPMIN", "z", 10), [b"b", b"2"])
        self.assertEqual(r("EXISTS", "z"), 0)
        self.assertEqual(r("ZPOPMIN", "z"), [])
        self.assertErr(r("ZPOPMIN", "z", -1),
                       "ERR value is out of range, must be positive")
        self.assertErr(r("ZPOPMIN", "z", "x"),
                       "ERR value is out of range, must be positive")
        self.assertErr(r("ZPOPMIN", "z", 1, 2), SYNTAX)

    def test_zmpop(self):
        r = self.call
        self.zadd("z2", 1, "a", 2, "b", 3, "c")
        self.assertEqual(r("ZMPOP", 2, "z1", "z2", "MIN"),
                         [b"z2", [[b"a", b"1"]]])
        self.assertEqual(r("ZMPOP", 2, "z1", "z2", "max", "COUNT", 5),
                         [b"z2", [[b"c", b"3"], [b"b", b"2"]]])
        self.assertIsNone(r("ZMPOP", 2, "z1", "z2", "MIN"))
        self.assertErr(r("ZMPOP", 0, "z", "MIN"),
                       "ERR numkeys should be greater than 0")
        self.assertErr(r("ZMPOP", "x", "z", "MIN"),
                       "ERR numkeys should be greater than 0")
        self.assertErr(r("ZMPOP", 1, "z", "MIN", "COUNT", "x"),
                       "ERR count should be greater than 0")
        self.assertErr(r("ZMPOP", 1, "z", "MIN", "COUNT", 0),
                       "ERR count should be greater than 0")
        self.assertErr(r("ZMPOP", 1, "z", "MIN", "COUNT", 1, "COUNT", 1),
                       SYNTAX)
        self.assertErr(r("ZMPOP", 1, "z", "foo"), SYNTAX)
        self.assertErr(r("ZMPOP", 3, "z", "MIN"), SYNTAX)
        r("SET", "s", "x")
        self.zadd("z3", 1, "a")
        self.assertErr(r("ZMPOP", 2, "s", "z3", "MIN"), WRONGTYPE)
        self.assertEqual(r("ZMPOP", 2, "z3", "s", "MIN"),
                         [b"z3", [[b"a", b"1"]]])

    def test_zrandmember(self):
        r = self.call
        members = [b"m%d" % i for i in range(20)]
        for i, m in enumerate(members):
            self.zadd("z", i, m)
        self.assertIn(r("ZRANDMEMBER", "z"), members)
        self.assertIsNone(r("ZRANDMEMBER", "nokey"))
        self.assertEqual(r("ZRANDMEMBER", "nokey", 5), [])
        self.assertEqual(r("ZRANDMEMBER", "z", 0), [])
        got = r("ZRANDMEMBER", "z", 5)
        self.assertEqual(len(set(got)), 5)
        self.assertTrue(set(got) <= set(members))
        got = r("ZRANDMEMBER", "z", 15)  # the dense path
        self.assertEqual(len(set(got)), 15)
        self.assertEqual(sorted(r("ZRANDMEMBER", "z", 100)), sorted(members))
        got = r("ZRANDMEMBER", "z", -50)
        self.assertEqual(len(got), 50)
        self.assertTrue(set(got) <= set(members))
        got = r("ZRANDMEMBER", "z", 3, "WITHSCORES")
        self.assertEqual(len(got), 6)
        for m, s in zip(got[::2], got[1::2]):
            self.assertEqual(s, str(int(m[1:])).encode())
        self.assertErr(r("ZRANDMEMBER", "z", 1, 2), SYNTAX)
        self.assertErr(r("ZRANDMEMBER", "z", "x"), NOT_INT)
        self.assertErr(r("ZRANDMEMBER", "z", -9223372036854775808),
                       "ERR value is out of range, value must between "
                       "-9223372036854775807 and 9223372036854775807")
        self.assertErr(r("ZRANDMEMBER", "z", -9223372036854775807,
                         "WITHSCORES"), "ERR value is out of range")


class TestSetSources(ZsetCase):
    """Plain sets are sources of the set operations, every member scoring
    1 (Redis's zsetConvert of a set source)."""

    def test_sets_score_one(self):
        c = self.call
        c("SADD", "s", "a", "b", "c")
        c("SADD", "si", 1, 2)  # an intset
        c("ZADD", "z", 2, "a", 5, "d")
        self.assertEqual(c("ZUNION", 2, "s", "z", "WITHSCORES"),
                         [b"b", b"1", b"c", b"1", b"a", b"3", b"d", b"5"])
        self.assertEqual(c("ZINTER", 2, "s", "z", "WITHSCORES"),
                         [b"a", b"3"])
        self.assertEqual(c("ZINTERSTORE", "d", 2, "s", "z", "WEIGHTS", 3, 1),
                         1)
        self.assertEqual(c("ZSCORE", "d", "a"), b"5")
        self.assertEqual(c("ZDIFF", 2, "s", "z"), [b"b", b"c"])
        self.assertEqual(c("ZINTERCARD", 2, "s", "z"), 1)
        self.assertEqual(c("ZUNION", 2, "si", "s", "WITHSCORES"),
                         [b"1", b"1", b"2", b"1", b"a", b"1", b"b", b"1",
                          b"c", b"1"])
        # the set is only read
        self.assertEqual(c("TYPE", "s"), b"set")
        self.assertEqual(c("SCARD", "s"), 3)
        c("SET", "str", "x")
        self.assertErr(c("ZUNION", 2, "s", "str"), WRONGTYPE)


class TestScan(ZsetCase):
    def scan_all(self, key, *opts):
        cur, seen, rounds = b"0", {}, 0
        while True:
            cur, items = self.call("ZSCAN", key, cur, *opts)
            for m, s in zip(items[::2], items[1::2]):
                seen[m] = s
            rounds += 1
            self.assertLess(rounds, 100000)
            if cur == b"0":
                return seen

    def test_small_and_large(self):
        self.zadd("s", 1, "a", 2.5, "b")
        self.assertEqual(self.call("ZSCAN", "s", 0),
                         [b"0", [b"a", b"1", b"b", b"2.5"]])
        self.assertEqual(self.call("ZSCAN", "nokey", 0), [b"0", []])
        self.assertEqual(self.call("ZSCAN", "s", 0, "MATCH", "b*"),
                         [b"0", [b"b", b"2.5"]])
        args = []
        for i in range(1000):
            args += [i, "m%d" % i]
        self.zadd("big", *args)
        seen = self.scan_all("big", "COUNT", 20)
        self.assertEqual(len(seen), 1000)
        self.assertEqual(seen[b"m7"], b"7")
        seen = self.scan_all("big", "MATCH", "m1*")
        self.assertEqual(set(seen), {b"m%d" % i for i in range(1000)
                                     if str(i).startswith("1")})
        self.assertErr(self.call("ZSCAN", "s", "x"), "ERR invalid cursor")
        self.assertErr(self.call("ZSCAN", "s", 0, "COUNT", 0), SYNTAX)
        self.assertErr(self.call("ZSCAN", "s", 0, "COUNT", "x"), NOT_INT)
        self.assertErr(self.call("ZSCAN", "s", 0, "FOO", 1), SYNTAX)

    def test_scan_while_changing(self):
        args = []
        for i in range(3000):
            args += [i, "k%d" % i]
        self.zadd("z", *args)
        cur, seen = b"0", set()
        rnd = random.Random(7)
        for _ in range(100000):
            cur, items = self.call("ZSCAN", "z", cur, "COUNT", 50)
            seen.update(items[::2])
            # churn members outside the stable set k0..k999
            for _ in range(20):
                j = rnd.randrange(1000, 3000)
                if rnd.random() < 0.5:
                    self.call("ZREM", "z", "k%d" % j)
                else:
                    self.zadd("z", j, "k%d" % j)
            if cur == b"0":
                break
        self.assertTrue({b"k%d" % i for i in range(1000)} <= seen)


class TestSetOps(ZsetCase):
    def setUp(self):
        super().setUp()
        self.zadd("a", 1, "x", 2, "y", 3, "z")
        self.zadd("b", 10, "y", 20, "z", 30, "w")

    def test_union(self):
        r = self.call
        self.assertEqual(r("ZUNION", 2, "a", "b", "WITHSCORES"),
                         [b"x", b"1", b"y", b"12", b"z", b"23", b"w", b"30"])
        self.assertEqual(r("ZUNION", 2, "a", "b", "WEIGHTS", 2, 0.5,
                           "AGGREGATE", "MAX", "WITHSCORES"),
                         [b"x", b"2", b"y", b"5", b"z", b"10", b"w", b"15"])
        self.assertEqual(r("ZUNION", 3, "a", "nokey", "b", "AGGREGATE", "min"),
                         [b"x", b"y", b"z", b"w"])
        self.assertEqual(r("ZUNIONSTORE", "d", 2, "a", "b"), 4)
        self.assertEqual(r("ZRANGE", "d", 0, -1, "WITHSCORES"),
                         [b"x", b"1", b"y", b"12", b"z", b"23", b"w", b"30"])
        self.assertEqual(r("ZUNIONSTORE", "a", 2, "a", "a"), 3)  # dst = src
        self.assertEqual(r("ZRANGE", "a", 0, -1, "WITHSCORES"),
                         [b"x", b"2", b"y", b"4", b"z", b"6"])
        self.assertEqual(r("ZUNIONSTORE", "d", 1, "nokey"), 0)
        self.assertEqual(r("EXISTS", "d"), 0)

    def test_inf_nan_rules(self):
        r = self.call
        self.zadd("i", "inf", "p", "-inf", "n")
        self.zadd("j", "-inf", "p", "inf", "n")
        self.assertEqual(r("ZUNION", 2, "i", "j", "WITHSCORES"),
                         [b"n", b"0", b"p", b"0"])
        self.assertEqual(r("ZUNION", 1, "i", "WEIGHTS", 0, "WITHSCORES"),
                         [b"n", b"0", b"p", b"0"])
        self.assertEqual(r("ZINTER", 2, "i", "j", "WITHSCORES"),
                         [b"n", b"0", b"p", b"0"])

    def test_float_sum_order(self):
        r = self.call
        self.zadd("f1", 0.1, "m")
        self.zadd("f2", 0.2, "m", 1, "q")
        self.zadd("f3", 0.3, "m", 1, "q", 2, "r")
        got = r("ZUNION", 3, "f3", "f2", "f1", "WITHSCORES")
        self.assertEqual(got[:2], [b"m", fmt(0.1 + 0.2 + 0.3)])
        got = r("ZINTER", 3, "f3", "f1", "f2", "WITHSCORES")
        self.assertEqual(got, [b"m", fmt(0.1 + 0.2 + 0.3)])

    def test_inter_diff_card(self):
        r = self.call
        self.assertEqual(r("ZINTER", 2, "a", "b", "WITHSCORES"),
                         [b"y", b"12", b"z", b"23"])
        self.assertEqual(r("ZINTER", 2, "a", "b", "AGGREGATE", "MIN",
                           "WITHSCORES"), [b"y", b"2", b"z", b"3"])
        self.assertEqual(r("ZINTER", 2, "a", "nokey"), [])
        self.assertEqual(r("ZINTERSTORE", "d", 2, "a", "b", "WEIGHTS", 1, -1),
                         2)
        self.assertEqual(r("ZRANGE", "d", 0, -1, "WITHSCORES"),
                         [b"z", b"-17", b"y", b"-8"])
        self.assertEqual(r("ZDIFF", 2, "a", "b", "WITHSCORES"), [b"x", b"1"])
        self.assertEqual(r("ZDIFF", 1, "a"), [b"x", b"y", b"z"])
        self.assertEqual(r("ZDIFF", 2, "nokey", "a"), [])
        self.assertEqual(r("ZDIFFSTORE", "d", 2, "b", "a"), 1)
        self.assertEqual(r("ZRANGE", "d", 0, -1, "WITHSCORES"), [b"w", b"30"])
        self.assertEqual(r("ZDIFFSTORE", "d", 2, "a", "a"), 0)
        self.assertEqual(r("EXISTS", "d"), 0)
        self.assertEqual(r("ZINTERCARD", 2, "a", "b"), 2)
        self.assertEqual(r("ZINTERCARD", 2, "a", "b", "LIMIT", 1), 1)
        self.assertEqual(r("ZINTERCARD", 2, "a", "b", "LIMIT", 0), 2)
        self.assertEqual(r("ZINTERCARD", 1, "nokey"), 0)

    def test_errors(self):
        r = self.call
        self.assertErr(r("ZUNION", 0, "a"),
                       "ERR at least 1 input key is needed for 'zunion' "
                       "command")
        self.assertErr(r("ZINTERSTORE", "d", 0, "a"),
                       "ERR at least 1 input key is needed for 'zinterstore' "
                       "command")
        self.assertErr(r("ZINTERCARD", 0, "a"),
                       "ERR at least 1 input key is needed for 'zintercard' "
                       "command")
        self.assertErr(r("ZUNION", 3, "a", "b"), SYNTAX)
        self.assertErr(r("ZUNION", "x", "a"), NOT_INT)
        self.assertErr(r("ZUNION", 2, "a", "b", "WEIGHTS", 1), SYNTAX)
        self.assertErr(r("ZUNION", 2, "a", "b", "WEIGHTS", 1, "x"),
                       "ERR weight value is not a float")
        self.assertErr(r("ZUNION", 2, "a", "b", "AGGREGATE", "avg"), SYNTAX)
        self.assertErr(r("ZDIFF", 2, "a", "b", "WEIGHTS", 1, 1), SYNTAX)
        self.assertErr(r("ZUNIONSTORE", "d", 2, "a", "b", "WITHSCORES"),
                       SYNTAX)
        self.assertErr(r("ZINTERCARD", 2, "a", "b", "LIMIT", -1),
                       "ERR LIMIT can't be negative")
        self.assertErr(r("ZINTERCARD", 2, "a", "b", "WITHSCORES"), SYNTAX)
        r("SET", "s", "x")
        self.assertErr(r("ZUNION", 2, "a", "s"), WRONGTYPE)
        self.assertErr(r("ZINTERCARD", 2, "s", "a"), WRONGTYPE)
        self.assertEqual(r("ZUNIONSTORE", "s", 1, "a"), 3)  # dst overwritten


class TestWrongType(ZsetCase):
    def test_every_command(self):
        r = self.call
        r("SET", "s", "x")
        cmds = [
            ("ZADD", "s", 1, "a"), ("ZINCRBY", "s", 1, "a"),
            ("ZREM", "s", "a"), ("ZCARD", "s"), ("ZCOUNT", "s", 0, 1),
            ("ZLEXCOUNT", "s", "-", "+"), ("ZSCORE", "s", "a"),
            ("ZMSCORE", "s", "a"), ("ZRANK", "s", "a"),
            ("ZREVRANK", "s", "a"), ("ZRANGE", "s", 0, 1),
            ("ZREVRANGE", "s", 0, 1), ("ZRANGEBYSCORE", "s", 0, 1),
            ("ZREVRANGEBYSCORE", "s", 1, 0), ("ZRANGEBYLEX", "s", "-", "+"),
            ("ZREVRANGEBYLEX", "s", "+", "-"),
            ("ZRANGESTORE", "d", "s", 0, 1), ("ZPOPMIN", "s"),
            ("ZPOPMAX", "s", 2), ("ZPOPMIN", "s", 0),
            ("ZMPOP", 1, "s", "MIN"), ("ZRANDMEMBER", "s"),
            ("ZRANDMEMBER", "s", 0), ("ZUNION", 1, "s"), ("ZINTER", 1, "s"),
            ("ZDIFF", 1, "s"), ("ZINTERCARD", 1, "s"),
            ("ZUNIONSTORE", "d", 1, "s"), ("ZINTERSTORE", "d", 1, "s"),
            ("ZDIFFSTORE", "d", 1, "s"), ("ZREMRANGEBYSCORE", "s", 0, 1),
            ("ZREMRANGEBYRANK", "s", 0, 1), ("ZREMRANGEBYLEX", "s", "-", "+"),
            ("ZSCAN", "s", 0),
        ]
        for cmd in cmds:
            self.assertErr(r(*cmd), WRONGTYPE)
        self.assertEqual(r("GET", "s"), b"x")
        self.zadd("z", 1, "a")
        for cmd in [("GET", "z"), ("INCR", "z"), ("APPEND", "z", "x"),
                    ("STRLEN", "z"), ("GETRANGE", "z", 0, 1)]:
            self.assertErr(r(*cmd), WRONGTYPE)
        self.assertEqual(r("ZRANGE", "z", 0, -1, "WITHSCORES"), [b"a", b"1"])


class TestKeyspace(ZsetCase):
    """Generic commands on sorted set keys: TTLs, RENAME, COPY."""

    def test_ttl_rename_copy(self):
        r = self.call
        for key, n in (("small", 3), ("big", 300)):
            args = []
            for i in range(n):
                args += [i, "m%d" % i]
            self.zadd(key, *args)
            self.assertEqual(r("EXPIRE", key, 100), 1)
            self.assertEqual(self.zadd(key, -1, "new"), 1)  # after the move
            self.assertTrue(0 < r("TTL", key) <= 100)
            self.assertEqual(r("PERSIST", key), 1)
            self.assertEqual(r("ZCARD", key), n + 1)
            want = r("ZRANGE", key, 0, -1, "WITHSCORES")
            self.assertEqual(r("COPY", key, key + "2"), 1)
            self.assertEqual(r("ZADD", key + "2", 5, "only-in-copy"), 1)
            self.assertEqual(r("ZRANGE", key, 0, -1, "WITHSCORES"), want)
            self.assertEqual(r("COPY", key, key + "2"), 0)
            self.assertEqual(r("COPY", key, key + "2", "REPLACE"), 1)
            self.assertEqual(r("ZRANGE", key + "2", 0, -1, "WITHSCORES"),
                             want)
            r("PEXPIRE", key, 100000)
            self.assertEqual(r("RENAME", key, key + "3"), b"OK")
            self.assertEqual(r("EXISTS", key), 0)
            self.assertTrue(0 < r("PTTL", key + "3") <= 100000)
            self.assertEqual(r("ZRANGE", key + "3", 0, -1, "WITHSCORES"),
                             want)
            self.assertEqual(r("RENAMENX", key + "3", key + "2"), 0)
            self.assertEqual(r("TYPE", key + "3"), b"zset")
            self.assertEqual(r("DEL", key + "2", key + "3"), 2)
        self.zadd("z", 1, "a")
        self.assertEqual(r("PEXPIRE", "z", 1), 1)
        for _ in range(200):
            if r("EXISTS", "z") == 0:
                break
            time.sleep(0.01)
        self.assertEqual(r("EXISTS", "z"), 0)
        self.assertEqual(r("ZCARD", "z"), 0)


class TestOverwrite(ZsetCase):
    def test_string_commands_over_zsets(self):
        r = self.call
        args = []
        for i in range(300):
            args += [i, "m%d" % i]
        for k in ("a", "b", "c", "d", "e"):
            self.zadd(k, *args[:20] if k in "ac" else args)
        for cmd in [("GETSET", "a", "x"), ("GETDEL", "a"),
                    ("SETRANGE", "a", 0, "x"), ("INCRBYFLOAT", "a", 1),
                    ("DECR", "a"), ("GETEX", "a")]:
            self.assertErr(r(*cmd), WRONGTYPE)
        self.assertErr(r("LCS", "a", "b"),
                       "ERR The specified keys must contain string values")
        self.assertEqual(r("SET", "a", "x"), b"OK")
        self.assertEqual(r("GET", "a"), b"x")
        self.assertEqual(r("SET", "b", "y", "EX", 100), b"OK")
        self.assertEqual(r("GET", "b"), b"y")
        self.assertIsNone(r("SET", "c", "z", "NX"))
        self.assertEqual(r("ZCARD", "c"), 10)
        self.assertEqual(r("MSET", "c", "1", "d", "2"), b"OK")
        self.assertEqual(r("MGET", "c", "d"), [b"1", b"2"])
        self.assertErr(self.zadd("a", 1, "q"), WRONGTYPE)
        self.assertEqual(r("TYPE", "e"), b"zset")
        self.assertEqual(r("FLUSHALL"), b"OK")
        self.assertEqual(r("DBSIZE"), 0)


class TestResp3(ZsetCase):
    def test_forms(self):
        r = self.call
        self.assertIsInstance(r("HELLO", "3"), dict)
        self.zadd("z", 1, "a", 2.5, "b", 3, "c", 4, "d")
        got = r("ZSCORE", "z", "b")
        self.assertIsInstance(got, Double)
        self.assertEqual(got, 2.5)
        self.assertEqual(r("ZSCORE", "z", "x"), Null())
        self.assertEqual(r("ZMSCORE", "z", "a", "x"), [1.0, Null()])
        self.assertIsInstance(r("ZMSCORE", "z", "a")[0], Double)
        self.assertEqual(r("ZRANGE", "z", 0, 1, "WITHSCORES"),
                         [[b"a", 1.0], [b"b", 2.5]])
        self.assertEqual(r("ZRANGE", "z", 0, 1), [b"a", b"b"])
        self.assertEqual(r("ZRANGEBYSCORE", "z", 3, 3, "WITHSCORES"),
                         [[b"c", 3.0]])
        self.assertEqual(r("ZINCRBY", "z", 1, "d"), 5.0)
        self.assertEqual(r("ZADD", "z", "INCR", 1, "d"), 6.0)
        self.assertEqual(r("ZADD", "z", "INCR", "NX", 1, "d"), Null())
        self.assertEqual(r("ZUNION", 1, "z", "WITHSCORES")[0], [b"a", 1.0])
        self.assertEqual(r("ZSCAN", "z", 0)[1][:2], [b"a", b"1"])
        self.assertEqual(r("ZPOPMIN", "z"), [b"a", 1.0])
        self.assertEqual(r("ZPOPMIN", "z", 1), [[b"b", 2.5]])
        self.assertEqual(r("ZPOPMAX", "z", 1), [[b"d", 6.0]])
        self.assertEqual(r("ZMPOP", 1, "z", "MAX"), [b"z", [[b"c", 3.0]]])
        self.assertEqual(r("ZMPOP", 1, "z", "MAX"), Null())
        self.assertEqual(r("ZPOPMAX", "z"), [])
        self.assertEqual(r("ZRANDMEMBER", "z"), Null())
        self.zadd("z", 7, "q")
        self.assertEqual(r("ZRANDMEMBER", "z", 1, "WITHSCORES"), [[b"q", 7.0]])
        self.assertEqual(r("ZRANDMEMBER", "z", -2, "WITHSCORES"),
                         [[b"q", 7.0], [b"q", 7.0]])
        self.zadd("z", "inf", "i")
        self.assertEqual(r("ZSCORE", "z", "i"), float("inf"))


if __name__ == "__main__":
    unittest.main()
