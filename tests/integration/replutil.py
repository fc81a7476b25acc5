"""Helpers for test_replication.py: primaries and replicas on free loopback
ports (started, restarted on the same ports, SIGTERMed or SIGKILLed, always
killed at the end of a test), INFO replication parsing, keyspace dumps and
bounded waits for convergence, a background writer, and raw FCRP frames
built by hand (docs/FORMATS.md "Replication: FCRP") for handshake tests.

A primary is `fast-cache-server --replication-bind 127.0.0.1:RP`, a replica
`--replica-of 127.0.0.1:X` where X is RP or a replproxy.Proxy in front of it
(RP is the FCRP port, not the client port). Every server runs unpinned with
2 workers (the box is shared) and logs to a temporary file that failure
messages quote.
"""

import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import unittest

import fcserver
import typedump
from fcserver import ConnectionClosed, RawClient, RespError
from persistutil import info, pipeline, stacks_of
from replproxy import Proxy

START_TIMEOUT = 60.0
EXIT_TIMEOUT = 30.0
SYNC_TIMEOUT = 90.0  # a replica converges within this (loaded box)
TTL_TOLERANCE_MS = 300
READONLY = "READONLY You can't write against a read only replica."

# FCRP (docs/FORMATS.md): 16-byte header, little endian.
HELLO, SNAP_BEGIN, SNAP_CHUNK, SNAP_END, BATCH, ACK, ERROR = range(1, 8)
F_ZSTD, F_LZ4, F_CHECK = 0x01, 0x02, 0x04
NO_EXPIRY = (1 << 64) - 1


class NotReady(Exception):
    """A server answered an error (LOADING...) where data was expected."""


# --- servers ---------------------------------------------------------------

