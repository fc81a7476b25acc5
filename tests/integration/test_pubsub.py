"""Pub/sub: SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE PUNSUBSCRIBE PUBLISH, SSUBSCRIBE
SUNSUBSCRIBE SPUBLISH and PUBSUB, with the same inputs sent to fast-cache
(--threads 2, subscribers and publishers placed on different workers) and
to a redis-server 7.0 started next to it; the replies, with their RESP
types (RESP2 arrays, RESP3 push frames), must be the same.

Every read is bounded: a command is followed by a PING carrying a marker,
and replies are read until the marker comes back (at most MAX_REPLIES).
"""

import shutil
import socket
import time
import unittest

from fcserver import (Null, Push, RawClient, RespError, Server, Set, Map,
                      is_redis)

MAX_REPLIES = 5000
MARK = "mark-7f3a"
MiB = 1024 * 1024


def shape(r):
    """A reply with its RESP type made explicit, for exact comparison
    (a Push equals a list as Python values)."""
    if isinstance(r, Push):
        return ("push", [shape(x) for x in r])
    if isinstance(r, Set):
        return ("set", [shape(x) for x in r])
    if isinstance(r, Map):
        return ("map", sorted((repr(shape(k)), repr(shape(v)))
                              for k, v in r.items()))
    if isinstance(r, list):
        return ("array", [shape(x) for x in r])
    if isinstance(r, Null):
        return ("null3",)
    if isinstance(r, RespError):
        return ("err", r.msg)
    return (type(r).__name__, r)


def is_mark(r):
    return r == MARK.encode() or r == [b"pong", MARK.encode()]


def exchange(c, *cmd):
    """Sends cmd and a marker PING; returns cmd's replies (and whatever
    push messages arrived), in order, without the marker's."""
    c.send(RawClient.encode(*cmd) + RawClient.encode("PING", MARK))
    out = []
    for _ in range(MAX_REPLIES):
        r = c.read_reply()
        if is_mark(r):
            return out
        out.append(r)
    raise AssertionError("no marker after %d replies" % MAX_REPLIES)


def drain(c):
    """Every reply and message the connection has so far (marker PING)."""
    return exchange(c, "PING")[:-1]


def redis_reference():
    path = shutil.which("redis-server")
    if not path:
        return None
    s = Server()
    s.path = path
    s.redis = True
    return s


class Pair:
    """One server, and clients on the worker of one's choice (fast-cache
    places connections on workers; CLIENT INFO says which)."""

    def __init__(self, srv, name):
        self.srv = srv
        self.name = name
        self.opened = []

    def client(self, worker=None, rcvbuf=None):
        for _ in range(64):
            if rcvbuf:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
                s.settimeout(10)
                s.connect(("127.0.0.1", self.srv.port))
                c = RawClient.__new__(RawClient)
                c.sock = s
                c.buf = bytearray()
            else:
                c = RawClient(self.srv.port)
            self.opened.append(c)
            if worker is None or self.srv.redis:
                return c
            info = c.call("CLIENT", "INFO")
            fields = dict(kv.split(b"=", 1) for kv in bytes(info).split()
                          if b"=" in kv)
            if int(fields[b"worker"]) == worker:
                return c
            c.close()
        raise AssertionError("no connection landed on worker %d" % worker)

    def close_all(self):
        for c in self.opened:
            c.close()
        self.opened = []


class PubSubCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fc = Server(threads=2, extra_args=(
            [] if is_redis() else ["--pin-threads", "no"])).start()
        cls.ref = redis_reference()
        if cls.ref:
            cls.ref.start()

    @classmethod
    def tearDownClass(cls):
        if cls.ref:
            cls.ref.stop()
        cls.fc.stop_and_check()

    def setUp(self):
        self.sides = [Pair(self.fc, "fast-cache")]
        if self.ref:
            self.sides.append(Pair(self.ref, "redis"))
        for p in self.sides:
            self.addCleanup(p.close_all)

    def same(self, fn):
        """fn(side) -> value, run on both servers; the values must match
        (and fast-cache's is returned)."""
        got = [fn(p) for p in self.sides]
        if len(got) == 2:
            self.assertEqual(got[0], got[1], "fast-cache vs redis")
        return got[0]

    def wait_for(self, fn, want, tries=200):
        for _ in range(tries):
            got = fn()
            if got == want:
                return got
            time.sleep(0.02)
        self.assertEqual(got, want)


