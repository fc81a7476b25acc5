"""fast-cache only: several worker threads (--threads), each owning part of
the keyspace. Many keys are used so that every worker owns some; multi-key
commands, pipelines and whole-keyspace commands must behave exactly as on a
single-threaded Redis. Also runs the smoke checks under both I/O back ends
(--io epoll, --io uring)."""

import random
import threading
import time
import unittest

from fcserver import RawClient, Server, ServerTestCase, fast_cache_only

NKEYS = 1000


def enc(*args):
    return RawClient.encode(*args)


class CrossWorkerChecks:
    """Mixed into a ServerTestCase that starts fast-cache with threads > 1."""

    def setUp(self):
        super().setUp()
        self.c = self.raw(timeout=30)
        self.call = self.c.call
        self.keys = ["key:%d" % i for i in range(NKEYS)]

    def fill(self, n=NKEYS, prefix="key:"):
        args = []
        for i in range(n):
            args += [prefix + str(i), "val:%d" % i]
        self.assertEqual(self.call("MSET", *args), b"OK")

    def test_mset_mget_keep_order(self):
        self.fill()
        rng = random.Random(1)
        order = list(range(NKEYS)) + [-1] * 100
        rng.shuffle(order)
        names = ["key:%d" % i if i >= 0 else "missing:%d" % rng.random()
                 for i in order]
        want = [b"val:%d" % i if i >= 0 else None for i in order]
        self.assertEqual(self.call("MGET", *names), want)
        self.assertEqual(self.r.mget(names), want)

    def test_del_exists_touch_unlink_sum(self):
        self.fill()
        args = self.keys + self.keys[:10] + ["nokey:%d" % i for i in range(50)]
        self.assertEqual(self.call("EXISTS", *args), NKEYS + 10)
        self.assertEqual(self.call("TOUCH", *args), NKEYS + 10)
        half = self.keys[0::2]
        self.assertEqual(self.call("DEL", *(half + half[:5] + ["nokey"])),
                         len(half))
        self.assertEqual(self.call("EXISTS", *self.keys), NKEYS - len(half))
        self.assertEqual(self.call("UNLINK", *self.keys), NKEYS - len(half))
        self.assertEqual(self.call("DBSIZE"), 0)

    def test_pipeline_order_across_workers(self):
        rng = random.Random(2)
        model, cmds, want = {}, [], []
        for _ in range(5000):
            k = "pk:%d" % rng.randrange(300)
            op = rng.randrange(5)
            if op == 0:
                v = "v%d" % rng.randrange(10 ** 6)
                cmds.append(("SET", k, v))
                model[k] = v.encode()
                want.append(b"OK")
            elif op == 1:
                cmds.append(("GET", k))
                want.append(model.get(k))
            elif op == 2:
                k2 = "pk:%d" % rng.randrange(300)
                cmds.append(("MGET", k, k2, "none"))
                want.append([model.get(k), model.get(k2), None])
            elif op == 3:
                ks = ["pk:%d" % rng.randrange(300) for _ in range(4)]
                cmds.append(("EXISTS",) + tuple(ks))
                want.append(sum(1 for x in ks if x in model))
            else:
                k2 = "pk:%d" % rng.randrange(300)
                v = "m%d" % rng.randrange(10 ** 6)
                cmds.append(("MSET", k, v, k2, v + "x"))
                model[k], model[k2] = v.encode(), (v + "x").encode()
                want.append(b"OK")
        blob = b"".join(enc(*cmd) for cmd in cmds)
        t = threading.Thread(target=self.c.sock.sendall, args=(blob,))
        t.start()
        for i, w in enumerate(want):
            self.assertEqual(self.c.read_reply(), w, (i, cmds[i]))
        t.join(30)
        pipe = self.r.pipeline(transaction=False)
        for k in sorted(model):
            pipe.get(k)
        self.assertEqual(pipe.execute(), [model[k] for k in sorted(model)])

    def test_rename_copy_across_workers(self):
        n = 200
        for i in range(n):
            self.call("SET", "src:%d" % i, "s%d" % i, "EX", 1000)
            self.call("SET", "taken:%d" % i, "t%d" % i)
        for i in range(n):
            self.assertEqual(self.call("RENAME", "src:%d" % i, "dst:%d" % i),
                             b"OK")
            self.assertEqual(self.call("RENAMENX", "dst:%d" % i,
                                       "taken:%d" % i), 0)
            self.assertEqual(self.call("COPY", "dst:%d" % i, "cp:%d" % i), 1)
            self.assertEqual(self.call("COPY", "dst:%d" % i, "taken:%d" % i,
                                       "REPLACE"), 1)
        for i in range(n):
            v = b"s%d" % i
            self.assertEqual(self.call("MGET", "src:%d" % i, "dst:%d" % i,
                                       "cp:%d" % i, "taken:%d" % i),
                             [None, v, v, v])
            self.assertTrue(0 < self.call("TTL", "dst:%d" % i) <= 1000)
            self.assertTrue(0 < self.call("TTL", "cp:%d" % i) <= 1000)
        self.assertEqual(self.call("DBSIZE"), 3 * n)
        self.assertEqual(self.call("RENAMENX", "dst:0", "fresh:0"), 1)
        self.assertErr(self.call("RENAME", "src:0", "x"), "ERR no such key")

    def test_msetnx_lcs_across_workers(self):
        args = []
        for i in range(100):
            args += ["nx:%d" % i, i]
        self.assertEqual(self.call("MSETNX", *args), 1)
        self.assertEqual(self.call("MSETNX", "new:1", 1, "nx:50", 2, "new:2", 3),
                         0)
        self.assertEqual(self.call("EXISTS", "new:1", "new:2"), 0)
        self.assertEqual(self.call("GET", "nx:50"), b"50")
        for i in range(20):
            self.call("MSET", "l1:%d" % i, "ohmytext", "l2:%d" % i, "mynewtext")
            self.assertEqual(self.call("LCS", "l1:%d" % i, "l2:%d" % i),
                             b"mytext")

    def test_keys_scan_dbsize_randomkey_see_all(self):
        self.fill(2000, "all:")
        want = {b"all:%d" % i for i in range(2000)}
        self.assertEqual(self.call("DBSIZE"), 2000)
        got = self.call("KEYS", "*")
        self.assertEqual(len(got), 2000)
        self.assertEqual(set(got), want)
        self.assertEqual(set(self.call("KEYS", "all:1??")),
                         {b"all:1%02d" % i for i in range(100)})
        seen, cursor = [], b"0"
        while True:
            cursor, batch = self.call("SCAN", cursor, "COUNT", 37)
            seen += batch
            if cursor == b"0":
                break
        self.assertEqual(set(seen), want)
        rk = {self.call("RANDOMKEY") for _ in range(50)}
        self.assertTrue(rk <= want)
        self.assertEqual(self.call("FLUSHDB"), b"OK")
        self.assertEqual(self.call("DBSIZE"), 0)
        self.assertEqual(self.call("KEYS", "*"), [])
        self.assertEqual(self.call("EXISTS", *list(want)[:500]), 0)

    def test_connections_visible_across_workers(self):
        conns = [self.raw() for _ in range(24)]
        ids = [c.call("CLIENT", "ID") for c in conns]
        self.assertEqual(len(set(ids)), len(ids))
        listing = self.call("CLIENT", "LIST").decode()
        listed = {int(line.split(" ")[0][3:])
                  for line in listing.strip("\n").split("\n")}
        self.assertTrue(set(ids) <= listed, set(ids) - listed)
        for victim, vid in list(zip(conns, ids))[:8]:
            self.assertEqual(self.call("CLIENT", "KILL", "ID", vid), 1)
            self.assertTrue(victim.expect_closed())
        for c in conns[8:]:
            self.assertEqual(c.call("PING"), b"PONG")

    def test_concurrent_multi_key_and_whole_keyspace(self):
        self.fill()
        errors, stop = [], threading.Event()

        def writer(tid):
            try:
                with self.server.raw(timeout=30) as c:
                    rng = random.Random(tid)
                    for it in range(150):
                        ks = ["w%d:%d" % (tid, rng.randrange(50))
                              for _ in range(6)]
                        args = []
                        for k in ks:
                            args += [k, "%d-%d" % (tid, it)]
                        c.send(enc("MSET", *args) + enc("MGET", *ks) +
                               enc("DEL", ks[0]))
                        if c.read_reply() != b"OK":
                            errors.append("mset")
                        got = c.read_reply()
                        if got != [b"%d-%d" % (tid, it)] * 6:
                            errors.append(("mget", got))
                        if c.read_reply() != 1:
                            errors.append("del")
            except Exception as e:  # noqa: BLE001 - collected
                errors.append(e)

        def scanner():
            try:
                with self.server.raw(timeout=30) as c:
                    while not stop.is_set():
                        n = c.call("DBSIZE")
                        ks = c.call("KEYS", "key:*")
                        if n < NKEYS or len(ks) != NKEYS:
                            errors.append(("scan", n, len(ks)))
            except Exception as e:  # noqa: BLE001 - collected
                errors.append(e)
        ws = [threading.Thread(target=writer, args=(t,)) for t in range(6)]
        sc = threading.Thread(target=scanner)
        sc.start()
        for w in ws:
            w.start()
        for w in ws:
            w.join(120)
        stop.set()
        sc.join(30)
        self.assertFalse(any(w.is_alive() for w in ws + [sc]), "hung")
        self.assertEqual(errors, [])
        self.assertEqual(self.call("EXISTS", *self.keys), NKEYS)

    def test_pipelined_exclusive_commands_share_a_parking(self):
        """MSETs whose keys span workers run with every other worker
        parked; one parking serves all those of a turn (the token lingers
        to the turn's end, route/mesh.h), so a pipeline of 64 parks far
        fewer than 64 times. Readers on other connections, meanwhile,
        never see one half of an MSET without the other (read in a
        transaction, itself run with the others parked)."""
        def excl():
            return self.r.info("stats")["exclusive_sections"]
        pairs = [("pa:%d" % i, "pb:%d" % i) for i in range(8)]
        for a, b in pairs:
            self.assertEqual(self.call("MSET", a, "0", b, "0"), b"OK")

        def batch(rnd):
            self.c.send(b"".join(
                enc("MSET", a, "%d" % (rnd * 64 + j), b, "%d" % (rnd * 64 + j))
                for j in range(64) for a, b in [pairs[j % 8]]))
            for _ in range(64):
                self.assertEqual(self.c.read_reply(), b"OK")
        fewest = None
        for rnd in range(5):
            before = excl()
            batch(rnd)
            grew = excl() - before
            fewest = grew if fewest is None else min(fewest, grew)
        self.assertGreaterEqual(fewest, 1)
        self.assertLess(fewest, 16)
        errors, stop = [], threading.Event()

        def reader():
            try:
                with self.server.raw(timeout=30) as c:
                    keys = [k for p in pairs for k in p]
                    tx = (enc("MULTI") + b"".join(enc("GET", k) for k in keys)
                          + enc("EXEC"))
                    for _ in range(500):
                        if stop.is_set():
                            break
                        c.send(tx)
                        for _ in range(len(keys) + 1):
                            c.read_reply()  # +OK, then +QUEUED each
                        got = c.read_reply()
                        for i in range(0, len(got), 2):
                            if got[i] != got[i + 1]:
                                errors.append(got)
            except Exception as e:  # noqa: BLE001 - collected
                errors.append(e)
        rs = [threading.Thread(target=reader) for _ in range(3)]
        for t in rs:
            t.start()
        for rnd in range(5, 25):
            batch(rnd)
        stop.set()
        for t in rs:
            t.join(60)
        self.assertFalse(any(t.is_alive() for t in rs), "hung")
        self.assertEqual(errors, [])

    def test_expiry_on_every_worker(self):
        pipe = self.r.pipeline(transaction=False)
        for i in range(500):
            pipe.set("exp:%d" % i, "v", px=100)
        pipe.execute()
        deadline = time.monotonic() + 5
        while self.call("DBSIZE") != 0:
            self.assertLess(time.monotonic(), deadline,
                            "expired keys still counted after 5s")
            time.sleep(0.05)
        self.assertEqual(self.call("KEYS", "*"), [])


