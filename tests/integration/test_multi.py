"""Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH with Redis 7.0's
semantics (exact replies), run against fast-cache with one and with several
workers, and against redis-server as the reference (FC_SERVER=redis-server).
"""

import threading
import time
import unittest

from fcserver import (Null, RespError, ServerTestCase, fast_cache_only,
                      is_redis)

EXECABORT = "EXECABORT Transaction discarded because of previous errors."


class MultiChecks:
    def setUp(self):
        super().setUp()
        self.c = self.raw()
        self.call = self.c.call

    def test_queue_and_exec(self):
        self.assertEqual(self.call("MULTI"), b"OK")
        self.assertEqual(self.call("SET", "a", "1"), b"QUEUED")
        self.assertEqual(self.call("INCR", "a"), b"QUEUED")
        self.assertEqual(self.call("GET", "a"), b"QUEUED")
        self.assertEqual(self.call("SET", "a", "x"), b"QUEUED")
        self.assertEqual(self.call("INCR", "a"), b"QUEUED")
        # Nothing ran yet: another client sees no key.
        self.assertIsNone(self.r.get("a"))
        got = self.call("EXEC")
        self.assertEqual(got[:4], [b"OK", 2, b"2", b"OK"])
        self.assertErr(got[4], "ERR value is not an integer or out of range")
        self.assertEqual(self.r.get("a"), b"x")
        # Out of the transaction again.
        self.assertEqual(self.call("GET", "a"), b"x")

    def test_client_list_shows_the_transaction(self):
        me = self.call("CLIENT", "ID")
        self.call("MULTI")
        self.call("SET", "a", "1")
        self.call("GET", "a")
        with self.server.raw() as other:
            lines = other.call("CLIENT", "LIST").decode().splitlines()
        line = [ln for ln in lines if ln.startswith("id=%d " % me)][0]
        self.assertIn(" flags=x ", line)
        self.assertIn(" multi=2 ", line)
        self.call("DISCARD")
        with self.server.raw() as other:
            lines = other.call("CLIENT", "LIST").decode().splitlines()
        line = [ln for ln in lines if ln.startswith("id=%d " % me)][0]
        self.assertIn(" flags=N ", line)
        self.assertIn(" multi=-1 ", line)

    def test_errors_outside_multi(self):
        self.assertErr(self.call("EXEC"), "ERR EXEC without MULTI")
        self.assertErr(self.call("DISCARD"), "ERR DISCARD without MULTI")
        self.assertEqual(self.call("UNWATCH"), b"OK")

    def test_nested_multi_and_watch_inside_do_not_abort(self):
        self.assertEqual(self.call("MULTI"), b"OK")
        self.assertErr(self.call("MULTI"), "ERR MULTI calls can not be nested")
        self.assertErr(self.call("WATCH", "a"),
                       "ERR WATCH inside MULTI is not allowed")
        self.assertEqual(self.call("SET", "a", "1"), b"QUEUED")
        self.assertEqual(self.call("EXEC"), [b"OK"])

    def test_queueing_errors_abort_exec(self):
        for bad in (("NOSUCHCMD", "x"), ("SET", "a"), ("SHUTDOWN",)):
            self.assertEqual(self.call("MULTI"), b"OK")
            self.assertEqual(self.call("SET", "a", "1"), b"QUEUED")
            r = self.call(*bad)
            self.assertIsInstance(r, RespError)
            if bad[0] == "SHUTDOWN":
                self.assertErr(r, "ERR Command not allowed inside a "
                                  "transaction")
            self.assertErr(self.call("EXEC"), EXECABORT)
            self.assertIsNone(self.r.get("a"))
            self.assertErr(self.call("EXEC"), "ERR EXEC without MULTI")

    def test_discard(self):
        self.r.set("w", "0")
        self.assertEqual(self.call("WATCH", "w"), b"OK")
        self.assertEqual(self.call("MULTI"), b"OK")
        self.assertEqual(self.call("SET", "a", "1"), b"QUEUED")
        self.assertEqual(self.call("DISCARD"), b"OK")
        self.assertIsNone(self.r.get("a"))
        # DISCARD also unwatched: a later write does not abort.
        self.r.set("w", "1")
        self.assertEqual(self.call("MULTI"), b"OK")
        self.assertEqual(self.call("SET", "a", "2"), b"QUEUED")
        self.assertEqual(self.call("EXEC"), [b"OK"])

    def test_watch_broken_by_other_client(self):
        self.r.set("k", "1")
        self.assertEqual(self.call("WATCH", "k"), b"OK")
        self.r.set("k", "2")
        self.assertEqual(self.call("MULTI"), b"OK")
        self.assertEqual(self.call("SET", "k", "3"), b"QUEUED")
        self.assertIsNone(self.call("EXEC"))
        self.assertEqual(self.r.get("k"), b"2")
        # The failed EXEC unwatched: the next one runs.
        self.assertEqual(self.call("MULTI"), b"OK")
        self.assertEqual(self.call("SET", "k", "3"), b"QUEUED")
        self.assertEqual(self.call("EXEC"), [b"OK"])

    def test_watch_same_value_rewrite_aborts(self):
        self.r.set("k", "v")
        self.assertEqual(self.call("WATCH", "k"), b"OK")
        self.r.set("k", "v")
        self.call("MULTI")
        self.call("GET", "k")
        self.assertIsNone(self.call("EXEC"))

    def test_watch_missing_key_created_aborts(self):
        self.assertEqual(self.call("WATCH", "nokey"), b"OK")
        self.r.set("nokey", "1")
        self.call("MULTI")
        self.call("PING")
        self.assertIsNone(self.call("EXEC"))

    def test_watch_untouched_key_execs(self):
        self.r.set("k", "1")
        self.assertEqual(self.call("WATCH", "k", "other"), b"OK")
        self.r.set("unrelated", "1")
        self.call("MULTI")
        self.call("INCR", "k")
        self.assertEqual(self.call("EXEC"), [2])

    def test_watch_broken_by_del_expire_rename_flush(self):
        writes = [
            ("DEL", "k"),
            ("EXPIRE", "k", "100"),
            ("RENAME", "k", "k2"),
            ("RENAME", "src", "k"),
            ("FLUSHDB",),
            ("FLUSHALL",),
            ("INCR", "k"),
            ("APPEND", "k", "x"),
            ("MSET", "z1", "1", "k", "2", "z2", "3"),
        ]
        for cmd in writes:
            self.r.set("k", "1")
            self.r.set("src", "s")
            self.assertEqual(self.call("WATCH", "k"), b"OK")
            self.r.execute_command(*cmd)
            self.call("MULTI")
            self.call("SET", "k", "mine")
            self.assertIsNone(self.call("EXEC"), cmd)
            self.assertNotEqual(self.r.get("k"), b"mine", cmd)

    def test_flush_does_not_break_watch_on_missing_key(self):
        self.assertEqual(self.call("WATCH", "nokey"), b"OK")
        self.r.flushall()
        self.call("MULTI")
        self.call("PING")
        self.assertEqual(self.call("EXEC"), [b"PONG"])

    def test_watch_broken_by_expiry(self):
        self.r.set("k", "1", px=100)
        self.assertEqual(self.call("WATCH", "k"), b"OK")
        time.sleep(0.25)
        self.call("MULTI")
        self.call("PING")
        self.assertIsNone(self.call("EXEC"))

    def test_watch_stale_key_does_not_fail(self):
        self.r.set("k", "1", px=50)
        time.sleep(0.15)  # expired, maybe not yet removed
        self.assertEqual(self.call("WATCH", "k"), b"OK")
        time.sleep(0.15)  # active expiry removes it meanwhile
        self.call("MULTI")
        self.call("PING")
        self.assertEqual(self.call("EXEC"), [b"PONG"])

    def test_unwatch(self):
        self.r.set("k", "1")
        self.call("WATCH", "k")
        self.assertEqual(self.call("UNWATCH"), b"OK")
        self.r.set("k", "2")
        self.call("MULTI")
        self.call("GET", "k")
        self.assertEqual(self.call("EXEC"), [b"2"])

    def test_reset_leaves_multi(self):
        self.call("MULTI")
        self.call("SET", "a", "1")
        self.assertEqual(self.call("RESET"), b"RESET")
        self.assertErr(self.call("EXEC"), "ERR EXEC without MULTI")
        self.assertIsNone(self.r.get("a"))

    def test_redis_py_pipeline_transaction(self):
        p = self.r.pipeline(transaction=True)
        p.set("a", "1").incr("a").mget("a", "b", "c").set("b", "2")
        self.assertEqual(p.execute(), [True, 2, [b"2", None, None], True])
        self.assertEqual(self.r.get("b"), b"2")

    def test_redis_py_watch_cas(self):
        self.r.set("counter", "0")
        with self.r.pipeline() as p:
            p.watch("counter")
            v = int(p.get("counter"))
            self.r.incr("counter")  # someone else
            p.multi()
            p.set("counter", v + 10)
            with self.assertRaises(Exception) as cm:
                p.execute()
            self.assertIn("Watch", type(cm.exception).__name__)
        self.assertEqual(self.r.get("counter"), b"1")

    def test_resp3_aborted_exec_is_null(self):
        self.call("HELLO", "3")
        self.r.set("k", "1")
        self.call("WATCH", "k")
        self.r.set("k", "2")
        self.call("MULTI")
        self.call("GET", "k")
        self.assertIsInstance(self.call("EXEC"), Null)


