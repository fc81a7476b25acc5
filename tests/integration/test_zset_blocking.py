"""BZPOPMIN, BZPOPMAX and BZMPOP against both servers: served at once,
timeouts and their errors, woken by a ZADD from another connection (four
workers: waiter and writer sit on different ones for most keys), FIFO
among waiters, several keys, WRONGTYPE, MULTI, and a waiter that
disconnects."""

import time
import unittest

from fcserver import RespError, ServerTestCase

WRONGTYPE = ("WRONGTYPE Operation against a key holding the wrong kind of "
             "value")


class TestZsetBlocking(ServerTestCase):
    server_kwargs = {"threads": 4}

    def setUp(self):
        super().setUp()
        self.c = self.raw()
        self.call = self.c.call
        self.call("FLUSHALL")

    def waiter(self, *cmd):
        c = self.raw()
        c.send_cmd(*cmd)
        return c

    def settle(self):
        time.sleep(0.15)  # the waiter's request reached the server

    def test_served_at_once(self):
        self.call("ZADD", "z", 1, "a", 2, "b", 3, "c")
        self.assertEqual(self.call("BZPOPMIN", "none", "z", 0),
                         [b"z", b"a", b"1"])
        self.assertEqual(self.call("BZPOPMAX", "z", 0), [b"z", b"c", b"3"])
        self.assertEqual(self.call("BZMPOP", 0, 2, "none", "z", "MIN",
                                   "COUNT", 5), [b"z", [[b"b", b"2"]]])
        self.assertEqual(self.call("EXISTS", "z"), 0)

    def test_timeout_and_errors(self):
        t0 = time.monotonic()
        self.assertIsNone(self.call("BZPOPMIN", "z", "0.1"))
        el = time.monotonic() - t0
        self.assertTrue(0.08 <= el < 2.0, el)
        self.c.send_cmd("BZPOPMAX", "z", "0.05")
        self.assertEqual(self.c.read_raw_line(), b"*-1")
        self.c.send_cmd("BZMPOP", "0.05", 1, "z", "MAX")
        self.assertEqual(self.c.read_raw_line(), b"*-1")
        self.assertErr(self.call("BZPOPMIN", "z", "-1"),
                       "ERR timeout is negative")
        self.assertErr(self.call("BZPOPMIN", "z", "abc"),
                       "ERR timeout is not a float or out of range")
        self.assertErr(self.call("BZMPOP", 0, 0, "z", "MIN"),
                       "ERR numkeys should be greater than 0")
        self.assertErr(self.call("BZMPOP", 0, 1, "z", "UP"),
                       "ERR syntax error")
        self.assertErr(self.call("BZMPOP", 0, 1, "z", "MIN", "COUNT", 0),
                       "ERR count should be greater than 0")
        self.call("SET", "s", "x")
        self.assertErr(self.call("BZPOPMIN", "s", 0), WRONGTYPE)
        self.assertErr(self.call("BZMPOP", 0, 1, "s", "MIN"), WRONGTYPE)

    def test_woken_by_zadd_on_other_connections(self):
        for i in range(8):  # keys on every worker
            k = "wake:%d" % i
            w = self.waiter("BZPOPMIN", k, 0)
            self.settle()
            self.assertEqual(self.call("ZADD", k, 2, "b", 1, "a"), 2)
            self.assertEqual(w.read_reply(), [k.encode(), b"a", b"1"])
            self.assertEqual(self.call("ZRANGE", k, 0, -1), [b"b"])

    def test_several_keys_and_bzmpop(self):
        keys = ["mk:%d" % i for i in range(5)]
        w = self.waiter("BZPOPMAX", *keys, 5)
        self.settle()
        self.call("ZADD", keys[3], 1, "x", 9, "y")
        self.assertEqual(w.read_reply(), [keys[3].encode(), b"y", b"9"])
        w = self.waiter("BZMPOP", 5, 3, *keys[:3], "MIN", "COUNT", 2)
        self.settle()
        self.call("ZADD", keys[1], 3, "p", 1, "q", 2, "r")
        self.assertEqual(w.read_reply(),
                         [keys[1].encode(), [[b"q", b"1"], [b"r", b"2"]]])
        self.assertEqual(self.call("ZRANGE", keys[1], 0, -1), [b"p"])

    def test_fifo_three_waiters(self):
        ws = []
        for _ in range(3):
            ws.append(self.waiter("BZPOPMIN", "fifo", 10))
            self.settle()
        self.assertEqual(self.call("ZADD", "fifo", 1, "a", 2, "b", 3, "c"), 3)
        self.assertEqual([w.read_reply() for w in ws],
                         [[b"fifo", b"a", b"1"], [b"fifo", b"b", b"2"],
                          [b"fifo", b"c", b"3"]])
        self.assertEqual(self.call("EXISTS", "fifo"), 0)

    def test_list_push_does_not_serve_a_zset_waiter(self):
        w = self.waiter("BZPOPMIN", "k", "0.3")
        self.settle()
        self.call("RPUSH", "k", "a")  # another type: keeps waiting
        self.assertIsNone(w.read_reply())
        self.assertEqual(self.call("LLEN", "k"), 1)

    def test_in_multi_it_does_not_block(self):
        self.assertEqual(self.call("MULTI"), b"OK")
        self.assertEqual(self.call("BZPOPMIN", "z", 0), b"QUEUED")
        self.assertEqual(self.call("BZMPOP", 0, 1, "z", "MIN"), b"QUEUED")
        self.assertEqual(self.call("EXEC"), [None, None])

    def test_disconnected_waiter_takes_nothing(self):
        w = self.waiter("BZPOPMIN", "gone", 0)
        self.settle()
        w.close()
        time.sleep(0.1)
        w2 = self.waiter("BZPOPMIN", "gone", 5)
        self.settle()
        self.call("ZADD", "gone", 1, "a")
        self.assertEqual(w2.read_reply(), [b"gone", b"a", b"1"])
        self.assertEqual(self.call("EXISTS", "gone"), 0)


if __name__ == "__main__":
    unittest.main()
