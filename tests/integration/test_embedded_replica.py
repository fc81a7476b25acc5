"""The library's embedded replica (fc_replica_open) against the real server:
examples/replica.c, built as replica-example next to the server binary,
follows a primary started here and reads keys from its local copy."""

import os
import subprocess
import unittest

from fcserver import RawClient, Server, fast_cache_only, free_port, server_path


def example_path():
    return os.path.join(os.path.dirname(server_path()), "replica-example")


@fast_cache_only
class TestEmbeddedReplica(unittest.TestCase):
    def primary(self, token=None):
        self.rport = free_port()
        args = ["--replication-bind", "127.0.0.1:%d" % self.rport]
        if token:
            args += ["--replication-token", token]
        s = Server(threads=2, extra_args=args).start()
        self.addCleanup(s.stop)
        return s

    def run_example(self, *args):
        p = subprocess.run([example_path(), "127.0.0.1:%d" % self.rport] +
                           list(args), capture_output=True, timeout=30)
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    def test_reads_what_the_primary_holds(self):
        s = self.primary()
        with RawClient(s.port) as c:
            for i in range(500):
                self.assertEqual(c.call("SET", "k%d" % i, "v%d" % i), b"OK")
            c.call("SET", "gone", "x", "PX", "1")
            c.call("DEL", "k7")
        rc, out, err = self.run_example("k1", "k499", "k7", "gone")
        self.assertEqual(rc, 0, err)
        self.assertIn("in sync: 499 keys", out)
        self.assertIn("k1 = v1\n", out)
        self.assertIn("k499 = v499\n", out)
        self.assertIn("k7: ", out)  # deleted on the primary: not found
        self.assertNotIn("gone = ", out)

    def test_token(self):
        s = self.primary(token="s3cret")
        with RawClient(s.port) as c:
            c.call("SET", "a", "1")
        rc, out, err = self.run_example("--token", "s3cret", "a")
        self.assertEqual(rc, 0, err)
        self.assertIn("a = 1\n", out)
        # A wrong token never syncs: the example gives up after 10 s and
        # says why.
        rc, out, err = self.run_example("--token", "wrong", "a")
        self.assertEqual(rc, 1)
        self.assertIn("invalid auth token", err)


if __name__ == "__main__":
    unittest.main()
