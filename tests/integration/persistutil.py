"""Helpers for the persistence tests (test_persistence*.py): a server with a
data directory that can be killed with SIGKILL and started again on the
same directory, a start that must fail, WAL file parsing, and a keyspace
dump. Every server binds 127.0.0.1 and runs unpinned (the box is shared).
"""

import os
import shutil
import struct
import subprocess
import tempfile
import time

import fcserver
import typedump
from fcserver import ConnectionClosed, RawClient, RespError, server_path

LOAD_TIMEOUT = 60.0
EXIT_TIMEOUT = 30.0
SEG_HEADER = 64
REC_PREFIX = 8
REC_FIXED = 32


def write_file(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def info(c, section="persistence"):
    """INFO section as a dict of str -> str."""
    r = c.call("INFO", section)
    assert isinstance(r, bytes), r
    out = {}
    for line in r.decode().splitlines():
        if ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            out[k] = v
    return out


class PServer(fcserver.Server):
    """A fast-cache server on data_dir. start() waits until loading ends."""

    def __init__(self, data_dir, threads=2, fsync="always", extra_args=(),
                 env=None):
        args = ["--pin-threads", "no", "--data-dir", data_dir]
        if fsync:
            args += ["--fsync", fsync]
        super().__init__(threads=threads, extra_args=args + list(extra_args))
        self.data_dir = data_dir
        self.env = env
        self.saved_log = ""

    def start(self, loaded=True):
        """loaded=False: return once PING answers (data may be loading).
        Other test sessions on this box also pick free ports and the server
        binds with SO_REUSEPORT, so a port can end up shared: the server
        answering must be ours (INFO process_id), else retry elsewhere; so
        does a start that finds its port taken."""
        for attempt in range(5):
            if self._start(loaded):
                return self
            self.kill()
            self.log.close()
            self.port = fcserver.free_port()
        raise AssertionError("no port of our own after 5 tries")

    def _mine(self, c):
        return info(c, "server").get("process_id") == str(self.proc.pid)

    def _start(self, loaded):
        self.log = tempfile.TemporaryFile()
        env = dict(os.environ)
        env.update(self.env or {})
        if "LD_PRELOAD" in env:
            # An ASan-built server must accept a preloaded library ahead of
            # its runtime (the fault injector only wraps libc calls).
            opts = env.get("ASAN_OPTIONS", "")
            env["ASAN_OPTIONS"] = (opts + ":" if opts else "") + \
                "verify_asan_link_order=0"
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     env=env)
        deadline = time.monotonic() + LOAD_TIMEOUT
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                text = self.log_text()
                if "Address already in use" in text:
                    # The port, free when picked, was taken meanwhile (a
                    # restart reuses it, and it lies in the ephemeral
                    # range, where any process's outgoing connection may
                    # get it): start() retries on another one.
                    return False
                raise AssertionError("server exited with %s at start:\n%s" %
                                     (self.proc.returncode, text))
            try:
                with RawClient(self.port, timeout=5.0) as c:
                    if c.call("PING") != b"PONG":
                        continue
                    if not self._mine(c):
                        return False
                    if not loaded or (
                            info(c).get("loading") == "0" and
                            not isinstance(c.call("GET", "__probe__"),
                                           RespError)):
                        break
            except (OSError, ConnectionClosed, AssertionError) as e:
                last = e
            time.sleep(0.05)
        else:
            self.kill()
            raise AssertionError("server not loaded within %.0fs (%r):\n%s"
                                 % (LOAD_TIMEOUT, last, self.log_text()))
        for _ in range(3):  # a shared port would balance some of these away
            with RawClient(self.port, timeout=5.0) as c:
                if not self._mine(c):
                    return False
        return True

    def kill9(self):
        """SIGKILL; keeps the log text in saved_log."""
        self.kill()
        self.saved_log = self.log_text()

    def shutdown(self, *args):
        """SHUTDOWN [args] and wait for a clean exit; returns the log."""
        with self.raw() as c:
            c.send_cmd("SHUTDOWN", *args)
            c.expect_closed(EXIT_TIMEOUT)
        try:
            rc = self.proc.wait(EXIT_TIMEOUT)
        except subprocess.TimeoutExpired:
            stacks = stacks_of(self.proc.pid)
            self.kill9()
            raise AssertionError("server still running %.0fs after SHUTDOWN:"
                                 "\n%s\n%s" % (EXIT_TIMEOUT, self.saved_log,
                                                stacks))
        self.saved_log = self.log_text()
        assert rc == 0, "exit %s after SHUTDOWN:\n%s" % (rc, self.saved_log)
        return self.saved_log

    def term(self):
        """SIGTERM and wait for a clean exit (a final snapshot is written).
        A server still running after EXIT_TIMEOUT fails the test with its
        threads' stacks (when gdb is installed)."""
        self.proc.terminate()
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
        return self.saved_log


