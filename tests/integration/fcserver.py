"""Shared helpers for the integration suite.

Owns: starting and stopping one server process per test class (fast-cache or
a real redis-server, picked by env FC_SERVER), a free loopback port, and a
tiny RESP2/RESP3 client over a raw socket that returns exact bytes-level
replies (errors are values, not exceptions) so tests can assert the precise
strings Redis 7 prints.

Every test file imports this module first: it also makes Debian's
python3-redis importable when `python3` on PATH is not the system one.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

try:
    import redis  # noqa: F401
except ImportError:  # pyenv/venv python: borrow Debian's pure-Python redis-py
    for _p in ("/usr/lib/python3/dist-packages",):
        if os.path.isdir(os.path.join(_p, "redis")) and _p not in sys.path:
            sys.path.append(_p)
    import redis  # noqa: F401

START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0
IO_TIMEOUT = 10.0


def server_path():
    path = os.environ.get("FC_SERVER")
    if not path:
        raise RuntimeError("set FC_SERVER to the server binary (a "
                           "fast-cache-server or a redis-server)")
    if os.sep not in path:
        found = shutil.which(path)
        if found:
            path = found
    return path


def is_redis():
    """True when the target is a real redis-server (reference run)."""
    return os.path.basename(server_path()).startswith("redis-server")


def fast_cache_only(obj):
    """Checks that only make sense for fast-cache (threads, routing, ...)."""
    return unittest.skipIf(
        is_redis(),
        "fast-cache-specific check; target is redis-server (reference run)",
    )(obj)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RespError:
    """An error reply, kept as a value so tests compare exact text."""

    def __init__(self, msg):
        self.msg = msg if isinstance(msg, str) else msg.decode("utf-8", "replace")

    def __eq__(self, other):
        return isinstance(other, RespError) and other.msg == self.msg

    def __hash__(self):
        return hash(self.msg)

    def __repr__(self):
        return "RespError(%r)" % self.msg

    def startswith(self, prefix):
        return self.msg.startswith(prefix)


class Null:
    """RESP3 null ('_'); RESP2 nulls decode to None."""

    def __eq__(self, other):
        return isinstance(other, Null) or other is None

    def __hash__(self):
        return 0

    def __repr__(self):
        return "Null"


class Map(dict):
    """RESP3 map ('%')."""


class Set(list):
    """RESP3 set ('~'), kept in wire order."""


class Push(list):
    """RESP3 push ('>')."""


class Double(float):
    """RESP3 double (',')."""


class Verbatim(bytes):
    """RESP3 verbatim string ('='), payload without the 'txt:' prefix."""


class ConnectionClosed(Exception):
    pass


class RawClient:
    """Minimal blocking RESP client. call() returns decoded replies:
    bytes, int, list, None, RespError, and RESP3 types above."""

    def __init__(self, port, host="127.0.0.1", timeout=IO_TIMEOUT):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()  # received, not yet decoded

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @staticmethod
    def encode(*args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            if isinstance(a, int):
                a = str(a).encode()
            elif isinstance(a, float):
                a = repr(a).encode()
            elif isinstance(a, str):
                a = a.encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        return b"".join(out)

    def send(self, data):
        self.sock.sendall(data)

    def send_cmd(self, *args):
        self.send(self.encode(*args))

    def call(self, *args):
        self.send_cmd(*args)
        return self.read_reply()

    def _fill(self):
        try:
            chunk = self.sock.recv(1 << 20)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            raise ConnectionClosed("server closed the connection")
        self.buf += chunk

    def unread(self, data):
        """Push bytes back in front of the unread input."""
        self.buf[0:0] = data

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line = bytes(self.buf[:i])
                del self.buf[:i + 2]
                return line
            self._fill()

    def _exact(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        data = bytes(self.buf[:n])
        del self.buf[:n + 2]
        return data

    def read_raw_line(self):
        return self._line()

    def read_bytes(self, n):
        """Exactly n raw bytes from the stream (no CRLF handling)."""
        while len(self.buf) < n:
            self._fill()
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def read_reply(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest
        if t == b"-":
            return RespError(rest)
        if t == b":":
            return int(rest)
        if t == b"$" or t == b"!" or t == b"=":
            n = int(rest)
            if n < 0:
                return None
            data = self._exact(n)
            if t == b"!":
                return RespError(data)
            if t == b"=":
                return Verbatim(data[4:])
            return data
        if t in (b"*", b"~", b">"):
            n = int(rest)
            if n < 0:
                return None
            items = [self.read_reply() for _ in range(n)]
            if t == b"~":
                return Set(items)
            if t == b">":
                return Push(items)
            return items
        if t == b"%" or t == b"|":
            n = int(rest)
            m = Map()
            for _ in range(n):
                k = self.read_reply()
                m[k] = self.read_reply()
            if t == b"|":  # attribute: skip, the real reply follows
                return self.read_reply()
            return m
        if t == b"_":
            return Null()
        if t == b",":
            return Double(float(rest))
        if t == b"#":
            return rest == b"t"
        if t == b"(":
            return int(rest)
        raise AssertionError("bad reply type byte in %r" % line)

    def expect_closed(self, timeout=5.0):
        """True when the server closes the connection within timeout.
        Bytes arriving before the close are kept in self.buf."""
        self.sock.settimeout(timeout)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False
        return False


class Server:
    """One server process on a free loopback port."""

    def __init__(self, threads=None, requirepass=None, maxclients=None,
                 extra_args=None, addr_flags=True):
        self.path = server_path()
        self.redis = is_redis()
        self.port = free_port()
        self.threads = threads
        self.requirepass = requirepass
        self.maxclients = maxclients
        self.extra_args = list(extra_args or [])
        # False: the caller's args (e.g. a config file) carry the address.
        self.addr_flags = addr_flags
        self.proc = None
        self.log = None

    def argv(self):
        p = str(self.port)
        if self.redis:
            a = [self.path, "--port", p, "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--daemonize", "no"]
            if self.requirepass:
                a += ["--requirepass", self.requirepass]
            if self.maxclients:
                a += ["--maxclients", str(self.maxclients)]
            return a + self.extra_args
        a = [self.path]
        if self.addr_flags:
            a += ["--bind", "127.0.0.1", "--port", p]
        if self.threads:
            a += ["--threads", str(self.threads)]
        if self.requirepass:
            a += ["--requirepass", self.requirepass]
        if self.maxclients:
            a += ["--maxclients", str(self.maxclients)]
        return a + self.extra_args

    def log_text(self):
        if not self.log:
            return ""
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")[-8000:]

    def start(self):
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("server exited with %s at start:\n%s" %
                                     (self.proc.returncode, self.log_text()))
            try:
                with RawClient(self.port, timeout=1.0) as c:
                    r = c.call("PING")
                    if r == b"PONG" or (isinstance(r, RespError)
                                        and r.msg.startswith("NOAUTH")):
                        return self
                    last = r
            except (OSError, ConnectionClosed) as e:
                last = e
            time.sleep(0.05)
        self.kill()
        raise AssertionError("server did not answer PING within %.0fs (%r):\n%s"
                             % (START_TIMEOUT, last, self.log_text()))

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self):
        """SIGTERM, wait, then SIGKILL. Returns the exit status."""
        if not self.proc:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError("server ignored SIGTERM for %.0fs:\n%s" %
                                     (STOP_TIMEOUT, self.log_text()))
        return self.proc.returncode

    def stop_and_check(self, testcase=None):
        rc = self.stop()
        text = self.log_text()
        if self.log:
            self.log.close()
            self.log = None
        if rc != 0:
            raise AssertionError("server exit status %s after SIGTERM "
                                 "(graceful shutdown expects 0):\n%s" % (rc, text))
        return rc

    def client(self, **kw):
        kw.setdefault("socket_timeout", IO_TIMEOUT)
        return redis.Redis(host="127.0.0.1", port=self.port, **kw)

    def raw(self, timeout=IO_TIMEOUT):
        return RawClient(self.port, timeout=timeout)


class ServerTestCase(unittest.TestCase):
    """One server per test class; every test starts with an empty keyspace."""

    server_kwargs = {}

    @classmethod
    def setUpClass(cls):
        cls.server = Server(**cls.server_kwargs).start()

    @classmethod
    def tearDownClass(cls):
        srv = cls.server
        cls.server = None
        if srv:
            srv.stop_and_check()

    def setUp(self):
        self.r = self.server.client()
        self.addCleanup(self.r.close)
        if not self.server.requirepass:
            self.r.flushall()

    def raw(self, timeout=IO_TIMEOUT):
        c = self.server.raw(timeout)
        self.addCleanup(c.close)
        return c

    def assertErr(self, reply, msg):
        """Exact error text, as Redis 7 prints it (without the '-')."""
        self.assertIsInstance(reply, RespError, "expected error %r, got %r" %
                              (msg, reply))
        self.assertEqual(reply.msg, msg)

    def assertAlive(self):
        with self.server.raw() as c:
            self.assertEqual(c.call("PING"), b"PONG")
