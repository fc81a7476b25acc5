"""benchutil.py — what the Python benchmarks share (evict_vs_redis.py,
churn_vs_redis.py, types_vs_redis.py): a free loopback port, a minimal
pipelining RESP2 client, and starting/stopping a server process. Servers
listen on 127.0.0.1 only; every wait is bounded.
"""

import socket
import subprocess
import sys
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def enc(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Conn:
    """Minimal pipelining RESP2 client. An error reply raises RuntimeError,
    or with errors_as_values=True is returned as a RuntimeError value."""

    def __init__(self, port, errors_as_values=False):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=120)
        self.buf = b""
        self.errors_as_values = errors_as_values

    enc = staticmethod(enc)

    def _fill(self):
        chunk = self.s.recv(1 << 20)
        if not chunk:
            raise ConnectionError("closed")
        self.buf += chunk

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def _exact(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def reply(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if t == b":":
            return int(rest)
        if t == b"-":
            err = RuntimeError(rest.decode())
            if self.errors_as_values:
                return err
            raise err
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.reply() for _ in range(n)]
        return rest

    def pipe(self, cmds):
        self.s.sendall(b"".join(enc(*c) for c in cmds))
        return [self.reply() for _ in cmds]

    def call(self, *args):
        return self.pipe([args])[0]

    def sets(self, payload, n):
        """Sends n pipelined SETs (already encoded); waits for n +OK."""
        self.s.sendall(payload)
        want = b"+OK\r\n" * n
        while len(self.buf) < len(want):
            self._fill()
        got, self.buf = self.buf[:len(want)], self.buf[len(want):]
        if got != want:
            raise RuntimeError("SET failed: %r" % got[:200])

    def info(self, section="memory"):
        out = {}
        for line in self.call("INFO", section).decode().split("\r\n"):
            if ":" in line:
                k, _, v = line.partition(":")
                out[k] = v
        return out

    def close(self):
        self.s.close()


def spawn(args, name, port, errors_as_values=False):
    """Starts args and waits (30 s at most) until it answers PING on port:
    (process, connection); exits the benchmark if it does not."""
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            c = Conn(port, errors_as_values)
            if c.call("PING") == b"PONG":
                return p, c
        except OSError:
            pass
        if p.poll() is not None:
            sys.exit("%s exited at start" % name)
        time.sleep(0.05)
    p.kill()
    sys.exit("%s did not start" % name)


def stop(p, c):
    """SHUTDOWN NOSAVE, then a bounded wait (killed past 60 s)."""
    try:
        c.s.sendall(enc("SHUTDOWN", "NOSAVE"))
    except OSError:
        pass
    try:
        p.wait(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def cpu_ns(pid):
    """CPU time (ns, user + system) every thread of process pid has run,
    from /proc/<pid>/task/*/schedstat (nanosecond resolution, unlike the
    tick counts of /proc/<pid>/stat); 0 where /proc cannot say."""
    import glob
    total = 0
    for path in glob.glob("/proc/%d/task/*/schedstat" % pid):
        try:
            with open(path) as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total


def load(gen, port, test, pipe, n, clients, pinned, keyspace=100000, size=10):
    """Runs one load-generator test against port: (requests per second,
    the generator's own CPU ns per request). gen is "redis-benchmark" or
    the path of fast-cache-load (same options, same CSV line). Pinned runs
    put the generator on CPU 1."""
    import resource
    args = [gen, "-h", "127.0.0.1", "-p", str(port), "-c", str(clients),
            "-n", str(n), "-P", str(pipe), "-r", str(keyspace), "-d",
            str(size), "-t", test]
    if gen.endswith("redis-benchmark"):
        args.append("--csv")
    if pinned:
        args = ["taskset", "-c", "1"] + args
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(args, capture_output=True, text=True,
                         timeout=600).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    rps = 0.0
    for line in out.splitlines():
        f = [x.strip('"') for x in line.split('","')]
        if len(f) > 1 and f[0].upper().startswith(test.upper().split("_")[0]):
            try:
                rps = float(f[1])
            except ValueError:
                pass
    return rps, used * 1e9 / n
