"""Refusing what does not exist: start-up configurations of missing features
stop the server (exit 2) instead of a warning, CONFIG SET of a parameter we
do not implement says so, and CONFIG SET applies all values or none."""

import os
import subprocess
import tempfile
import unittest

from fcserver import ServerTestCase, fast_cache_only, server_path


def start(args, conf=None, timeout=10):
    """Runs fast-cache with args (and a config file); it must exit."""
    path = None
    if conf is not None:
        fd, path = tempfile.mkstemp(suffix=".toml")
        with os.fdopen(fd, "w") as f:
            f.write(conf)
        args = args + ["--config", path]
    try:
        p = subprocess.run([server_path(), "--port", "1"] + args,
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=timeout)
    finally:
        if path:
            os.unlink(path)
    return p.returncode, (p.stdout + p.stderr).decode("utf-8", "replace")


@fast_cache_only
class TestRefuseAtStart(unittest.TestCase):
    def assertRefused(self, conf, words, args=()):
        rc, out = start(list(args), conf)
        self.assertEqual(rc, 2, out)
        for w in words:
            self.assertIn(w, out)
        self.assertNotIn("Ready to accept", out)

    def test_replication_config_errors(self):
        # The seed has no `upstream` key (it is replica_of): unknown.
        self.assertRefused('[replication]\nupstream = "127.0.0.1:7380"\n',
                           ["unknown key 'upstream' in section "
                            "[replication]"])
        # A replica needs its primary; "slave" is stored as "replica".
        for role in ("replica", "slave"):
            self.assertRefused('[replication]\nenabled = true\n'
                               'role = "%s"\n' % role, ["replica_of"])
        self.assertRefused('[replication]\nenabled = true\n'
                           'bind_addr = "nowhere"\n',
                           ["[replication] bind_addr: 'nowhere' is not "
                            "HOST:PORT"])
        self.assertRefused(None, ["HOST:PORT"],
                           args=["--replica-of", "localhost"])

    def test_tiers(self):
        self.assertRefused("[tiers]\nenabled = true\n",
                           ["[tiers]", "not implemented"])

    def test_bad_maxmemory(self):
        self.assertRefused("maxmemory = lots\n", ["'maxmemory' must be a size"])
        self.assertRefused("eviction_policy = \"sometimes\"\n",
                           ["'eviction_policy' must be clock, noeviction"])
        rc, out = start(["--maxmemory", "100zb"])
        self.assertEqual(rc, 2, out)
        rc, out = start(["--maxmemory-policy", "lifo"])
        self.assertEqual(rc, 2, out)

    def test_threads_cap(self):
        rc, out = start(["--threads", "1000"], timeout=5)
        self.assertEqual(rc, 2, out)
        self.assertIn("threads (1000) must be at most", out)


@fast_cache_only
class TestThreadsZero(ServerTestCase):
    """--threads 0 means all cores, as `threads = 0` in the file does."""
    server_kwargs = {"extra_args": ["--threads", "0"]}

    def test_threads_zero_is_all_cores(self):
        c = self.raw()
        got = c.call("CONFIG", "GET", "threads")
        self.assertEqual(got, [b"threads", str(os.cpu_count()).encode()])

    def test_start_up_steps_are_logged(self):
        log = self.server.log_text()
        self.assertIn("Creating %d worker threads" % os.cpu_count(), log)
        self.assertLess(log.index("Creating"), log.index("Ready to accept"))


class TestConfigSet(ServerTestCase):
    def test_all_or_nothing_checks_values(self):
        c = self.raw()
        before = c.call("CONFIG", "GET", "maxclients")
        r = c.call("CONFIG", "SET", "maxclients", "4321", "loglevel", "bogus")
        self.assertTrue(r.startswith("ERR CONFIG SET failed (possibly related "
                                     "to argument 'loglevel')"), r)
        self.assertEqual(c.call("CONFIG", "GET", "maxclients"), before)
        r = c.call("CONFIG", "SET", "loglevel", "warning", "maxclients", "x")
        self.assertTrue(r.startswith("ERR CONFIG SET failed"), r)
        self.assertEqual(c.call("CONFIG", "GET", "loglevel"),
                         [b"loglevel", b"notice"])

    def test_duplicate_parameter(self):
        c = self.raw()
        self.assertErr(c.call("CONFIG", "SET", "maxclients", "10",
                              "maxclients", "20"),
                       "ERR CONFIG SET failed (possibly related to argument "
                       "'maxclients') - duplicate parameter")

    @fast_cache_only
    def test_unsupported_parameters(self):
        c = self.raw()
        for name, value in (("port", "7000"), ("timeout", "10"),
                            ("notify-keyspace-events", "KEA"),
                            ("maxmemory-eviction-tenacity", "10")):
            self.assertErr(c.call("CONFIG", "SET", name, value),
                           "ERR Unsupported CONFIG parameter: %s" % name)
        # Unknown to Redis as well: Redis 7's own wording.
        self.assertErr(c.call("CONFIG", "SET", "nosuchparam", "1"),
                       "ERR Unknown option or number of arguments for "
                       "CONFIG SET - 'nosuchparam'")


if __name__ == "__main__":
    unittest.main()
