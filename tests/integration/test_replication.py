"""fast-cache only: replication (FCRP) between real processes on loopback.

A replica converges with its primary (same keys, values and expiry times,
same DBSIZE) after: a fresh start against a primary with data (snapshot), a
short disconnect (backlog catch-up, no snapshot), a long one that outgrew
the backlog (snapshot again), a restart or SIGKILL of either side (the
primary with persistence), and a link cut in the middle of a snapshot. The
link runs through replproxy.Proxy, which cuts or refuses connections.
Replicas refuse writes (-READONLY) and answer -LOADING during a full sync;
expiries, DEL/EXPIRE/PERSIST/FLUSHALL replicate. Hand-made FCRP frames on
a raw socket check the primary's handshake: wrong version, wrong or missing
token, garbage, an oversize header, silence: each gets an Error frame and a
close, while the primary keeps serving clients and its replica; a peer that
knows only the seed spec gets Hello and a snapshot it can decode. Also: two
replicas, max_replicas, WAIT, ROLE, INFO replication, REPLICAOF host port
and REPLICAOF NO ONE (promotion keeps the data).

Helpers: replutil.py (servers, waits, dumps, FCRP frames), replproxy.py.
"""

import socket
import struct
import time
import unittest

from fcserver import RespError, fast_cache_only, free_port
from persistutil import pipeline
from replutil import (ACK, BATCH, ERROR, HELLO, NO_EXPIRY, READONLY,
                      SNAP_BEGIN, SNAP_CHUNK, SNAP_END, FcrpPeer, ReplCase,
                      Writer, chunk_entries, counter, dump, error_text, fill,
                      frame, header, hello, repl, slave_lines, watermarks)

TOKEN = "s3cret"


