"""fast-cache only: persistence (--data-dir). Snapshots and the WAL
together, SAVE / BGSAVE / SHUTDOWN NOSAVE, restarts with another thread
count, expiry across a restart, damaged files (a torn WAL tail, a flipped
bit inside the log, a corrupt newest snapshot), the data directory lock,
and the persistence flags and config keys. The SIGKILL-under-load and
disk-full checks are in test_persistence_crash.py."""

import os
import random
import re
import time
import unittest

from fcserver import RespError, fast_cache_only
from persistutil import (PersistCase, dump, flip_byte, info, pipeline,
                         wait_info, wal_records, write_file)

def set_many(c, prefix, n, value=b"v"):
    r = pipeline(c, [("SET", b"%s%d" % (prefix, i), b"%s%d" % (value, i))
                     for i in range(n)])
    assert r == [b"OK"] * n, r[:5]
    return {b"%s%d" % (prefix, i): b"%s%d" % (value, i) for i in range(n)}


def values(c):
    return {k: v for k, (v, _) in dump(c).items()}


def assert_same(tc, got, want, msg=None):
    """dump() results equal, expiry times within 5 ms (exactness is
    test_pexpireat_exact_across_restarts' concern)."""
    tc.assertEqual({k: v for k, (v, _) in got.items()},
                   {k: v for k, (v, _) in want.items()}, msg)
    bad = [(k, got[k][1], t) for k, (_, t) in want.items()
           if (t < 0) != (got[k][1] < 0) or abs(got[k][1] - t) > 5]
    tc.assertEqual(bad, [], msg)


def bgsave(c):
    saves = int(info(c)["rdb_saves"])
    assert c.call("BGSAVE") == b"Background saving started"
    wait_info(c, "rdb_bgsave_in_progress", "0")
    wait_info(c, "rdb_saves", str(saves + 1))
    assert info(c)["rdb_last_bgsave_status"] == "ok"


