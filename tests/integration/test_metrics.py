"""fast-cache only: the Prometheus endpoint (--metrics-bind) and the periodic
stats log line (--stats-log-interval-ms).

The checks scrape with urllib, a real HTTP client, and compare what the
endpoint serves with what the load did (exactly N SETs more) and with what
INFO and DBSIZE say, which read the same counters. The server runs four
workers, so every figure is a sum over workers and keys live on all four.
"""

import math
import os
import re
import shutil
import socket
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

import fcserver
from fcserver import Server, ServerTestCase, fast_cache_only, server_path

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
STATS = re.compile(r"stats: ops_per_sec=(\S+) hit_ratio=(\S+) keys=(\d+) "
                   r"used_memory=(\d+) connections=(\d+) commands=(\d+) "
                   r"hits=(\d+) misses=(\d+) expired=(\d+) evicted=(\d+)")
LOG_MS = 200


def parse(text):
    """{(name, ((label, value), ...)): float}; checks every sample's family
    has its HELP and TYPE lines, and that no sample appears twice."""
    types, helps, samples = {}, set(), {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            helps.add(line.split()[2])
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            assert name not in types, "two TYPE lines for " + name
            types[name] = kind
        elif line:
            m = SAMPLE.match(line)
            assert m, "bad sample line %r" % line
            name, labels = m.group(1), tuple(LABEL.findall(m.group(3) or ""))
            fam = re.sub(r"_(bucket|sum|count)$", "", name)
            if fam not in types:
                fam = name
            assert fam in types and fam in helps, "no HELP/TYPE for " + name
            key = (name, labels)
            assert key not in samples, "sample twice: %r" % (key,)
            samples[key] = float(m.group(4))
    return samples, types


def get(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def by_label(samples, name, label):
    return {dict(k[1])[label]: v for k, v in samples.items() if k[0] == name}


@fast_cache_only
class TestMetrics(ServerTestCase):
    mport = fcserver.free_port()
    server_kwargs = {"threads": 4, "extra_args": [
        "--metrics-bind", "127.0.0.1:%d" % mport,
        "--stats-log-interval-ms", str(LOG_MS)]}

    def url(self, path="/metrics"):
        return "http://127.0.0.1:%d%s" % (self.mport, path)

    def scrape(self):
        with urllib.request.urlopen(self.url(), timeout=10) as r:
            self.assertEqual(r.status, 200)
            self.assertEqual(r.headers["Content-Type"],
                             "text/plain; version=0.0.4; charset=utf-8")
            return parse(r.read().decode())[0]

    def info(self, section):
        return self.r.info(section)

    def load(self, n_set, n_hit, n_miss):
        """Pipelined, bounded: n_set SETs of distinct keys, then n_hit GETs of
        them and n_miss GETs of absent keys."""
        p = self.r.pipeline(transaction=False)
        for i in range(n_set):
            p.set("k:%d" % i, "v%d" % i)
        for i in range(n_hit):
            p.get("k:%d" % (i % n_set))
        for i in range(n_miss):
            p.get("absent:%d" % i)
        replies = p.execute()
        self.assertEqual(replies.count(True), n_set)

    def test_counters_move_as_the_load_says(self):
        before = self.scrape()
        errors, scrapes = [], []

        def scraper():  # scrapes during the load: must always answer
            for _ in range(50):  # bounded
                try:
                    scrapes.append(self.scrape())
                except Exception as e:  # noqa: BLE001 - reported below
                    errors.append(e)
                if done.is_set():
                    return

        done = threading.Event()
        t = threading.Thread(target=scraper)
        t.start()
        try:
            self.load(n_set=600, n_hit=250, n_miss=150)
        finally:
            done.set()
            t.join(60)
        self.assertEqual(errors, [])
        self.assertTrue(scrapes)
        # Counters never go down between scrapes taken during the load.
        seq = [before] + scrapes
        for a, b in zip(seq, seq[1:]):
            for cmd in ("set", "get"):
                self.assertLessEqual(
                    get(a, "fastcache_commands_total", cmd=cmd),
                    get(b, "fastcache_commands_total", cmd=cmd))
        after = self.scrape()
        d = lambda name, **l: get(after, name, **l) - get(before, name, **l)
        self.assertEqual(d("fastcache_commands_total", cmd="set"), 600)
        self.assertEqual(d("fastcache_commands_total", cmd="get"), 400)
        self.assertEqual(d("fastcache_keyspace_hits_total"), 250)
        self.assertEqual(d("fastcache_keyspace_misses_total"), 150)
        self.assertGreater(d("fastcache_commands_duration_seconds_total",
                             cmd="set"), 0)
        self.assertEqual(get(after, "fastcache_keys"), self.r.dbsize())
        self.assertEqual(get(after, "fastcache_keys"), 600)
        # Per worker: keys hash over all four, every worker ran some, the
        # sum is the total, and the others' keys were hops.
        per_w = by_label(after, "fastcache_worker_commands_total", "worker")
        per_w0 = by_label(before, "fastcache_worker_commands_total", "worker")
        self.assertEqual(sorted(per_w), ["0", "1", "2", "3"])
        moved = {w: per_w[w] - per_w0.get(w, 0) for w in per_w}
        for w, n in moved.items():
            self.assertGreater(n, 0, "worker %s ran nothing" % w)
        all_cmds = sum(v - get(before, k[0], **dict(k[1]))
                       for k, v in after.items()
                       if k[0] == "fastcache_commands_total")
        self.assertEqual(sum(moved.values()), all_cmds)
        hops = sum(by_label(after, "fastcache_worker_hops_total",
                            "worker").values()) - \
            sum(by_label(before, "fastcache_worker_hops_total",
                         "worker").values())
        self.assertGreater(hops, 0)
        self.assertLessEqual(hops, 1000)
        # The same counters as INFO.
        st = self.info("stats")
        self.assertEqual(st["keyspace_hits"],
                         get(after, "fastcache_keyspace_hits_total"))
        cs = self.info("commandstats")
        self.assertEqual(cs["cmdstat_set"]["calls"],
                         get(after, "fastcache_commands_total", cmd="set"))
        mem = self.info("memory")
        self.assertEqual(mem["used_memory"],
                         get(after, "fastcache_memory_used_bytes"))
        self.assertEqual(mem["maxmemory"],
                         get(after, "fastcache_memory_limit_bytes"))

    def test_histogram_buckets_monotone_and_count_is_calls(self):
        self.load(n_set=300, n_hit=100, n_miss=0)
        s = self.scrape()
        h = "fastcache_command_latency_seconds"
        for cmd in ("set", "get", "flushall"):
            buckets = sorted(
                ((float(dict(k[1])["le"]), v) for k, v in s.items()
                 if k[0] == h + "_bucket" and dict(k[1])["cmd"] == cmd))
            self.assertEqual(len(buckets), 26)
            self.assertEqual(buckets[0][0], 0.000001)
            self.assertTrue(math.isinf(buckets[-1][0]))
            counts = [v for _, v in buckets]
            self.assertEqual(counts, sorted(counts), cmd)
            calls = get(s, "fastcache_commands_total", cmd=cmd)
            self.assertGreater(calls, 0)
            self.assertEqual(counts[-1], calls, cmd)
            self.assertEqual(get(s, h + "_count", cmd=cmd), calls)
            self.assertAlmostEqual(
                get(s, h + "_sum", cmd=cmd),
                get(s, "fastcache_commands_duration_seconds_total", cmd=cmd),
                places=9)
        q = {dict(k[1])["quantile"]: v for k, v in s.items()
             if k[0] == "fastcache_command_latency_quantile_seconds"}
        self.assertEqual(sorted(q), ["0.5", "0.99", "0.999"])
        self.assertGreater(q["0.5"], 0)
        self.assertLessEqual(q["0.5"], q["0.99"])
        self.assertLessEqual(q["0.99"], q["0.999"])

    def test_latency_histogram_reads_the_same_buckets(self):
        self.load(n_set=200, n_hit=50, n_miss=0)
        s = self.scrape()
        c = self.raw()
        reply = c.call("LATENCY", "HISTOGRAM", "set", "GET", "nosuchcmd")
        got = dict(zip(reply[0::2], reply[1::2]))
        self.assertEqual(sorted(got), [b"get", b"set"])
        h = "fastcache_command_latency_seconds_bucket"
        for name, entry in got.items():
            cmd = name.decode()
            e = dict(zip(entry[0::2], entry[1::2]))
            calls = get(s, "fastcache_commands_total", cmd=cmd)
            self.assertEqual(e[b"calls"], calls)
            pairs = list(zip(e[b"histogram_usec"][0::2],
                             e[b"histogram_usec"][1::2]))
            self.assertTrue(pairs)
            self.assertEqual(pairs[-1][1], calls)
            for usec, cum in pairs:
                self.assertEqual(usec & (usec - 1), 0, usec)  # a power of 2
                le = "+Inf" if usec >= 1 << 25 else "%.6f" % (usec / 1e6)
                self.assertEqual(get(s, h, cmd=cmd, le=le), cum, (cmd, usec))
        # INFO latencystats: each percentile is the upper bound (in us) of
        # the first bucket whose cumulative count reaches it.
        text = c.call("INFO", "latencystats").decode()
        line = [l for l in text.split("\r\n")
                if l.startswith("latency_percentiles_usec_set:")][0]
        got_p = dict(kv.split("=") for kv in line.split(":")[1].split(","))
        set_calls = get(s, "fastcache_commands_total", cmd="set")
        ups = sorted((float(dict(k[1])["le"]), v) for k, v in s.items()
                     if k[0] == h and dict(k[1])["cmd"] == "set")
        for name, q in (("p50", 0.5), ("p99", 0.99), ("p99.9", 0.999)):
            need = math.ceil(set_calls * q)
            le = next(u for u, cum in ups if cum >= need)
            self.assertEqual(float(got_p[name]), round(le * 1e6), name)
        # Every command that ran, when none is named (LATENCY included).
        everything = c.call("LATENCY", "HISTOGRAM")
        self.assertIn(b"latency", everything[0::2])
        self.assertIn(b"set", everything[0::2])
        self.assertTrue(c.call("LATENCY", "LATEST").startswith("ERR "))
        self.assertTrue(c.call("LATENCY", "nope").startswith(
            "ERR unknown subcommand 'nope'"))

    def test_connections(self):
        extra = [self.raw() for _ in range(5)]
        for c in extra:
            self.assertEqual(c.call("PING"), b"PONG")
        s = self.scrape()
        self.assertEqual(get(s, "fastcache_connections"),
                         self.info("clients")["connected_clients"])
        self.assertGreaterEqual(get(s, "fastcache_connections"), 6)
        for c in extra:
            c.close()

    def test_other_paths_and_methods(self):
        for path in ("/", "/metricsx", "/metrics/", "/favicon.ico"):
            with self.assertRaises(urllib.error.HTTPError) as e:
                urllib.request.urlopen(self.url(path), timeout=10)
            self.assertEqual(e.exception.code, 404, path)
        for method in ("POST", "PUT", "DELETE"):
            req = urllib.request.Request(self.url(), data=b"x=1",
                                         method=method)
            with self.assertRaises(urllib.error.HTTPError) as e:
                urllib.request.urlopen(req, timeout=10)
            self.assertEqual(e.exception.code, 405, method)
            self.assertEqual(e.exception.headers["Allow"], "GET, HEAD")
        req = urllib.request.Request(self.url(), method="HEAD")
        with urllib.request.urlopen(req, timeout=10) as r:
            self.assertEqual(r.status, 200)
            self.assertEqual(r.read(), b"")

    def raw_http(self, data, timeout=5):
        """Sends raw bytes, returns what came back before close/timeout."""
        s = socket.create_connection(("127.0.0.1", self.mport), timeout=10)
        self.addCleanup(s.close)
        got = b""
        try:
            s.sendall(data)
            s.settimeout(timeout)
            for _ in range(1000):  # bounded
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
        except (socket.timeout, ConnectionResetError, BrokenPipeError):
            pass
        return got

    def test_malformed_and_slow_clients_do_not_hurt(self):
        # A client that sends half a request line and waits holds one slot.
        slow = socket.create_connection(("127.0.0.1", self.mport), timeout=10)
        self.addCleanup(slow.close)
        slow.sendall(b"GET /met")
        junk = [
            b"BLAH\r\n\r\n",
            b"GET /metrics HTTP/9.9\r\n\r\n",
            b"GET\r\n\r\n",
            b"\x00\xff\xfe garbage \r\n\r\n",
            b"GET /metrics HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 200000 +
            b"\r\n\r\n",
            b"GET /metrics HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
            b"POST /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
            b"chunked\r\n\r\nzz\r\n",
        ]
        for data in junk:
            got = self.raw_http(data)
            if got:  # an answer, if any, is an HTTP error status
                self.assertTrue(re.match(rb"HTTP/1\.[01] [45]\d\d ", got),
                                got[:80])
        # Meanwhile (the slow client still connected) scrapes and RESP work.
        t0 = time.monotonic()
        self.assertIn(("fastcache_workers", ()), self.scrape())
        self.assertLess(time.monotonic() - t0, 5)
        self.assertAlive()
        got = self.raw_http(b"GET /metrics HTTP/1.0\r\n\r\n")
        self.assertTrue(got.startswith(b"HTTP/1.0 200") or
                        got.startswith(b"HTTP/1.1 200"), got[:80])
        self.assertIn(b"fastcache_keys ", got)

    def stats_lines(self):
        return [STATS.search(l) for l in self.server.log_text().splitlines()
                if STATS.search(l)]

    def test_stats_log_line(self):
        self.load(n_set=50, n_hit=30, n_miss=20)
        want = self.scrape()  # the totals now (a scrape runs no command)
        total = sum(v for k, v in want.items()
                    if k[0] == "fastcache_commands_total")
        # Wait for a quiet interval's line after the load: the totals are
        # then those of the scrape, and its rate is 0.
        line = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and line is None:
            time.sleep(LOG_MS / 1000)
            lines = self.stats_lines()
            if lines and int(lines[-1].group(6)) == total and \
                    lines[-1].group(1) == "0.0":
                line = lines[-1]
        self.assertIsNotNone(line, self.server.log_text()[-2000:])
        self.assertEqual(line.group(2), "-")
        self.assertEqual(int(line.group(3)), self.r.dbsize())
        self.assertEqual(int(line.group(7)),
                         get(want, "fastcache_keyspace_hits_total"))
        self.assertEqual(int(line.group(8)),
                         get(want, "fastcache_keyspace_misses_total"))
        self.assertEqual(int(line.group(4)),
                         get(want, "fastcache_memory_used_bytes"))
        self.assertGreaterEqual(int(line.group(5)), 1)
        # ops_per_sec is the interval's: consecutive lines agree with it,
        # and a quiet interval says 0 with no hit ratio.
        lines = self.stats_lines()
        for a, b in zip(lines, lines[1:]):
            delta = int(b.group(6)) - int(a.group(6))
            ops = float(b.group(1))
            self.assertAlmostEqual(ops * LOG_MS / 1000, delta,
                                   delta=0.5 * delta + 1)
            if delta == 0:
                self.assertEqual(ops, 0.0)


@fast_cache_only
class TestMetricsFreshServer(ServerTestCase):
    """A server that held no data before: no worker has slab pages to
    defragment, so a worker whose last TTL key expires has no timer left
    and sleeps until a client comes (the case the sweep must publish in)."""
    mport = fcserver.free_port()
    server_kwargs = {"threads": 4, "extra_args": [
        "--metrics-bind", "127.0.0.1:%d" % mport]}
    scrape = TestMetrics.scrape
    url = TestMetrics.url

    def test_expired_keys(self):
        # A few keys (with many, the last sweeps of a worker tend to fall
        # in turns that end with a refresh anyway), each from a connection
        # of its own, and one that stays.
        for i in range(3):
            with self.server.raw() as c:
                self.assertEqual(c.call("SET", "ttl:%d" % i, "x", "PX", 1),
                                 b"OK")
        with self.server.raw() as c:
            self.assertEqual(c.call("SET", "ttl:long", "x", "EX", 1000),
                             b"OK")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # the sweep takes them
            s = self.scrape()
            if get(s, "fastcache_expired_keys_total") >= 3:
                break
            time.sleep(0.05)
        self.assertEqual(get(s, "fastcache_expired_keys_total"), 3)
        # Published by the sweep itself: the workers that expired them sleep
        # with no timer left (they own no TTL key now), and must not leave
        # DBSIZE and the gauge stale until a client wakes them. Read before
        # DBSIZE, which sends nothing to them either.
        time.sleep(0.3)
        s = self.scrape()
        self.assertEqual(get(s, "fastcache_keys"), 1)
        self.assertEqual(get(s, "fastcache_keys_with_expiry"), 1)
        self.assertEqual(self.r.dbsize(), 1)
        self.assertEqual(self.r.info("keyspace")["db0"]["expires"], 1)


@fast_cache_only
class TestMetricsPersistence(unittest.TestCase):
    """The WAL and snapshot families read ps_info_get, as INFO does."""

    def test_wal_and_snapshot_counters(self):
        d = tempfile.mkdtemp(prefix="fc-metrics-")
        self.addCleanup(shutil.rmtree, d, True)  # after the server stops
        mport = fcserver.free_port()
        srv = Server(threads=2, extra_args=[
            "--data-dir", d, "--metrics-bind", "127.0.0.1:%d" % mport,
            "--replication-bind", "127.0.0.1:%d" % fcserver.free_port()])
        srv.start()
        self.addCleanup(srv.stop_and_check)
        url = "http://127.0.0.1:%d/metrics" % mport

        def scrape():
            with urllib.request.urlopen(url, timeout=10) as r:
                return parse(r.read().decode())[0]

        r = srv.client()
        self.addCleanup(r.close)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # PING answers while loading
            if r.info("persistence")["loading"] == 0:
                break
            time.sleep(0.05)
        s0 = scrape()
        for i in range(100):
            r.set("p:%d" % i, "v")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # the writer thread's pace
            s = scrape()
            info = r.info("persistence")
            if get(s, "fastcache_wal_records_written_total") - \
                    get(s0, "fastcache_wal_records_written_total") >= 100 \
                    and info["wal_queued_records"] == 0:
                break
            time.sleep(0.05)
        self.assertEqual(get(s, "fastcache_wal_records_written_total") -
                         get(s0, "fastcache_wal_records_written_total"), 100)
        self.assertEqual(get(s, "fastcache_wal_records_written_total"),
                         info["wal_records_written"])
        self.assertEqual(get(s, "fastcache_wal_written_bytes_total"),
                         info["wal_bytes_written"])
        saves = get(s, "fastcache_snapshots_total")
        self.assertEqual(saves, info["rdb_saves"])
        r.save()
        s = scrape()
        self.assertEqual(get(s, "fastcache_snapshots_total"), saves + 1)
        self.assertEqual(get(s, "fastcache_snapshot_last_keys"), 100)
        self.assertEqual(get(s, "fastcache_snapshot_in_progress"), 0)
        # A primary with no replica: its offset is INFO's.
        self.assertEqual(get(s, "fastcache_repl_offset"),
                         r.info("replication")["master_repl_offset"])


def run_briefly(args):
    import subprocess
    return subprocess.run([server_path()] + args, capture_output=True,
                          timeout=20, stdin=subprocess.DEVNULL)


@fast_cache_only
class TestMetricsConfig(unittest.TestCase):
    def test_bad_addresses_exit_2(self):
        for v in ("nohost", "127.0.0.1:0", "127.0.0.1:70000",
                  "localhost:9000", "1.2.3:80", ""):
            p = run_briefly(["--port", str(fcserver.free_port()),
                             "--metrics-bind", v])
            out = (p.stdout + p.stderr).decode()
            self.assertEqual(p.returncode, 2, (v, out))
            self.assertIn("--metrics-bind", out)

    def test_help_names_the_flags(self):
        p = run_briefly(["--help"])
        self.assertEqual(p.returncode, 0)
        self.assertIn(b"--metrics-bind ADDR:PORT", p.stdout)
        self.assertIn(b"--stats-log-interval-ms MS", p.stdout)

    def test_port_in_use_stops_the_start(self):
        held = socket.socket()
        self.addCleanup(held.close)
        held.bind(("127.0.0.1", 0))
        held.listen(1)
        port = held.getsockname()[1]
        p = run_briefly(["--port", str(fcserver.free_port()),
                         "--metrics-bind", "127.0.0.1:%d" % port])
        out = (p.stdout + p.stderr).decode()
        self.assertEqual(p.returncode, 1, out)
        self.assertIn("metrics endpoint 127.0.0.1:%d: Address already in use"
                      % port, out)

    def test_file_keys_and_off_by_default(self):
        mport = fcserver.free_port()
        fd, path = tempfile.mkstemp(suffix=".toml")
        self.addCleanup(os.unlink, path)
        with os.fdopen(fd, "w") as f:
            f.write('metrics_bind = "127.0.0.1:%d"\n' % mport)
        srv = Server(extra_args=["--config", path]).start()
        self.addCleanup(srv.stop_and_check)
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % mport,
                                    timeout=10) as r:
            self.assertIn(b"fastcache_keys 0", r.read())
        plain = Server().start()
        self.addCleanup(plain.stop_and_check)
        time.sleep(0.3)
        self.assertNotIn("Metrics endpoint", plain.log_text())
        self.assertNotIn("stats:", plain.log_text())
        with open(path, "w") as f:
            f.write('metrics_bind = "example.org:80"\n')
        p = run_briefly(["--config", path])
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"'metrics_bind' must be", p.stdout + p.stderr)


if __name__ == "__main__":
    unittest.main()
