"""Stock Redis tools against the server: redis-cli (arguments, stdin,
--no-raw, --pipe) and a redis-benchmark smoke run (no timing asserted)."""

import shutil
import subprocess
import unittest

from fcserver import ServerTestCase

CLI = shutil.which("redis-cli")
BENCH = shutil.which("redis-benchmark")
TOOL_TIMEOUT = 90


def proto(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class TestRedisCli(ServerTestCase):
    def setUp(self):
        self.assertIsNotNone(CLI, "redis-cli is not installed (redis-tools)")
        super().setUp()

    def cli(self, *args, stdin=None):
        p = subprocess.run([CLI, "-h", "127.0.0.1", "-p",
                            str(self.server.port)] + list(args),
                           input=stdin, capture_output=True,
                           timeout=TOOL_TIMEOUT)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    def test_args(self):
        self.assertEqual(self.cli("SET", "a", "b"), b"OK\n")
        self.assertEqual(self.cli("GET", "a"), b"b\n")
        self.assertEqual(self.cli("--no-raw", "GET", "a"), b"\"b\"\n")
        self.assertEqual(self.cli("--no-raw", "GET", "missing"), b"(nil)\n")
        self.assertEqual(self.cli("--no-raw", "INCR", "n"), b"(integer) 1\n")
        self.assertEqual(self.cli("--no-raw", "MGET", "a", "missing"),
                         b"1) \"b\"\n2) (nil)\n")
        self.assertEqual(self.cli("--no-raw", "INCR", "a"),
                         b"(error) ERR value is not an integer or out of "
                         b"range\n")
        self.assertEqual(self.cli("SET", "sp", "with space"), b"OK\n")
        self.assertEqual(self.r.get("sp"), b"with space")

    def test_info(self):
        out = self.cli("INFO")
        self.assertIn(b"# Server", out)
        self.assertIn(b"tcp_port:%d" % self.server.port, out)
        self.assertIn(b"# Keyspace", self.cli("INFO", "keyspace"))

    def test_commands_on_stdin(self):
        out = self.cli(stdin=b"SET x 1\nINCR x\nGET x\nDEL x\nGET x\n")
        self.assertEqual(out, b"OK\n2\n2\n1\n\n")
        out = self.cli("--no-raw", stdin=b"PING\nECHO \"a b\"\n")
        self.assertEqual(out, b"PONG\n\"a b\"\n")

    def test_pipe_mode(self):
        n = 5000
        data = b"".join(proto("SET", "pipe:%d" % i, "v%d" % i)
                        for i in range(n))
        data += proto("INCR", "pipe:0")  # an error reply on purpose
        p = subprocess.run([CLI, "-h", "127.0.0.1", "-p",
                            str(self.server.port), "--pipe"],
                           input=data, capture_output=True,
                           timeout=TOOL_TIMEOUT)
        out = p.stdout + p.stderr
        self.assertIn(b"errors: 1, replies: %d" % (n + 1), out)
        self.assertEqual(p.returncode, 1, out)  # errors make it exit 1
        self.assertEqual(self.r.dbsize(), n)
        self.assertEqual(self.r.get("pipe:4999"), b"v4999")
        data = b"".join(proto("SET", "ok:%d" % i, i) for i in range(1000))
        p = subprocess.run([CLI, "-h", "127.0.0.1", "-p",
                            str(self.server.port), "--pipe"],
                           input=data, capture_output=True,
                           timeout=TOOL_TIMEOUT)
        out = p.stdout + p.stderr
        self.assertEqual(p.returncode, 0, out)
        self.assertIn(b"errors: 0, replies: 1000", out)


class TestRedisBenchmark(ServerTestCase):
    def test_smoke(self):
        self.assertIsNotNone(BENCH, "redis-benchmark is not installed")
        p = subprocess.run([BENCH, "-h", "127.0.0.1", "-p",
                            str(self.server.port), "-t", "set,get",
                            "-n", "20000", "-q"],
                           capture_output=True, timeout=TOOL_TIMEOUT)
        out = p.stdout.decode("utf-8", "replace")
        self.assertEqual(p.returncode, 0, out + p.stderr.decode())
        lines = [x for x in out.replace("\r", "\n").split("\n")
                 if "requests per second" in x]
        tests = {x.split(":")[0].strip() for x in lines}
        self.assertIn("SET", tests)
        self.assertIn("GET", tests)
        for line in lines:
            rps = float(line.split(":")[1].split()[0])
            self.assertGreater(rps, 0, line)
        self.assertGreaterEqual(self.r.dbsize(), 1)  # key:__rand_int__
        self.assertAlive()


if __name__ == "__main__":
    unittest.main()
