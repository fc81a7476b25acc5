"""fast-cache only: persistence under SIGKILL. Concurrent clients record
every acknowledged write while the server is killed mid-load; after a
restart on the same data directory every acknowledged write must be there
(fsync=always) or all but the last interval's (fsync=interval), and no key
or value that was never written may appear. Also: SIGKILL during a
snapshot, a full disk and -LOADING while recovery runs (an LD_PRELOAD
fault injector, faultfs.c, fails WAL writes or holds recovery in open())."""

import os
import subprocess
import tempfile
import threading
import time
import unittest

from fcserver import ConnectionClosed, RawClient, RespError, fast_cache_only
from persistutil import (PersistCase, dump, info, pipeline, wait_info,
                         write_file)

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENTS = 3
OPS_PER_CLIENT = 1000  # each client stops after this many (bounded load)
KILL_AFTER = 1200       # acknowledged ops in all before the SIGKILL


class Writer(threading.Thread):
    """One connection writing its own keys. history[key] is the list of
    states (value or None, has_ttl) the key went through, each with the
    monotonic time it was acknowledged (None: sent, never answered)."""

    def __init__(self, port, tid, counter, pace=0.0):
        super().__init__(daemon=True)
        self.port, self.tid, self.counter = port, tid, counter
        self.pace = pace  # seconds between ops
        self.history = {}
        self.errors = []
        self.finished = False

    def state(self, k):
        h = self.history.get(k)
        return h[-1][0] if h else (None, False)

    def ops(self):
        t = self.tid
        for i in range(OPS_PER_CLIENT):
            k = b"c%d:k%d" % (t, i)
            yield ("SET", k, b"v%d:%d" % (t, i))
            if i % 5 == 4:
                yield ("INCR", b"c%d:n%d" % (t, i % 7))
            if i % 7 == 6:
                yield ("APPEND", b"c%d:k%d" % (t, i - 1), b"+a%d" % i)
            if i % 11 == 10:
                yield ("EXPIRE", b"c%d:k%d" % (t, i - 2), 100000)
            if i % 13 == 12:
                yield ("DEL", b"c%d:k%d" % (t, i - 3))

    def apply(self, op, prev):
        """The state after op (what its reply should say, too)."""
        cmd = op[0]
        v, ttl = prev
        if cmd == "SET":
            return (op[2], False), b"OK"
        if cmd == "INCR":
            n = int(v or b"0") + 1
            return (str(n).encode(), ttl), n
        if cmd == "APPEND":
            nv = (v or b"") + op[2]
            return (nv, ttl), len(nv)
        if cmd == "EXPIRE":
            return (v, v is not None), 1 if v is not None else 0
        if cmd == "DEL":
            return (None, False), 1 if v is not None else 0
        raise AssertionError(cmd)

    def run(self):
        try:
            c = RawClient(self.port, timeout=30)
        except OSError as e:
            self.errors.append("connect: %r" % e)
            return
        try:
            for op in self.ops():
                k = op[1]
                new, want = self.apply(op, self.state(k))
                h = self.history.setdefault(k, [((None, False), 0.0)])
                h.append((new, None))
                try:
                    r = c.call(*op)
                except (OSError, ConnectionClosed):
                    return  # killed: this op stays unacknowledged
                if r != want:
                    self.errors.append("%r -> %r, expected %r" % (op, r, want))
                    return
                h[-1] = (new, time.monotonic())
                self.counter.append(1)
                if self.pace:
                    time.sleep(self.pace)
            self.finished = True
        finally:
            c.close()


def check_recovered(tc, writers, got, cutoff):
    """got: key -> (value, pexpiretime). Each key's state must be one it
    went through, no older than its last state acknowledged by `cutoff`."""
    known = {}
    for w in writers:
        known.update(w.history)
    stray = set(got) - set(known)
    tc.assertFalse(stray, "keys never written: %r" % sorted(stray)[:10])
    lost = []
    required = 0
    for k, h in known.items():
        v, t = got.get(k, (None, -2))
        actual = (v, t >= 0) if v is not None else (None, False)
        need = 0
        for j, (_, at) in enumerate(h):
            if at is not None and at <= cutoff:
                need = j
        required += need > 0
        allowed = [s for s, _ in h[need:]]
        if actual not in allowed:
            lost.append((k, actual, h[need:]))
    tc.assertFalse(lost, "%d keys in a state never acknowledged or older "
                   "than allowed; first: %r" % (len(lost), lost[:5]))
    return required