class TestSubscribeReplies(PubSubCase):
    def test_subscribe_unsubscribe_counts(self):
        script = [
            ("SUBSCRIBE", "a", "b", "a"),
            ("PSUBSCRIBE", "p*", "p*"),
            ("SSUBSCRIBE", "s1", "s2"),
            ("UNSUBSCRIBE", "b", "nope"),
            ("PUNSUBSCRIBE", "zz"),
            ("SUNSUBSCRIBE", "s2"),
            ("UNSUBSCRIBE",),       # the one channel left: a
            ("PUNSUBSCRIBE",),      # the one pattern left: p*
            ("PUNSUBSCRIBE",),      # none left: null name, count 0
            ("SUNSUBSCRIBE",),
            ("SUNSUBSCRIBE",),
            ("UNSUBSCRIBE",),
            ("SUBSCRIBE",),         # arity
            ("PSUBSCRIBE",),
            ("SSUBSCRIBE",),
        ]

        def run(side):
            c = side.client()
            return [[shape(r) for r in exchange(c, *cmd)] for cmd in script]
        got = self.same(run)
        self.assertEqual(got[0], [shape([b"subscribe", b"a", 1]),
                                  shape([b"subscribe", b"b", 2]),
                                  shape([b"subscribe", b"a", 2])])
        self.assertEqual(got[8], [shape([b"punsubscribe", None, 0])])

    def test_unsubscribe_all_of_many(self):
        def run(side):
            c = side.client()
            exchange(c, "SUBSCRIBE", "c1", "c2", "c3")
            exchange(c, "PSUBSCRIBE", "x*")
            r = exchange(c, "UNSUBSCRIBE")
            # Redis walks its dict: compare the names as a set and the
            # counts (one per reply, decreasing from the total) in order.
            return (sorted(x[1] for x in r), [x[2] for x in r],
                    [x[0] for x in r])
        got = self.same(run)
        self.assertEqual(got, ([b"c1", b"c2", b"c3"], [3, 2, 1],
                               [b"unsubscribe"] * 3))

    def test_resp2_subscribed_mode(self):
        script = [
            ("SUBSCRIBE", "ch"),
            ("GET", "x"), ("SET", "x", "1"), ("CLIENT", "LIST"),
            ("CLIENT", "INFO"), ("INFO", "stats"), ("HELLO", "2"),
            ("PUBLISH", "ch", "m"), ("SPUBLISH", "ch", "m"),
            ("PUBSUB", "NUMSUB", "ch"), ("MULTI",),
            ("PING",), ("PING", "hello"),
            ("SSUBSCRIBE", "sh"), ("UNSUBSCRIBE", "ch"),
            ("GET", "x"),           # still subscribed to a shard channel
            ("SUNSUBSCRIBE",),
            ("GET", "x"),           # out of subscribed mode
            ("PING",),
            ("SUBSCRIBE", "ch"), ("RESET",), ("GET", "x"),
            ("PUBSUB", "NUMSUB", "ch"),
        ]

        def run(side):
            c = side.client()
            return [[shape(r) for r in exchange(c, *cmd)] for cmd in script]
        got = self.same(run)
        self.assertEqual(got[1], [shape(RespError(
            b"ERR Can't execute 'get': only (P|S)SUBSCRIBE / "
            b"(P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this "
            b"context"))])
        self.assertEqual(got[11], [shape([b"pong", b""])])
        self.assertEqual(got[17], [shape(None)])
        self.assertEqual(got[-1], [shape([b"ch", 0])])

    def test_quit_while_subscribed(self):
        def run(side):
            c = side.client()
            exchange(c, "SUBSCRIBE", "q")
            r = c.call("QUIT")
            return shape(r), c.expect_closed(5)
        self.assertEqual(self.same(run), (shape(b"OK"), True))