class RServer(fcserver.Server):
    """kind: "primary" (--replication-bind 127.0.0.1:rport), "replica"
    (--replica-of 127.0.0.1:upstream) or "plain" (no replication flag)."""

    def __init__(self, kind, upstream=None, token=None, conf=None,
                 data_dir=None, threads=2, extra=()):
        super().__init__(threads=threads)
        self.kind = kind
        self.upstream = upstream
        self.token = token
        self.conf = conf
        self.data_dir = data_dir
        self.rport = fcserver.free_port() if kind == "primary" else None
        self.more = list(extra)
        self.saved_log = ""

    def argv(self):
        a = super().argv() + ["--pin-threads", "no"]
        if self.conf:
            a += ["--config", self.conf]
        if self.kind == "primary":
            a += ["--replication-bind", "127.0.0.1:%d" % self.rport]
        elif self.kind == "replica":
            a += ["--replica-of", "127.0.0.1:%d" % self.upstream]
        if self.token:
            a += ["--replication-token", self.token]
        if self.data_dir:
            a += ["--data-dir", self.data_dir, "--fsync", "always"]
        return a + self.more

    def start(self, keep_ports=False):
        """Until PING answers from this very process (and, with a data
        directory, loading is over). A port another session took meanwhile
        (the server binds with SO_REUSEPORT, and the FCRP port may be
        taken) means new ports, or with keep_ports (a restart: the replica
        knows the address) a short wait and the same ones."""
        for _ in range(5):
            why = self._start()
            if why is None:
                return self
            self.kill()
            self.saved_log = self.log_text()
            self.log.close()
            self.log = None
            if keep_ports:
                time.sleep(0.5)
                continue
            self.port = fcserver.free_port()
            if self.kind == "primary":
                self.rport = fcserver.free_port()
        raise AssertionError("no ports of our own after 5 tries (%s):\n%s"
                             % (why, self.saved_log))

    def restart(self):
        """Again on the same client and FCRP ports (data dir kept)."""
        return self.start(keep_ports=True)

    def _start(self):
        if self.log:  # a restart: the last run's log is in saved_log
            self.log.close()
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                text = self.log_text()
                if "in use" in text.lower():
                    return "address in use"
                raise AssertionError("server exited with %s at start:\n%s" %
                                     (self.proc.returncode, text))
            try:
                with RawClient(self.port, timeout=5.0) as c:
                    if c.call("PING") != b"PONG":
                        time.sleep(0.05)
                        continue
                    if info(c, "server").get("process_id") != \
                            str(self.proc.pid):
                        return "client port shared"
                    if not self.data_dir or \
                            info(c, "persistence").get("loading") == "0":
                        return None
            except (OSError, ConnectionClosed, AssertionError) as e:
                last = e
            time.sleep(0.05)
        raise AssertionError("server not ready within %.0fs (%r):\n%s" %
                             (START_TIMEOUT, last, self.log_text()))

    def kill9(self):
        self.kill()
        self.saved_log = self.log_text()

    def term(self):
        """SIGTERM; a clean exit (status 0) within EXIT_TIMEOUT."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(EXIT_TIMEOUT)
        except subprocess.TimeoutExpired:
            stacks = stacks_of(self.proc.pid)
            self.kill9()
            raise AssertionError("server still running %.0fs after SIGTERM:"
                                 "\n%s\n%s" % (EXIT_TIMEOUT, self.saved_log,
                                                stacks))
        self.saved_log = self.log_text()
        assert rc == 0, "exit %s after SIGTERM:\n%s" % (rc, self.saved_log)


class ReplCase(unittest.TestCase):
    """Servers, proxies and files of one test; all stopped at the end."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="fc-repl-")
        self.servers = []
        self.proxies = []
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.addCleanup(self._stop_all)

    def _stop_all(self):
        for p in self.proxies:
            p.close()
        for s in self.servers:
            s.kill()
            if s.log:
                s.log.close()
                s.log = None

    def conf(self, text):
        fd, path = tempfile.mkstemp(suffix=".toml", dir=self.tmp)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        return path

    def subdir(self, name):
        path = os.path.join(self.tmp, name)
        os.makedirs(path, exist_ok=True)
        return path

    def primary(self, **kw):
        s = RServer("primary", **kw)
        self.servers.append(s)
        return s.start()

    def replica(self, upstream, **kw):
        s = RServer("replica", upstream=upstream, **kw)
        self.servers.append(s)
        return s.start()

    def plain(self, **kw):
        s = RServer("plain", **kw)
        self.servers.append(s)
        return s.start()

    def proxy(self, target_port, rate=None):
        p = Proxy(target_port, rate)
        self.proxies.append(p)
        return p

    def client(self, server, timeout=30.0):
        c = RawClient(server.port, timeout=timeout)
        self.addCleanup(c.close)
        return c

    def logs(self):
        out = []
        for s in self.servers:
            text = s.log_text() if s.log else s.saved_log
            out.append("--- %s port %d (fcrp %s):\n%s" % (
                s.kind, s.port, s.rport, text[-3000:]))
        return "\n".join(out)

    # --- waits (every one bounded) --------------------------------------
    def wait_until(self, fn, what, timeout=SYNC_TIMEOUT, interval=0.05):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                got = fn()
                if got:
                    return got
                last = got
            except (NotReady, ConnectionClosed, OSError) as e:
                last = e
            time.sleep(interval)
        self.fail("%s: not within %.0fs (last: %r)\n%s" %
                  (what, timeout, last, self.logs()))

    def wait_state(self, replica, state, timeout=SYNC_TIMEOUT):
        with replica.raw(timeout=10) as c:
            return self.wait_until(
                lambda: repl(c).get("fc_repl_state") == state and repl(c),
                "replica %d fc_repl_state %s" % (replica.port, state), timeout)

    def wait_online(self, replica, timeout=SYNC_TIMEOUT):
        """Until INFO says online. A server that still says role:master
        5 s into the wait is not trying to be a replica: fail at once."""
        t0 = time.monotonic()

        def online(c):
            i = repl(c)
            if i.get("role") == "master" and time.monotonic() - t0 > 5:
                self.fail("server %d is not a replica (role:master):\n%s"
                          % (replica.port, self.logs()))
            return (i.get("fc_repl_state") == "online" and
                    i.get("master_link_status") == "up" and
                    i.get("master_sync_in_progress") == "0") and i
        with replica.raw(timeout=10) as c:
            return self.wait_until(lambda: online(c), "replica %d online" %
                                   replica.port, timeout)

    def wait_link_down(self, replica, timeout=30.0):
        with replica.raw(timeout=10) as c:
            return self.wait_until(
                lambda: repl(c).get("master_link_status") == "down",
                "replica %d link down" % replica.port, timeout)

    def assert_converged(self, primary, replica, timeout=SYNC_TIMEOUT):
        """Same keys, values and expiry times (PEXPIRETIME within
        TTL_TOLERANCE_MS), and the same DBSIZE, within timeout. Writes to
        the primary must have stopped."""
        last = "never compared"
        with primary.raw(timeout=60) as pc, replica.raw(timeout=60) as rc:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                try:
                    pd, rd = dump(pc), dump(rc)
                    diff = differences(pd, rd)
                    sizes = (pc.call("DBSIZE"), rc.call("DBSIZE"), len(pd))
                    if not diff and sizes[0] == sizes[1] == sizes[2]:
                        return
                    last = diff or "DBSIZE primary %r, replica %r, keys %d" \
                        % sizes
                except (NotReady, ConnectionClosed, OSError) as e:
                    last = repr(e)
                time.sleep(0.1)
        self.fail("replica %d did not converge with primary %d within %.0fs:"
                  " %s\n%s" % (replica.port, primary.port, timeout, last,
                               self.logs()))

    def assert_sample_converged(self, primary, replica, keys,
                                timeout=SYNC_TIMEOUT):
        """For large keyspaces: same DBSIZE and the same values for `keys`."""
        with primary.raw(timeout=60) as pc, replica.raw(timeout=60) as rc:
            want = pipeline(pc, [("GET", k) for k in keys])
            n = pc.call("DBSIZE")
            last = "never compared"
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                try:
                    got_n = rc.call("DBSIZE")
                    if got_n == n:
                        got = pipeline(rc, [("GET", k) for k in keys])
                        bad = [(k, a, b) for k, a, b in zip(keys, want, got)
                               if a != b]
                        if not bad:
                            return
                        last = "values differ: %r" % bad[:3]
                    else:
                        last = "DBSIZE %r, primary %r" % (got_n, n)
                except (ConnectionClosed, OSError) as e:
                    last = repr(e)
                time.sleep(0.2)
            i = repl(rc)
        self.fail("replica %d does not hold the primary's %d keys within "
                  "%.0fs: %s; replica INFO: %s\n%s" % (
                      replica.port, n, timeout, last,
                      {k: v for k, v in i.items() if k.startswith("fc_repl")
                       or k.startswith("master_")}, self.logs()))