@fast_cache_only
class TestCrash(PersistCase, unittest.TestCase):
    def crash_run(self, bgsave=False, pace=0.0, run_for=0.0, **kw):
        """Clients write until KILL_AFTER acks (and run_for seconds) have
        passed, then SIGKILL. Returns the writers and the kill time."""
        s = self.srv(**kw)
        counter = []
        writers = [Writer(s.port, t, counter, pace) for t in range(CLIENTS)]
        if bgsave:  # enough keys that the snapshot overlaps the writes
            pre = Writer(s.port, -1, counter)
            with s.raw(timeout=60) as c:
                r = pipeline(c, [("SET", b"pre:%d" % i, b"p%d" % i)
                                 for i in range(50000)])
            self.assertEqual(r, [b"OK"] * 50000)
            pre.history = {b"pre:%d" % i: [((None, False), 0.0),
                                           ((b"p%d" % i, False), 0.0)]
                           for i in range(50000)}
        for w in writers:
            w.start()
        t0 = time.monotonic()
        deadline = t0 + 120
        if bgsave:  # a snapshot cut while every client writes
            while len(counter) < KILL_AFTER // 3 and \
                    time.monotonic() < deadline:
                time.sleep(0.002)
            with s.raw() as c:
                self.assertEqual(c.call("BGSAVE"),
                                 b"Background saving started")
                wait_info(c, "rdb_saves", "1")
            self.assertTrue(any(w.is_alive() for w in writers))
        while (len(counter) < KILL_AFTER or
               time.monotonic() - t0 < run_for) and \
                time.monotonic() < deadline and \
                any(w.is_alive() for w in writers):
            time.sleep(0.002)
        kill_at = time.monotonic()
        s.kill9()
        for w in writers:
            w.join(60)
        for w in writers:
            self.assertEqual(w.errors, [], s.saved_log)
        self.assertGreaterEqual(len(counter), KILL_AFTER)
        self.assertFalse(all(w.finished for w in writers),
                         "clients finished before the kill: not mid-load")
        return writers + ([pre] if bgsave else []), kill_at

    def test_sigkill_fsync_always_keeps_every_acked_write(self):
        writers, kill_at = self.crash_run(threads=2, fsync="always")
        s = self.srv(threads=2, fsync="always")
        with s.raw() as c:
            got = dump(c)
            self.assertEqual(c.call("DBSIZE"), len(got))
            self.assertEqual(info(c)["recovered_keys"], str(len(got)))
        # Every reply read (even one read after the kill) was durable.
        check_recovered(self, writers, got, float("inf"))

    def test_sigkill_after_bgsave_under_load(self):
        writers, _ = self.crash_run(bgsave=True, threads=2, fsync="always")
        self.assertEqual(len(self.files("snap-", ".fcs")), 1)
        s = self.srv(threads=2, fsync="always")
        with s.raw() as c:
            got = dump(c)
            self.assertGreater(int(info(c)["recovered_snapshot_keys"]), 0)
        check_recovered(self, writers, got, float("inf"))

    def test_sigkill_fsync_interval_loses_at_most_the_interval(self):
        conf = write_file(os.path.join(self.dir, "..",
                                       os.path.basename(self.dir) + ".toml"),
                          "[persistence]\nfsync = \"interval\"\n"
                          "fsync_interval_ms = 100\n")
        self.addCleanup(os.unlink, conf)
        # Paced (about 2 ms between a client's ops) so that the load runs
        # well past the slack before the kill.
        writers, kill_at = self.crash_run(threads=2, fsync=None, pace=0.002,
                                          run_for=2.5,
                                          extra_args=["--config", conf])
        s = self.srv(threads=2, fsync=None, extra_args=["--config", conf])
        with s.raw() as c:
            self.assertEqual(info(c)["wal_fsync"], "interval")
            got = dump(c)
        # 100 ms interval + 1 s of slack for a loaded machine.
        required = check_recovered(self, writers, got, kill_at - 1.1)
        self.assertGreater(required, 200)  # the check was not vacuous

    def test_sigkill_during_snapshot(self):
        n = 200000
        s = self.srv(threads=2, fsync="always")
        with s.raw(timeout=60) as c:
            r = pipeline(c, [("SET", b"key:%d" % i, b"val:%d" % i)
                             for i in range(n)])
            self.assertEqual(r, [b"OK"] * n)
            self.assertEqual(c.call("BGSAVE"), b"Background saving started")
            s.kill9()
        # The snapshot is cut short (in trials its .tmp was always left
        # behind); the assertions below hold either way.
        s = self.srv(threads=2, fsync="always")
        self.assertEqual(self.files("snap-", ".tmp"), [])
        self.check_keys(s, n)
        s.shutdown()
        self.assertTrue(self.files("snap-", ".fcs"), os.listdir(self.dir))
        s = self.srv(threads=2, fsync="always")
        with s.raw() as c:
            self.assertEqual(info(c)["recovered_snapshot_keys"], str(n))
        self.check_keys(s, n)

    def check_keys(self, s, n):
        with s.raw(timeout=60) as c:
            self.assertEqual(c.call("DBSIZE"), n)
            want = [b"val:%d" % i for i in range(n)]
            got = []
            for i in range(0, n, 1000):
                got += c.call("MGET", *[b"key:%d" % j
                                        for j in range(i, min(n, i + 1000))])
            self.assertEqual(got, want)


