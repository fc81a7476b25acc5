"""fast-cache only: hashes, lists, sets and sorted sets survive what strings
survive. Their changes are logged as op records (deltas), so these tests
aim at what deltas get wrong: a restart after SIGKILL must give back
exactly the state before it (fsync=always); a snapshot taken while typed
values change (the fuzzy cut, with its per-key seq rule) and the WAL after
it must not apply a change twice or lose one; a replica fed by a full sync
during typed writes, then by the live stream, must hold the primary's
values, and so must a replica that restarted.

The load is a seeded random sequence over a few hundred keys of each type
(commands that change values in every way: pushes, pops, inserts, trims,
increments, removals, moves between keys, STORE forms, RENAME, COPY,
EXPIRE, DEL), bounded in length; states are compared whole with dump()
(every key, type, content and expiry time)."""

import random
import threading
import time
import unittest

from fcserver import RawClient, fast_cache_only
from persistutil import PersistCase, dump, info, pipeline, wait_info
from replutil import ReplCase

KEYS = 60  # per type
FILLER = 100000


def typed_ops(seed, n):
    """n commands; each family's commands on its own key prefix."""
    r = random.Random(seed)

    def k(prefix):
        return b"%s:%d" % (prefix, r.randrange(KEYS))

    def el():
        return b"e%d" % r.randrange(40)

    for _ in range(n):
        x = r.randrange(30)
        if x < 3:
            yield ("HSET", k(b"h"), el(), b"v%d" % r.randrange(1000),
                   el(), b"w")
        elif x == 3:
            yield ("HDEL", k(b"h"), el(), el())
        elif x == 4:
            yield ("HINCRBY", k(b"h"), b"n", r.randrange(-5, 6))
        elif x < 8:
            yield (r.choice(["RPUSH", "LPUSH"]), k(b"l"), el(), el())
        elif x == 8:
            yield (r.choice(["LPOP", "RPOP"]), k(b"l"), r.randrange(1, 3))
        elif x == 9:
            yield ("LSET", k(b"l"), r.randrange(-2, 2), el())
        elif x == 10:
            yield ("LINSERT", k(b"l"), r.choice(["BEFORE", "AFTER"]), el(),
                   el())
        elif x == 11:
            yield ("LREM", k(b"l"), r.randrange(-1, 2), el())
        elif x == 12:
            yield ("LTRIM", k(b"l"), r.randrange(0, 2), r.randrange(-3, 30))
        elif x == 13:
            yield ("LMOVE", k(b"l"), k(b"l"), r.choice(["LEFT", "RIGHT"]),
                   r.choice(["LEFT", "RIGHT"]))
        elif x < 17:
            yield ("SADD", k(b"s"), el(), el(), b"%d" % r.randrange(100))
        elif x == 17:
            yield ("SREM", k(b"s"), el())
        elif x == 18:
            yield ("SPOP", k(b"s"))
        elif x == 19:
            yield ("SINTERSTORE", k(b"s"), k(b"s"), k(b"s"))
        elif x < 23:
            yield ("ZADD", k(b"z"), r.randrange(100), el(),
                   r.random() * 10, el())
        elif x == 23:
            yield ("ZINCRBY", k(b"z"), 1.5, el())
        elif x == 24:
            yield ("ZREM", k(b"z"), el())
        elif x == 25:
            yield ("ZPOPMIN", k(b"z"))
        elif x == 26:
            yield ("ZUNIONSTORE", k(b"z"), 2, k(b"z"), k(b"z"))
        elif x == 27:
            p = r.choice([b"h", b"l", b"s", b"z"])
            yield (r.choice(["RENAME", "COPY"]), k(p), k(p))
        elif x == 28:
            yield ("EXPIRE", k(r.choice([b"h", b"l", b"s", b"z"])), 100000)
        else:
            yield ("DEL", k(r.choice([b"h", b"l", b"s", b"z"])))


def run_ops(c, seed, n):
    """Sends the ops in pipelined batches; every reply is read."""
    ops = list(typed_ops(seed, n))
    pipeline(c, ops, batch=200)
    return len(ops)