# --- INFO, ROLE, data ------------------------------------------------------

def repl(c):
    """INFO replication as a dict of str -> str."""
    return info(c, "replication")


def counter(c, name):
    return int(repl(c).get(name, "-1"))


def slave_lines(i):
    """slaveN values of INFO replication, each as a dict."""
    out = []
    for n in range(64):
        v = i.get("slave%d" % n)
        if v is None:
            break
        out.append(dict(kv.split("=", 1) for kv in v.split(",")))
    return out


def dump(c):
    """key -> (value, PEXPIRETIME); NotReady on an error reply."""
    keys = set()
    cur = b"0"
    for _ in range(1000000):
        r = c.call("SCAN", cur, "COUNT", 1000)
        if isinstance(r, RespError):
            raise NotReady(r)
        cur, batch = r
        keys.update(batch)
        if cur == b"0":
            break
    def check(x):
        if isinstance(x, RespError):
            raise NotReady(x)
    return typedump.read_values(pipeline, c, sorted(keys), check)


def differences(want, got, tol=TTL_TOLERANCE_MS, limit=5):
    """What differs between two dumps (at most `limit` items)."""
    out = []
    for k in sorted(set(want) | set(got)):
        a, b = want.get(k), got.get(k)
        if a is None or b is None or a[0] != b[0]:
            out.append((k, a, b))
        elif (a[1] < 0) != (b[1] < 0) or abs(a[1] - b[1]) > tol:
            out.append((k, a, b))
        if len(out) >= limit:
            break
    return out


