"""CLIENT LIST and CLIENT KILL without stopping the world (issue 9): the
client's worker asks every other worker, by message, for its part (each
lists, or marks for closing, its own connections) and merges the parts, so
INFO stats exclusive_sections does not grow (the check that failed before,
when both ran with every other worker parked). Meanwhile the listing still
shows the clients of every worker with their real fields, a kill reaches a
client of another worker, and errors are counted once, as before.

Connections spread over the workers by SO_REUSEPORT; each test opens them
until every worker serves some (CLIENT INFO's worker= field).
"""

import socket
import unittest

from fcserver import RawClient, RespError, ServerTestCase, fast_cache_only

THREADS = 3
# Fields that do not change between a client's CLIENT INFO and another
# client's CLIENT LIST right after (age, idle and the buffers may).
STABLE = ("id", "addr", "laddr", "fd", "name", "db", "flags", "multi",
          "resp", "lib-name", "lib-ver", "user", "cmd", "worker")


def fields(line):
    out = {}
    for part in line.strip().split(" "):
        k, _, v = part.partition("=")
        out[k] = v
    return out


def rows(listing):
    """CLIENT LIST's text -> {client id: fields}."""
    assert isinstance(listing, bytes), listing
    out = {}
    for line in listing.decode().split("\n"):
        if line:
            f = fields(line)
            out[int(f["id"])] = f
    return out


def local_addr(c):
    host, port = c.sock.getsockname()[:2]
    return "%s:%d" % (host, port)


def peer_addr(c):
    host, port = c.sock.getpeername()[:2]
    return "%s:%d" % (host, port)


@fast_cache_only
class ClientsOnEveryWorker(ServerTestCase):
    server_kwargs = {"threads": THREADS}

    def spread(self, per_worker=2):
        """{worker: [(client, CLIENT INFO fields)]}, per_worker each."""
        by_worker = {}
        for i in range(400):  # bounded: the kernel picks the worker
            if len(by_worker) == THREADS and all(
                    len(v) >= per_worker for v in by_worker.values()):
                break
            c = self.raw()
            self.assertEqual(c.call("CLIENT", "SETNAME", "c%d" % i), b"OK")
            f = fields(c.call("CLIENT", "INFO").decode())
            by_worker.setdefault(f["worker"], []).append((c, f))
        self.assertEqual(len(by_worker), THREADS,
                         "connections never reached every worker")
        return by_worker

    def excl(self):
        return self.r.info("stats")["exclusive_sections"]

    def others(self, by_worker, w):
        return [p for o, v in sorted(by_worker.items()) if o != w for p in v]


