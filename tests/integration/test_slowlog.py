"""SLOWLOG GET/LEN/RESET/HELP and slowlog-log-slower-than / slowlog-max-len
against redis-server 7.0.15: with the threshold at 0 every command is
logged, and the entries' arguments (Redis's truncation past 128 bytes and
32 arguments), client name and address, order (newest first) and count
must be Redis's; durations and timestamps are checked for sense, not
equality. Also: EVAL and its script's commands are logged (the latter as Redis's
fake client "?:0"), a transaction's commands but not EXEC, secrets as
"(redacted)"; a negative threshold logs nothing;
and with four workers the entries of every worker merge newest first.
"""

import time
import unittest

from fcserver import RespError, Server, fast_cache_only
from pairutil import PairTestCase


def entries(conn, count=-1):
    return conn.call("SLOWLOG", "GET", count)


def comparable(e, with_addr=True):
    """What must match Redis: arguments, address, name (not id, time,
    duration, which differ by nature)."""
    return (e[3], e[4] if with_addr else None, e[5])


class TestSlowlog(PairTestCase):
    fc_threads = 1  # one worker: every command runs on the client's own

    def setUp(self):
        super().setUp()
        for side in (self.a, self.b):
            side.call("CONFIG", "SET", "slowlog-max-len", "128")
            side.call("CONFIG", "SET", "slowlog-log-slower-than", "0")
            side.call("SLOWLOG", "RESET")

    def run_both(self, cmds):
        for c in cmds:
            ra, rb = self.a.call(*c), self.b.call(*c)
            self.assertEqual(type(ra), type(rb), c)

    def check_same(self, count=-1, with_addr=False):
        ea, eb = entries(self.a, count), entries(self.b, count)
        self.assertEqual(len(ea), len(eb))
        self.assertEqual([comparable(e, with_addr) for e in ea],
                         [comparable(e, with_addr) for e in eb])
        now = int(time.time())
        ids = [e[0] for e in ea]
        self.assertEqual(ids, sorted(ids, reverse=True))
        self.assertEqual(len(set(ids)), len(ids))
        for e in ea:
            self.assertTrue(abs(e[1] - now) < 60, e)
            self.assertGreaterEqual(e[2], 0)
        return ea

    def test_entries_as_redis_keeps_them(self):
        long_val = "v" * 300
        many = ["k%d" % i for i in range(40)]
        self.run_both([("SET", "a", "1"), ("GET", "a"),
                       ("SET", "big", long_val), ("CLIENT", "SETNAME", "me"),
                       ("DEL",) + tuple(many), ("LPUSH", "l", "x", "y"),
                       ("INCR", "nonint_missing")])
        got = self.check_same()
        # The truncation marks themselves, as Redis writes them.
        big = [e for e in got if e[3][:2] == [b"SET", b"big"]][0]
        self.assertEqual(big[3][2], b"v" * 128 + b"... (172 more bytes)")
        dele = [e for e in got if e[3][0] == b"DEL"][0]
        self.assertEqual(len(dele[3]), 32)
        self.assertEqual(dele[3][31], b"... (10 more arguments)")
        self.assertEqual(dele[5], b"me")
        self.both("SLOWLOG", "LEN")
        self.check_same(count=3)
        self.check_same(count=0)

    def test_address_is_the_clients(self):
        self.run_both([("PING",), ("ECHO", "x")])
        ea = self.check_same(with_addr=False)
        port = self.a.sock.getsockname()[1]
        self.assertEqual(ea[0][4], b"127.0.0.1:%d" % port)

    def test_max_len_threshold_reset_and_errors(self):
        for side in (self.a, self.b):
            side.call("CONFIG", "SET", "slowlog-max-len", "3")
        self.run_both([("SET", "k%d" % i, i) for i in range(10)])
        self.assertEqual(self.both("SLOWLOG", "LEN"), 3)
        self.check_same()
        for side in (self.a, self.b):
            side.call("CONFIG", "SET", "slowlog-log-slower-than", "-1")
            side.call("SLOWLOG", "RESET")
        self.run_both([("SET", "x", "1"), ("GET", "x")])
        self.assertEqual(self.a.call("SLOWLOG", "LEN"), 0)
        self.assertEqual(self.b.call("SLOWLOG", "LEN"), 0)
        for cmd in (("SLOWLOG", "GET", "-2"), ("SLOWLOG", "GET", "x"),
                    ("SLOWLOG", "NOPE"), ("SLOWLOG", "LEN", "1"),
                    ("SLOWLOG", "HELP"), ("SLOWLOG",)):
            self.both(*cmd)

        def pairs(r):  # CONFIG GET's order is Redis's dict order: none
            return sorted(zip(r[0::2], r[1::2]))
        self.assertEqual(pairs(self.a.call("CONFIG", "GET", "slowlog*")),
                         pairs(self.b.call("CONFIG", "GET", "slowlog*")))
        for side in (self.a, self.b):
            self.assertIsInstance(side.call("CONFIG", "SET",
                                            "slowlog-max-len", "x"),
                                  RespError)

    def test_scripts_transactions_and_secrets(self):
        self.run_both([("EVAL", "redis.call('SET', 'e', '1') "
                        "return redis.call('GET', 'e')", "0"),
                       ("MULTI",), ("SET", "m", "1"), ("INCR", "m"),
                       ("EXEC",), ("AUTH", "nouser", "nopass"),
                       ("HELLO", "2", "AUTH", "default", "nopass"),
                       ("CONFIG", "SET", "requirepass", "")])
        got = self.check_same()
        names = [e[3][0].upper() for e in got]
        for want in (b"EVAL", b"MULTI", b"INCR", b"AUTH", b"HELLO"):
            self.assertIn(want, names)
        self.assertNotIn(b"EXEC", names)
        # A script's own commands, from Redis's fake client.
        inner = [e for e in got if e[3] in ([b"SET", b"e", b"1"],
                                            [b"GET", b"e"])]
        self.assertEqual(len(inner), 2)
        self.assertTrue(all(e[4] == b"?:0" and e[5] == b"" for e in inner))
        self.assertIn([b"AUTH", b"(redacted)", b"(redacted)"],
                      [e[3] for e in got])
        self.assertIn([b"CONFIG", b"SET", b"requirepass", b"(redacted)"],
                      [e[3] for e in got])


@fast_cache_only
class TestSlowlogWorkers(unittest.TestCase):
    def test_every_worker_merges_newest_first(self):
        srv = Server(threads=4).start()
        try:
            with srv.raw() as c:
                c.call("CONFIG", "SET", "slowlog-log-slower-than", "0")
                c.call("SLOWLOG", "RESET")
                keys = ["w:%d" % i for i in range(60)]
                for k in keys:
                    c.call("SET", k, "v")
                got = c.call("SLOWLOG", "GET", "-1")
                sets = [e for e in got if e[3][0] == b"SET"]
                self.assertEqual(sorted(e[3][1] for e in sets),
                                 sorted(k.encode() for k in keys))
                ids = [e[0] for e in got]
                self.assertEqual(ids, sorted(ids, reverse=True))
                # In the order they ran: the newest SET is the last key.
                self.assertEqual(sets[0][3][1], keys[-1].encode())
                self.assertEqual(c.call("SLOWLOG", "LEN"), len(got) + 1)
                self.assertEqual(c.call("SLOWLOG", "RESET"), b"OK")
                self.assertLessEqual(c.call("SLOWLOG", "LEN"), 1)
        finally:
            srv.stop_and_check()


if __name__ == "__main__":
    unittest.main()
