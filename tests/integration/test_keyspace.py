"""Keyspace commands: DEL UNLINK EXISTS TYPE TOUCH, the EXPIRE family, TTL,
PERSIST, KEYS, SCAN, RANDOMKEY, RENAME, RENAMENX, COPY."""

import time
import unittest

from fcserver import ServerTestCase

NOT_INT = "ERR value is not an integer or out of range"


def arity(cmd):
    return "ERR wrong number of arguments for '%s' command" % cmd


class TestKeys(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.c = self.raw()
        self.call = self.c.call

    def test_del_unlink(self):
        self.call("MSET", "a", "1", "b", "2", "c", "3")
        self.assertEqual(self.call("DEL", "a", "nokey", "a"), 1)
        self.assertEqual(self.call("UNLINK", "b", "c", "nokey"), 2)
        self.assertEqual(self.call("DBSIZE"), 0)
        self.assertEqual(self.call("DEL", "a"), 0)
        self.assertErr(self.call("DEL"), arity("del"))
        self.assertErr(self.call("UNLINK"), arity("unlink"))

    def test_exists_touch_type(self):
        self.call("SET", "a", "1")
        self.assertEqual(self.call("EXISTS", "a", "a", "b"), 2)
        self.assertEqual(self.call("EXISTS", "b"), 0)
        self.assertEqual(self.call("TOUCH", "a", "a", "b"), 2)
        self.assertEqual(self.call("TYPE", "a"), b"string")
        self.assertEqual(self.call("TYPE", "b"), b"none")
        self.assertEqual(self.r.type("a"), b"string")
        self.assertErr(self.call("EXISTS"), arity("exists"))
        self.assertErr(self.call("TYPE"), arity("type"))

    def test_ttl_pttl_persist(self):
        self.assertEqual(self.call("TTL", "nokey"), -2)
        self.assertEqual(self.call("PTTL", "nokey"), -2)
        self.assertEqual(self.call("EXPIRETIME", "nokey"), -2)
        self.assertEqual(self.call("PEXPIRETIME", "nokey"), -2)
        self.call("SET", "k", "v")
        self.assertEqual(self.call("TTL", "k"), -1)
        self.assertEqual(self.call("PTTL", "k"), -1)
        self.assertEqual(self.call("EXPIRETIME", "k"), -1)
        self.assertEqual(self.call("PEXPIRETIME", "k"), -1)
        self.assertEqual(self.call("PERSIST", "k"), 0)
        self.assertEqual(self.call("EXPIRE", "k", 100), 1)
        self.assertTrue(0 < self.call("TTL", "k") <= 100)
        self.assertTrue(99000 < self.call("PTTL", "k") <= 100000)
        self.assertEqual(self.call("PERSIST", "k"), 1)
        self.assertEqual(self.call("TTL", "k"), -1)
        self.assertEqual(self.call("PERSIST", "nokey"), 0)

    def test_expire_family(self):
        self.assertEqual(self.call("EXPIRE", "nokey", 10), 0)
        self.call("SET", "k", "v")
        self.assertEqual(self.call("PEXPIRE", "k", 100000), 1)
        self.assertTrue(99000 < self.call("PTTL", "k") <= 100000)
        at = int(time.time()) + 1000
        self.assertEqual(self.call("EXPIREAT", "k", at), 1)
        self.assertEqual(self.call("EXPIRETIME", "k"), at)
        self.assertTrue(990 <= self.call("TTL", "k") <= 1000)
        pat = int(time.time() * 1000) + 2000000
        self.assertEqual(self.call("PEXPIREAT", "k", pat), 1)
        self.assertEqual(self.call("PEXPIRETIME", "k"), pat)
        # EXPIRETIME rounds to the nearest second, as Redis does.
        self.assertEqual(self.call("EXPIRETIME", "k"), (pat + 500) // 1000)

    def test_expire_in_past_deletes(self):
        self.call("MSET", "a", "1", "b", "2", "c", "3", "d", "4")
        self.assertEqual(self.call("EXPIRE", "a", -1), 1)
        self.assertEqual(self.call("PEXPIRE", "b", 0), 1)
        self.assertEqual(self.call("EXPIREAT", "c", 1), 1)
        self.assertEqual(self.call("PEXPIREAT", "d", 1000), 1)
        self.assertEqual(self.call("EXISTS", "a", "b", "c", "d"), 0)
        self.assertEqual(self.call("DBSIZE"), 0)

    def test_expire_nx_xx_gt_lt(self):
        self.call("SET", "k", "v")
        self.assertEqual(self.call("EXPIRE", "k", 100, "XX"), 0)  # no TTL yet
        self.assertEqual(self.call("EXPIRE", "k", 100, "GT"), 0)  # none = inf
        self.assertEqual(self.call("TTL", "k"), -1)
        self.assertEqual(self.call("EXPIRE", "k", 100, "LT"), 1)
        self.assertEqual(self.call("EXPIRE", "k", 200, "NX"), 0)
        self.assertEqual(self.call("EXPIRE", "k", 200, "xx"), 1)
        self.assertTrue(100 < self.call("TTL", "k") <= 200)
        self.assertEqual(self.call("EXPIRE", "k", 50, "GT"), 0)
        self.assertEqual(self.call("EXPIRE", "k", 500, "GT"), 1)
        self.assertTrue(400 < self.call("TTL", "k") <= 500)
        self.assertEqual(self.call("EXPIRE", "k", 1000, "LT"), 0)
        self.assertEqual(self.call("EXPIRE", "k", 300, "LT"), 1)
        self.assertTrue(200 < self.call("TTL", "k") <= 300)
        self.assertEqual(self.call("PEXPIRE", "k", 10000000, "GT"), 1)
        self.call("SET", "n", "v")
        self.assertEqual(self.call("PEXPIRE", "n", 5000, "NX"), 1)
        self.assertEqual(self.call("PEXPIREAT", "n", 1, "XX", "GT"), 0)
        self.assertEqual(self.call("EXPIREAT", "n",
                                   int(time.time()) + 9999, "GT"), 1)

    def test_expire_errors(self):
        self.call("SET", "k", "v")
        self.assertErr(self.call("EXPIRE", "k", "abc"), NOT_INT)
        self.assertErr(self.call("EXPIRE", "k", 10, "NX", "XX"),
                       "ERR NX and XX, GT or LT options at the same time "
                       "are not compatible")
        self.assertErr(self.call("EXPIRE", "k", 10, "NX", "GT"),
                       "ERR NX and XX, GT or LT options at the same time "
                       "are not compatible")
        self.assertErr(self.call("EXPIRE", "k", 10, "GT", "LT"),
                       "ERR GT and LT options at the same time are not "
                       "compatible")
        self.assertErr(self.call("EXPIRE", "k", 10, "FOO"),
                       "ERR Unsupported option FOO")
        self.assertErr(self.call("EXPIRE", "k", "9223372036854775807"),
                       "ERR invalid expire time in 'expire' command")
        self.assertErr(self.call("PEXPIRE", "k", "9223372036854775807"),
                       "ERR invalid expire time in 'pexpire' command")
        self.assertErr(self.call("EXPIRE", "k"), arity("expire"))
        self.assertEqual(self.call("TTL", "k"), -1)

    def test_redis_py_expiry_helpers(self):
        self.r.set("k", "v")
        self.assertTrue(self.r.expire("k", 100))
        self.assertTrue(0 < self.r.ttl("k") <= 100)
        self.assertTrue(self.r.persist("k"))
        self.assertEqual(self.r.ttl("k"), -1)


class TestKeysScan(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.c = self.raw()
        self.call = self.c.call

    def test_keys_patterns(self):
        names = ["hello", "hallo", "hxllo", "hllo", "heeeello", "h*llo",
                 "other", "h?llo"]
        for n in names:
            self.call("SET", n, "1")

        def keys(p):
            return sorted(k.decode() for k in self.call("KEYS", p))
        self.assertEqual(keys("*"), sorted(names))
        self.assertEqual(keys("h?llo"),
                         sorted(["hello", "hallo", "hxllo", "h*llo", "h?llo"]))
        self.assertEqual(keys("h*llo"), sorted(n for n in names
                                               if n.startswith("h")))
        self.assertEqual(keys("h[ae]llo"), ["hallo", "hello"])
        self.assertEqual(keys("h[^e]llo"),
                         sorted(["hallo", "hxllo", "h*llo", "h?llo"]))
        self.assertEqual(keys("h[a-b]llo"), ["hallo"])
        self.assertEqual(keys("h\\*llo"), ["h*llo"])
        self.assertEqual(keys("nomatch*"), [])
        self.assertEqual(keys("other"), ["other"])
        self.assertErr(self.call("KEYS"), arity("keys"))

    def scan_all(self, *opts, count=None):
        seen, cursor, rounds = [], b"0", 0
        while True:
            args = ["SCAN", cursor] + list(opts)
            if count:
                args += ["COUNT", count]
            cursor, batch = self.call(*args)
            seen.extend(batch)
            rounds += 1
            self.assertLess(rounds, 100000, "SCAN does not terminate")
            if cursor == b"0":
                return seen, rounds

    def test_scan_full_iteration(self):
        n = 1000
        pipe = self.r.pipeline(transaction=False)
        for i in range(n):
            pipe.set("key:%d" % i, i)
        pipe.execute()
        seen, rounds = self.scan_all(count=10)
        self.assertEqual(set(seen), {b"key:%d" % i for i in range(n)})
        self.assertGreater(rounds, 1)
        seen, _ = self.scan_all()
        self.assertEqual(len(set(seen)), n)
        self.assertEqual({k for k in self.r.scan_iter(count=50)},
                         {b"key:%d" % i for i in range(n)})

    def test_scan_match_and_type(self):
        for i in range(200):
            self.call("SET", "a:%d" % i, i)
            self.call("SET", "b:%d" % i, i)
        seen, _ = self.scan_all("MATCH", "a:*", count=20)
        self.assertEqual(set(seen), {b"a:%d" % i for i in range(200)})
        seen, _ = self.scan_all("MATCH", "b:1?", "TYPE", "string")
        self.assertEqual(set(seen), {b"b:1%d" % i for i in range(10)})
        seen, _ = self.scan_all("TYPE", "string")
        self.assertEqual(len(set(seen)), 400)
        seen, _ = self.scan_all("TYPE", "list")
        self.assertEqual(seen, [])

    def test_scan_errors_and_empty(self):
        seen, _ = self.scan_all()  # an empty db iterates to nothing
        self.assertEqual(seen, [])
        self.assertErr(self.call("SCAN", "abc"), "ERR invalid cursor")
        self.assertErr(self.call("SCAN", "0", "COUNT", "0"), "ERR syntax error")
        self.assertErr(self.call("SCAN", "0", "COUNT", "abc"), NOT_INT)
        self.assertErr(self.call("SCAN", "0", "FOO", "x"), "ERR syntax error")
        self.assertErr(self.call("SCAN", "0", "MATCH"), "ERR syntax error")

    def test_randomkey(self):
        self.assertIsNone(self.call("RANDOMKEY"))
        keys = {b"r%d" % i for i in range(20)}
        for k in keys:
            self.call("SET", k, "1")
        got = {self.call("RANDOMKEY") for _ in range(50)}
        self.assertTrue(got <= keys, got - keys)
        self.assertGreater(len(got), 1)


class TestRenameCopy(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.c = self.raw()
        self.call = self.c.call

    def test_rename(self):
        self.call("SET", "a", "va", "EX", "100")
        self.assertEqual(self.call("RENAME", "a", "b"), b"OK")
        self.assertIsNone(self.call("GET", "a"))
        self.assertEqual(self.call("GET", "b"), b"va")
        self.assertTrue(0 < self.call("TTL", "b") <= 100)  # TTL moves along
        self.call("SET", "c", "vc", "EX", "5000")
        self.assertEqual(self.call("RENAME", "b", "c"), b"OK")  # overwrites
        self.assertEqual(self.call("GET", "c"), b"va")
        self.assertTrue(0 < self.call("TTL", "c") <= 100)
        self.assertEqual(self.call("RENAME", "c", "c"), b"OK")
        self.assertEqual(self.call("GET", "c"), b"va")
        self.assertErr(self.call("RENAME", "nokey", "x"), "ERR no such key")
        self.assertErr(self.call("RENAME", "c"), arity("rename"))

    def test_renamenx(self):
        self.call("MSET", "a", "1", "b", "2")
        self.assertEqual(self.call("RENAMENX", "a", "b"), 0)
        self.assertEqual(self.call("MGET", "a", "b"), [b"1", b"2"])
        self.assertEqual(self.call("RENAMENX", "a", "c"), 1)
        self.assertEqual(self.call("MGET", "a", "c"), [None, b"1"])
        self.assertEqual(self.call("RENAMENX", "b", "b"), 0)
        self.assertErr(self.call("RENAMENX", "nokey", "x"), "ERR no such key")

    def test_copy(self):
        self.call("SET", "src", "v", "EX", "100")
        self.assertEqual(self.call("COPY", "src", "dst"), 1)
        self.assertEqual(self.call("GET", "dst"), b"v")
        self.assertTrue(0 < self.call("TTL", "dst") <= 100)  # TTL copied
        self.call("SET", "src", "w")
        self.assertEqual(self.call("GET", "dst"), b"v")  # independent copy
        self.assertEqual(self.call("COPY", "src", "dst"), 0)
        self.assertEqual(self.call("GET", "dst"), b"v")
        self.assertEqual(self.call("COPY", "src", "dst", "REPLACE"), 1)
        self.assertEqual(self.call("GET", "dst"), b"w")
        self.assertEqual(self.call("TTL", "dst"), -1)
        self.assertEqual(self.call("COPY", "nokey", "dst2"), 0)
        self.assertEqual(self.call("EXISTS", "dst2"), 0)
        self.assertEqual(self.call("COPY", "src", "db0", "DB", "0"), 1)
        self.assertErr(self.call("COPY", "src", "src"),
                       "ERR source and destination objects are the same")
        self.assertErr(self.call("COPY", "src", "x", "FOO"), "ERR syntax error")
        self.assertErr(self.call("COPY", "src", "x", "DB", "abc"), NOT_INT)
        self.assertErr(self.call("COPY", "src"), arity("copy"))


if __name__ == "__main__":
    unittest.main()