class TestClientList(ClientsOnEveryWorker):
    def test_lists_every_worker_with_its_fields(self):
        by_worker = self.spread()
        # One client of worker 0 speaks RESP3 and names its library, so
        # that fields other than the name come from the other worker too.
        c3, f3 = self.others(by_worker, "0")[0]
        self.assertIsInstance(c3.call("HELLO", "3"), dict)
        self.assertEqual(c3.call("CLIENT", "SETINFO", "lib-name", "lib3"),
                         b"OK")
        f3 = fields(c3.call("CLIENT", "INFO").decode())
        self.assertEqual(f3["resp"], "3")
        expect = {}
        for v in by_worker.values():
            for c, f in v:
                if c is c3:
                    f = f3
                self.assertEqual(f["addr"], local_addr(c))
                self.assertEqual(f["laddr"], peer_addr(c))
                expect[int(f["id"])] = f
        before = self.excl()
        for w, v in sorted(by_worker.items()):
            lister, lf = v[0]
            got = rows(lister.call("CLIENT", "LIST"))
            for cid, f in expect.items():
                self.assertIn(cid, got, "client %d of worker %s missing from "
                              "worker %s's listing" % (cid, f["worker"], w))
                if cid == int(lf["id"]):
                    self.assertEqual(got[cid]["cmd"], "client|list")
                    continue
                for k in STABLE:
                    self.assertEqual(got[cid][k], f[k], (cid, k))
                self.assertGreaterEqual(int(got[cid]["age"]), 0)
                self.assertGreaterEqual(int(got[cid]["idle"]), 0)
            expect[int(lf["id"])] = dict(expect[int(lf["id"])],
                                         cmd="client|list")
            # Every line is one client, once.
            text = lister.call("CLIENT", "LIST").decode()
            ids = [fields(x)["id"] for x in text.split("\n") if x]
            self.assertEqual(len(ids), len(set(ids)))
            self.assertTrue(text.endswith("\n"))
        self.assertEqual(self.excl(), before,
                         "CLIENT LIST parked the other workers")
        # The counter counts: KEYS still stops the world.
        lister.call("KEYS", "*")
        self.assertEqual(self.excl(), before + 1)

    def test_filters(self):
        by_worker = self.spread(per_worker=1)
        me, _ = by_worker["0"][0]
        other, of = self.others(by_worker, "0")[0]
        before = self.excl()
        one = me.call("CLIENT", "LIST", "ID", of["id"]).decode()
        self.assertEqual(one.count("\n"), 1)
        self.assertEqual(fields(one)["id"], of["id"])
        self.assertEqual(fields(one)["worker"], of["worker"])
        self.assertEqual(me.call("CLIENT", "LIST", "ID", "999999"), b"")
        normal = rows(me.call("CLIENT", "LIST", "TYPE", "normal"))
        self.assertIn(int(of["id"]), normal)
        self.assertEqual(me.call("CLIENT", "LIST", "TYPE", "pubsub"), b"")
        self.assertEqual(self.excl(), before)
        # RESP3 gets a verbatim string, with the same lines.
        self.assertIsInstance(other.call("HELLO", "3"), dict)
        v = other.call("CLIENT", "LIST", "ID", of["id"])
        self.assertEqual(type(v).__name__, "Verbatim")
        self.assertEqual(fields(v.decode())["resp"], "3")

    def test_errors_counted_once(self):
        by_worker = self.spread(per_worker=1)
        me, mf = by_worker["1"][0]
        me.call("CONFIG", "RESETSTAT")
        self.assertEqual(me.call("CLIENT", "LIST", "ID", "x"),
                         RespError("ERR Invalid client ID"))
        self.assertEqual(me.call("CLIENT", "LIST", "foo", "bar"),
                         RespError("ERR syntax error"))
        self.assertEqual(me.call("CLIENT", "KILL", "1.2.3.4:5"),
                         RespError("ERR No such client"))
        self.assertIsInstance(me.call("CLIENT", "LIST"), bytes)
        stats = self.r.info("commandstats")["cmdstat_client"]
        # redis-py's own connection may add CLIENT calls of its own: count
        # from this client's point of view only what must hold.
        self.assertGreaterEqual(stats["calls"], 4)
        self.assertEqual(stats["failed_calls"], 3)
        err = self.r.info("errorstats")
        self.assertEqual(err["errorstat_ERR"], "count=3")

    def test_reply_bytes_counted(self):
        # The merged reply is written after the command's own run: it still
        # counts in total_net_output_bytes (INFO's own reply counts after
        # the figure it prints).
        by_worker = self.spread(per_worker=2)
        me, _ = by_worker["1"][0]

        def out_bytes():
            text = me.call("INFO", "stats")
            for line in text.decode().split("\r\n"):
                if line.startswith("total_net_output_bytes:"):
                    return int(line.split(":")[1]), len(text)
            raise AssertionError("no total_net_output_bytes")

        a, info_len = out_bytes()
        listing = me.call("CLIENT", "LIST")
        b, _ = out_bytes()
        self.assertGreaterEqual(b - a, info_len + len(listing))

    def test_pipelined_in_order(self):
        by_worker = self.spread(per_worker=1)
        me, _ = by_worker["2"][0]
        victim, vf = self.others(by_worker, "2")[0]
        # Requests to other workers in flight before the listing, a kill
        # and then a listing in one write: replies in request order, and
        # the listing already misses the victim (each worker runs the
        # parts it gets from one client in order).
        cmds = []
        for i in range(30):
            cmds.append(("SET", "key:%d" % i, "v"))
        cmds += [("CLIENT", "KILL", "ID", vf["id"]), ("CLIENT", "LIST"),
                 ("PING",)]
        me.send(b"".join(RawClient.encode(*c) for c in cmds))
        for i in range(30):
            self.assertEqual(me.read_reply(), b"OK")
        self.assertEqual(me.read_reply(), 1)
        listing = rows(me.read_reply())
        self.assertNotIn(int(vf["id"]), listing)
        self.assertEqual(me.read_reply(), b"PONG")
        self.assertTrue(victim.expect_closed())


    def test_inside_exec_parks(self):
        # Inside EXEC the reply belongs in EXEC's array, so the parts cannot
        # come by message: a transaction holding LIST or KILL runs with the
        # other workers parked (one exclusive section) and reads them all.
        by_worker = self.spread(per_worker=1)
        me, _ = by_worker["0"][0]
        victim, vf = self.others(by_worker, "0")[0]
        before = self.excl()
        self.assertEqual(me.call("MULTI"), b"OK")
        self.assertEqual(me.call("CLIENT", "LIST"), b"QUEUED")
        self.assertEqual(me.call("CLIENT", "KILL", "ID", vf["id"]), b"QUEUED")
        self.assertEqual(me.call("CLIENT", "LIST", "ID", vf["id"]), b"QUEUED")
        listing, killed, after = me.call("EXEC")
        self.assertEqual(self.excl(), before + 1)
        for v in by_worker.values():
            for _, f in v:
                self.assertIn(int(f["id"]), rows(listing))
        self.assertEqual(killed, 1)
        self.assertEqual(after, b"")
        self.assertTrue(victim.expect_closed())