def stacks_of(pid):
    gdb = shutil.which("gdb")
    if not gdb:
        return "(no gdb for stacks)"
    try:
        p = subprocess.run([gdb, "-p", str(pid), "-batch", "-ex",
                            "thread apply all bt"], capture_output=True,
                           timeout=60, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return "(gdb timed out)"
    return "\n".join(l for l in p.stdout.decode("utf-8", "replace")
                     .splitlines() if l.startswith(("#", "Thread")))


class PersistCase:
    """Mixin for unittest.TestCase: a private data dir per test, servers
    killed at the end whatever happened."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="fc-persist-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.servers = []
        self.addCleanup(self._kill_all)

    def _kill_all(self):
        for s in self.servers:
            s.kill()
            if s.log:
                s.log.close()
                s.log = None

    def srv(self, start=True, **kw):
        s = PServer(self.dir, **kw)
        self.servers.append(s)
        return s.start() if start else s

    def start_fails(self, args, timeout=EXIT_TIMEOUT, env=None):
        """Runs the server on self.dir expecting it to exit by itself;
        returns (exit status, output)."""
        port = fcserver.free_port()
        argv = [server_path(), "--bind", "127.0.0.1", "--port", str(port),
                "--pin-threads", "no"] + list(args)
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             env=env)
        try:
            out, _ = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            out, _ = p.communicate()
            self.fail("server kept running (expected it to exit):\n%s" %
                      out.decode("utf-8", "replace")[-4000:])
        return p.returncode, out.decode("utf-8", "replace")

    def files(self, prefix, suffix):
        return sorted(f for f in os.listdir(self.dir)
                      if f.startswith(prefix) and f.endswith(suffix))

    def path(self, name):
        return os.path.join(self.dir, name)


def dump(c):
    """Every key -> (value, pexpiretime or -1)."""
    keys = set()
    cur = b"0"
    while True:
        cur, batch = c.call("SCAN", cur, "COUNT", 1000)
        keys.update(batch)
        if cur == b"0":
            break
    return typedump.read_values(pipeline, c, sorted(keys))


def pipeline(c, cmds, batch=1000):
    """Sends cmds in batches of `batch`; returns every reply."""
    out = []
    for i in range(0, len(cmds), batch):
        part = cmds[i:i + batch]
        c.send(b"".join(RawClient.encode(*a) for a in part))
        out += [c.read_reply() for _ in part]
    return out


def wait_info(c, key, want, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = info(c).get(key)
        if v == want:
            return
        time.sleep(0.05)
    raise AssertionError("INFO %s did not become %s (now %r)" %
                         (key, want, info(c).get(key)))


def wal_records(path):
    """[(offset, size, kind, key, value)] of a WAL segment, parsed as
    docs/FORMATS.md describes (stops at the first incomplete record, and
    at zeroes written ahead by fsync=always: a length below the fixed part
    is no record)."""
    with open(path, "rb") as f:
        data = f.read()
    out = []
    off = SEG_HEADER
    while off + REC_PREFIX + REC_FIXED <= len(data):
        _check, ln = struct.unpack_from("<II", data, off)
        if ln < REC_FIXED or off + REC_PREFIX + ln > len(data):
            break
        body = off + REC_PREFIX
        kind = data[body]
        klen, vlen = struct.unpack_from("<II", data, body + 24)
        key = data[body + REC_FIXED:body + REC_FIXED + klen]
        val = data[body + REC_FIXED + klen:body + REC_FIXED + klen + vlen]
        out.append((off, REC_PREFIX + ln, kind, key, val))
        off += REC_PREFIX + ln
    return out


def flip_byte(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0x5A]))