@fast_cache_only
class TestSnapshotAndWal(PersistCase, unittest.TestCase):
    def test_bgsave_then_writes_deletes_flushall_then_sigkill(self):
        s = self.srv()
        with s.raw() as c:
            set_many(c, b"a", 300)
            bgsave(c)
            self.assertEqual(len(self.files("snap-", ".fcs")), 1)
            set_many(c, b"b", 100)
            self.assertEqual(c.call("DEL", "a1", "a2", "b3"), 3)
            self.assertEqual(c.call("FLUSHALL"), b"OK")
            want = set_many(c, b"x", 10, b"after")
            self.assertEqual(c.call("DEL", "x9"), 1)
            del want[b"x9"]
            self.assertEqual(c.call("INCR", "x0n"), 1)
            want[b"x0n"] = b"1"
        s.kill9()
        s = self.srv()
        with s.raw() as c:
            self.assertEqual(values(c), want)
            self.assertEqual(c.call("DBSIZE"), len(want))

    def test_flushall_replayed_on_another_shard_layout(self):
        # A CLEAR record is per shard of the layout that wrote it; recovery
        # must map it onto the current one (threads and --shards differ).
        for t1, t2, extra, snap in ((2, 4, [], False), (4, 1, [], True),
                                    (1, 2, ["--shards", "1024"], True),
                                    (2, 1, ["--shards", "2"], False)):
            with self.subTest(t1=t1, t2=t2, extra=extra, snap=snap):
                for f in os.listdir(self.dir):
                    os.unlink(self.path(f))
                s = self.srv(threads=t1)
                with s.raw() as c:
                    set_many(c, b"a", 2000)
                    if snap:
                        bgsave(c)
                    set_many(c, b"b", 2000)
                    self.assertEqual(c.call("FLUSHALL"), b"OK")
                    want = set_many(c, b"c", 500)
                s.kill9()
                for threads, more in ((t2, extra), (t1, [])):
                    s = self.srv(threads=threads, extra_args=more)
                    with s.raw() as c:
                        self.assertEqual(values(c), want)
                    s.kill9()

    def test_small_segments(self):
        conf = write_file(self.dir + ".toml",
                          "[persistence]\nsegment_size_bytes = 4096\n")
        self.addCleanup(os.unlink, conf)
        args = {"extra_args": ["--config", conf]}
        s = self.srv(**args)
        with s.raw() as c:
            want = set_many(c, b"a", 3000)
            self.assertEqual(c.call("SET", "big", "x" * 100000), b"OK")
            want[b"big"] = b"x" * 100000
            want.update(set_many(c, b"b", 100))
        self.assertGreater(len(self.files("wal-", ".log")), 3)
        s.kill9()
        s = self.srv(**args)
        with s.raw() as c:
            self.assertEqual(values(c), want)
            bgsave(c)
            want.update(set_many(c, b"c", 100))
        s.kill9()
        s = self.srv(**args)
        with s.raw() as c:
            self.assertEqual(values(c), want)

    def test_periodic_snapshot_needs_min_writes(self):
        conf = write_file(self.dir + ".toml",
                          "[persistence]\nsnapshot_every_seconds = 1\n"
                          "snapshot_min_writes = 10\n")
        self.addCleanup(os.unlink, conf)
        s = self.srv(extra_args=["--config", conf])
        with s.raw() as c:
            set_many(c, b"a", 5)
            time.sleep(2.0)  # two periods, too few writes: no snapshot
            self.assertEqual(info(c)["rdb_saves"], "0")
            set_many(c, b"b", 20)
            wait_info(c, "rdb_saves", "1", timeout=30)
            wait_info(c, "rdb_bgsave_in_progress", "0")
        self.assertEqual(len(self.files("snap-", ".fcs")), 1)

    def test_save_then_shutdown_nosave(self):
        s = self.srv()
        with s.raw() as c:
            want = set_many(c, b"s", 200)
            self.assertEqual(c.call("SAVE"), b"OK")
            self.assertEqual(info(c)["rdb_changes_since_last_save"], "0")
            last = c.call("LASTSAVE")
            self.assertLessEqual(abs(last - time.time()), 5)
            want.update(set_many(c, b"t", 50))
            self.assertEqual(c.call("DEL", "s0"), 1)
            del want[b"s0"]
            self.assertEqual(info(c)["rdb_changes_since_last_save"], "51")
        snaps = self.files("snap-", ".fcs")
        self.assertEqual(len(snaps), 1)
        log = s.shutdown("NOSAVE")
        self.assertNotIn("Saving the final snapshot", log)
        self.assertEqual(self.files("snap-", ".fcs"), snaps)
        s = self.srv()
        with s.raw() as c:
            self.assertEqual(values(c), want)
            inf = info(c)
            self.assertEqual(inf["recovered_snapshot_keys"], "200")
            self.assertEqual(inf["recovered_wal_records"], "51")

    def test_shutdown_and_sigterm_save_final_snapshot(self):
        s = self.srv()
        with s.raw() as c:
            want = set_many(c, b"k", 100)
        self.assertIn("Saving the final snapshot", s.term())
        self.assertEqual(len(self.files("snap-", ".fcs")), 1)
        s = self.srv()
        with s.raw() as c:
            self.assertEqual(values(c), want)
            self.assertEqual(info(c)["recovered_snapshot_keys"], "100")
            self.assertEqual(info(c)["recovered_wal_records"], "0")
            want.update(set_many(c, b"m", 10))
        s.shutdown("SAVE")
        s = self.srv()
        with s.raw() as c:
            self.assertEqual(values(c), want)

    def test_bgsave_schedule_runs_after_the_running_one(self):
        s = self.srv()
        with s.raw(timeout=60) as c:
            set_many(c, b"key", 200000)
            self.assertEqual(c.call("BGSAVE"), b"Background saving started")
            r = c.call("BGSAVE", "SCHEDULE")
            if r == b"Background saving scheduled":
                wait_info(c, "rdb_saves", "2", timeout=30)
            else:  # the first one had already finished: this one started
                self.assertEqual(r, b"Background saving started")
                wait_info(c, "rdb_saves", "2", timeout=30)
            self.assertEqual(c.call("BGSAVE", "NOW"),
                             RespError("ERR syntax error"))

    def test_sigterm_during_bgsave_still_saves(self):
        """SIGTERM while a BGSAVE runs: the running one is abandoned (or
        has just finished) and a final snapshot of the state at exit is
        written; either way a complete snapshot exists."""
        n = 200000
        s = self.srv()
        with s.raw(timeout=60) as c:
            set_many(c, b"key", n)
            self.assertEqual(c.call("BGSAVE"), b"Background saving started")
            running = info(c)["rdb_bgsave_in_progress"]
        log = s.term()
        if running == "1":  # else it finished first: nothing to check
            self.assertGreaterEqual(len(self.files("snap-", ".fcs")), 1,
                                    "no snapshot after SIGTERM:\n" + log)
            self.assertEqual(self.files("snap-", ".tmp"), [])
        s = self.srv()
        with s.raw() as c:
            self.assertEqual(c.call("DBSIZE"), n)

    def test_restart_with_other_thread_counts(self):
        s = self.srv(threads=1)
        with s.raw() as c:
            set_many(c, b"t1-", 500)
            self.assertEqual(c.call("PEXPIREAT", "t1-0", 4102444800000), 1)
            self.assertEqual(c.call("DEL", "t1-1"), 1)
            before = dump(c)
        s.kill9()
        for threads, end in ((2, "kill"), (4, "term"), (1, "kill")):
            s = self.srv(threads=threads)
            with s.raw() as c:
                assert_same(self, dump(c), before, "threads=%d" % threads)
                set_many(c, b"t%d-" % threads, 100)
                c.call("DEL", "t1-%d" % (threads + 10))
                if threads == 4:
                    bgsave(c)
                    c.call("SET", "after-save", "1")
                before = dump(c)
            s.kill9() if end == "kill" else s.term()
        s = self.srv(threads=2)
        with s.raw() as c:
            assert_same(self, dump(c), before)