class TestMultiOneWorker(MultiChecks, ServerTestCase):
    server_kwargs = {"threads": 1}


class TestMultiTwoWorkers(MultiChecks, ServerTestCase):
    server_kwargs = {"threads": 2}


class TestMultiFourWorkers(MultiChecks, ServerTestCase):
    # A fixed hash seed: WATCH versions are per bucket (2^18 of them), so
    # with a random seed the 200 unrelated writes below hit one of the 64
    # watched buckets about 5% of the time (a false abort the design
    # allows, TestMultiFalseAborts bounds its rate). With this seed they
    # do not, so the test says the same thing every run.
    server_kwargs = {"threads": 4, "extra_args": (
        [] if is_redis() else ["--pin-threads", "no", "--hash-seed", "7"])}

    def test_exec_is_atomic_across_workers(self):
        """Concurrent transactions moving units between keys owned by
        different workers: a reader never sees a total other than the
        invariant, and no unit is lost."""
        keys = ["acct:%d" % i for i in range(16)]
        self.r.mset({k: 100 for k in keys})
        stop = threading.Event()
        errors = []

        def mover(seed):
            c = self.server.raw()
            try:
                i = seed
                while not stop.is_set():
                    a, b = keys[i % 16], keys[(i * 7 + 3) % 16]
                    i += 1
                    if a == b:
                        continue
                    c.send(b"".join(c.encode(*x) for x in (
                        ("MULTI",), ("DECRBY", a, 1), ("INCRBY", b, 1),
                        ("EXEC",))))
                    for _ in range(3):
                        c.read_reply()
                    r = c.read_reply()
                    if not isinstance(r, list) or len(r) != 2:
                        errors.append(r)
            finally:
                c.close()

        def reader():
            c = self.server.raw()
            try:
                while not stop.is_set():
                    c.send(b"".join(c.encode(*x) for x in (
                        ("MULTI",), ("MGET",) + tuple(keys), ("EXEC",))))
                    c.read_reply()
                    c.read_reply()
                    vals = c.read_reply()[0]
                    total = sum(int(v) for v in vals)
                    if total != 1600:
                        errors.append(("total", total))
                    # MGET alone is scattered but MULTI makes it one cut
            finally:
                c.close()

        ts = [threading.Thread(target=mover, args=(s,)) for s in (1, 5, 9)]
        ts.append(threading.Thread(target=reader))
        for t in ts:
            t.start()
        time.sleep(2.0)
        stop.set()
        for t in ts:
            t.join(30)
        self.assertEqual(errors, [])
        self.assertEqual(sum(int(v) for v in self.r.mget(keys)), 1600)

    def test_watch_broken_by_write_from_another_worker(self):
        """Many keys, so the watched ones live on every worker and the
        writers' connections land on other workers."""
        keys = ["wk:%d" % i for i in range(64)]
        self.r.mset({k: 0 for k in keys})
        self.assertEqual(self.call("WATCH", *keys), b"OK")
        for _ in range(4):
            with self.server.raw() as other:
                other.call("INCR", keys[37])
        self.call("MULTI")
        self.call("SET", keys[0], "mine")
        self.assertIsNone(self.call("EXEC"))
        # Unrelated writes from other connections do not abort.
        self.assertEqual(self.call("WATCH", *keys), b"OK")
        for i in range(200):
            self.r.set("other:%d" % i, i)
        self.call("MULTI")
        self.call("SET", keys[0], "mine")
        self.assertEqual(self.call("EXEC"), [b"OK"])


@fast_cache_only
class TestMultiFalseAborts(ServerTestCase):
    """Key-level WATCH: writes to other keys must rarely abort."""
    server_kwargs = {"threads": 2}

    def test_unrelated_load_rarely_aborts(self):
        c = self.raw()
        aborted = 0
        runs = 200
        for i in range(runs):
            c.call("WATCH", "mine")
            pipe = b"".join(c.encode("SET", "load:%d:%d" % (i, j), j)
                            for j in range(100))
            c.send(pipe)
            with self.server.raw() as w:
                w.send(pipe)
                for _ in range(100):
                    w.read_reply()
            for _ in range(100):
                c.read_reply()
            c.call("MULTI")
            c.call("INCR", "mine")
            if c.call("EXEC") is None:
                aborted += 1
        # 200 x 200 writes over 2^18 buckets: ~15% of a chance of one abort.
        self.assertLessEqual(aborted, 2)
        self.assertEqual(int(self.r.get("mine")), runs - aborted)


if __name__ == "__main__":
    unittest.main()