@fast_cache_only
class TestSync(ReplCase):
    """The snapshot path, the live stream, read-only replicas, expiry."""

    def setup_pair(self, keys=0, **kw):
        p = self.primary(**kw)
        pc = self.client(p)
        if keys:
            fill(pc, b"a:", keys, vsize=100, ttl_every=7)
        px = self.proxy(p.rport)
        r = self.replica(px.port, token=kw.get("token"))
        self.wait_online(r)
        return p, px, r, pc, self.client(r)

    def test_compressed_streams(self):
        # zstd (the seed's) and lz4 (negotiated) frames, snapshot and live;
        # small chunks so the snapshot is many frames.
        for comp in ("zstd", "lz4"):
            with self.subTest(compression=comp):
                conf = self.conf('[replication]\ncompression = "%s"\n'
                                 'snapshot_chunk_bytes = "16kb"\n' % comp)
                p = self.primary(conf=conf)
                pc = self.client(p)
                fill(pc, b"c:", 3000, vsize=300, ttl_every=5)
                r = self.replica(p.rport)
                self.wait_online(r)
                fill(pc, b"live:", 500, vsize=300)
                self.assert_converged(p, r)
                # Compressible values really went out smaller than raw.
                i = repl(pc)
                self.assertLess(int(i["fc_repl_bytes_sent"]),
                                3500 * 300)

    def test_fresh_replica_takes_a_snapshot(self):
        p, px, r, pc, rc = self.setup_pair(keys=5000)
        self.assert_converged(p, r)
        ri = repl(rc)
        self.assertEqual(ri["role"], "slave")
        self.assertEqual(ri["master_host"], "127.0.0.1")
        self.assertEqual(ri["master_port"], str(px.port))
        self.assertEqual(ri["master_link_status"], "up")
        self.assertEqual(ri["master_sync_in_progress"], "0")
        self.assertEqual(ri["fc_repl_state"], "online")
        self.assertEqual(ri["fc_repl_snapshots"], "1")
        self.assertEqual(ri["fc_repl_catchups"], "0")
        self.assertEqual(ri["fc_repl_gaps"], "0")
        self.assertGreaterEqual(int(ri["slave_repl_offset"]), 0)
        int(ri["fc_repl_reconnects"])
        pi = repl(pc)
        self.assertEqual(pi["role"], "master")
        self.assertEqual(pi["connected_slaves"], "1")
        s0, = slave_lines(pi)
        self.assertEqual(s0["ip"], "127.0.0.1")
        self.assertEqual(s0["state"], "online")
        for f in ("port", "offset", "lag"):
            int(s0[f])
        self.assertGreater(int(pi["master_repl_offset"]), 0)
        self.assertEqual(pi["fc_repl_snapshots_served"], "1")
        for f in ("dropped_slow", "rejected_auth", "rejected_version",
                  "rejected_proto", "rejected_full"):
            self.assertEqual(pi["fc_repl_" + f], "0", f)
        # ROLE, as Redis shapes it.
        role = pc.call("ROLE")
        self.assertEqual(role[0], b"master")
        self.assertIsInstance(role[1], int)
        self.assertEqual(len(role[2]), 1)
        self.assertEqual(role[2][0][0], b"127.0.0.1")
        int(role[2][0][1]), int(role[2][0][2])
        role = rc.call("ROLE")
        self.assertEqual(role[:4], [b"slave", b"127.0.0.1", px.port,
                                    b"connected"])
        self.assertIsInstance(role[4], int)
        # TTLs came over as absolute times: PTTL agrees within tolerance.
        for k in (b"a:0", b"a:7", b"a:4998"):
            a, b = pc.call("PTTL", k), rc.call("PTTL", k)
            self.assertGreater(a, 0)
            self.assertLess(abs(a - b), 300, (k, a, b))

    def test_live_writes_replicate(self):
        p, px, r, pc, rc = self.setup_pair(keys=100)
        steps = [
            [("SET", "s1", "v1"), ("SET", "s2", "v2", "EX", 100),
             ("SETEX", "s3", 50, "v3"), ("MSET", "m1", "1", "m2", "2"),
             ("INCR", "n"), ("INCRBY", "n", 41), ("APPEND", "s1", "+more"),
             ("SETRANGE", "s2", 0, "V")],
            [("DEL", "a:1", "a:2", "m1"), ("UNLINK", "a:3"),
             ("EXPIRE", "a:4", 200), ("PEXPIRE", "a:5", 300000),
             ("PERSIST", "a:0"), ("PERSIST", "s2"), ("GETDEL", "s3"),
             ("RENAME", "a:6", "renamed"), ("EXPIREAT", "a:8",
                                             int(time.time()) + 500)],
        ]
        for cmds in steps:
            for x in pipeline(pc, cmds):
                self.assertNotIsInstance(x, RespError)
            self.assert_converged(p, r)
        self.assertEqual(rc.call("PTTL", "a:0"), -1)
        self.assertEqual(rc.call("PTTL", "s2"), -1)
        self.assertIsNone(rc.call("GET", "a:1"))
        self.assertEqual(rc.call("GET", "n"), b"42")
        self.assertEqual(pc.call("FLUSHALL"), b"OK")
        self.assert_converged(p, r)
        self.assertEqual(rc.call("DBSIZE"), 0)
        self.assertEqual(pc.call("SET", "after-flush", "x"), b"OK")
        self.assert_converged(p, r)
        self.assertEqual(rc.call("GET", "after-flush"), b"x")

    def test_replica_is_read_only(self):
        p, px, r, pc, rc = self.setup_pair(keys=10)
        for cmd in (("SET", "x", "1"), ("DEL", "a:1"), ("INCR", "n"),
                    ("EXPIRE", "a:1", 10), ("PERSIST", "a:0"),
                    ("MSET", "x", "1", "y", "2"), ("FLUSHALL",),
                    ("APPEND", "a:1", "z")):
            reply = rc.call(*cmd)
            self.assertIsInstance(reply, RespError, cmd)
            self.assertEqual(reply.msg, READONLY, cmd)
        self.assertEqual(rc.call("PING"), b"PONG")
        self.assertEqual(rc.call("DBSIZE"), 10)
        self.assertEqual(rc.call("GET", "a:1"), pc.call("GET", "a:1"))
        self.assertEqual(rc.call("EXISTS", "a:1", "a:2", "nope"), 2)
        self.assert_converged(p, r)

    def test_expired_on_primary_is_gone_on_replica(self):
        p, px, r, pc, rc = self.setup_pair()
        self.assertEqual(pc.call("SET", "short", "v", "PX", 400), b"OK")
        self.assertEqual(pc.call("SET", "long", "v"), b"OK")
        self.wait_until(lambda: rc.call("GET", "long") == b"v",
                        "live SET on the replica", 30)
        self.assertGreater(rc.call("PTTL", "short"), 0)
        time.sleep(0.6)
        self.assertIsNone(rc.call("GET", "short"))
        self.assertEqual(rc.call("EXISTS", "short"), 0)
        # Expiring while the link is down: the replica's own clock ends it.
        self.assertEqual(pc.call("SET", "during", "v", "PX", 500), b"OK")
        self.wait_until(lambda: rc.call("EXISTS", "during") == 1,
                        "live SET on the replica", 30)
        px.pause()
        self.wait_link_down(r)
        time.sleep(0.7)
        self.assertEqual(rc.call("EXISTS", "during"), 0)
        # Expired before it could arrive: never visible on the replica.
        self.assertEqual(pc.call("SET", "late", "v", "PX", 200), b"OK")
        time.sleep(0.4)
        px.resume()
        self.wait_online(r)
        self.assert_converged(p, r)
        self.assertIsNone(rc.call("GET", "late"))
        self.assertEqual(rc.call("GET", "long"), b"v")