WRITES = [
    ("SET", "a", "1"), ("APPEND", "a", "x"), ("COPY", "a", "b"),
    ("DECR", "n"), ("DECRBY", "n", "5"), ("SET", "d", "1"), ("DEL", "d"),
    ("SET", "e", "1"), ("EXPIRE", "e", "1000"), ("SET", "f", "1"),
    ("EXPIREAT", "f", "4102444800"), ("SET", "g", "1"), ("FLUSHDB",),
    ("SET", "g2", "1"), ("GETDEL", "g2"), ("SET", "gx", "1"),
    ("GETEX", "gx", "EX", "500"), ("SET", "gy", "1", "EX", "100"),
    ("GETEX", "gy", "PERSIST"), ("GETSET", "gs", "new"), ("INCR", "i"),
    ("INCRBY", "i", "10"), ("INCRBYFLOAT", "fl", "1.5"),
    ("MSET", "m1", "1", "m2", "2"), ("MSETNX", "nx1", "1", "nx2", "2"),
    ("MSETNX", "nx1", "9", "nx3", "3"), ("SET", "p", "1", "EX", "100"),
    ("PERSIST", "p"), ("SET", "pe", "1"), ("PEXPIRE", "pe", "900000"),
    ("PSETEX", "ps", "900000", "v"), ("SET", "r1", "v"),
    ("RENAME", "r1", "r2"), ("SET", "rn1", "v"), ("SET", "rn2", "w"),
    ("RENAMENX", "rn1", "rn2"), ("RENAMENX", "rn1", "rn3"),
    ("SETEX", "sx", "1000", "v"), ("SETNX", "sn", "v"), ("SETNX", "sn", "w"),
    ("SET", "sr", "hello"), ("SETRANGE", "sr", "10", "X"),
    ("SETRANGE", "new", "3", "Y"), ("SET", "u", "1"), ("UNLINK", "u"),
    ("SET", "kt", "v", "EX", "100"), ("SET", "kt", "w", "KEEPTTL"),
    ("SET", "gt", "v", "GET"), ("COPY", "sr", "gt", "REPLACE"),
    ("SET", "big", "x" * 100000), ("RENAME", "big", "big2"),
    ("SET", "ex0", "v", "EX", "100"), ("EXPIRE", "ex0", "-1"),
    ("SET", "px", "v"), ("PEXPIREAT", "px", "1"),
]