class TestMessages(PubSubCase):
    def test_publish_counts_and_patterns(self):
        def run(side):
            a = side.client(worker=0)
            b = side.client(worker=1)
            pub = side.client(worker=1)
            exchange(a, "SUBSCRIBE", "news", "sport")
            exchange(a, "PSUBSCRIBE", "n*")
            exchange(b, "PSUBSCRIBE", "?ews", "s*")
            exchange(b, "SSUBSCRIBE", "news")
            counts = [exchange(pub, "PUBLISH", ch, "m-" + ch)
                      for ch in ("news", "sport", "nope", "weather", "s")]
            counts.append(exchange(pub, "SPUBLISH", "news", "shard"))
            counts.append(exchange(pub, "SPUBLISH", "sport", "none"))
            return counts, [shape(r) for r in drain(a)], \
                [shape(r) for r in drain(b)]
        counts, ma, mb = self.same(run)
        self.assertEqual(counts, [[3], [2], [1], [0], [1], [1], [0]])
        self.assertEqual(ma[0], shape([b"message", b"news", b"m-news"]))
        self.assertEqual(ma[1], shape([b"pmessage", b"n*", b"news",
                                       b"m-news"]))
        self.assertIn(shape([b"smessage", b"news", b"shard"]), mb)

    def test_resp3_push_frames(self):
        def run(side):
            s = side.client(worker=0)
            pub = side.client(worker=1)
            out = [shape(r) for r in exchange(s, "HELLO", "3")[1:]]
            for cmd in (("SUBSCRIBE", "c3"), ("PSUBSCRIBE", "c*"),
                        ("SSUBSCRIBE", "c3"), ("GET", "k"),
                        ("SET", "k", "v"), ("GET", "k"),
                        ("PUBLISH", "c3", "self"),
                        ("SPUBLISH", "c3", "self-shard")):
                out.append([shape(r) for r in exchange(s, *cmd)])
            out.append(exchange(pub, "PUBLISH", "c3", "other"))
            for _ in range(2):  # the two messages, then the marker
                out.append(shape(s.read_reply()))
            for cmd in (("PUBSUB", "NUMSUB", "c3", "zz"),
                        ("PUBSUB", "CHANNELS", "c*"), ("PUBSUB", "NUMPAT"),
                        ("PUBSUB", "SHARDNUMSUB", "c3"),
                        ("UNSUBSCRIBE",), ("PUNSUBSCRIBE",),
                        ("SUNSUBSCRIBE",), ("UNSUBSCRIBE",), ("PING",)):
                out.append([shape(r) for r in exchange(s, *cmd)])
            return out
        out = self.same(run)
        self.assertEqual(out[0], [shape(Push([b"subscribe", b"c3", 1]))])
        self.assertEqual(out[6], [
            shape(Push([b"message", b"c3", b"self"])),
            shape(Push([b"pmessage", b"c*", b"c3", b"self"])), shape(2)])
        self.assertEqual(out[9], shape(Push([b"message", b"c3", b"other"])))
        self.assertEqual(out[-1], [shape(b"PONG")])

    def test_resp3_blocked_subscriber_gets_messages(self):
        def run(side):
            s = side.client(worker=0)
            pub = side.client(worker=1)
            exchange(s, "HELLO", "3")
            exchange(s, "SUBSCRIBE", "bl")
            s.send_cmd("BLPOP", "blk", "10")
            time.sleep(0.2)  # blocked by now (nothing is asserted on time)
            counts = [exchange(pub, "PUBLISH", "bl", "while-blocked")]
            msg = shape(s.read_reply())
            counts.append(exchange(pub, "LPUSH", "blk", "v"))
            return counts, msg, shape(s.read_reply())
        self.assertEqual(self.same(run), (
            [[1], [1]], shape(Push([b"message", b"bl", b"while-blocked"])),
            shape([b"blk", b"v"])))

    def test_order_of_1000_messages_across_workers(self):
        n = 1000

        def run(side):
            sub = side.client(worker=0)
            pub = side.client(worker=1)
            exchange(sub, "SUBSCRIBE", "seq")
            exchange(sub, "PSUBSCRIBE", "se?")
            pub.send(b"".join(RawClient.encode("PUBLISH", "seq", "m%d" % i)
                              for i in range(n)))
            counts = [pub.read_reply() for _ in range(n)]
            got = [sub.read_reply() for _ in range(2 * n)]
            return counts, got
        counts, got = self.same(run)
        self.assertEqual(counts, [2] * n)
        want = []
        for i in range(n):
            want.append([b"message", b"seq", b"m%d" % i])
            want.append([b"pmessage", b"se?", b"seq", b"m%d" % i])
        self.assertEqual(got, want)

    def test_publishers_on_every_worker(self):
        def run(side):
            subs = [side.client(worker=w) for w in (0, 1, 0, 1)]
            for i, s in enumerate(subs):
                exchange(s, "SUBSCRIBE", "all", "only%d" % i)
            pubs = [side.client(worker=w) for w in (0, 1)]
            counts = []
            for j, p in enumerate(pubs):
                counts.append(exchange(p, "PUBLISH", "all", "from%d" % j))
                counts.append(exchange(p, "PUBLISH", "only%d" % (j + 2),
                                       "direct%d" % j))
            return counts, [drain(s) for s in subs]
        counts, got = self.same(run)
        self.assertEqual(counts, [[4], [1], [4], [1]])
        self.assertEqual(got[0], [[b"message", b"all", b"from0"],
                                  [b"message", b"all", b"from1"]])
        self.assertEqual(got[3], [[b"message", b"all", b"from0"],
                                  [b"message", b"all", b"from1"],
                                  [b"message", b"only3", b"direct1"]])


