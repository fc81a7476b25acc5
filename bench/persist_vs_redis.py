#!/usr/bin/env python3
"""persist_vs_redis.py — durability costs of fast-cache and redis-server side
by side, on the same machine, in one run (make bench calls it).

1. SET throughput with persistence off / fsync interval / fsync always,
   beside redis-server with appendonly no / everysec / always: the same
   redis-benchmark flags, per core (each server pinned to CPU 0, fast-cache
   with --threads 1, the load generator pinned to CPU 1), printed as ratios.
2. A snapshot of KEYS keys: duration and peak memory growth (PSS, so a fork
   child's shared pages are counted once), idle and under a SET load, beside
   redis-server's BGSAVE (fork + copy-on-write).
3. Recovery time of those keys at start (until DBSIZE answers them all),
   beside redis-server loading its RDB.

Env: FC_SERVER, REDIS_SERVER, BENCH_N (requests per throughput run, default
200000), BENCH_C (clients, 50), KEYS (1000000). Servers listen on 127.0.0.1
only, data lives in a temporary directory, every loop is bounded, and every
process started is stopped on exit.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FC = os.environ.get("FC_SERVER", os.path.join(ROOT, "build", "fast-cache-server"))
REDIS = os.environ.get("REDIS_SERVER", shutil.which("redis-server") or "")
BENCH = shutil.which("redis-benchmark")
CLI = shutil.which("redis-cli")
N = int(os.environ.get("BENCH_N", "200000"))
C = int(os.environ.get("BENCH_C", "50"))
KEYS = int(os.environ.get("KEYS", "1000000"))
NCPU = os.cpu_count() or 1
SERVER_CPU, CLIENT_CPU = "0", ("1" if NCPU > 1 else "0")

procs = []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(port, *args, timeout=600):
    r = subprocess.run([CLI, "-h", "127.0.0.1", "-p", str(port)] + list(args),
                       capture_output=True, text=True, timeout=timeout)
    return r.stdout.strip()


def start(kind, port, data, mode):
    """mode: off | interval | always (fast-cache); the same names map to
    appendonly no / everysec / always for redis."""
    log = open(os.path.join(data, "server.log"), "ab")
    if kind == "redis":
        args = [REDIS, "--port", str(port), "--bind", "127.0.0.1",
                "--dir", data, "--save", "", "--daemonize", "no"]
        if mode == "off":
            args += ["--appendonly", "no"]
        else:
            args += ["--appendonly", "yes", "--appendfsync",
                     "everysec" if mode == "interval" else "always"]
    else:
        args = [FC, "--bind", "127.0.0.1", "--port", str(port),
                "--threads", "1", "--pin-threads", "no"]
        if mode != "off":
            args += ["--data-dir", data, "--fsync", mode]
    p = subprocess.Popen(["taskset", "-c", SERVER_CPU] + args, stdout=log,
                         stderr=log)
    procs.append(p)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 600:
        if p.poll() is not None:
            sys.exit("%s exited at start (see %s/server.log)" % (kind, data))
        out = cli(port, "DBSIZE")
        if out and not out.startswith(("LOADING", "Could not", "ERR")):
            return p, time.monotonic() - t0
        time.sleep(0.01)
    sys.exit("%s did not start" % kind)


def stop(p, port, save=False):
    try:
        cli(port, "SHUTDOWN", "SAVE" if save else "NOSAVE", timeout=600)
    except subprocess.TimeoutExpired:
        pass
    try:
        p.wait(timeout=600)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def bench_set(port, pipe):
    out = subprocess.run(
        ["taskset", "-c", CLIENT_CPU, BENCH, "-h", "127.0.0.1", "-p", str(port),
         "-c", str(C), "-d", "64", "-r", "1000000", "-n", str(N), "-P",
         str(pipe), "-t", "set", "--csv"], capture_output=True, text=True,
        timeout=900).stdout
    for line in out.splitlines()[1:]:
        f = [x.strip('"') for x in line.split('","')]
        return float(f[1])
    return 0.0


def pss_kb(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def fill(port, n):
    """n keys of 64-byte values through redis-cli --pipe (bounded)."""
    val = "v" * 64
    batch = 100000
    for start_i in range(0, n, batch):
        cmds = []
        for i in range(start_i, min(n, start_i + batch)):
            k = "key:%d" % i
            cmds.append("*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$64\r\n%s\r\n" %
                        (len(k), k, val))
        subprocess.run([CLI, "-h", "127.0.0.1", "-p", str(port), "--pipe"],
                       input="".join(cmds).encode(), capture_output=True,
                       timeout=600)


def info_field(port, section, field):
    for line in cli(port, "INFO", section).splitlines():
        if line.startswith(field + ":"):
            return line.split(":", 1)[1].strip()
    return None


def snapshot(kind, p, port, under_load):
    """Returns (seconds, peak PSS growth in MiB)."""
    base = pss_kb(p.pid)
    load = None
    if under_load:
        load = subprocess.Popen(
            ["taskset", "-c", CLIENT_CPU, BENCH, "-h", "127.0.0.1", "-p",
             str(port), "-c", "20", "-d", "64", "-r", str(KEYS), "-n",
             "400000", "-t", "set", "-q"], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        procs.append(load)
        time.sleep(0.3)
        base = pss_kb(p.pid)
    before = info_field(port, "persistence", "rdb_last_save_time")
    t0 = time.monotonic()
    reply = cli(port, "BGSAVE")
    if "started" not in reply:
        sys.exit("%s BGSAVE: %s" % (kind, reply))
    peak = base
    while time.monotonic() - t0 < 600:
        total = pss_kb(p.pid) + sum(pss_kb(c) for c in children(p.pid))
        peak = max(peak, total)
        if info_field(port, "persistence", "rdb_bgsave_in_progress") == "0":
            break
        time.sleep(0.005)
    secs = time.monotonic() - t0
    if load:
        load.wait(timeout=900)
    status = info_field(port, "persistence", "rdb_last_bgsave_status")
    if status != "ok":
        sys.exit("%s snapshot status %s (before %s)" % (kind, status, before))
    return secs, (peak - base) / 1024.0


def main():
    for tool, what in ((FC, "fast-cache-server"), (REDIS, "redis-server"),
                       (BENCH, "redis-benchmark"), (CLI, "redis-cli"),
                       (shutil.which("taskset"), "taskset")):
        if not tool or not os.path.exists(tool):
            sys.exit("persist_vs_redis: %s not found" % what)
    tmp = tempfile.mkdtemp(prefix="fc-persist-bench-")
    try:
        print("== SET throughput, persistence policies (redis-benchmark -c %d "
              "-d 64 -r 1000000 -n %d; servers on CPU %s, fast-cache "
              "--threads 1; client on CPU %s)" % (C, N, SERVER_CPU, CLIENT_CPU))
        print("%-5s %-9s %12s %12s %9s %9s" % ("pipe", "policy", "redis_rps",
                                             "fc_rps", "fc/redis", "fc/fc_off"))
        for pipe in (1, 16):
            rates = {}
            for mode in ("off", "interval", "always"):
                for kind in ("redis", "fc") if pipe == 1 else ("fc", "redis"):
                    d = tempfile.mkdtemp(dir=tmp)
                    port = free_port()
                    p, _ = start(kind, port, d, mode)
                    rates[(kind, mode)] = bench_set(port, pipe)
                    stop(p, port)
                    shutil.rmtree(d, ignore_errors=True)
            for mode in ("off", "interval", "always"):
                r, f = rates[("redis", mode)], rates[("fc", mode)]
                print("%-5d %-9s %12.0f %12.0f %9.2f %9.2f" % (
                    pipe, mode, r, f, f / r if r else 0,
                    f / rates[("fc", "off")] if rates[("fc", "off")] else 0))
            ro = rates[("redis", "off")]
            print("      redis everysec/off %.2f, always/off %.2f" % (
                rates[("redis", "interval")] / ro if ro else 0,
                rates[("redis", "always")] / ro if ro else 0))

        print()
        print("== Snapshot and recovery of %d keys (64-byte values)" % KEYS)
        print("%-10s %-10s %10s %16s" % ("server", "load", "seconds",
                                         "peak PSS growth"))
        results = {}
        for kind in ("fc", "redis"):
            d = tempfile.mkdtemp(dir=tmp)
            port = free_port()
            p, _ = start(kind, port, d, "interval")
            fill(port, KEYS)
            n = int(cli(port, "DBSIZE") or 0)
            for under in (False, True):
                secs, grow = snapshot(kind, p, port, under)
                print("%-10s %-10s %10.2f %13.1f MiB" % (
                    kind, "SET load" if under else "idle", secs, grow))
            n = int(cli(port, "DBSIZE") or 0)  # the load added keys
            # Redis loads its RDB (and AOF); make one file of the final state.
            if kind == "redis":
                cli(port, "CONFIG", "SET", "appendonly", "no")
            stop(p, port, save=True)
            p, took = start(kind, port, d, "interval" if kind == "fc" else
                            "off")
            m = int(cli(port, "DBSIZE") or 0)
            results[kind] = took
            print("%-10s %-10s %10.2f   (%d of %d keys back)" % (
                kind, "recovery", took, m, n))
            stop(p, port)
        if results.get("redis"):
            print("recovery fc/redis time: %.2f" % (results["fc"] /
                                                     results["redis"]))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(130))
    main()
