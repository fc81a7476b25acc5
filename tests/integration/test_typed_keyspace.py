"""Keyspace commands on hashes, lists, sets and sorted sets: TYPE, OBJECT
ENCODING, COPY, RENAME, SCAN TYPE, EXPIRE, DEL/UNLINK of large values,
MEMORY USAGE, and strings' WRONGTYPE on typed keys. Runs against both
servers (fast-cache's encoding names and lazy-free counters only against
fast-cache)."""

import time
import unittest

from fcserver import RespError, ServerTestCase, fast_cache_only

WRONGTYPE = RespError(
    "WRONGTYPE Operation against a key holding the wrong kind of value")


def fill(c):
    c.call("HSET", "h", "f", "v", "g", "w")
    c.call("RPUSH", "l", "a", "b", "c")
    c.call("SADD", "s", "x", "y")
    c.call("ZADD", "z", 1, "m", 2, "n")
    c.call("SET", "str", "v")


def read(c, key):
    t = c.call("TYPE", key)
    if t == b"hash":
        return sorted(c.call("HGETALL", key))
    if t == b"list":
        return c.call("LRANGE", key, 0, -1)
    if t == b"set":
        return sorted(c.call("SMEMBERS", key))
    if t == b"zset":
        return c.call("ZRANGE", key, 0, -1, "WITHSCORES")
    return c.call("GET", key)