@fast_cache_only
class TestTwoWorkers(CrossWorkerChecks, ServerTestCase):
    server_kwargs = {"threads": 2}


@fast_cache_only
class TestFourWorkers(CrossWorkerChecks, ServerTestCase):
    server_kwargs = {"threads": 4}


class IoBackendSmoke:
    def test_smoke(self):
        c = self.raw(timeout=30)
        self.assertEqual(c.call("PING"), b"PONG")
        blob = b"".join(enc("SET", "io:%d" % i, i) for i in range(2000))
        c.send(blob)
        for _ in range(2000):
            self.assertEqual(c.read_reply(), b"OK")
        names = ["io:%d" % i for i in range(2000)]
        self.assertEqual(c.call("MGET", *names),
                         [str(i).encode() for i in range(2000)])
        big = bytes(range(256)) * 4096  # 1 MiB
        self.assertEqual(c.call("SET", "big", big), b"OK")
        self.assertEqual(c.call("GET", "big"), big)
        cmd = enc("INCR", "ctr")
        for i in range(len(cmd)):
            c.send(cmd[i:i + 1])
            time.sleep(0.001)
        self.assertEqual(c.read_reply(), 1)
        c.send(b"*1\r\n$x\r\n")
        self.assertEqual(c.read_raw_line(),
                         b"-ERR Protocol error: invalid bulk length")
        self.assertTrue(c.expect_closed())
        self.assertAlive()


@fast_cache_only
class TestIoEpoll(IoBackendSmoke, ServerTestCase):
    server_kwargs = {"threads": 2, "extra_args": ["--io", "epoll"]}


@fast_cache_only
class TestIoUring(IoBackendSmoke, ServerTestCase):
    server_kwargs = {"threads": 2, "extra_args": ["--io", "uring"]}


@fast_cache_only
class TestThreadsFlag(unittest.TestCase):
    def test_threads_values_start_and_serve(self):
        for n in (1, 3):
            srv = Server(threads=n).start()
            try:
                with srv.raw() as c:
                    args = []
                    for i in range(300):
                        args += ["t%d" % i, i]
                    self.assertEqual(c.call("MSET", *args), b"OK")
                    self.assertEqual(c.call("DBSIZE"), 300)
            finally:
                srv.stop_and_check()


if __name__ == "__main__":
    unittest.main()