@fast_cache_only
class TestReconnect(ReplCase):
    """Backlog catch-up after a short break, a snapshot after a long one."""

    def pair(self, conf=None, keys=1000):
        p = self.primary(conf=conf)
        pc = self.client(p)
        fill(pc, b"a:", keys, vsize=64, ttl_every=5)
        px = self.proxy(p.rport)
        r = self.replica(px.port)
        self.wait_online(r)
        self.assert_converged(p, r)
        return p, px, r, pc, self.client(r)

    def test_short_disconnect_resumes_from_the_backlog(self):
        p, px, r, pc, rc = self.pair()
        before, pbefore = repl(rc), repl(pc)
        px.pause()
        self.wait_link_down(r)
        self.assertIn(repl(rc)["fc_repl_state"], ("connecting", "down"))
        # A replica cut off still serves what it has.
        self.assertEqual(rc.call("GET", "a:1"), pc.call("GET", "a:1"))
        fill(pc, b"b:", 300)
        pipeline(pc, [("DEL", "a:%d" % i) for i in range(0, 50)] +
                 [("EXPIRE", "a:%d" % i, 900) for i in range(50, 100)] +
                 [("PERSIST", "a:%d" % i) for i in range(100, 200, 5)])
        px.resume()
        after = self.wait_online(r)
        self.assert_converged(p, r)
        after = repl(rc)
        self.assertEqual(int(after["fc_repl_catchups"]),
                         int(before["fc_repl_catchups"]) + 1, after)
        self.assertEqual(after["fc_repl_snapshots"],
                         before["fc_repl_snapshots"], after)
        self.assertGreater(int(after["fc_repl_reconnects"]),
                           int(before["fc_repl_reconnects"]))
        self.assertEqual(after["fc_repl_gaps"], "0")
        pafter = repl(pc)
        self.assertGreater(int(pafter["fc_repl_catchups"]),
                           int(pbefore["fc_repl_catchups"]))
        self.assertEqual(pafter["fc_repl_snapshots_served"],
                         pbefore["fc_repl_snapshots_served"])

    def test_long_disconnect_takes_a_new_snapshot(self):
        conf = self.conf("[replication]\nbacklog_bytes = \"64kb\"\n")
        p, px, r, pc, rc = self.pair(conf=conf)
        before = repl(rc)
        px.pause()
        self.wait_link_down(r)
        fill(pc, b"big:", 2000, vsize=1024)  # 2 MB >> 64 KiB of backlog
        px.resume()
        self.wait_online(r)
        self.assert_converged(p, r)
        after = repl(rc)
        self.assertEqual(int(after["fc_repl_snapshots"]),
                         int(before["fc_repl_snapshots"]) + 1, after)
        self.assertEqual(after["fc_repl_catchups"],
                         before["fc_repl_catchups"], after)
        self.assertEqual(repl(pc)["fc_repl_snapshots_served"], "2")

    def test_cuts_under_write_load(self):
        p, px, r, pc, rc = self.pair()
        w = Writer(p.port)
        w.start()
        for _ in range(5):
            self.wait_until(lambda: px.open_connections() == 1,
                            "replica connected through the proxy", 30)
            time.sleep(0.3)
            px.cut()
        time.sleep(0.3)
        w.stop()
        self.assertEqual(w.errors, [])
        self.assertGreater(w.done, 0)
        self.wait_online(r)
        self.assert_converged(p, r)
        self.assertGreaterEqual(counter(rc, "fc_repl_reconnects"), 5)
        self.assertEqual(repl(rc)["fc_repl_gaps"], "0")