class TestTypedKeyspace(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.c = self.raw()
        self.call = self.c.call
        self.call("FLUSHALL")

    def test_type(self):
        fill(self.c)
        for k, t in (("h", b"hash"), ("l", b"list"), ("s", b"set"),
                     ("z", b"zset"), ("str", b"string"), ("nope", b"none")):
            self.assertEqual(self.call("TYPE", k), t)

    def test_string_commands_refuse_typed_keys(self):
        fill(self.c)
        for k in ("h", "l", "s", "z"):
            self.assertEqual(self.call("GET", k), WRONGTYPE)
            self.assertEqual(self.call("INCR", k), WRONGTYPE)
            self.assertEqual(self.call("APPEND", k, "x"), WRONGTYPE)
            self.assertEqual(self.call("STRLEN", k), WRONGTYPE)
            self.assertEqual(self.call("GETRANGE", k, 0, 1), WRONGTYPE)
            self.assertEqual(self.call("SETRANGE", k, 0, "x"), WRONGTYPE)
        # MGET answers nil for a key of another type, as Redis does.
        self.assertEqual(self.call("MGET", "h", "str"), [None, b"v"])
        # and the typed families refuse each other
        self.assertEqual(self.call("HGET", "l", "f"), WRONGTYPE)
        self.assertEqual(self.call("LLEN", "s"), WRONGTYPE)
        self.assertEqual(self.call("SCARD", "z"), WRONGTYPE)
        self.assertEqual(self.call("ZCARD", "h"), WRONGTYPE)
        self.assertEqual(self.call("HSET", "str", "f", "v"), WRONGTYPE)

    def test_set_overwrites_any_type(self):
        fill(self.c)
        for k in ("h", "l", "s", "z"):
            self.assertEqual(self.call("SET", k, "now a string"), b"OK")
            self.assertEqual(self.call("TYPE", k), b"string")
            self.assertEqual(self.call("GET", k), b"now a string")

    def test_copy_and_rename_every_type(self):
        fill(self.c)
        self.call("PEXPIRE", "l", 100000)
        for k in ("h", "l", "s", "z"):
            want = read(self.c, k)
            self.assertEqual(self.call("COPY", k, k + "2"), 1)
            self.assertEqual(read(self.c, k + "2"), want)
            # a deep copy: changing the copy leaves the source alone
            self.call("DEL", k + "2")
            self.assertEqual(read(self.c, k), want)
            self.assertEqual(self.call("COPY", k, k + "3"), 1)
            self.assertEqual(self.call("COPY", k, k + "3"), 0)
            self.assertEqual(self.call("COPY", k, "str", "REPLACE"), 1)
            self.assertEqual(read(self.c, "str"), want)
            self.assertEqual(self.call("RENAME", k, k + "r"), b"OK")
            self.assertEqual(self.call("EXISTS", k), 0)
            self.assertEqual(read(self.c, k + "r"), want)
            self.assertEqual(self.call("RENAMENX", k + "r", k + "3"), 0)
        self.assertTrue(99000 < self.call("PTTL", "lr") <= 100000)
        self.assertTrue(99000 < self.call("PTTL", "l3") <= 100000)

    def test_copy_to_and_rename_over_a_typed_key(self):
        self.call("RPUSH", "a", "1", "2")
        self.call("SADD", "b", "x")
        self.assertEqual(self.call("RENAME", "a", "b"), b"OK")
        self.assertEqual(self.call("TYPE", "b"), b"list")
        self.assertEqual(self.call("LRANGE", "b", 0, -1), [b"1", b"2"])
        self.call("HSET", "c", "f", "v")
        self.assertEqual(self.call("COPY", "c", "b", "REPLACE"), 1)
        self.assertEqual(self.call("HGETALL", "b"), [b"f", b"v"])
        self.assertEqual(self.call("RENAME", "b", "b"), b"OK")
        self.assertEqual(self.call("HGETALL", "b"), [b"f", b"v"])

    def test_scan_type(self):
        fill(self.c)
        for t, want in (("hash", [b"h"]), ("list", [b"l"]), ("set", [b"s"]),
                        ("zset", [b"z"]), ("string", [b"str"])):
            got, cur = [], b"0"
            for _ in range(1000):
                cur, keys = self.call("SCAN", cur, "TYPE", t, "COUNT", 100)
                got += keys
                if cur == b"0":
                    break
            self.assertEqual(sorted(got), want)

    def test_expire_on_every_type(self):
        fill(self.c)
        for k in ("h", "l", "s", "z"):
            self.assertEqual(self.call("PEXPIRE", k, 50), 1)
            self.assertTrue(0 < self.call("PTTL", k) <= 50)
        # a change keeps the TTL, as in Redis
        self.call("HSET", "h", "new", "1")
        self.call("RPUSH", "l", "d")
        self.assertTrue(0 < self.call("PTTL", "h") <= 50)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and self.call("EXISTS", "h", "l",
                                                        "s", "z"):
            time.sleep(0.02)
        self.assertEqual(self.call("EXISTS", "h", "l", "s", "z"), 0)
        self.assertEqual(self.call("TYPE", "l"), b"none")
        # PERSIST works on a typed key
        self.call("SADD", "p", "1")
        self.call("EXPIRE", "p", 100)
        self.assertEqual(self.call("PERSIST", "p"), 1)
        self.assertEqual(self.call("TTL", "p"), -1)

    def test_emptied_values_disappear(self):
        self.call("HSET", "h", "f", "v")
        self.call("HDEL", "h", "f")
        self.call("RPUSH", "l", "a")
        self.call("LPOP", "l")
        self.call("SADD", "s", "a")
        self.call("SREM", "s", "a")
        self.call("ZADD", "z", 1, "a")
        self.call("ZREM", "z", "a")
        self.assertEqual(self.call("EXISTS", "h", "l", "s", "z"), 0)
        self.assertEqual(self.call("DBSIZE"), 0)

    def test_memory_usage_grows_with_the_value(self):
        for k, small, big in (
                ("h", ("HSET", "h", "f", "v"),
                 ["HSET", "h"] + [x for i in range(2000)
                                  for x in ("f%d" % i, "v" * 20)]),
                ("l", ("RPUSH", "l", "a"), ["RPUSH", "l"] + ["x" * 20] * 2000),
                ("s", ("SADD", "s", "a"),
                 ["SADD", "s"] + ["m%d" % i for i in range(2000)]),
                ("z", ("ZADD", "z", 1, "a"),
                 ["ZADD", "z"] + [x for i in range(2000)
                                  for x in (i, "m%d" % i)])):
            self.call(*small)
            before = self.call("MEMORY", "USAGE", k)
            self.call(*big)
            after = self.call("MEMORY", "USAGE", k)
            self.assertIsInstance(before, int)
            self.assertGreater(after, before + 2000 * 2, k)
            self.assertLess(after, 2000 * 400, k)

    def test_del_of_a_large_value_is_quick(self):
        n = 300000
        for i in range(0, n, 10000):
            self.call("RPUSH", "big", *range(i, i + 10000))
        self.assertEqual(self.call("LLEN", "big"), n)
        self.assertEqual(self.call("UNLINK", "big"), 1)
        self.assertEqual(self.call("EXISTS", "big"), 0)
        self.call("SADD", "big2", *range(100000))
        self.assertEqual(self.call("DEL", "big2"), 1)
        self.assertEqual(self.call("EXISTS", "big2"), 0)

    @fast_cache_only
    def test_large_values_are_freed_off_the_worker(self):
        info = lambda: dict(
            l.split(":", 1) for l in
            self.call("INFO", "stats").decode().splitlines() if ":" in l)
        done = int(info()["lazyfreed_objects"])
        self.call("RPUSH", "big", *range(1000))
        self.call("RPUSH", "small", 1, 2)
        self.call("DEL", "big", "small")
        deadline = time.monotonic() + 5
        while int(info()["lazyfreed_objects"]) < done + 1 and \
                time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertEqual(int(info()["lazyfreed_objects"]), done + 1)

    @fast_cache_only
    def test_object_encoding_names(self):
        self.call("HSET", "h", "f", "v")
        self.call("RPUSH", "l", "a")
        self.call("SADD", "si", 1, 2)
        self.call("SADD", "s", "a")
        self.call("ZADD", "z", 1, "a")
        self.assertEqual(self.call("OBJECT", "ENCODING", "h"), b"pack")
        self.assertEqual(self.call("OBJECT", "ENCODING", "l"), b"pack")
        self.assertEqual(self.call("OBJECT", "ENCODING", "si"), b"intset")
        self.assertEqual(self.call("OBJECT", "ENCODING", "s"), b"pack")
        self.assertEqual(self.call("OBJECT", "ENCODING", "z"), b"pack")
        self.call("HSET", "h", "long", "v" * 100)
        self.assertEqual(self.call("OBJECT", "ENCODING", "h"), b"hashtable")

    def test_encoding_thresholds_are_config(self):
        names = ["hash-max-listpack-entries", "hash-max-listpack-value",
                 "set-max-intset-entries", "zset-max-listpack-entries",
                 "zset-max-listpack-value", "list-max-listpack-size",
                 "hash-max-ziplist-entries"]
        for n in names:
            r = self.call("CONFIG", "GET", n)
            self.assertEqual(r[0], n.encode())
        old = self.call("CONFIG", "GET", "hash-max-listpack-entries")[1]
        try:
            self.assertEqual(self.call("CONFIG", "SET",
                                       "hash-max-listpack-entries", 2), b"OK")
            self.call("HSET", "h", "a", 1, "b", 2, "c", 3)
            enc = self.call("OBJECT", "ENCODING", "h")
            self.assertEqual(enc, b"hashtable")  # the same name in both
        finally:
            self.call("CONFIG", "SET", "hash-max-listpack-entries", old)
        r = self.call("CONFIG", "SET", "set-max-intset-entries", "x")
        self.assertTrue(isinstance(r, RespError), r)


if __name__ == "__main__":
    unittest.main()