class TestIntrospection(PubSubCase):
    def test_pubsub_subcommands(self):
        def run(side):
            a = side.client(worker=0)
            b = side.client(worker=1)
            q = side.client()
            exchange(a, "SUBSCRIBE", "alpha", "beta", "gamma")
            exchange(b, "SUBSCRIBE", "alpha")
            exchange(a, "PSUBSCRIBE", "al*", "x*")
            exchange(b, "PSUBSCRIBE", "al*")
            exchange(b, "SSUBSCRIBE", "sa", "sb")
            out = []
            for cmd in (("PUBSUB", "CHANNELS"), ("PUBSUB", "CHANNELS", "*a"),
                        ("PUBSUB", "CHANNELS", "zz*"),
                        ("PUBSUB", "SHARDCHANNELS"),
                        ("PUBSUB", "SHARDCHANNELS", "s[a]")):
                r = exchange(q, *cmd)
                out.append(sorted(r[0]))
            for cmd in (("PUBSUB", "NUMSUB", "alpha", "beta", "none"),
                        ("PUBSUB", "NUMSUB"), ("PUBSUB", "NUMPAT"),
                        ("PUBSUB", "SHARDNUMSUB", "sa", "zz"),
                        ("PUBSUB", "HELP"), ("PUBSUB", "nosuch"),
                        ("PUBSUB",), ("PUBSUB", "CHANNELS", "a", "b"),
                        ("PUBSUB", "NUMPAT", "x"), ("PUBLISH", "x"),
                        ("SPUBLISH", "x", "y", "z")):
                out.append([shape(r) for r in exchange(q, *cmd)])
            return out
        out = self.same(run)
        self.assertEqual(out[0], [b"alpha", b"beta", b"gamma"])
        self.assertEqual(out[3], [b"sa", b"sb"])
        self.assertEqual(out[5], [shape([b"alpha", 2, b"beta", 1,
                                         b"none", 0])])
        self.assertEqual(out[7], [shape(2)])

    def test_command_info_rows(self):
        names = ("subscribe", "unsubscribe", "psubscribe", "punsubscribe",
                 "publish", "ssubscribe", "sunsubscribe", "spublish",
                 "pubsub")

        def norm(row):
            # name, arity, flags, first, last, step, categories; the
            # subcommands' rows likewise (their order is Redis's dict's).
            head = [row[0], row[1], sorted(row[2]), row[3], row[4], row[5],
                    sorted(row[6])]
            subs = sorted(norm(s)[:7] for s in row[9]) if row[9] else []
            return head + [subs]

        def run(side):
            c = side.client()
            rows = exchange(c, "COMMAND", "INFO", *names)[0]
            return [norm(r) for r in rows]
        rows = self.same(run)
        self.assertEqual(rows[4][:7], [b"publish", 3, sorted(
            [b"pubsub", b"loading", b"stale", b"fast"]), 0, 0, 0,
            [b"@fast", b"@pubsub"]])

    def test_client_list_info_and_cleanup(self):
        def run(side):
            a = side.client(worker=0)
            b = side.client(worker=1)
            q = side.client(worker=1)
            a_id = exchange(a, "CLIENT", "ID")[0]
            exchange(a, "SUBSCRIBE", "c1", "c2")
            exchange(a, "PSUBSCRIBE", "p*")
            exchange(a, "SSUBSCRIBE", "s1")
            exchange(b, "SUBSCRIBE", "c1")
            listing = exchange(q, "CLIENT", "LIST", "ID", a_id)[0]
            fields = dict(kv.split(b"=", 1) for kv in bytes(listing).split()
                          if b"=" in kv)
            mine = (fields[b"flags"], fields[b"sub"], fields[b"psub"],
                    fields[b"ssub"])
            pubs = len(bytes(exchange(q, "CLIENT", "LIST", "TYPE",
                                      "pubsub")[0]).splitlines())

            def counts():
                info = bytes(exchange(q, "INFO", "stats")[0]).decode()
                kv = dict(l.split(":", 1) for l in info.splitlines()
                          if ":" in l)
                return (exchange(q, "PUBSUB", "NUMSUB", "c1", "c2")[0],
                        exchange(q, "PUBSUB", "NUMPAT")[0],
                        exchange(q, "PUBLISH", "c1", "x")[0],
                        kv["pubsub_channels"], kv["pubsub_patterns"],
                        kv["pubsubshard_channels"])
            before = counts()
            a.close()
            after = self.wait_for(counts, ([b"c1", 1, b"c2", 0], 0, 1, "1",
                                           "0", "0"))
            b.close()
            last = self.wait_for(counts, ([b"c1", 0, b"c2", 0], 0, 0, "0",
                                          "0", "0"))
            return mine, pubs, before, after, last
        mine, pubs, before, _, _ = self.same(run)
        self.assertEqual(mine, (b"P", b"2", b"1", b"1"))
        self.assertEqual(pubs, 2)
        self.assertEqual(before, ([b"c1", 2, b"c2", 1], 1, 2, "2", "1", "1"))