class TestClientKill(ClientsOnEveryWorker):
    def test_kill_on_another_worker(self):
        # Each worker loses four clients (two by ID, one by ADDR, one by
        # the old form) and keeps its killer.
        by_worker = self.spread(per_worker=5)
        before = self.excl()
        for w in sorted(by_worker):
            killer, _ = by_worker[w][0]
            for o in sorted(by_worker):
                if o == w:
                    continue
                v1, f1 = by_worker[o].pop()
                self.assertEqual(
                    killer.call("CLIENT", "KILL", "ID", f1["id"]), 1)
                self.assertTrue(v1.expect_closed(), "ID: %s -> %s" % (w, o))
                self.assertEqual(
                    killer.call("CLIENT", "KILL", "ID", f1["id"]), 0)
                listing = rows(killer.call("CLIENT", "LIST"))
                self.assertNotIn(int(f1["id"]), listing)
            # ADDR (new style, a count) and the old form (OK / error) on
            # a client of the next worker.
            o = str((int(w) + 1) % THREADS)
            v2, f2 = by_worker[o].pop()
            self.assertEqual(
                killer.call("CLIENT", "KILL", "ADDR", f2["addr"]), 1)
            self.assertTrue(v2.expect_closed(), "ADDR: %s -> %s" % (w, o))
            self.assertEqual(
                killer.call("CLIENT", "KILL", "ADDR", f2["addr"]), 0)
            o = str((int(w) + 2) % THREADS)
            v3, f3 = by_worker[o][-1]
            self.assertEqual(killer.call("CLIENT", "KILL", f3["addr"]),
                             b"OK")
            self.assertTrue(v3.expect_closed(), "old: %s -> %s" % (w, o))
            self.assertEqual(killer.call("CLIENT", "KILL", f3["addr"]),
                             RespError("ERR No such client"))
            by_worker[o].pop()
            self.assertEqual(killer.call("PING"), b"PONG")
        self.assertEqual(self.excl(), before,
                         "CLIENT KILL parked the other workers")

    def test_kill_filters_travel_by_value(self):
        # The filter is copied into every worker's message: an address
        # longer than any matches nothing, and the last ADDR given wins.
        by_worker = self.spread(per_worker=1)
        me, _ = by_worker["0"][0]
        victim, vf = self.others(by_worker, "0")[0]
        long_addr = "127.0.0.1:" + "9" * 70
        self.assertEqual(me.call("CLIENT", "KILL", "ADDR", long_addr), 0)
        self.assertEqual(me.call("CLIENT", "KILL", long_addr),
                         RespError("ERR No such client"))
        self.assertEqual(me.call("CLIENT", "KILL", "ADDR", long_addr,
                                 "ADDR", vf["addr"], "LADDR", vf["laddr"],
                                 "ID", vf["id"], "TYPE", "normal",
                                 "USER", "default"), 1)
        self.assertTrue(victim.expect_closed())

    def test_kill_self_replies_first(self):
        by_worker = self.spread(per_worker=1)
        me, mf = by_worker["1"][0]
        self.assertEqual(me.call("CLIENT", "KILL", "ID", mf["id"]), 0)
        self.assertEqual(me.call("CLIENT", "KILL", "ID", mf["id"],
                                 "SKIPME", "no"), 1)
        self.assertTrue(me.expect_closed())

    def test_kill_every_other_client(self):
        by_worker = self.spread(per_worker=2)
        me, mf = by_worker["0"][0]
        victims = self.others(by_worker, "0") + by_worker["0"][1:]
        everyone = rows(me.call("CLIENT", "LIST"))
        before = self.excl()
        # LADDR is the server's address: every client but this one (and
        # redis-py's, whichever worker it is on, and earlier tests' that
        # are still closing: hence the range).
        n = me.call("CLIENT", "KILL", "LADDR", mf["laddr"], "SKIPME", "yes")
        self.assertGreaterEqual(n, len(victims) + 1)
        self.assertLessEqual(n, len(everyone) - 1)
        for c, f in victims:
            self.assertTrue(c.expect_closed(), f["worker"])
        self.assertEqual(list(rows(me.call("CLIENT", "LIST"))),
                         [int(mf["id"])])
        self.r.close()  # its connection was killed too
        self.assertEqual(self.server.client().info("stats")[
            "exclusive_sections"], before)


if __name__ == "__main__":
    unittest.main()
