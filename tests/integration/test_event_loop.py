"""The event loop's own behaviour: workers that sleep without a timer must
still wake for whatever needs them (cross-worker requests, keys given a TTL
by another worker's exclusive command, the ops/sec sampling until it has
decayed), the io_uring ring flavours, thread pinning, and CLIENT LIST's
command name for subcommands."""

import os
import subprocess
import tempfile
import time
import unittest

from fcserver import (RawClient, Server, ServerTestCase, fast_cache_only,
                      server_path)

WAIT = 10.0  # generous: only an upper bound for things that must happen


def wait_until(pred, what, timeout=WAIT, every=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(every)
    raise AssertionError("timed out waiting until " + what)


def wait_ops_decayed(c):
    """Until INFO shows instantaneous_ops_per_sec 0. Asked once a second:
    INFO is itself a command, and one per 100 ms sample averages to 0."""
    wait_until(lambda: info_field(c, "stats",
                                  "instantaneous_ops_per_sec") == "0",
               "instantaneous_ops_per_sec decays to 0", timeout=30, every=1.0)


def info_field(c, section, name):
    text = c.call("INFO", section)
    for line in text.decode().splitlines():
        if line.startswith(name + ":"):
            return line.split(":", 1)[1]
    raise AssertionError("INFO %s has no %s" % (section, name))


def client_fields(line):
    return dict(f.split("=", 1) for f in line.split(" ") if "=" in f)


class TestClientListCommandName(ServerTestCase):
    """Redis 7 names a subcommand parent|sub in CLIENT LIST's cmd=."""

    def test_cmd_field(self):
        a, b = self.raw(), self.raw()
        self.assertIsInstance(b.call("CLIENT", "ID"), int)
        self.assertEqual(a.call("GET", "nokey"), None)
        rows = a.call("CLIENT", "LIST").decode().strip().split("\n")
        by_cmd = sorted(client_fields(r)["cmd"] for r in rows)
        # a's own row shows the command running; b's its last one.
        self.assertIn("client|list", by_cmd)
        self.assertIn("client|id", by_cmd)
        a.call("SET", "k", "v")
        rows = b.call("CLIENT", "LIST").decode().strip().split("\n")
        self.assertIn("set", [client_fields(r)["cmd"] for r in rows])


@fast_cache_only
class TestIdleWorkersWake(ServerTestCase):
    server_kwargs = {"threads": 2}

    def test_cross_worker_after_long_idle(self):
        c = self.raw()
        keys = ["idle:%d" % i for i in range(64)]  # spread over both workers
        args = []
        for i, k in enumerate(keys):
            args += [k, str(i)]
        self.assertEqual(c.call("MSET", *args), b"OK")
        # Long enough for the ops/sec samples to decay: both workers then
        # sleep with no timer at all, and only a message can wake them.
        wait_ops_decayed(c)
        fresh = self.raw()
        self.assertEqual(fresh.call("MGET", *keys),
                         [str(i).encode() for i in range(64)])
        for i, k in enumerate(keys):
            fresh.send(RawClient.encode("GET", k))
        for i in range(64):
            self.assertEqual(fresh.read_reply(), str(i).encode())

    def test_ops_per_sec_seen_then_decays(self):
        c = self.raw()
        end = time.monotonic() + 0.4
        while time.monotonic() < end:
            c.call("PING")
        self.assertGreater(
            int(info_field(c, "stats", "instantaneous_ops_per_sec")), 0)
        wait_ops_decayed(c)

    def test_clock_read_after_a_long_sleep(self):
        # A worker that slept with no timer must not run the first commands
        # with the clock of before its sleep: these TTLs would be over at
        # once.
        c = self.raw()
        wait_ops_decayed(c)
        time.sleep(2.5)
        keys = ["fresh:%d" % i for i in range(16)]
        # One segment: every SET runs in the wakeup's first turn.
        c.send(b"".join(RawClient.encode("SET", k, "v", "PX", "2000")
                        for k in keys))
        for _ in keys:
            self.assertEqual(c.read_reply(), b"OK")
        self.assertEqual(c.call("MGET", *keys), [b"v"] * len(keys))

    def test_ttl_moved_to_idle_worker_by_rename_expires(self):
        # No key has a TTL, so both workers sleep without a sweep timer.
        c = self.raw()
        self.assertEqual(c.call("SET", "plain", "v"), b"OK")
        wait_ops_decayed(c)
        time.sleep(1.5)
        # RENAME runs exclusively on the caller's worker and moves keys with
        # a TTL into shards of either worker: each owner must notice.
        for i in range(32):
            self.assertEqual(c.call("SET", "src%d" % i, "v", "PX", "1000"),
                             b"OK")
            self.assertEqual(c.call("RENAME", "src%d" % i, "dst%d" % i),
                             b"OK")
        wait_until(lambda: c.call("DBSIZE") == 1,
                   "the renamed keys expire without being touched")


class UringRingFlavour:
    """Cross-worker traffic over one io_uring ring flavour (see ev_uring.h).
    The environment variable is set around the server's start only."""

    env = {}

    @classmethod
    def setUpClass(cls):
        saved = {k: os.environ.get(k) for k in cls.env}
        os.environ.update(cls.env)
        try:
            super().setUpClass()
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    def test_pipelined_cross_worker_traffic(self):
        c = self.raw(timeout=30)
        n = 3000
        blob = b"".join(RawClient.encode("SET", "f:%d" % i, str(i))
                        for i in range(n))
        c.send(blob)
        for _ in range(n):
            self.assertEqual(c.read_reply(), b"OK")
        blob = b"".join(RawClient.encode("INCR", "f:%d" % i)
                        for i in range(n))
        c.send(blob)
        for i in range(n):
            self.assertEqual(c.read_reply(), i + 1)
        names = ["f:%d" % i for i in range(0, n, 7)]
        self.assertEqual(c.call("MGET", *names),
                         [str(i + 1).encode() for i in range(0, n, 7)])
        self.assertEqual(c.call("DBSIZE"), n)


@fast_cache_only
class TestUringDeferTaskrun(UringRingFlavour, ServerTestCase):
    server_kwargs = {"threads": 2, "extra_args": ["--io", "uring"]}


@fast_cache_only
class TestUringCoopTaskrun(UringRingFlavour, ServerTestCase):
    env = {"FC_URING_NO_DEFER": "1"}
    server_kwargs = {"threads": 2, "extra_args": ["--io", "uring"]}


@fast_cache_only
class TestUringSingleShot(UringRingFlavour, ServerTestCase):
    env = {"FC_URING_NO_DEFER": "1", "FC_URING_NO_MULTISHOT": "1"}
    server_kwargs = {"threads": 3, "extra_args": ["--io", "uring"]}


@fast_cache_only
class TestPinThreads(unittest.TestCase):
    def test_pinned_and_unpinned_serve(self):
        for v in ("yes", "no"):
            srv = Server(threads=2, extra_args=["--pin-threads", v]).start()
            try:
                with srv.raw() as c:
                    args = []
                    for i in range(200):
                        args += ["p%d" % i, i]
                    self.assertEqual(c.call("MSET", *args), b"OK")
                    self.assertEqual(c.call("DBSIZE"), 200)
            finally:
                srv.stop_and_check()

    def test_config_file_key(self):
        for text, ok in (("pin_threads = true\n", True),
                         ("pin_threads = sometimes\n", False)):
            fd, path = tempfile.mkstemp(suffix=".toml", prefix="fc-itest-")
            self.addCleanup(os.unlink, path)
            with os.fdopen(fd, "w") as f:
                f.write(text)
            if ok:
                srv = Server(threads=2, extra_args=["--config", path]).start()
                try:
                    with srv.raw() as c:
                        self.assertEqual(c.call("PING"), b"PONG")
                finally:
                    srv.stop_and_check()
            else:
                p = subprocess.run([server_path(), "--config", path],
                                   capture_output=True, timeout=10,
                                   stdin=subprocess.DEVNULL)
                self.assertEqual(p.returncode, 2)
                self.assertIn(b"pin_threads", p.stderr)

    def test_bad_value_exits_2(self):
        p = subprocess.run([server_path(), "--pin-threads", "sometimes"],
                           capture_output=True, timeout=10,
                           stdin=subprocess.DEVNULL)
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"pin-threads", p.stderr)

    def test_help_mentions_it(self):
        p = subprocess.run([server_path(), "--help"], capture_output=True,
                           timeout=10, stdin=subprocess.DEVNULL)
        self.assertEqual(p.returncode, 0)
        self.assertIn(b"--pin-threads", p.stdout)


if __name__ == "__main__":
    unittest.main()
