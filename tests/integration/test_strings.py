"""String commands, with the exact errors Redis 7 prints."""

import time
import unittest

from fcserver import ServerTestCase

SYNTAX = "ERR syntax error"
NOT_INT = "ERR value is not an integer or out of range"
NOT_FLOAT = "ERR value is not a valid float"
OVERFLOW = "ERR increment or decrement would overflow"


def arity(cmd):
    return "ERR wrong number of arguments for '%s' command" % cmd


def bad_expire(cmd):
    return "ERR invalid expire time in '%s' command" % cmd


class TestGetSet(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.c = self.raw()
        self.call = self.c.call

    def test_get_set_basic(self):
        self.assertIsNone(self.call("GET", "k"))
        self.assertEqual(self.call("SET", "k", "v1"), b"OK")
        self.assertEqual(self.call("GET", "k"), b"v1")
        self.assertEqual(self.call("SET", "k", ""), b"OK")
        self.assertEqual(self.call("GET", "k"), b"")
        self.assertEqual(self.call("set", "K", "upper"), b"OK")
        self.assertEqual(self.call("GET", "k"), b"")  # keys are case-sensitive
        self.assertEqual(self.call("GET", "K"), b"upper")
        self.assertTrue(self.r.set("py", "val"))
        self.assertEqual(self.r.get("py"), b"val")

    def test_set_ex_px_exat_pxat(self):
        self.assertEqual(self.call("SET", "a", "v", "EX", "100"), b"OK")
        self.assertTrue(0 < self.call("TTL", "a") <= 100)
        self.assertEqual(self.call("SET", "b", "v", "px", "100000"), b"OK")
        self.assertTrue(99000 < self.call("PTTL", "b") <= 100000)
        at = int(time.time()) + 1000
        self.assertEqual(self.call("SET", "c", "v", "EXAT", at), b"OK")
        self.assertTrue(990 <= self.call("TTL", "c") <= 1000)
        self.assertEqual(self.call("EXPIRETIME", "c"), at)
        pat = int(time.time() * 1000) + 1000000
        self.assertEqual(self.call("SET", "d", "v", "PXAT", pat), b"OK")
        self.assertEqual(self.call("PEXPIRETIME", "d"), pat)
        self.assertEqual(self.call("SET", "a", "plain"), b"OK")
        self.assertEqual(self.call("TTL", "a"), -1)  # plain SET clears TTL

    def test_set_nx_xx(self):
        self.assertIsNone(self.call("SET", "k", "v", "XX"))
        self.assertIsNone(self.call("GET", "k"))
        self.assertEqual(self.call("SET", "k", "v", "NX"), b"OK")
        self.assertIsNone(self.call("SET", "k", "w", "NX"))
        self.assertEqual(self.call("GET", "k"), b"v")
        self.assertEqual(self.call("SET", "k", "w", "XX"), b"OK")
        self.assertEqual(self.call("GET", "k"), b"w")
        self.assertEqual(self.call("SET", "k", "x", "XX", "EX", "50"), b"OK")
        self.assertTrue(0 < self.call("TTL", "k") <= 50)

    def test_set_keepttl(self):
        self.call("SET", "k", "v", "EX", "100")
        self.assertEqual(self.call("SET", "k", "w", "KEEPTTL"), b"OK")
        self.assertEqual(self.call("GET", "k"), b"w")
        self.assertTrue(0 < self.call("TTL", "k") <= 100)
        self.assertEqual(self.call("SET", "n", "v", "KEEPTTL"), b"OK")
        self.assertEqual(self.call("TTL", "n"), -1)

    def test_set_get_option(self):
        self.assertIsNone(self.call("SET", "k", "v1", "GET"))
        self.assertEqual(self.call("SET", "k", "v2", "GET"), b"v1")
        self.assertEqual(self.call("GET", "k"), b"v2")
        # NX GET: returns the old value and does not set.
        self.assertEqual(self.call("SET", "k", "v3", "NX", "GET"), b"v2")
        self.assertEqual(self.call("GET", "k"), b"v2")
        self.assertIsNone(self.call("SET", "new", "x", "XX", "GET"))
        self.assertIsNone(self.call("GET", "new"))
        self.assertEqual(self.call("SET", "k", "v4", "GET", "EX", "10"), b"v2")
        self.assertTrue(0 < self.call("TTL", "k") <= 10)

    def test_set_option_conflicts(self):
        for opts in (["NX", "XX"], ["EX", "10", "PX", "100"],
                     ["KEEPTTL", "EX", "10"], ["PX", "10", "KEEPTTL"],
                     ["EX", "10", "EXAT", "99999999999"],
                     ["PXAT", "99999999999999", "EXAT", "99999999999"],
                     ["FOO"], ["EX"], ["PX"]):
            self.assertErr(self.call("SET", "k", "v", *opts), SYNTAX)
        self.assertIsNone(self.call("GET", "k"))

    def test_set_bad_expire(self):
        for opts in (["EX", "0"], ["EX", "-1"], ["PX", "0"], ["PX", "-100"],
                     ["EXAT", "0"], ["PXAT", "0"],
                     ["EX", "99999999999999999"]):
            self.assertErr(self.call("SET", "k", "v", *opts), bad_expire("set"))
        self.assertErr(self.call("SET", "k", "v", "EX", "abc"), NOT_INT)
        self.assertErr(self.call("SET", "k", "v", "PX", "1.5"), NOT_INT)
        self.assertIsNone(self.call("GET", "k"))

    def test_setnx_setex_psetex(self):
        self.assertEqual(self.call("SETNX", "k", "a"), 1)
        self.assertEqual(self.call("SETNX", "k", "b"), 0)
        self.assertEqual(self.call("GET", "k"), b"a")
        self.assertEqual(self.call("SETEX", "e", "100", "v"), b"OK")
        self.assertEqual(self.call("GET", "e"), b"v")
        self.assertTrue(0 < self.call("TTL", "e") <= 100)
        self.assertEqual(self.call("PSETEX", "p", "100000", "v"), b"OK")
        self.assertTrue(99000 < self.call("PTTL", "p") <= 100000)
        self.assertErr(self.call("SETEX", "e", "0", "v"), bad_expire("setex"))
        self.assertErr(self.call("SETEX", "e", "-5", "v"), bad_expire("setex"))
        self.assertErr(self.call("SETEX", "e", "abc", "v"), NOT_INT)
        self.assertErr(self.call("PSETEX", "p", "0", "v"), bad_expire("psetex"))
        self.assertErr(self.call("SETEX", "e", "10"), arity("setex"))
        self.assertErr(self.call("SETNX", "k"), arity("setnx"))

    def test_getex(self):
        self.assertIsNone(self.call("GETEX", "nokey"))
        self.assertIsNone(self.call("GETEX", "nokey", "EX", "10"))
        self.assertEqual(self.call("EXISTS", "nokey"), 0)
        self.call("SET", "k", "v")
        self.assertEqual(self.call("GETEX", "k"), b"v")
        self.assertEqual(self.call("TTL", "k"), -1)
        self.assertEqual(self.call("GETEX", "k", "EX", "100"), b"v")
        self.assertTrue(0 < self.call("TTL", "k") <= 100)
        self.assertEqual(self.call("GETEX", "k", "PX", "200000"), b"v")
        self.assertTrue(100000 < self.call("PTTL", "k") <= 200000)
        at = int(time.time()) + 500
        self.assertEqual(self.call("GETEX", "k", "EXAT", at), b"v")
        self.assertEqual(self.call("EXPIRETIME", "k"), at)
        pat = int(time.time() * 1000) + 600000
        self.assertEqual(self.call("GETEX", "k", "PXAT", pat), b"v")
        self.assertEqual(self.call("PEXPIRETIME", "k"), pat)
        self.assertEqual(self.call("GETEX", "k", "PERSIST"), b"v")
        self.assertEqual(self.call("TTL", "k"), -1)
        self.assertErr(self.call("GETEX", "k", "EX", "0"), bad_expire("getex"))
        self.assertErr(self.call("GETEX", "k", "PERSIST", "EX", "10"), SYNTAX)
        self.assertErr(self.call("GETEX", "k", "EX", "10", "PX", "10"), SYNTAX)
        self.assertErr(self.call("GETEX", "k", "FOO"), SYNTAX)
        self.assertErr(self.call("GETEX", "k", "EX", "x"), NOT_INT)
        self.assertEqual(self.call("TTL", "k"), -1)

    def test_getdel_getset(self):
        self.assertIsNone(self.call("GETDEL", "k"))
        self.call("SET", "k", "v")
        self.assertEqual(self.call("GETDEL", "k"), b"v")
        self.assertEqual(self.call("EXISTS", "k"), 0)
        self.assertIsNone(self.call("GETSET", "g", "1"))
        self.assertEqual(self.call("GET", "g"), b"1")
        self.call("EXPIRE", "g", "100")
        self.assertEqual(self.call("GETSET", "g", "2"), b"1")
        self.assertEqual(self.call("GET", "g"), b"2")
        self.assertEqual(self.call("TTL", "g"), -1)  # GETSET clears the TTL
        self.assertErr(self.call("GETDEL"), arity("getdel"))

    def test_mget_mset_msetnx(self):
        self.assertEqual(self.call("MSET", "a", "1", "b", "2", "c", "3"), b"OK")
        self.assertEqual(self.call("MGET", "a", "nokey", "c", "b", "a"),
                         [b"1", None, b"3", b"2", b"1"])
        self.assertEqual(self.call("MSET", "a", "x", "a", "y"), b"OK")
        self.assertEqual(self.call("GET", "a"), b"y")  # last one wins
        self.assertEqual(self.call("MSETNX", "n1", "1", "b", "9"), 0)
        self.assertEqual(self.call("EXISTS", "n1"), 0)  # all or nothing
        self.assertEqual(self.call("GET", "b"), b"2")
        self.assertEqual(self.call("MSETNX", "n1", "1", "n2", "2"), 1)
        self.assertEqual(self.call("MGET", "n1", "n2"), [b"1", b"2"])
        self.assertErr(self.call("MSET", "a"), arity("mset"))
        self.assertErr(self.call("MSET", "a", "b", "c"), arity("mset"))
        self.assertErr(self.call("MSETNX", "a"), arity("msetnx"))
        self.assertErr(self.call("MSETNX", "a", "b", "c"), arity("msetnx"))
        self.assertErr(self.call("MGET"), arity("mget"))
        self.r.mset({"x": "1", "y": "2"})
        self.assertEqual(self.r.mget("x", "y", "z"), [b"1", b"2", None])

    def test_append_strlen(self):
        self.assertEqual(self.call("STRLEN", "k"), 0)
        self.assertEqual(self.call("APPEND", "k", "Hello"), 5)
        self.assertEqual(self.call("APPEND", "k", " World"), 11)
        self.assertEqual(self.call("GET", "k"), b"Hello World")
        self.assertEqual(self.call("STRLEN", "k"), 11)
        self.assertEqual(self.call("APPEND", "k", ""), 11)
        self.call("SET", "n", "12")
        self.assertEqual(self.call("APPEND", "n", "34"), 4)
        self.assertEqual(self.call("INCR", "n"), 1235)
        self.assertEqual(self.call("STRLEN", "n"), 4)
        self.call("SET", "t", "v", "EX", "100")
        self.call("APPEND", "t", "w")
        self.assertTrue(0 < self.call("TTL", "t") <= 100)  # APPEND keeps TTL

    def test_getrange_substr(self):
        self.call("SET", "s", "Hello World")
        cases = [((0, 3), b"Hell"), ((-3, -1), b"rld"), ((0, -1), b"Hello World"),
                 ((10, 100), b"d"), ((5, 3), b""), ((-100, -95), b"H"),
                 ((11, 20), b""), ((-1, -1), b"d"), ((0, 0), b"H")]
        for (s, e), want in cases:
            self.assertEqual(self.call("GETRANGE", "s", s, e), want, (s, e))
        self.assertEqual(self.call("SUBSTR", "s", 0, 4), b"Hello")
        self.assertEqual(self.call("GETRANGE", "nokey", 0, -1), b"")
        self.assertErr(self.call("GETRANGE", "s", "a", "b"), NOT_INT)
        self.assertErr(self.call("GETRANGE", "s", "0"), arity("getrange"))

    def test_setrange(self):
        self.call("SET", "k", "Hello World")
        self.assertEqual(self.call("SETRANGE", "k", 6, "Redis"), 11)
        self.assertEqual(self.call("GET", "k"), b"Hello Redis")
        self.assertEqual(self.call("SETRANGE", "k", 11, "!!"), 13)
        self.assertEqual(self.call("GET", "k"), b"Hello Redis!!")
        self.assertEqual(self.call("SETRANGE", "nokey", 0, ""), 0)
        self.assertEqual(self.call("EXISTS", "nokey"), 0)
        self.assertEqual(self.call("SETRANGE", "pad", 3, "ab"), 5)
        self.assertEqual(self.call("GET", "pad"), b"\x00\x00\x00ab")
        self.assertEqual(self.call("SETRANGE", "k", 100, ""), 13)  # no-op
        self.assertEqual(self.call("STRLEN", "k"), 13)
        self.assertErr(self.call("SETRANGE", "k", -1, "x"),
                       "ERR offset is out of range")
        self.assertErr(self.call("SETRANGE", "k", 536870912, "x"),
                       "ERR string exceeds maximum allowed size "
                       "(proto-max-bulk-len)")
        self.assertErr(self.call("SETRANGE", "k", "x", "y"), NOT_INT)


class TestCounters(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.c = self.raw()
        self.call = self.c.call

    def test_incr_decr(self):
        self.assertEqual(self.call("INCR", "n"), 1)
        self.assertEqual(self.call("INCR", "n"), 2)
        self.assertEqual(self.call("DECR", "n"), 1)
        self.assertEqual(self.call("DECR", "m"), -1)
        self.assertEqual(self.call("INCRBY", "n", 100), 101)
        self.assertEqual(self.call("INCRBY", "n", -200), -99)
        self.assertEqual(self.call("DECRBY", "n", 1), -100)
        self.assertEqual(self.call("DECRBY", "n", -100), 0)
        self.assertEqual(self.call("GET", "n"), b"0")
        self.call("SET", "t", "5", "EX", "100")
        self.assertEqual(self.call("INCR", "t"), 6)
        self.assertTrue(0 < self.call("TTL", "t") <= 100)  # INCR keeps TTL
        self.assertEqual(self.r.incrby("py", 7), 7)
        self.assertEqual(self.r.decr("py"), 6)

    def test_incr_not_integer(self):
        for v in ("abc", "1.5", " 1", "1 ", "", "010", "+1", "0x10",
                  "9223372036854775808"):
            self.call("SET", "k", v)
            self.assertErr(self.call("INCR", "k"), NOT_INT)
            self.assertEqual(self.call("GET", "k"), v.encode())
        self.call("SET", "n", "1")
        self.assertErr(self.call("INCRBY", "n", "abc"), NOT_INT)
        self.assertErr(self.call("INCRBY", "n", "9223372036854775808"), NOT_INT)
        self.assertErr(self.call("DECRBY", "n", "1.0"), NOT_INT)
        self.assertErr(self.call("INCR"), arity("incr"))

    def test_incr_overflow(self):
        self.call("SET", "n", "9223372036854775807")
        self.assertErr(self.call("INCR", "n"), OVERFLOW)
        self.assertErr(self.call("INCRBY", "n", 1), OVERFLOW)
        self.assertEqual(self.call("GET", "n"), b"9223372036854775807")
        self.call("SET", "n", "-9223372036854775808")
        self.assertErr(self.call("DECR", "n"), OVERFLOW)
        self.assertEqual(self.call("INCRBY", "n", "9223372036854775807"), -1)
        self.call("SET", "n", "0")
        self.assertErr(self.call("DECRBY", "n", "-9223372036854775808"),
                       "ERR decrement would overflow")

    def test_incrbyfloat(self):
        self.call("SET", "f", "10.50")
        self.assertEqual(self.call("INCRBYFLOAT", "f", "0.1"), b"10.6")
        self.assertEqual(self.call("INCRBYFLOAT", "f", "-5"), b"5.6")
        self.call("SET", "e", "5.0e3")
        self.assertEqual(self.call("INCRBYFLOAT", "e", "2.0e2"), b"5200")
        self.call("SET", "i", "1.0")
        self.assertEqual(self.call("INCRBYFLOAT", "i", "0"), b"1")
        self.assertEqual(self.call("INCRBYFLOAT", "new", "3"), b"3")
        self.assertEqual(self.call("INCRBYFLOAT", "new", "0.25"), b"3.25")
        self.assertEqual(self.call("GET", "new"), b"3.25")
        self.call("SET", "bad", "abc")
        self.assertErr(self.call("INCRBYFLOAT", "bad", "1"), NOT_FLOAT)
        self.assertErr(self.call("INCRBYFLOAT", "new", "abc"), NOT_FLOAT)
        self.assertErr(self.call("INCRBYFLOAT", "nokey", "inf"),
                       "ERR increment would produce NaN or Infinity")
        self.assertEqual(self.call("EXISTS", "nokey"), 0)
        self.assertAlmostEqual(self.r.incrbyfloat("py", 1.5), 1.5)


class TestLcs(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.c = self.raw()
        self.call = self.c.call
        self.call("MSET", "key1", "ohmytext", "key2", "mynewtext")

    def test_lcs_string_and_len(self):
        self.assertEqual(self.call("LCS", "key1", "key2"), b"mytext")
        self.assertEqual(self.call("LCS", "key1", "key2", "LEN"), 6)
        self.assertEqual(self.call("LCS", "key1", "nokey"), b"")
        self.assertEqual(self.call("LCS", "nokey", "nokey2", "LEN"), 0)

    def test_lcs_idx(self):
        r = self.call("LCS", "key1", "key2", "IDX")
        self.assertEqual(r, [b"matches", [[[4, 7], [5, 8]], [[2, 3], [0, 1]]],
                             b"len", 6])
        r = self.call("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4")
        self.assertEqual(r, [b"matches", [[[4, 7], [5, 8]]], b"len", 6])
        r = self.call("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4",
                      "WITHMATCHLEN")
        self.assertEqual(r, [b"matches", [[[4, 7], [5, 8], 4]], b"len", 6])

    def test_lcs_errors(self):
        self.assertErr(self.call("LCS", "key1"), arity("lcs"))
        self.assertErr(self.call("LCS", "key1", "key2", "FOO"), SYNTAX)
        self.assertErr(self.call("LCS", "key1", "key2", "LEN", "IDX"),
                       "ERR If you want both the length and indexes, please "
                       "just use IDX.")


if __name__ == "__main__":
    unittest.main()