@fast_cache_only
class TestEveryWriteCommand(PersistCase, unittest.TestCase):
    """Each write command of COMMAND's list, replayed from the WAL (kill)
    and loaded from the final snapshot (SIGTERM), on other thread counts."""

    def round_trip(self, stop, threads):
        s = self.srv()
        with s.raw() as c:
            for op in WRITES:
                self.assertNotIsInstance(c.call(*op), RespError, op)
            before = dump(c)
        self.assertEqual(len(before), 22)
        stop(s)
        s = self.srv(threads=threads)
        with s.raw() as c:
            assert_same(self, dump(c), before)

    def test_through_wal(self):
        self.round_trip(lambda s: s.kill9(), 4)

    def test_through_snapshot(self):
        self.round_trip(lambda s: s.term(), 1)


@fast_cache_only
class TestExpiryAcrossRestart(PersistCase, unittest.TestCase):
    def expiry_case(self, stop):
        s = self.srv()
        with s.raw() as c:
            t0 = time.monotonic()
            self.assertEqual(c.call("SET", "short", "1", "PX", 1500), b"OK")
            self.assertEqual(c.call("SET", "long", "2", "EX", 1000), b"OK")
            at = int(time.time() * 1000) + 3600 * 1000 + 123
            self.assertEqual(c.call("SET", "abs", "3"), b"OK")
            self.assertEqual(c.call("PEXPIREAT", "abs", at), 1)
            self.assertEqual(c.call("PEXPIRETIME", "abs"), at)
            self.assertEqual(c.call("SET", "plain", "4"), b"OK")
            self.assertEqual(c.call("SET", "ttl-cleared", "5", "EX", 50), b"OK")
            self.assertEqual(c.call("PERSIST", "ttl-cleared"), 1)
        stop(s)
        time.sleep(max(0.0, 2.0 - (time.monotonic() - t0)))
        s = self.srv()
        with s.raw() as c:
            got = {k: (c.call("GET", k), c.call("TTL", k))
                   for k in ("short", "long", "abs", "plain", "ttl-cleared")}
            exp_abs = c.call("PEXPIRETIME", "abs")
            size = c.call("DBSIZE")
        msg = "%r pexpiretime(abs)=%r dbsize=%r\n%s" % (got, exp_abs, size,
                                                        s.log_text())
        self.assertEqual(got["short"], (None, -2), msg)
        self.assertEqual(got["long"][0], b"2", msg)
        self.assertTrue(985 <= got["long"][1] <= 998, msg)
        self.assertEqual(got["abs"][0], b"3", msg)
        self.assertLessEqual(abs(exp_abs - at), 5, msg)
        self.assertEqual(got["plain"], (b"4", -1), msg)
        self.assertEqual(got["ttl-cleared"], (b"5", -1), msg)
        self.assertEqual(size, 4, msg)

    def test_expiry_through_wal(self):
        self.expiry_case(lambda s: s.kill9())

    def test_expiry_through_snapshot(self):
        self.expiry_case(lambda s: s.term())

    def test_pexpireat_exact_across_restarts(self):
        """An absolute expiry comes back exactly (one unix/monotonic
        offset per process, used by commands, the WAL and recovery); eight
        restarts through the WAL and snapshots would show any drift."""
        at = 4102444800000  # 2100-01-01, on the millisecond
        s = self.srv(threads=1)
        with s.raw() as c:
            self.assertEqual(c.call("SET", "k", "v"), b"OK")
            self.assertEqual(c.call("PEXPIREAT", "k", at), 1)
            self.assertEqual(c.call("PEXPIRETIME", "k"), at)
        seen = []
        for i in range(8):
            s.kill9() if i % 2 == 0 else s.term()
            s = self.srv(threads=1)
            with s.raw() as c:
                seen.append(c.call("PEXPIRETIME", "k"))
        self.assertEqual(seen, [at] * 8)


