"""Introspection without stop-the-world (issue 9): INFO and DBSIZE are
answered from figures each worker publishes, so they do not park the other
workers (INFO stats exclusive_sections counts the parkings: the check that
failed before), while a client still sees its own earlier writes.

The busy-worker test shows it by order, not by time: while one worker runs
a long command (LCS of a 6000-byte string with itself, tens of ms), INFO
and DBSIZE from clients of the other worker come back before it ends. (It
can pass before the change too, when the long command ran for a client of
the other worker: its reply then also waited for the exclusive INFO.)
"""

import random
import select
import unittest

from fcserver import RawClient, RespError, ServerTestCase, fast_cache_only


@fast_cache_only
class TestIntrospectionDoesNotPark(ServerTestCase):
    server_kwargs = {"threads": 2}
    PROBES = 16  # connections spread over both workers by SO_REUSEPORT

    def test_info_and_dbsize_while_a_worker_is_busy(self):
        rng = random.Random(7)
        self.r.set("a", "".join(rng.choice("ab") for _ in range(6000)))
        self.r.set("kept", "1")
        # The workers share one listening socket, so connections need not
        # spread: open them until both workers serve some (CLIENT INFO's
        # worker= field), whichever worker then runs the LCS.
        probes, seen = [], set()
        for _ in range(200):  # bounded
            if len(probes) >= self.PROBES and len(seen) == 2:
                break
            p = self.raw(timeout=30)
            info = p.call("CLIENT", "INFO").decode()
            seen.add(info.split("worker=")[1].split()[0])
            probes.append(p)
        self.assertEqual(len(seen), 2, "connections all on one worker")
        for p in probes:  # connected and served once before the race
            self.assertEqual(p.call("PING"), b"PONG")
        busy = self.raw(timeout=30)
        busy.send_cmd("LCS", "a", "a", "LEN")
        for i, p in enumerate(probes):
            if i % 2:
                p.send_cmd("DBSIZE")
            else:
                p.send_cmd("INFO", "keyspace")
        socks = {p.sock: p for p in probes}
        socks[busy.sock] = busy
        order = []
        pending = set(socks)
        for _ in range(10 * len(socks)):  # bounded
            if not pending:
                break
            ready, _, _ = select.select(list(pending), [], [], 30)
            if not ready:
                break
            for s in ready:
                order.append(s)
                pending.discard(s)
        self.assertEqual(pending, set(), "some replies never came")
        before_busy = order.index(busy.sock)
        self.assertGreater(before_busy, 0,
                           "no INFO/DBSIZE answered while a worker was busy")
        self.assertEqual(busy.read_reply(), 6000)
        for i, p in enumerate(probes):
            r = p.read_reply()
            if i % 2:
                self.assertEqual(r, 2)
            else:
                self.assertIn(b"db0:keys=2,expires=0", r)

    def test_info_and_dbsize_do_not_stop_the_world(self):
        # exclusive_sections counts the times every worker was parked:
        # INFO and DBSIZE must not add any; KEYS (exclusive, as in Redis,
        # where it blocks too) shows that the counter counts.
        for i in range(20):
            self.r.set("k%d" % i, "v")

        def excl():
            return self.r.info("stats")["exclusive_sections"]

        before = excl()
        c = self.raw()
        for _ in range(10):
            self.assertEqual(c.call("DBSIZE"), 20)
            self.assertIn(b"db0:keys=20,", c.call("INFO"))
            self.assertIn(b"used_memory:", c.call("INFO", "memory"))
        self.assertEqual(excl(), before)
        self.assertEqual(len(c.call("KEYS", "*")), 20)
        self.assertEqual(excl(), before + 1)

    def test_scan_runs_on_the_cursor_shard_owner(self):
        # A full SCAN over two workers: every key once, with MATCH and
        # COUNT, and no worker ever parked (each call runs on the owner of
        # the shard in its cursor).
        n = 700
        c = self.raw()
        c.send(b"".join(RawClient.encode("SET", "s%d" % i, "v")
                        for i in range(n)))
        for _ in range(n):
            self.assertEqual(c.read_reply(), b"OK")
        before = self.r.info("stats")["exclusive_sections"]
        seen, cursor, calls = [], b"0", 0
        while True:
            cursor, keys = c.call("SCAN", cursor, "COUNT", 50)
            seen += keys
            calls += 1
            if cursor == b"0" or calls > 100000:  # bounded
                break
        self.assertEqual(sorted(seen), sorted(b"s%d" % i for i in range(n)))
        matched, cursor, calls = [], b"0", 0
        while True:
            cursor, keys = c.call("SCAN", cursor, "MATCH", "s1*")
            matched += keys
            calls += 1
            if cursor == b"0" or calls > 100000:
                break
        self.assertEqual(sorted(matched),
                         sorted(b"s%d" % i for i in range(n)
                                if str(i).startswith("1")))
        self.assertEqual(self.r.info("stats")["exclusive_sections"], before)
        self.assertEqual(c.call("SCAN", "x"), RespError("ERR invalid cursor"))

    def test_randomkey_without_parking(self):
        c = self.raw()
        self.assertIsNone(c.call("RANDOMKEY"))
        n = 200
        c.send(b"".join(RawClient.encode("SET", "r%d" % i, "v")
                        for i in range(n)))
        for _ in range(n):
            self.assertEqual(c.read_reply(), b"OK")
        before = self.r.info("stats")["exclusive_sections"]
        c.send(RawClient.encode("RANDOMKEY") * 300)
        got = [c.read_reply() for _ in range(300)]
        names = set(b"r%d" % i for i in range(n))
        self.assertTrue(set(got) <= names, set(got) - names)
        # Drawn from every worker: 300 draws over all 200 keys give ~155
        # distinct ones; over one worker's ~100 keys they could not pass 100.
        self.assertGreater(len(set(got)), 120)
        self.assertEqual(self.r.info("stats")["exclusive_sections"], before)

    def test_own_writes_are_seen(self):
        # A pipeline of writes to keys of both workers, then DBSIZE and
        # INFO on the same connection: they wait for the writes to be back.
        c = self.raw()
        n = 500
        c.send(b"".join(RawClient.encode("SET", "k%d" % i, "v")
                        for i in range(n)) +
               RawClient.encode("DBSIZE") + RawClient.encode("INFO",
                                                              "keyspace"))
        for _ in range(n):
            self.assertEqual(c.read_reply(), b"OK")
        self.assertEqual(c.read_reply(), n)
        self.assertIn(b"db0:keys=%d," % n, c.read_reply())
        c.send(b"".join(RawClient.encode("DEL", "k%d" % i)
                        for i in range(0, n, 2)) + RawClient.encode("DBSIZE"))
        for _ in range(0, n, 2):
            self.assertEqual(c.read_reply(), 1)
        self.assertEqual(c.read_reply(), n // 2)
        self.assertEqual(c.call("FLUSHALL"), b"OK")
        self.assertEqual(c.call("DBSIZE"), 0)


if __name__ == "__main__":
    unittest.main()
