#!/usr/bin/env python3
"""repl_vs_redis.py — what replication costs fast-cache and redis-server,
side by side, on the same machine, in one run (make bench calls it).

1. Primary SET throughput with 0, 1 and 2 replicas (redis-benchmark -t set,
   -P 1 and -P 16, bounded -n), as ratios to 0 replicas, for fast-cache
   (FCRP: --replication-bind / --replica-of) and for redis-server with
   redis replicas (--replicaof). The primary is pinned to CPU 0 (fast-cache
   with --threads 1); the replicas share CPU 1 with the load generator and
   the lag probe, so a replica's cost shows up on the primary's core only
   through replication itself.
2. Replication lag under that SET load (-P 1): a probe writes
   `SET lagprobe:<i> <monotonic ns>` on the primary every LAG_EVERY_MS
   (LAG_PROBES of them) while another connection polls the first replica
   for each key; lag = when it became visible there minus the time in the
   value (one machine, one clock). p50 / p99 / max.
After each load the replica's DBSIZE must match the primary's (printed).

Until fast-cache has replication, its rows say why they are missing (a
server that refuses --replication-bind, or replicas that never come online)
and the redis side still runs.

Env: FC_SERVER, REDIS_SERVER, BENCH_N (requests per throughput run, default
200000), BENCH_C (clients, 50), LAG_PROBES (400), LAG_EVERY_MS (5). Servers
listen on 127.0.0.1 only, every wait is bounded, and every process started
is stopped on exit.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FC = os.environ.get("FC_SERVER", os.path.join(ROOT, "build",
                                              "fast-cache-server"))
REDIS = os.environ.get("REDIS_SERVER", shutil.which("redis-server") or "")
BENCH = shutil.which("redis-benchmark")
N = int(os.environ.get("BENCH_N", "200000"))
C = int(os.environ.get("BENCH_C", "50"))
LAG_PROBES = int(os.environ.get("LAG_PROBES", "400"))
LAG_EVERY = float(os.environ.get("LAG_EVERY_MS", "5")) / 1000.0
NCPU = os.cpu_count() or 1
PRIMARY_CPU, OTHER_CPU = "0", ("1" if NCPU > 1 else "0")
START_TIMEOUT = 30.0
ONLINE_TIMEOUT = 60.0
KEYSPACE = 100000

procs = []


class Skip(Exception):
    """This configuration cannot run (the message says why)."""


# --- a tiny RESP client (probes and control) --------------------------------

class Client:
    def __init__(self, port, timeout=10.0):
        self.s = socket.create_connection(("127.0.0.1", port), timeout)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def close(self):
        self.s.close()

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _reply(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t in (b"+", b"-"):
            return rest.decode() if t == b"+" else RuntimeError(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                chunk = self.s.recv(max(65536, n + 2 - len(self.buf)))
                if not chunk:
                    raise ConnectionError("closed")
                self.buf += chunk
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise ValueError("bad reply %r" % line)

    def call(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.s.sendall(b"".join(out))
        return self._reply()


def try_call(port, *args):
    try:
        c = Client(port, timeout=5.0)
        try:
            return c.call(*args)
        finally:
            c.close()
    except (OSError, ConnectionError, ValueError) as e:
        return RuntimeError(str(e))


def info(port, section="replication"):
    r = try_call(port, "INFO", section)
    if not isinstance(r, bytes):
        return {}
    out = {}
    for line in r.decode().splitlines():
        if ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            out[k] = v.strip()
    return out


# --- servers ---------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn(args, cpu, log):
    p = subprocess.Popen(["taskset", "-c", cpu] + args, stdout=log,
                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    procs.append(p)
    return p


def wait_ping(p, port, logpath):
    t0 = time.monotonic()
    while time.monotonic() - t0 < START_TIMEOUT:
        if p.poll() is not None:
            with open(logpath, "rb") as f:
                tail = f.read().decode("utf-8", "replace").strip()
            raise Skip("exited at start (%s)" % (tail.splitlines()[-1]
                                                 if tail else p.returncode))
        if try_call(port, "PING") == "PONG":
            return
        time.sleep(0.02)
    raise Skip("no PING answer within %.0fs" % START_TIMEOUT)


class Setup:
    """One primary and nrep replicas of one kind ("fc" or "redis")."""

    def __init__(self, kind, nrep, tmp, replication=True):
        """replication=False: a fast-cache primary without
        --replication-bind (the cost of publishing with no one listening
        is then visible in the 0-replica row)."""
        self.kind, self.nrep = kind, nrep
        self.replication = replication
        self.procs = []
        self.port = free_port()
        self.rport = free_port()  # fast-cache's FCRP port
        self.replicas = []  # client ports
        self.rprocs = []    # (process, log path)
        self.dir = tempfile.mkdtemp(dir=tmp)
        try:
            self._start()
        except Skip:
            self.stop()
            raise

    def _log(self, name):
        path = os.path.join(self.dir, name + ".log")
        return open(path, "ab"), path

    def _server_args(self, port, upstream=None):
        if self.kind == "redis":
            a = [REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save",
                 "", "--appendonly", "no", "--daemonize", "no", "--dir",
                 self.dir, "--repl-diskless-sync-delay", "0"]
            if upstream:
                a += ["--replicaof", "127.0.0.1", str(upstream)]
            return a
        a = [FC, "--bind", "127.0.0.1", "--port", str(port), "--threads",
             "1", "--pin-threads", "no"]
        if upstream:
            a += ["--replica-of", "127.0.0.1:%d" % upstream]
        elif self.replication:
            a += ["--replication-bind", "127.0.0.1:%d" % self.rport]
        return a

    def _start(self):
        log, path = self._log("primary")
        p = spawn(self._server_args(self.port), PRIMARY_CPU, log)
        self.procs.append(p)
        try:
            wait_ping(p, self.port, path)
        except Skip as e:
            if self.kind == "fc":
                raise Skip("fast-cache primary with --replication-bind %s"
                           % e)
            raise
        upstream = self.rport if self.kind == "fc" else self.port
        for i in range(self.nrep):
            port = free_port()
            log, path = self._log("replica%d" % i)
            r = spawn(self._server_args(port, upstream), OTHER_CPU, log)
            self.procs.append(r)
            try:
                wait_ping(r, port, path)
            except Skip as e:
                raise Skip("%s replica with %s %s" % (
                    self.kind, "--replica-of" if self.kind == "fc" else
                    "--replicaof", e))
            self.replicas.append(port)
            self.rprocs.append((r, path))
        for port, (r, path) in zip(self.replicas, self.rprocs):
            self.wait_online(port, r, path)

    def wait_online(self, port, proc, logpath):
        t0 = time.monotonic()
        last = {}
        while time.monotonic() - t0 < ONLINE_TIMEOUT:
            if proc.poll() is not None:
                with open(logpath, "rb") as f:
                    tail = f.read().decode("utf-8", "replace").strip()
                raise Skip("%s replica exited (status %s: %s)" % (
                    self.kind, proc.returncode,
                    tail.splitlines()[-1] if tail else "no output"))
            last = info(port)
            if last.get("role") == "master" and time.monotonic() - t0 > 5:
                with open(logpath, "rb") as f:
                    warn = [l for l in f.read().decode(
                        "utf-8", "replace").splitlines() if " # " in l]
                raise Skip("%s replica still role:master 5 s after start%s"
                           % (self.kind, " (%s)" % warn[-1].split(" # ", 1)[1]
                              if warn else ""))
            if last.get("master_link_status") == "up" and \
                    last.get("master_sync_in_progress") == "0" and \
                    last.get("fc_repl_state", "online") == "online":
                return
            time.sleep(0.05)
        raise Skip("%s replica on port %d not online within %.0fs (%s)" % (
            self.kind, port, ONLINE_TIMEOUT,
            ", ".join("%s=%s" % (k, last.get(k)) for k in (
                "master_link_status", "fc_repl_state",
                "fc_repl_last_error") if k in last) or "no INFO"))

    def in_sync(self, timeout=30.0):
        """True once every replica's DBSIZE equals the primary's."""
        want = try_call(self.port, "DBSIZE")
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if all(try_call(p, "DBSIZE") == want for p in self.replicas):
                return True
            time.sleep(0.05)
        return False

    def stop(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


# --- load and probes -------------------------------------------------------

def bench_args(port, pipe, n):
    return ["taskset", "-c", OTHER_CPU, BENCH, "-h", "127.0.0.1", "-p",
            str(port), "-c", str(C), "-d", "64", "-r", str(KEYSPACE), "-n",
            str(n), "-P", str(pipe), "-t", "set", "--csv"]


def bench_set(port, pipe):
    out = subprocess.run(bench_args(port, pipe, N), capture_output=True,
                         text=True, timeout=900).stdout
    for line in out.splitlines()[1:]:
        f = [x.strip('"') for x in line.split('","')]
        return float(f[1])
    return 0.0


def percentile(xs, q):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def lag_under_load(setup):
    """(lags in ms, probes lost): probes on the primary, polled on the first
    replica, while redis-benchmark -P 1 loads the primary."""
    load = subprocess.Popen(bench_args(setup.port, 1, 50 * N),
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    procs.append(load)
    time.sleep(0.3)  # the load is under way
    writer = Client(setup.port)
    reader = Client(setup.replicas[0])
    lags, lost = [], 0
    stop = threading.Event()

    def write():
        t_next = time.monotonic()
        for i in range(LAG_PROBES):
            if stop.is_set():
                return
            writer.call("SET", "lagprobe:%d" % i, str(time.monotonic_ns()))
            t_next += LAG_EVERY
            time.sleep(max(0.0, t_next - time.monotonic()))

    t = threading.Thread(target=write, daemon=True)
    t.start()
    try:
        for i in range(LAG_PROBES):
            key = "lagprobe:%d" % i
            deadline = time.monotonic() + 10.0
            while True:
                v = reader.call("GET", key)
                if isinstance(v, bytes):
                    lags.append((time.monotonic_ns() - int(v)) / 1e6)
                    break
                if time.monotonic() > deadline:
                    lost += 1
                    break
                time.sleep(0.0002)
    finally:
        stop.set()
        t.join(30)
        if load.poll() is None:
            load.terminate()
        load.wait(30)
        writer.close()
        reader.close()
    return lags, lost


def main():
    for tool, what in ((REDIS, "redis-server"), (BENCH, "redis-benchmark"),
                       (shutil.which("taskset"), "taskset")):
        if not tool or not os.path.exists(tool):
            sys.exit("repl_vs_redis: %s not found" % what)
    kinds = ["redis", "fc"]
    if not os.path.exists(FC):
        print("repl_vs_redis: %s not found: fast-cache skipped" % FC)
        kinds = ["redis"]
    if NCPU > 1:
        os.sched_setaffinity(0, {int(OTHER_CPU)})
    tmp = tempfile.mkdtemp(prefix="fc-repl-bench-")
    rates, lag, notes = {}, {}, []
    try:
        print("== Replication: primary SET throughput and lag "
              "(redis-benchmark -t set -c %d -d 64 -r %d -n %d)" %
              (C, KEYSPACE, N))
        print("   primary pinned to CPU %s (fast-cache --threads 1); "
              "replicas, load generator and lag probe on CPU %s" %
              (PRIMARY_CPU, OTHER_CPU))
        skip = {}
        for nrep in (0, 1, 2):
            order = kinds if nrep % 2 == 0 else kinds[::-1]
            for kind in order:
                if kind in skip:
                    continue
                try:
                    s = Setup(kind, nrep, tmp)
                except Skip as e:
                    notes.append("%s with %d replica(s): skipped: %s" %
                                 (kind, nrep, e))
                    if nrep == 0 or kind == "fc":
                        skip[kind] = True
                    continue
                try:
                    for pipe in (1, 16):
                        rates[(kind, nrep, pipe)] = bench_set(s.port, pipe)
                    if nrep:
                        lag[(kind, nrep)] = lag_under_load(s)
                        if not s.in_sync():
                            notes.append("%s with %d replica(s): replica "
                                         "DBSIZE differs from the primary's "
                                         "after the load" % (kind, nrep))
                finally:
                    s.stop()
        if "fc" in kinds:  # fast-cache with replication off altogether
            try:
                s = Setup("fc", 0, tmp, replication=False)
                try:
                    for pipe in (1, 16):
                        rates[("fc-off", 0, pipe)] = bench_set(s.port, pipe)
                finally:
                    s.stop()
            except Skip as e:
                notes.append("fc without replication: skipped: %s" % e)
        report(rates, lag, notes)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def fmt(x, spec="%12.0f"):
    return spec % x if x is not None else "%12s" % "-"


def report(rates, lag, notes):
    print()
    print("%-5s %-9s %12s %12s %10s %10s %9s" % (
        "pipe", "replicas", "redis_rps", "fc_rps", "redis/0", "fc/0",
        "fc/redis"))
    for pipe in (1, 16):
        for nrep in (0, 1, 2):
            r, f = rates.get(("redis", nrep, pipe)), rates.get(("fc", nrep,
                                                                 pipe))
            r0, f0 = rates.get(("redis", 0, pipe)), rates.get(("fc", 0, pipe))
            print("%-5d %-9d %s %s %10s %10s %9s" % (
                pipe, nrep, fmt(r), fmt(f),
                "%.2f" % (r / r0) if r and r0 else "-",
                "%.2f" % (f / f0) if f and f0 else "-",
                "%.2f" % (f / r) if f and r else "-"))
    for pipe in (1, 16):
        off, f0 = rates.get(("fc-off", 0, pipe)), rates.get(("fc", 0, pipe))
        if off:
            print("fast-cache without replication, -P %d: %.0f rps "
                  "(0 replicas / off: %s)" % (pipe, off, "%.2f" % (f0 / off)
                                              if f0 else "-"))
    print()
    print("Replication lag under SET load (-P 1), probe every %.0f ms, "
          "%d probes, read on replica 1:" % (LAG_EVERY * 1000, LAG_PROBES))
    print("%-9s %-7s %9s %9s %9s %6s" % ("replicas", "server", "p50_ms",
                                        "p99_ms", "max_ms", "lost"))
    for nrep in (1, 2):
        for kind in ("redis", "fc"):
            if (kind, nrep) not in lag:
                print("%-9d %-7s %9s %9s %9s %6s" % (nrep, kind, "-", "-",
                                                    "-", "-"))
                continue
            xs, lost = lag[(kind, nrep)]
            print("%-9d %-7s %9.3f %9.3f %9.3f %6d" % (
                nrep, kind, percentile(xs, 0.5), percentile(xs, 0.99),
                max(xs) if xs else float("nan"), lost))
    for n in notes:
        print("note: " + n)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(130))
    main()