class Writer(threading.Thread):
    """A bounded typed load on its own connection until stop or n ops."""

    def __init__(self, port, seed, n):
        super().__init__(daemon=True)
        self.port, self.seed, self.n = port, seed, n
        self.stop = threading.Event()
        self.done = 0

    def run(self):
        ops = list(typed_ops(self.seed, self.n))
        with RawClient(self.port, timeout=60) as c:
            for i in range(0, len(ops), 50):
                if self.stop.is_set():
                    break
                pipeline(c, ops[i:i + 50])
                self.done = i + 50


@fast_cache_only
class TestTypedPersistence(PersistCase, unittest.TestCase):
    def test_kill9_gives_back_every_typed_change(self):
        s = self.srv(threads=2, fsync="always")
        with s.raw(timeout=60) as c:
            run_ops(c, 1, 6000)
            want = dump(c)
        self.assertGreater(len(want), 100)
        types = {v[0][0] for v in want.values() if isinstance(v[0], tuple)}
        self.assertEqual(types, {"hash", "list", "set", "zset"})
        s.kill9()
        s = self.srv(threads=2, fsync="always")
        with s.raw(timeout=60) as c:
            self.assertEqual(dump(c), want)

    def test_snapshot_under_typed_writes_then_wal(self):
        """BGSAVE while a writer changes typed values: recovery is the
        snapshot plus the WAL after its cut, and must equal the state.
        Four shards: each is walked over many loop turns (a turn walks
        4096 table slots), so values change between its cut and their
        turn."""
        args = ["--shards", "4"]
        s = self.srv(threads=2, fsync="always", extra_args=args)
        with s.raw(timeout=60) as c:
            # Filler strings make the walk last many loop turns, so that
            # typed writes land between its slices: some values are walked
            # after changes past their shard's cut (the per-key rule's
            # case), some before.
            pipeline(c, [("SET", b"fill:%d" % i, b"x") for i in
                         range(FILLER)])
            run_ops(c, 2, 3000)  # values to be walked
            w = Writer(s.port, 3, 20000)
            w.start()
            deadline = time.monotonic() + 30
            while w.done < 2000 and w.is_alive() and \
                    time.monotonic() < deadline:
                time.sleep(0.01)
            self.assertEqual(c.call("BGSAVE"), b"Background saving started")
            wait_info(c, "rdb_bgsave_in_progress", "0")
            time.sleep(0.2)  # more writes after the cut
            w.stop.set()
            w.join(60)
            self.assertFalse(w.is_alive())
            self.assertEqual(info(c)["rdb_last_bgsave_status"], "ok")
            want = dump(c)
        s.kill9()
        self.assertEqual(len(self.files("snap-", ".fcs")), 1)
        s = self.srv(threads=2, fsync="always", extra_args=args)
        with s.raw(timeout=60) as c:
            self.assertGreater(int(info(c)["recovered_snapshot_keys"]), 0)
            self.assertEqual(dump(c), want)
            # An image loaded and not touched is snapshotted again (its seq
            # now belongs to an older run), then changed, then recovered.
            self.assertEqual(c.call("BGSAVE"), b"Background saving started")
            wait_info(c, "rdb_bgsave_in_progress", "0")
            run_ops(c, 4, 3000)
            want = dump(c)
        s.kill9()
        s = self.srv(threads=2, fsync="always", extra_args=args)
        with s.raw(timeout=60) as c:
            self.assertEqual(dump(c), want)


@fast_cache_only
class TestTypedReplication(ReplCase):
    def test_full_sync_during_typed_writes_then_stream(self):
        p = self.primary()
        with self.client(p, timeout=60) as c:
            run_ops(c, 5, 4000)
        w = Writer(p.port, 6, 20000)
        w.start()
        r = self.replica(p.rport)
        self.wait_online(r)
        w.stop.set()
        w.join(60)
        self.assertFalse(w.is_alive())
        with self.client(p, timeout=60) as c:
            run_ops(c, 7, 2000)  # the live stream alone
        self.assert_converged(p, r)
        # A replica killed and restarted resyncs and converges again.
        r.kill9()
        r.restart()
        self.wait_online(r)
        with self.client(p, timeout=60) as c:
            run_ops(c, 8, 1000)
        self.assert_converged(p, r)


if __name__ == "__main__":
    unittest.main()