@fast_cache_only
class TestRestarts(ReplCase):
    """Either side restarted or SIGKILLed; a cut inside a snapshot."""

    def test_primary_restart_with_persistence(self):
        p = self.primary(data_dir=self.subdir("primary"))
        pc = self.client(p)
        fill(pc, b"a:", 2000, vsize=64, ttl_every=3)
        px = self.proxy(p.rport)
        r = self.replica(px.port)
        self.wait_online(r)
        self.assert_converged(p, r)
        pc.close()
        p.term()
        self.wait_link_down(r)
        with r.raw() as rc:  # stale reads go on while the primary is away
            self.assertEqual(rc.call("DBSIZE"), 2000)
            self.assertEqual(repl(rc)["master_link_status"], "down")
        p.restart()
        with p.raw() as pc:
            self.assertEqual(pc.call("DBSIZE"), 2000)  # recovered
            fill(pc, b"after:", 100)
            self.assertEqual(pc.call("DEL", "a:1", "a:2"), 2)
        self.wait_online(r)
        self.assert_converged(p, r)

    def test_primary_sigkill_with_persistence(self):
        p = self.primary(data_dir=self.subdir("primary"))
        with p.raw() as pc:
            fill(pc, b"a:", 1000, ttl_every=4)
        px = self.proxy(p.rport)
        r = self.replica(px.port)
        self.wait_online(r)
        w = Writer(p.port)
        w.start()
        self.wait_until(lambda: w.done >= 2000, "writes under way", 60)
        p.kill9()
        w.join(30)
        self.wait_link_down(r)
        p.restart()
        with p.raw() as pc:
            fill(pc, b"after:", 50)
        self.wait_online(r)
        self.assert_converged(p, r)

    def test_primary_sigkill_without_persistence_empties_the_replica(self):
        p = self.primary()
        with p.raw() as pc:
            fill(pc, b"a:", 500)
        r = self.replica(p.rport)
        self.wait_online(r)
        self.assert_converged(p, r)
        p.kill9()
        p.restart()  # empty now: a replica follows its primary
        with p.raw() as pc:
            self.assertEqual(pc.call("SET", "only", "1"), b"OK")
        self.wait_online(r)
        self.assert_converged(p, r)
        with r.raw() as rc:
            self.assertEqual(rc.call("DBSIZE"), 1)

    def test_replica_restart(self):
        p = self.primary()
        pc = self.client(p)
        fill(pc, b"a:", 2000, ttl_every=5)
        r = self.replica(p.rport)
        self.wait_online(r)
        r.term()
        fill(pc, b"b:", 500)
        self.assertEqual(pc.call("FLUSHALL"), b"OK")
        fill(pc, b"c:", 700, ttl_every=2)
        r.restart()
        self.wait_online(r)
        self.assert_converged(p, r)
        with r.raw() as rc:
            self.assertEqual(repl(rc)["fc_repl_snapshots"], "1")

    def test_replica_sigkill_under_load(self):
        p = self.primary()
        with p.raw() as pc:
            fill(pc, b"a:", 2000)
        r = self.replica(p.rport)
        self.wait_online(r)
        w = Writer(p.port)
        w.start()
        self.wait_until(lambda: w.done >= 2000, "writes under way", 60)
        r.kill9()
        self.wait_until(lambda: w.done >= 6000, "writes go on", 60)
        r.restart()
        self.wait_until(lambda: w.done >= 10000, "writes go on", 60)
        w.stop()
        self.assertEqual(w.errors, [])
        self.wait_online(r)
        self.assert_converged(p, r)

    def test_cut_in_the_middle_of_a_snapshot(self):
        n = 200000
        conf = self.conf("[replication]\nsnapshot_chunk_bytes = \"16kb\"\n")
        p = self.primary(conf=conf)
        pc = self.client(p, timeout=120)
        keys = []
        for base in range(0, n, 20000):  # 200k keys of 1 KiB: ~200 MB
            keys += fill(pc, b"k%d:" % base, 20000, vsize=1024)
        self.assertEqual(pc.call("DBSIZE"), n)
        px = self.proxy(p.rport, rate=40 << 20)  # ~5 s for the snapshot
        r = self.replica(px.port)
        rc = self.client(r)
        self.wait_until(lambda: repl(rc).get("role") == "slave",
                        "a replica", 10)
        self.wait_until(lambda: repl(rc).get("fc_repl_state") == "sync" and
                        px.conn_down_bytes > (16 << 20),
                        "snapshot under way", 120, interval=0.02)
        i = repl(rc)
        self.assertEqual(i["master_sync_in_progress"], "1")
        got = rc.call("GET", keys[0])
        self.assertIsInstance(got, RespError)
        self.assertTrue(got.msg.startswith("LOADING"), got)
        self.assertIsInstance(rc.call("DBSIZE"), RespError)
        self.assertEqual(rc.call("PING"), b"PONG")
        px.set_rate(None)
        self.assertEqual(px.cut(), 1)
        # Writes meanwhile must arrive too.
        self.assertEqual(pc.call("SET", "during-resync", "1"), b"OK")
        self.assertEqual(pc.call("DEL", keys[1]), 1)
        self.wait_online(r, timeout=180)
        sample = keys[::97] + [b"during-resync", keys[1], keys[-1]]
        self.assert_sample_converged(p, r, sample)
        # The cut snapshot left no copy to resume from: a second full one,
        # all of it sent again.
        i = repl(rc)
        self.assertGreaterEqual(int(i["fc_repl_reconnects"]), 1)
        self.assertGreaterEqual(int(i["fc_repl_snapshots"]), 1, i)
        self.assertEqual(i["fc_repl_catchups"], "0", i)
        self.assertGreaterEqual(counter(pc, "fc_repl_snapshots_served"), 1)
        self.assertGreater(px.down_bytes, n * 1024 + (16 << 20))