@fast_cache_only
class TestFaultInjection(PersistCase, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="fc-faultfs-")
        cls.lib = os.path.join(cls.tmp, "faultfs.so")
        subprocess.run(["cc", "-O1", "-shared", "-fPIC", "-o", cls.lib,
                        os.path.join(HERE, "faultfs.c"), "-ldl"], check=True,
                       timeout=120)

    @classmethod
    def tearDownClass(cls):
        subprocess.run(["rm", "-rf", cls.tmp])

    def test_enospc_misconf_then_recovers(self):
        self.enospc("always")

    def test_enospc_misconf_then_recovers_fsync_interval(self):
        self.enospc("interval")

    def enospc(self, fsync):
        ctl = os.path.join(self.tmp, "fail-%d" % os.getpid())
        env = {"LD_PRELOAD": self.lib, "FAULT_FILE": ctl}
        s = self.srv(threads=2, fsync=fsync, env=env)
        acked = {}
        with s.raw() as c, s.raw(timeout=30) as w:
            for i in range(200):
                self.assertEqual(c.call("SET", "a%d" % i, "x%d" % i), b"OK")
                acked[b"a%d" % i] = b"x%d" % i
            open(ctl, "w").close()
            self.addCleanup(lambda: os.path.exists(ctl) and os.unlink(ctl))
            # The first write after the fault may be held until the disk
            # accepts it again; send it without waiting for its reply.
            w.send_cmd("SET", "held", "h")
            wait_info(c, "aof_last_write_status", "err", timeout=20)
            r = c.call("SET", "probe", "p")
            self.assertIsInstance(r, RespError)
            self.assertTrue(r.startswith("MISCONF"), r)
            self.assertEqual(c.call("GET", "a7"), b"x7")
            self.assertEqual(c.call("DBSIZE") >= 200, True)
            inf = info(c)
            self.assertEqual(inf["aof_last_write_status"], "err")
            self.assertIn("No space left", inf.get("wal_last_error", ""))
            self.assertGreater(int(inf["wal_write_errors"]), 0)
            os.unlink(ctl)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                r = c.call("SET", "after", "ok")
                if r == b"OK":
                    break
                time.sleep(0.1)
            self.assertEqual(r, b"OK")
            acked[b"after"] = b"ok"
            self.assertEqual(info(c)["aof_last_write_status"], "ok")
            # The SET sent as the fault began: with fsync=always it waited
            # for the disk and succeeds; with interval the failing fsync
            # may have come first (then it was refused and must not exist).
            r = w.read_reply()
            if fsync == "always" or r == b"OK":
                self.assertEqual(r, b"OK")
                acked[b"held"] = b"h"
            else:
                self.assertTrue(r.startswith("MISCONF"), r)
            for i in range(100):
                self.assertEqual(c.call("SET", "b%d" % i, "y%d" % i), b"OK")
                acked[b"b%d" % i] = b"y%d" % i
            if fsync == "interval":
                # Writes acked in the last interval may be lost by design
                # (measured: the writer can lag some 50 records behind on
                # a loaded box); wait well past it, then nothing may be.
                time.sleep(1.5)
            inf = info(c)
        s.kill9()
        diag = "INFO before the kill: %r\nlog:\n%s\nfiles: %r" % (
            {k: v for k, v in inf.items() if k.startswith(("wal", "aof"))},
            s.saved_log, [(f, os.path.getsize(self.path(f)))
                          for f in sorted(os.listdir(self.dir))])
        s = self.srv(threads=2, fsync="always")
        with s.raw() as c:
            got = {k: v for k, (v, _) in dump(c).items()}
        self.assertEqual(sorted(set(acked) - set(got)), [], diag)
        self.assertEqual(sorted(set(got) - set(acked)), [], diag)
        self.assertEqual(got, acked)

    def test_loading_answers_loading(self):
        s = self.srv(threads=2, fsync="always")
        with s.raw() as c:
            want = {k: v for k, v in
                    ((b"k%d" % i, b"v%d" % i) for i in range(100))}
            pipeline(c, [("SET", k, v) for k, v in want.items()])
        s.kill9()
        held = os.path.join(self.tmp, "hold-%d" % os.getpid())
        open(held, "w").close()
        self.addCleanup(lambda: os.path.exists(held) and os.unlink(held))
        s = self.srv(start=False, threads=2, fsync="always",
                     env={"LD_PRELOAD": self.lib, "HOLD_FILE": held})
        s.start(loaded=False)  # recovery now waits in open()
        with s.raw() as c:
            loading = "LOADING fast-cache is loading the dataset in memory"
            for cmd in (("GET", "k1"), ("SET", "x", "1"), ("DBSIZE",),
                        ("BGSAVE",)):
                self.assertEqual(c.call(*cmd), RespError(loading), cmd)
            inf = info(c)
            self.assertEqual(inf["loading"], "1")
            self.assertIn("loading_start_time", inf)
            self.assertEqual(c.call("PING"), b"PONG")
            os.unlink(held)
            wait_info(c, "loading", "0")
            self.assertEqual(c.call("GET", "k1"), b"v1")
            self.assertEqual(c.call("DBSIZE"), 100)
            got = {k: v for k, (v, _) in dump(c).items()}
        self.assertEqual(got, want)


if __name__ == "__main__":
    unittest.main()