class TestSlowSubscriber(PubSubCase):
    def slow_subscriber_closed(self, side, limit, total):
        q = side.client(worker=1)
        exchange(q, "CONFIG", "SET", "client-output-buffer-limit", limit)
        try:
            sub = side.client(worker=0, rcvbuf=4096)
            exchange(sub, "SUBSCRIBE", "firehose")
            pub = side.client(worker=1)
            payload = b"z" * (64 * 1024)
            batch = 32
            sent = 0
            counts = []
            rss_peak = 0
            for _ in range(total // (batch * len(payload))):
                pub.send(RawClient.encode("PUBLISH", "firehose", payload)
                         * batch)
                counts += [pub.read_reply() for _ in range(batch)]
                sent += batch
                if not side.srv.redis:
                    rss_peak = max(rss_peak, rss(side.srv))
                if counts[-1] == 0:
                    break
            closed = sub.expect_closed(timeout=10)
            gone = self.wait_for(
                lambda: exchange(q, "PUBLISH", "firehose", "x")[0], 0)
            return counts[0], counts[-1], closed, gone, rss_peak, sent
        finally:
            exchange(q, "CONFIG", "SET", "client-output-buffer-limit",
                     "normal 0 0 0 pubsub 32mb 8mb 60")

    def test_closed_at_hard_limit(self):
        def run(side):
            first, last, closed, gone, _, _ = self.slow_subscriber_closed(
                side, "pubsub 1mb 0 0", 64 * MiB)
            return first, last, closed, gone
        self.assertEqual(self.same(run), (1, 0, True, 0))

    def test_never_reading_subscriber_bounded_rss(self):
        """Default limits (32mb hard): 256 MiB published to a subscriber
        that never reads; the server's RSS stays far below that."""
        side = self.sides[0]
        if side.srv.redis:
            self.skipTest("RSS of fast-cache")
        base = rss(side.srv)
        first, last, closed, gone, peak, sent = self.slow_subscriber_closed(
            side, "pubsub 32mb 8mb 60", 256 * MiB)
        self.assertEqual((first, last, closed, gone), (1, 0, True, 0))
        self.assertLess(sent * 64 * 1024, 200 * MiB,
                        "closed only after %d messages" % sent)
        self.assertLess(peak - base, 96 * MiB * sanitizer_slack())


def rss(srv):
    with open("/proc/%d/status" % srv.proc.pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def sanitizer_slack():
    try:
        with open(Server().path, "rb") as f:
            return 3 if b"__asan_init" in f.read() else 1
    except OSError:
        return 1


if __name__ == "__main__":
    unittest.main()