@fast_cache_only
class TestDamagedFiles(PersistCase, unittest.TestCase):
    def last_segment(self):
        return self.path(self.files("wal-", ".log")[-1])

    def test_torn_tail_is_truncated(self):
        s = self.srv()
        with s.raw() as c:
            want = set_many(c, b"k", 300)
        s.kill9()
        seg = self.last_segment()
        recs = wal_records(seg)
        self.assertEqual(len(recs), 300)
        with open(seg, "rb") as f:
            f.seek(recs[0][0])
            first = f.read(recs[0][1])
        rnd = random.Random(1234)
        junk = bytes(rnd.randrange(256) for _ in range(37))
        junk = junk[:4] + b"\xff\xff\xff\x7f" + junk[8:]  # runs past the end
        for name, tail in (("partial record", first[:20]),
                           ("random bytes", junk),
                           ("zeroes after a partial record",
                            first[:12] + b"\0" * 4096)):
            with self.subTest(name):
                seg = self.last_segment()
                # Cut the zeroes fsync=always writes ahead: the tail then
                # lands right after the last record, as a torn write would.
                recs = wal_records(seg)
                size = recs[-1][0] + recs[-1][1] if recs else 64
                os.truncate(seg, size)
                with open(seg, "ab") as f:
                    f.write(tail)
                s = self.srv()
                with s.raw() as c:
                    self.assertEqual(values(c), want)
                    self.assertEqual(info(c)["recovered_torn_bytes"],
                                     str(len(tail)))
                log = s.log_text()
                self.assertRegex(log, r"%s: torn record at the tail \(offset "
                                 "%d\): truncated, %d bytes dropped" %
                                 (re.escape(os.path.basename(seg)), size,
                                  len(tail)))
                self.assertEqual(os.path.getsize(seg), size)
                s.kill9()

    def test_space_written_ahead_is_the_end_not_damage(self):
        """fsync=always writes records into zeroes written ahead of them, so
        a crash leaves the last segment ending in zeroes: that is the end of
        the log (not a torn record), and a clean stop leaves none."""
        s = self.srv(fsync="always")
        with s.raw() as c:
            want = set_many(c, b"k", 300)
        s.kill9()
        seg = self.last_segment()
        recs = wal_records(seg)
        end = recs[-1][0] + recs[-1][1]
        self.assertGreater(os.path.getsize(seg), end)  # zeroes ahead
        with open(seg, "rb") as f:
            f.seek(end)
            self.assertEqual(f.read().strip(b"\0"), b"")
        s = self.srv(fsync="always")
        with s.raw() as c:
            self.assertEqual(values(c), want)
            self.assertEqual(info(c)["recovered_torn_bytes"], "0")
        self.assertIn("written ahead", s.log_text())
        self.assertEqual(os.path.getsize(seg), end)
        s.shutdown("NOSAVE")
        seg = self.last_segment()
        recs = wal_records(seg)
        end = recs[-1][0] + recs[-1][1] if recs else 64
        self.assertEqual(os.path.getsize(seg), end)  # cut at a clean stop

    def test_flipped_bit_inside_the_log_stops_start(self):
        s = self.srv(threads=1)
        with s.raw() as c:
            set_many(c, b"key", 1000, b"value-")
        s.kill9()
        seg = self.last_segment()
        recs = wal_records(seg)
        self.assertEqual(len(recs), 1000)
        off, size, kind, key, val = recs[400]
        flip_byte(seg, off + size - 2)  # inside the value
        rc, out = self.start_fails(["--data-dir", self.dir, "--threads", "1"])
        self.assertNotEqual(rc, 0, out)
        self.assertIn("corrupt WAL record in %s at offset %d" % (seg, off),
                      out)
        self.assertIn("--repair-wal", out)
        self.assertEqual(len(wal_records(seg)), 1000)  # left alone
        s = self.srv(threads=1, extra_args=["--repair-wal"])
        want = {k: v for _, _, _, k, v in recs[:400]}
        with s.raw() as c:
            self.assertEqual(values(c), want)
        self.assertIn("--repair-wal: %s is damaged at offset %d" %
                      (os.path.basename(seg), off), s.log_text())
        s.kill9()
        s = self.srv(threads=1)  # repaired: starts without the flag now
        with s.raw() as c:
            self.assertEqual(values(c), want)

    def test_damaged_first_record_of_older_segment(self):
        s = self.srv(threads=2)
        with s.raw() as c:
            set_many(c, b"a", 500)
        s.kill9()
        s = self.srv(threads=2)
        with s.raw() as c:
            set_many(c, b"b", 500)
        s.kill9()
        segs = self.files("wal-", ".log")
        self.assertGreaterEqual(len(segs), 2)
        old = self.path(segs[0])
        recs = wal_records(old)
        self.assertEqual(len(recs), 500)
        off, size = recs[0][0], recs[0][1]
        flip_byte(old, off + size - 1)
        rc, out = self.start_fails(["--data-dir", self.dir])
        self.assertNotEqual(rc, 0, out)
        self.assertIn("corrupt WAL record in %s at offset %d" % (old, off),
                      out)
        s = self.srv(threads=2, extra_args=["--repair-wal"])
        with s.raw() as c:
            self.assertEqual(c.call("DBSIZE"), 0)
        # The later segment's records are gone (its number may be reused
        # by the new run's segment, which is empty).
        self.assertEqual(self.files("wal-", ".log")[0], segs[0])
        for name in self.files("wal-", ".log"):
            self.assertEqual(wal_records(self.path(name)), [], name)
        s.kill9()
        s = self.srv(threads=2)
        with s.raw() as c:
            self.assertEqual(c.call("DBSIZE"), 0)

    def test_corrupt_newest_snapshot_falls_back(self):
        s = self.srv()
        with s.raw() as c:
            want = set_many(c, b"a", 200)
            bgsave(c)
            want.update(set_many(c, b"b", 200))
            c.call("DEL", "a0")
            del want[b"a0"]
            bgsave(c)
            want.update(set_many(c, b"c", 50))
        s.kill9()
        snaps = self.files("snap-", ".fcs")
        self.assertEqual(len(snaps), 2)
        newest = self.path(snaps[-1])
        flip_byte(newest, os.path.getsize(newest) // 2)
        s = self.srv()
        with s.raw() as c:
            self.assertEqual(values(c), want)
            self.assertEqual(info(c)["recovered_snapshot_keys"], "200")
        self.assertIn("Snapshot %s is unusable" % newest, s.log_text())

    def test_only_snapshot_corrupt_fails_to_start(self):
        s = self.srv()
        with s.raw() as c:
            set_many(c, b"a", 50)
        s.term()  # the final snapshot; the WAL before it is pruned
        snaps = self.files("snap-", ".fcs")
        self.assertEqual(len(snaps), 1)
        flip_byte(self.path(snaps[0]), os.path.getsize(self.path(snaps[0])) // 2)
        rc, out = self.start_fails(["--data-dir", self.dir])
        self.assertNotEqual(rc, 0, out)
        self.assertIn("no usable snapshot", out)


@fast_cache_only
class TestDataDirAndConfig(PersistCase, unittest.TestCase):
    def test_second_server_on_same_dir_fails(self):
        s = self.srv()
        with s.raw() as c:
            c.call("SET", "k", "v")
        rc, out = self.start_fails(["--data-dir", self.dir])
        self.assertNotEqual(rc, 0, out)
        self.assertIn("data directory %s is in use by another process" %
                      self.dir, out)
        with s.raw() as c:  # the first one is unharmed
            self.assertEqual(c.call("SET", "k2", "v2"), b"OK")
        s.kill9()
        s = self.srv()  # the lock goes with the process
        with s.raw() as c:
            self.assertEqual(values(c), {b"k": b"v", b"k2": b"v2"})

    def test_persistence_flag_order(self):
        # Flags apply left to right: --data-dir turns persistence on, so a
        # later --persistence no turns it off again ...
        s = self.srv(extra_args=["--persistence", "no"])
        with s.raw() as c:
            self.assertEqual(info(c)["aof_enabled"], "0")
            self.assertErr(c.call("BGSAVE"), "persistence is disabled")
            self.assertEqual(c.call("SET", "k", "v"), b"OK")
        s.term()
        self.assertEqual(os.listdir(self.dir), [])
        # ... and an earlier one is overridden by --data-dir.
        s = self.srv(start=False, fsync=None)
        s.extra_args = ["--pin-threads", "no", "--persistence", "no",
                        "--data-dir", self.dir]
        s.start()
        with s.raw() as c:
            self.assertEqual(info(c)["aof_enabled"], "1")
            self.assertEqual(c.call("SET", "k", "v"), b"OK")
        s.term()
        s = self.srv(fsync=None, extra_args=["--persistence", "yes"])
        with s.raw() as c:
            self.assertEqual(c.call("GET", "k"), b"v")

    def assertErr(self, r, prefix):
        self.assertIsInstance(r, RespError, r)
        self.assertIn(prefix, r.msg)

    def test_config_file_enables_persistence(self):
        conf = write_file(self.path("fc.toml"),
                          "[persistence]\nenabled = true\n"
                          "data_dir = \"%s\"\nfsync = \"no\"\n"
                          "compress_snapshots = false\n" % self.dir)
        s = self.srv(start=False, fsync=None)
        s.extra_args = ["--pin-threads", "no", "--config", conf]
        s.start()
        with s.raw() as c:
            inf = info(c)
            self.assertEqual(inf["aof_enabled"], "1")
            self.assertEqual(inf["wal_fsync"], "no")
            c.call("SET", "k", "v")
        s.term()
        self.assertTrue(self.files("wal-", ".log"))
        self.assertTrue(self.files("snap-", ".fcs"))
        s = self.srv(start=False, fsync=None)
        s.extra_args = ["--pin-threads", "no", "--config", conf,
                        "--fsync", "always"]  # the flag wins
        s.start()
        with s.raw() as c:
            self.assertEqual(info(c)["wal_fsync"], "always")
            self.assertEqual(c.call("GET", "k"), b"v")

    def test_bad_values_exit_2(self):
        rc, out = self.start_fails(["--data-dir", self.dir, "--fsync",
                                    "sometimes"])
        self.assertEqual(rc, 2, out)
        self.assertIn("sometimes", out)
        conf = write_file(self.path("bad.toml"),
                          "[persistence]\nfsync = \"sometimes\"\n")
        rc, out = self.start_fails(["--config", conf])
        self.assertEqual(rc, 2, out)
        self.assertIn("'fsync' must be", out)
        rc, out = self.start_fails(["--persistence", "maybe"])
        self.assertEqual(rc, 2, out)
        self.assertEqual(os.listdir(self.dir), ["bad.toml"])


if __name__ == "__main__":
    unittest.main()