@fast_cache_only
class TestHandshake(ReplCase):
    """Hand-made FCRP handshakes against a primary that has a token: each
    bad one gets an Error frame and a close; nothing else is disturbed.
    The tests without a replica need only the primary side."""

    def setUp(self):
        super().setUp()
        self.p = self.primary(token=TOKEN)
        self.pc = self.client(self.p)
        fill(self.pc, b"a:", 300, ttl_every=3)

    def with_replica(self):
        self.r = self.replica(self.p.rport, token=TOKEN)
        self.wait_online(self.r)
        return self.client(self.r)

    def peer(self):
        c = FcrpPeer(self.p.rport)
        self.addCleanup(c.close)
        return c

    def rejected(self, data, want, timeout=10.0):
        c = self.peer()
        if data:
            c.send(data)
        msg, closed = c.expect_error(timeout)
        self.assertIsNotNone(msg, "closed without an Error frame")
        self.assertTrue(msg.startswith(want), (msg, want))
        self.assertTrue(closed, "connection left open after %r" % msg)
        return msg

    def bad_handshakes(self):
        good = hello(TOKEN)
        self.rejected(frame(HELLO, good, version=2),
                      "unsupported FCRP version")
        self.rejected(frame(HELLO, hello(TOKEN, version=9)),
                      "unsupported FCRP version")
        self.rejected(frame(HELLO, hello("wrong")), "invalid auth token")
        self.rejected(frame(HELLO, hello(None)), "invalid auth token")
        self.rejected(frame(HELLO, hello(TOKEN[:-1])), "invalid auth token")
        self.rejected(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 2,
                      "protocol error")
        self.rejected(header(HELLO, 0x7FFFFFF0), "frame too large")
        self.rejected(frame(ACK, struct.pack("<I", 0)),
                      "expected Hello frame")
        self.rejected(frame(HELLO, good + b"trailing"), "protocol error")
        self.rejected(frame(HELLO, hello(TOKEN, role=7)), "protocol error")
        self.rejected(frame(HELLO, good, reserved=1), "protocol error")
        # Silence: the Hello must come within connect_timeout_ms (500).
        t0 = time.monotonic()
        self.rejected(b"", "expected Hello frame", timeout=5.0)
        self.assertLess(time.monotonic() - t0, 4.0)
        # Half a header, then silence: the same.
        self.rejected(frame(HELLO, good)[:7], "expected Hello frame",
                      timeout=5.0)

    def test_bad_handshakes_get_an_error_frame(self):
        self.bad_handshakes()
        pi = repl(self.pc)
        self.assertEqual(pi["fc_repl_rejected_version"], "2", pi)
        self.assertEqual(pi["fc_repl_rejected_auth"], "3", pi)
        self.assertGreaterEqual(int(pi["fc_repl_rejected_proto"]), 4, pi)
        self.assertEqual(pi["connected_slaves"], "0")
        # Clients never noticed.
        self.assertEqual(self.pc.call("PING"), b"PONG")
        self.assertEqual(self.pc.call("SET", "after", "1"), b"OK")
        self.assertEqual(self.pc.call("DBSIZE"), 301)
        # And a good handshake still works.
        c = self.peer()
        c.send(frame(HELLO, hello(TOKEN, role=2)))
        self.assertEqual(c.read_frame()[0], HELLO)

    def test_bad_handshakes_leave_the_replica_alone(self):
        rc = self.with_replica()
        reconnects = repl(rc)["fc_repl_reconnects"]
        self.bad_handshakes()
        fill(self.pc, b"after:", 100)
        self.assert_converged(self.p, self.r)
        i = repl(rc)
        self.assertEqual(i["fc_repl_state"], "online")
        self.assertEqual(i["fc_repl_reconnects"], reconnects)
        self.assertEqual(repl(self.pc)["connected_slaves"], "1")

    def test_max_replicas_with_raw_peers(self):
        """max_replicas counts every peer past its Hello; the next one is
        told so, and a freed place is taken again."""
        conf = self.conf("[replication]\nmax_replicas = 2\n")
        p = self.primary(conf=conf, token=TOKEN)
        peers = []
        for role in (1, 2):
            c = FcrpPeer(p.rport)
            self.addCleanup(c.close)
            c.send(frame(HELLO, hello(TOKEN, role=role)))
            self.assertEqual(c.read_frame()[0], HELLO)
            peers.append(c)
        c = FcrpPeer(p.rport)
        self.addCleanup(c.close)
        try:  # refused at once, or once its Hello is in
            f = c.read_frame(1.0)
        except socket.timeout:
            c.send(frame(HELLO, hello(TOKEN)))
            f = c.read_frame(10.0)
        self.assertIsNotNone(f, "closed without an Error frame")
        self.assertEqual(f[0], ERROR)
        self.assertTrue(error_text(f[2]).startswith("max replicas reached"),
                        error_text(f[2]))
        self.assertIsNone(c.read_frame(5.0), "left open after the Error")
        with p.raw() as pc:
            self.assertEqual(counter(pc, "fc_repl_rejected_full"), 1)
            self.assertEqual(counter(pc, "connected_slaves"), 1)
            peers[0].close()
            self.wait_until(lambda: counter(pc, "connected_slaves") == 0,
                            "the closed peer is gone", 30)
        c = self.peer_to(p)
        c.send(frame(HELLO, hello(TOKEN)))
        self.assertEqual(c.read_frame()[0], HELLO)

    def peer_to(self, server):
        c = FcrpPeer(server.rport)
        self.addCleanup(c.close)
        return c

    def test_replica_with_a_wrong_token_never_syncs(self):
        self.with_replica()
        before = counter(self.pc, "fc_repl_rejected_auth")
        bad = self.replica(self.p.rport, token="not-it")
        self.wait_until(lambda: counter(self.pc, "fc_repl_rejected_auth") >=
                        before + 2, "the primary refuses it (and again)", 30)
        with bad.raw() as c:
            i = repl(c)
            self.assertNotEqual(i["fc_repl_state"], "online")
            self.assertEqual(i["fc_repl_snapshots"], "0")
        self.assertEqual(repl(self.pc)["connected_slaves"], "1")
        bad2 = self.replica(self.p.rport)  # no token at all
        self.wait_until(lambda: counter(self.pc, "fc_repl_rejected_auth") >=
                        before + 4, "the primary refuses it too", 30)
        with bad2.raw() as c:
            self.assertEqual(repl(c)["master_link_status"], "down")

    def test_seed_spec_peer_gets_hello_and_a_snapshot(self):
        """A peer that knows only the spec (no capability flags, role 2,
        no watermarks) gets Hello, SnapshotBegin, chunks, SnapshotEnd in
        the seed's layouts, holding exactly the primary's data."""
        fill(self.pc, b"b:", 3000, vsize=1000, ttl_every=4)  # 3 MB: chunks
        want = dump(self.pc)
        c = self.peer()
        c.send(frame(HELLO, hello(TOKEN, role=2)))
        kind, flags, p = c.read_frame()
        self.assertEqual(kind, HELLO, error_text(p) if kind == ERROR else p)
        self.assertEqual(p[0], 1)  # version
        self.assertEqual(p[1], 1)  # role byte in the answer: 1, as the seed
        (tlen,) = struct.unpack_from("<I", p, 2)
        self.assertEqual(p[6 + tlen], 1)  # has_since
        wm, _ = watermarks(p, 7 + tlen)
        self.assertGreater(sum(wm), 0)
        kind, _, p = c.read_frame()
        self.assertEqual(kind, SNAP_BEGIN)
        watermarks(p)
        got, idx, last = {}, 0, False
        while not last:
            kind, _, p = c.read_frame()
            self.assertEqual(kind, SNAP_CHUNK)
            i, last, entries = chunk_entries(p)
            self.assertEqual(i, idx)
            idx += 1
            for k, v, exp in entries:
                got[k] = (v, -1 if exp == NO_EXPIRY else exp)
        self.assertGreaterEqual(idx, 3)
        kind, _, p = c.read_frame()
        self.assertEqual(kind, SNAP_END)
        self.assertEqual({k: v for k, (v, _) in got.items()},
                         {k: v for k, (v, _) in want.items()})
        for k, (_, exp) in want.items():
            self.assertLess(abs(got[k][1] - exp), 50, k)
        # Then the live stream: a write arrives as a MutationBatch.
        self.assertEqual(self.pc.call("SET", "live", "1"), b"OK")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            kind, _, p = c.read_frame()
            if kind == BATCH and b"live" in p:
                break
        else:
            self.fail("no MutationBatch carrying the live SET")