def fill(c, prefix, n, vsize=16, ttl_every=0, ttl_ms=600000):
    """n keys prefix0.. with vsize-byte values; every ttl_every-th one with
    a PX ttl_ms. Returns the keys."""
    keys = [b"%s%d" % (prefix, i) for i in range(n)]
    cmds = []
    for i, k in enumerate(keys):
        v = (b"%s=%d;" % (k, i) * (vsize // 8 + 1))[:vsize]
        if ttl_every and i % ttl_every == 0:
            cmds.append(("SET", k, v, "PX", ttl_ms))
        else:
            cmds.append(("SET", k, v))
    r = pipeline(c, cmds)
    assert r == [b"OK"] * n, [x for x in r if x != b"OK"][:3]
    return keys


class Writer(threading.Thread):
    """Writes SET/DEL/EXPIRE on the primary (pipelined by 20) until stop()
    or `limit` commands; errors from a killed server end it quietly. What
    it wrote is judged by comparing the primary with the replica after."""

    def __init__(self, port, prefix=b"w:", limit=200000):
        super().__init__(daemon=True)
        self.port, self.prefix, self.limit = port, prefix, limit
        self.done = 0
        self.errors = []
        self._halt = threading.Event()

    def stop(self):
        self._halt.set()
        self.join(60)

    def run(self):
        try:
            c = RawClient(self.port, timeout=30)
        except OSError:
            return
        i = 0
        try:
            while not self._halt.is_set() and self.done < self.limit:
                cmds = []
                for _ in range(20):
                    k = b"%s%d" % (self.prefix, i % 5000)
                    if i % 10 == 9:
                        cmds.append(("DEL", b"%s%d" % (self.prefix,
                                                      (i * 7) % 5000)))
                    elif i % 10 == 5:
                        cmds.append(("EXPIRE", k, 300))
                    else:
                        cmds.append(("SET", k, b"v%d" % i))
                    i += 1
                for r in pipeline(c, cmds):
                    if isinstance(r, RespError):
                        self.errors.append(r)
                self.done += len(cmds)
        except (OSError, ConnectionClosed):
            pass
        finally:
            c.close()


# --- raw FCRP --------------------------------------------------------------

def header(kind, payload_len, version=1, flags=0, reserved=0, ulen=None):
    return struct.pack("<4sBBBBII", b"FCRP", version, kind, flags, reserved,
                       payload_len, payload_len if ulen is None else ulen)


def frame(kind, payload, **kw):
    return header(kind, len(payload), **kw) + payload


def hello(token=None, version=1, role=1, since=None):
    """Hello payload: u8 version, u8 role, u32 token_len, token, u8
    has_since [u32 count, u64 x count]."""
    t = token.encode() if token else b""
    p = struct.pack("<BBI", version, role, len(t)) + t
    if since is None:
        return p + b"\x00"
    return p + b"\x01" + struct.pack("<I", len(since)) + \
        b"".join(struct.pack("<Q", s) for s in since)


def watermarks(p, off=0):
    (n,) = struct.unpack_from("<I", p, off)
    return list(struct.unpack_from("<%dQ" % n, p, off + 4)), off + 4 + 8 * n


def error_text(payload):
    (n,) = struct.unpack_from("<I", payload)
    return payload[4:4 + n].decode("utf-8")


def chunk_entries(p):
    """(index, is_last, [(key, value, expire_at)]) of a SnapshotChunk."""
    idx, last = struct.unpack_from("<QB", p)
    _, off = watermarks(p, 9)
    (n,) = struct.unpack_from("<I", p, off)
    off += 4
    out = []
    for _ in range(n):
        kl, vl, exp = struct.unpack_from("<IIQ", p, off)
        off += 16
        out.append((p[off:off + kl], p[off + kl:off + kl + vl], exp))
        off += kl + vl
    assert off == len(p), "trailing bytes in a chunk"
    return idx, bool(last), out


class FcrpPeer:
    """A raw connection to a primary's FCRP port."""

    def __init__(self, port, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout)
        self.buf = b""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data):
        self.sock.sendall(data)

    def _read(self, n, deadline):
        while len(self.buf) < n:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(1 << 20)
            except (ConnectionResetError, BrokenPipeError):
                chunk = b""
            if not chunk:
                return None
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_frame(self, timeout=10.0):
        """(kind, flags, payload) or None at EOF; socket.timeout if nothing
        complete arrives in time. A check trailer is dropped; compressed
        payloads are not expected (we advertise no capability and the
        default compression is none)."""
        deadline = time.monotonic() + timeout
        h = self._read(16, deadline)
        if h is None:
            return None
        magic, ver, kind, flags, _res, plen, ulen = struct.unpack(
            "<4sBBBBII", h)
        assert magic == b"FCRP" and ver == 1, h
        p = self._read(plen, deadline)
        if p is None:
            return None
        if flags & F_CHECK:
            p = p[:-4]
        assert not flags & (F_ZSTD | F_LZ4), "unexpected compressed frame"
        return kind, flags, p

    def expect_error(self, timeout=10.0):
        """The Error frame's message, then EOF: (message, closed)."""
        f = self.read_frame(timeout)
        if f is None:
            return None, True
        kind, _, p = f
        assert kind == ERROR, "expected an Error frame, got kind %d" % kind
        msg = error_text(p)
        try:
            closed = self.read_frame(5.0) is None
        except socket.timeout:
            closed = False
        return msg, closed