@fast_cache_only
class TestReplicaSet(ReplCase):
    """Several replicas, max_replicas, WAIT, REPLICAOF."""

    def test_two_replicas(self):
        p = self.primary()
        pc = self.client(p)
        fill(pc, b"a:", 1000, ttl_every=3)
        r1 = self.replica(p.rport)
        px = self.proxy(p.rport)
        r2 = self.replica(px.port)
        self.wait_online(r1)
        self.wait_online(r2)
        fill(pc, b"b:", 200)
        self.assert_converged(p, r1)
        self.assert_converged(p, r2)
        pi = repl(pc)
        self.assertEqual(pi["connected_slaves"], "2")
        self.assertEqual([s["state"] for s in slave_lines(pi)],
                         ["online", "online"])
        self.assertEqual(len(pc.call("ROLE")[2]), 2)
        with r1.raw() as c1:
            reconnects = repl(c1)["fc_repl_reconnects"]
            px.pause()  # r2's link only
            self.wait_link_down(r2)
            fill(pc, b"c:", 200)
            self.assert_converged(p, r1)
            self.assertEqual(repl(c1)["fc_repl_reconnects"], reconnects)
        px.resume()
        self.wait_online(r2)
        self.assert_converged(p, r2)

    def test_max_replicas(self):
        conf = self.conf("[replication]\nmax_replicas = 1\n")
        p = self.primary(conf=conf)
        pc = self.client(p)
        fill(pc, b"a:", 100)
        r1 = self.replica(p.rport)
        self.wait_online(r1)
        c = FcrpPeer(p.rport)
        self.addCleanup(c.close)
        try:  # refused at once, or once its Hello is in
            f = c.read_frame(1.0)
        except socket.timeout:
            c.send(frame(HELLO, hello(None)))
            f = c.read_frame(10.0)
        self.assertIsNotNone(f, "closed without an Error frame")
        self.assertEqual(f[0], ERROR)
        msg = error_text(f[2])
        self.assertTrue(msg.startswith("max replicas reached"), msg)
        self.assertIsNone(c.read_frame(5.0), "left open after the Error")
        r2 = self.replica(p.rport)
        self.wait_until(lambda: counter(pc, "fc_repl_rejected_full") >= 2,
                        "the second replica refused", 30)
        with r2.raw() as c2:
            self.assertNotEqual(repl(c2)["fc_repl_state"], "online")
        self.assertEqual(repl(pc)["connected_slaves"], "1")
        fill(pc, b"b:", 100)
        self.assert_converged(p, r1)
        r1.term()  # its place frees up: r2 gets in on a retry
        self.wait_online(r2)
        self.assert_converged(p, r2)

    def test_wait(self):
        p = self.primary()
        pc = self.client(p)
        self.assertEqual(pc.call("SET", "k", "v"), b"OK")
        self.assertEqual(pc.call("WAIT", 0, 0), 0)
        t0 = time.monotonic()
        self.assertEqual(pc.call("WAIT", 1, 300), 0)  # no replica at all
        self.assertGreaterEqual(time.monotonic() - t0, 0.25)
        px = self.proxy(p.rport)
        r = self.replica(px.port)
        self.wait_online(r)
        self.assertEqual(pc.call("SET", "k", "v2"), b"OK")
        t0 = time.monotonic()
        self.assertEqual(pc.call("WAIT", 1, 1000), 1)
        self.assertLess(time.monotonic() - t0, 0.9)
        with r.raw() as rc:  # acknowledged means applied
            self.assertEqual(rc.call("GET", "k"), b"v2")
        self.assertEqual(pc.call("WAIT", 2, 200), 1)  # only one exists
        px.pause()
        self.wait_link_down(r)
        self.assertEqual(pc.call("SET", "k", "v3"), b"OK")
        self.assertEqual(pc.call("WAIT", 1, 300), 0)
        px.resume()
        self.wait_online(r)
        self.assertEqual(pc.call("WAIT", 1, 2000), 1)

    def test_replicaof_no_one_promotes_and_keeps_the_data(self):
        p = self.primary()
        pc = self.client(p)
        fill(pc, b"a:", 500, ttl_every=4)
        # Where it listens for replicas once promoted (the default,
        # 127.0.0.1:7631, may be anyone's on a shared box).
        bind = free_port()
        r = self.replica(p.rport, extra=["--replication-bind",
                                         "127.0.0.1:%d" % bind])
        rc = self.client(r)
        self.wait_online(r)
        self.assert_converged(p, r)
        want = dump(pc)
        self.assertEqual(rc.call("REPLICAOF", "NO", "ONE"), b"OK")
        i = repl(rc)
        self.assertEqual(i["role"], "master")
        self.assertEqual(i["fc_repl_listening"], "127.0.0.1:%d" % bind)
        self.assertEqual(rc.call("ROLE")[0], b"master")
        self.assertEqual(repl(rc).get("connected_slaves"), "0")
        got = dump(rc)
        self.assertEqual({k: v for k, (v, _) in got.items()},
                         {k: v for k, (v, _) in want.items()})
        self.assertEqual(rc.call("SET", "mine", "1"), b"OK")
        self.assertEqual(rc.call("DEL", "a:1"), 1)
        # The old primary's writes no longer arrive.
        self.assertEqual(pc.call("SET", "theirs", "1"), b"OK")
        self.wait_until(lambda: counter(pc, "connected_slaves") == 0,
                        "the old primary lost its replica", 30)
        self.assertIsNone(rc.call("GET", "theirs"))
        self.assertEqual(rc.call("GET", "mine"), b"1")
        # The promoted server now serves a replica of its own.
        r2 = self.replica(bind)
        self.wait_online(r2)
        self.assert_converged(r, r2)

    def test_replicaof_at_run_time(self):
        p = self.primary()
        pc = self.client(p)
        fill(pc, b"a:", 400, ttl_every=3)
        s = self.plain()
        sc = self.client(s)
        fill(sc, b"own:", 50)
        self.assertEqual(sc.call("REPLICAOF", "127.0.0.1", p.rport), b"OK")
        self.wait_online(s)
        self.assert_converged(p, s)  # its own keys are gone
        self.assertEqual(repl(sc)["master_port"], str(p.rport))
        r = sc.call("SET", "x", "1")
        self.assertIsInstance(r, RespError)
        self.assertEqual(r.msg, READONLY)
        self.assertEqual(pc.call("SET", "x", "2"), b"OK")
        self.assert_converged(p, s)
        self.assertEqual(sc.call("REPLICAOF", "NO", "ONE"), b"OK")
        self.assertEqual(sc.call("SET", "x", "3"), b"OK")
        self.assertEqual(repl(sc)["role"], "master")
        # And back: following again replaces its data with the primary's.
        self.assertEqual(sc.call("REPLICAOF", "127.0.0.1", p.rport), b"OK")
        self.wait_online(s)
        self.assert_converged(p, s)
        self.assertEqual(sc.call("GET", "x"), b"2")


if __name__ == "__main__":
    unittest.main()
