"""Geo commands against redis-server 7.0.15: the same command sequences to
fast-cache and to a real redis-server, every reply compared as raw bytes
(so a coordinate's 17th digit, a distance's 4 decimals and the RESP2 /
RESP3 framing all count), in both protocols.

Covers GEOADD (NX/XX/CH, errors), GEOPOS, GEODIST (every unit), GEOHASH,
GEOSEARCH (FROMMEMBER/FROMLONLAT x BYRADIUS/BYBOX x ASC/DESC x COUNT
[ANY] x WITHCOORD/WITHDIST/WITHHASH, every combination), the GEORADIUS
forms, many seeded random points and searches, the coordinate limits
(poles limit, +-180, searches across the antimeridian, huge and zero
radii), the STORE forms with --threads 4 (destinations on other workers,
stored zsets compared), errors and WRONGTYPE.
"""

import itertools
import random
import unittest

from fcserver import RawClient, fast_cache_only, is_redis
from pairutil import PairTestCase
from persistutil import PersistCase, dump, pipeline

UNITS = ["m", "km", "ft", "mi", "KM", "Mi"]
WRONGTYPE = b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"


class TapClient(RawClient):
    """RawClient that also keeps the exact bytes of each reply it reads."""

    def __init__(self, port):
        super().__init__(port)
        self.tap = bytearray()

    def _line(self):
        line = super()._line()
        self.tap += line + b"\r\n"
        return line

    def _exact(self, n):
        data = super()._exact(n)
        self.tap += data + b"\r\n"
        return data

    def raw_reply(self):
        self.tap = bytearray()
        self.read_reply()
        return bytes(self.tap)


def lon(rnd, lo=-180.0, hi=180.0):
    return "%.7f" % rnd.uniform(lo, hi)


def lat(rnd, lo=-85.05112878, hi=85.05112878):
    return "%.7f" % rnd.uniform(lo, hi)


class GeoCase(PairTestCase):
    def setUp(self):
        super().setUp()
        # byte-level clients in place of the harness's decoding ones
        self.a = TapClient(self.fc.port)
        self.b = TapClient(self.ref.port)
        self.addCleanup(self.a.close)
        self.addCleanup(self.b.close)

    def hello(self, proto):
        for side in (self.a, self.b):
            side.call("HELLO", str(proto))

    def cmp(self, cmds, chunk=200):
        """Pipelines cmds to both servers, compares every reply's bytes;
        returns fast-cache's raw replies."""
        out = []
        for i in range(0, len(cmds), chunk):
            part = cmds[i:i + chunk]
            for side in (self.a, self.b):
                side.send(b"".join(side.encode(*c) for c in part))
            ra = [self.a.raw_reply() for _ in part]
            rb = [self.b.raw_reply() for _ in part]
            for c, x, y in zip(part, ra, rb):
                self.assertEqual(x, y, "fast-cache and redis-server differ "
                                 "on %r" % (c,))
            out += ra
        return out

    def one(self, *cmd):
        return self.cmp([cmd])[0]

    def add_points(self, key, pts, rnd=None):
        """GEOADD in batches of up to 7 points (with CH now and then)."""
        cmds = []
        for i in range(0, len(pts), 7):
            args = ["GEOADD", key]
            if rnd and rnd.random() < 0.3:
                args.append("CH")
            for m, x, y in pts[i:i + 7]:
                args += [x, y, m]
            cmds.append(args)
        self.cmp(cmds)


def random_points(rnd, n_cluster=300, n_global=150):
    """Points around Sicily, around the antimeridian, near the latitude
    limits, and anywhere: member names p0, p1, ..."""
    pts = []
    areas = [((11.0, 16.0), (36.0, 40.0), n_cluster),
             ((179.0, 180.0), (-5.0, 5.0), n_cluster // 4),
             ((-180.0, -179.0), (-5.0, 5.0), n_cluster // 4),
             ((-20.0, 20.0), (83.0, 85.05112878), n_cluster // 6),
             ((-20.0, 20.0), (-85.05112878, -83.0), n_cluster // 6),
             ((-180.0, 180.0), (-85.05112878, 85.05112878), n_global)]
    for (x0, x1), (y0, y1), n in areas:
        for _ in range(n):
            pts.append(("p%d" % len(pts), lon(rnd, x0, x1), lat(rnd, y0, y1)))
    return pts


class TestGeoAddRead(GeoCase):
    def check_reads(self, rnd, key, members):
        cmds = []
        for i in range(0, len(members), 9):
            ms = members[i:i + 9] + ["missing"]
            cmds.append(["GEOPOS", key] + ms)
            cmds.append(["GEOHASH", key] + ms)
        for _ in range(300):
            x, y = rnd.choice(members), rnd.choice(members)
            cmds.append(["GEODIST", key, x, y] +
                        ([rnd.choice(UNITS)] if rnd.random() < 0.8 else []))
        cmds += [["GEODIST", key, members[0], "missing"],
                 ["GEODIST", "nokey", "a", "b"], ["GEOPOS", "nokey", "a"],
                 ["GEOHASH", "nokey", "a", "b"],
                 ["ZRANGE", key, 0, -1, "WITHSCORES"]]
        self.cmp(cmds)

    def test_random_points(self):
        for proto in (2, 3):
            rnd = random.Random(1000 + proto)
            self.hello(proto)
            pts = random_points(rnd)
            self.add_points("g%d" % proto, pts, rnd)
            self.check_reads(rnd, "g%d" % proto, [m for m, _, _ in pts])

    def test_limits(self):
        pts = [("ne", "180", "85.05112878"), ("sw", "-180", "-85.05112878"),
               ("nw", "-180", "85.05112878"), ("se", "180", "-85.05112878"),
               ("zero", "0", "0"), ("tiny", "1e-300", "-1e-300"),
               ("east", "179.9999999", "0.5"), ("west", "-179.9999999", "0.5"),
               ("negz", "-0", "-0.0"), ("int", "13", "38")]
        for proto in (2, 3):
            self.hello(proto)
            self.add_points("lim", pts)
            self.check_reads(random.Random(7), "lim", [m for m, _, _ in pts])

    def test_flags_and_replies(self):
        cmds = [["GEOADD", "k", "13.361389", "38.115556", "a"],
                ["GEOADD", "k", "NX", "1", "1", "a", "2", "2", "b"],
                ["GEOADD", "k", "XX", "3", "3", "a", "4", "4", "c"],
                ["GEOADD", "k", "XX", "CH", "5", "5", "a", "6", "6", "c"],
                ["GEOADD", "k", "CH", "5", "5", "a", "7", "7", "b"],
                ["GEOADD", "k", "CH", "NX", "8", "8", "a", "9", "9", "d"],
                ["GEOADD", "k", "nx", "ch", "ch", "10", "10", "e"],
                ["GEOADD", "k", "10", "10", "e", "10", "10", "e"],
                ["GEOADD", "xx", "XX", "1", "1", "a"],
                ["EXISTS", "xx"],
                ["ZRANGE", "k", 0, -1, "WITHSCORES"],
                ["GEOPOS", "k", "a", "b", "c", "d", "e", "zz"]]
        for proto in (2, 3):
            self.hello(proto)
            self.cmp(cmds)

    def test_many_in_one_call(self):
        """One GEOADD with many points (past the on-stack argument room),
        and one that fails on its last point (nothing added)."""
        rnd = random.Random(11)
        pts = random_points(rnd, 60, 20)
        args = ["GEOADD", "big", "CH"]
        for m, x, y in pts:
            args += [x, y, m]
        bad = ["GEOADD", "big2"] + args[3:] + ["1", "91", "last"]
        for proto in (2, 3):
            self.hello(proto)
            self.cmp([["DEL", "big", "big2"], args, args, bad,
                      ["EXISTS", "big2"],
                      ["ZRANGE", "big", 0, -1, "WITHSCORES"],
                      ["GEOPOS", "big"] + [m for m, _, _ in pts]])

    def test_plain_zset_scores(self):
        """Scores GEOADD never writes (negative, past 52 bits, past 2^64)
        decode as Redis's (uint64_t) cast of them does."""
        cmds = [["ZADD", "z", "-1", "a", "1e20", "b", "5", "c",
                 "4503599627370496", "d", "9007199254740992", "e", "1.5", "f",
                 "-1e30", "g", "18446744073709551616", "h", "9.3e18", "i",
                 "inf", "j", "-inf", "k", "0", "l"]]
        ms = list("abcdefghijkl")
        cmds += [["GEOPOS", "z"] + ms, ["GEOHASH", "z"] + ms]
        cmds += [["GEODIST", "z", x, y, "km"] for x in ms for y in ms[:4]]
        cmds += [["GEOSEARCH", "z", "FROMMEMBER", x, "BYRADIUS", "20000",
                  "km", "WITHHASH", "WITHCOORD"] for x in ms]
        for proto in (2, 3):
            self.hello(proto)
            self.cmp(cmds)

    def test_errors(self):
        cmds = [["GEOADD", "k", "1", "2"],
                ["GEOADD", "k", "1", "2", "m", "3"],
                ["GEOADD", "k", "NX", "XX", "1", "2", "m"],
                ["GEOADD", "k", "NX", "XX", "1", "2"],
                ["GEOADD", "k", "CH", "NX", "XX"],
                ["GEOADD", "k", "GT", "1", "2", "m"],
                ["GEOADD", "k", "INCR", "1", "2", "m"],
                ["GEOADD", "k", "181", "2", "m"],
                ["GEOADD", "k", "-180.0001", "2", "m"],
                ["GEOADD", "k", "1", "85.06", "m"],
                ["GEOADD", "k", "1", "-86", "m"],
                ["GEOADD", "k", "1", "2", "ok", "1000", "2", "bad"],
                ["EXISTS", "k"],
                ["GEOADD", "k", "x", "2", "m"],
                ["GEOADD", "k", "1", "", "m"],
                ["GEOADD", "k", "nan", "2", "m"],
                ["GEOADD", "k", "inf", "2", "m"],
                ["GEOADD", "k", " 1", "2", "m"],
                ["GEOADD", "k", "1e400", "2", "m"],
                ["GEOADD", "k", "0x10", "2", "m"],
                ["GEOADD", "k"],
                ["GEOADD", "k", "1", "2"],
                ["GEODIST", "k", "a"],
                ["GEODIST", "k", "a", "b", "km", "x"],
                ["GEODIST", "k", "a", "b", "yards"],
                ["GEODIST", "nokey", "a", "b", "yards"],
                ["GEOPOS", "k"], ["GEOHASH", "k"],
                ["GEOPOS"], ["GEOHASH"]]
        for proto in (2, 3):
            self.hello(proto)
            self.cmp(cmds)

    def test_wrongtype(self):
        self.cmp([["SET", "s", "x"], ["LPUSH", "l", "x"]])
        cmds = [["GEOADD", "s", "1", "2", "m"], ["GEOPOS", "s", "m"],
                ["GEOHASH", "s", "m"], ["GEODIST", "s", "a", "b"],
                ["GEODIST", "s", "a", "b", "km"],
                ["GEODIST", "s", "a", "b", "bad"],
                ["GEOSEARCH", "s", "FROMLONLAT", "1", "2", "BYRADIUS", "1",
                 "km"],
                ["GEOSEARCH", "s", "bad", "args", "here", "x", "y"],
                ["GEOSEARCHSTORE", "d", "s", "FROMLONLAT", "1", "2",
                 "BYRADIUS", "1", "km"],
                ["GEORADIUS", "l", "1", "2", "3", "km"],
                ["GEORADIUS", "l", "x", "2", "3", "km"],
                ["GEORADIUS_RO", "l", "1", "2", "3", "km"],
                ["GEORADIUSBYMEMBER", "s", "m", "3", "km"],
                ["GEORADIUSBYMEMBER_RO", "s", "m", "3", "km"]]
        raw = self.cmp(cmds)
        # the reference agrees, and it is the error, not an empty answer
        self.assertEqual(raw[0], WRONGTYPE)
        self.assertEqual(raw[-1], WRONGTYPE)
        # a geo key is a zset to the other commands
        self.cmp([["GEOADD", "g", "1", "2", "m"], ["TYPE", "g"],
                  ["LPUSH", "g", "x"], ["ZCARD", "g"], ["ZSCORE", "g", "m"]])


def combos():
    """Every GEOSEARCH option combination (but FROM / BY)."""
    for sort, count, withs in itertools.product(
            [[], ["ASC"], ["DESC"]],
            [[], ["COUNT", "1"], ["COUNT", "7"], ["COUNT", "7", "ANY"],
             ["COUNT", "1000", "ANY"], ["COUNT", "100000"]],
            itertools.product([[], ["WITHCOORD"]], [[], ["WITHDIST"]],
                              [[], ["WITHHASH"]])):
        yield sort + count + sum(withs, [])


class TestGeoSearch(GeoCase):
    def setUp(self):
        super().setUp()
        rnd = random.Random(42)
        self.pts = random_points(rnd)
        self.add_points("g", self.pts, rnd)

    def test_every_option_combination(self):
        centres = [("FROMMEMBER", "p3"), ("FROMLONLAT", "13.5", "37.8"),
                   ("FROMMEMBER", "p330")]  # one near the antimeridian
        shapes = [("BYRADIUS", "150", "km"), ("BYBOX", "300", "200", "km"),
                  ("BYRADIUS", "50", "mi"), ("BYBOX", "120000", "250000", "m")]
        for proto in (2, 3):
            self.hello(proto)
            cmds = []
            for frm, shp, opts in itertools.product(centres, shapes,
                                                    list(combos())):
                # options before, between and after FROM / BY
                cmds.append(["GEOSEARCH", "g"] + list(frm) + list(shp) + opts)
                cmds.append(["GEOSEARCH", "g"] + opts + list(shp) + list(frm))
            self.cmp(cmds)

    def test_radius_forms_every_option(self):
        for proto in (2, 3):
            self.hello(proto)
            cmds = []
            for opts in combos():
                cmds.append(["GEORADIUS", "g", "13.5", "37.8", "150", "km"] +
                            opts)
                cmds.append(["GEORADIUS_RO", "g", "179.8", "0", "200", "km"] +
                            opts)
                cmds.append(["GEORADIUSBYMEMBER", "g", "p7", "100", "mi"] +
                            opts)
                cmds.append(["GEORADIUSBYMEMBER_RO", "g", "p7", "90000",
                             "m"] + opts)
            self.cmp(cmds)

    def random_search(self, rnd):
        members = [m for m, _, _ in self.pts]
        if rnd.random() < 0.5:
            frm = ["FROMMEMBER", rnd.choice(members)]
        else:
            frm = ["FROMLONLAT", lon(rnd), lat(rnd)]
        size = rnd.choice(["0", "0.5", "1", "10", "50", "200", "1000",
                           "5000", "20000", "%.3f" % rnd.uniform(0, 3000)])
        unit = rnd.choice(UNITS)
        if rnd.random() < 0.5:
            by = ["BYRADIUS", size, unit]
        else:
            by = ["BYBOX", size, rnd.choice(["0", "1", "100", "3000",
                                             "40000", size]), unit]
        opts = rnd.choice(list(combos()))
        form = rnd.random()
        if form < 0.6:
            return ["GEOSEARCH", "g"] + frm + by + opts
        if by[0] == "BYBOX":
            by = ["BYRADIUS", size, unit]
        if frm[0] == "FROMMEMBER":
            return [rnd.choice(["GEORADIUSBYMEMBER", "GEORADIUSBYMEMBER_RO"]),
                    "g", frm[1]] + by[1:] + opts
        return [rnd.choice(["GEORADIUS", "GEORADIUS_RO"]), "g"] + frm[1:] + \
            by[1:] + opts

    def test_random_searches(self):
        for proto in (2, 3):
            rnd = random.Random(77 + proto)
            self.hello(proto)
            self.cmp([self.random_search(rnd) for _ in range(1500)])

    def test_ties(self):
        """Members sharing positions: equal distances. A full sort keeps
        the walk's order (stable, as glibc's qsort); COUNT below the
        number found is Redis's partial quicksort, whose swaps decide the
        order of ties and which of them make the cut."""
        for n, spots in ((80, 12), (300, 7), (45, 45), (6, 2), (150, 150)):
            rnd = random.Random(n)
            xy = [(lon(rnd, 12, 14), lat(rnd, 37, 39)) for _ in range(spots)]
            pts = [("t%d" % i,) + rnd.choice(xy) for i in range(n)]
            self.cmp([["DEL", "t"]])
            self.add_points("t", pts)
            cmds = []
            for count in (1, 2, 3, 6, 7, 8, 13, 40, 41, 42, n - 1, n, n + 1):
                for opts in ([], ["ASC"], ["DESC"], ["ANY", "ASC"]):
                    if count < 1:
                        continue
                    for frm in (["FROMLONLAT", "13", "38"],
                                ["FROMMEMBER", "t0"]):
                        cmds.append(["GEOSEARCH", "t"] + frm +
                                    ["BYRADIUS", "400", "km", "COUNT",
                                     str(count)] + opts)
                    cmds.append(["GEOSEARCHSTORE", "dst", "t", "FROMMEMBER",
                                 "t1", "BYBOX", "500", "500", "km", "COUNT",
                                 str(count), "STOREDIST"] + opts)
                    cmds.append(["ZRANGE", "dst", 0, -1, "WITHSCORES"])
            cmds += [["GEOSEARCH", "t", "FROMLONLAT", "13", "38", "BYRADIUS",
                      "400", "km"] + o for o in ([], ["ASC"], ["DESC"])]
            self.cmp(cmds)

    def test_edges(self):
        """Searches at the coordinate limits and across the antimeridian:
        the results are not empty (the test has something to compare)."""
        self.add_points("e", [
            ("a", "179.95", "0"), ("b", "-179.95", "0"), ("c", "180", "0.1"),
            ("d", "-180", "-0.1"), ("n", "0", "85.05112878"),
            ("n2", "90", "85"), ("n3", "-90", "84.99"),
            ("s", "0", "-85.05112878"), ("s2", "170", "-85"),
            ("z", "0", "0")])
        cmds = []
        for frm in (["FROMLONLAT", "180", "0"], ["FROMLONLAT", "-180", "0"],
                    ["FROMLONLAT", "179.99", "0.05"], ["FROMMEMBER", "a"],
                    ["FROMMEMBER", "b"], ["FROMMEMBER", "n"],
                    ["FROMLONLAT", "0", "-85.05112878"], ["FROMMEMBER", "z"],
                    ["FROMLONLAT", "45", "85"]):
            for by in (["BYRADIUS", "20", "km"], ["BYRADIUS", "0", "m"],
                       ["BYRADIUS", "3000", "km"],
                       ["BYRADIUS", "20037", "km"],
                       ["BYRADIUS", "100000", "km"],
                       ["BYBOX", "40", "40", "km"],
                       ["BYBOX", "40000", "100", "km"],
                       ["BYBOX", "1", "40000", "km"]):
                cmds.append(["GEOSEARCH", "e"] + frm + by + ["ASC",
                                                           "WITHCOORD",
                                                           "WITHDIST",
                                                           "WITHHASH"])
                cmds.append(["GEOSEARCH", "e"] + frm + by)
        for proto in (2, 3):
            self.hello(proto)
            raw = self.cmp(cmds)
            across = raw[cmds.index(["GEOSEARCH", "e", "FROMMEMBER", "a",
                                     "BYRADIUS", "20", "km"])]
            self.assertIn(b"\r\nb\r\n", across)  # -179.95, 11 km away

    def test_errors(self):
        s = ["GEOSEARCH", "g"]
        cmds = [
            s + ["FROMLONLAT", "1", "2"],
            s + ["BYRADIUS", "1", "km"],
            s + ["FROMLONLAT", "1", "2", "BYRADIUS", "1"],
            s + ["FROMLONLAT", "1", "2", "BYRADIUS", "1", "km", "COUNT"],
            s + ["FROMMEMBER", "p1", "FROMLONLAT", "1", "2", "BYRADIUS", "1",
                 "km"],
            s + ["FROMLONLAT", "1", "2", "FROMMEMBER", "p1", "BYRADIUS", "1",
                 "km"],
            s + ["FROMLONLAT", "1", "2", "BYRADIUS", "1", "km", "BYBOX", "1",
                 "1", "km"],
            s + ["FROMMEMBER", "p1", "FROMMEMBER", "p2", "BYRADIUS", "1",
                 "km"],
            s + ["FROMMEMBER", "nope", "BYRADIUS", "1", "km"],
            s + ["FROMLONLAT", "200", "2", "BYRADIUS", "1", "km"],
            s + ["FROMLONLAT", "x", "2", "BYRADIUS", "1", "km"],
            s + ["FROMLONLAT", "1", "2", "BYRADIUS", "x", "km"],
            s + ["FROMLONLAT", "1", "2", "BYRADIUS", "-1", "km"],
            s + ["FROMLONLAT", "1", "2", "BYRADIUS", "1", "yd"],
            s + ["FROMLONLAT", "1", "2", "BYBOX", "x", "1", "km"],
            s + ["FROMLONLAT", "1", "2", "BYBOX", "1", "x", "km"],
            s + ["FROMLONLAT", "1", "2", "BYBOX", "-1", "1", "km"],
            s + ["FROMLONLAT", "1", "2", "BYBOX", "1", "1", "parsec"],
            s + ["FROMLONLAT", "1", "2", "BYRADIUS", "1", "km", "COUNT", "0"],
            s + ["FROMLONLAT", "1", "2", "BYRADIUS", "1", "km", "COUNT",
                 "-3"],
            s + ["FROMLONLAT", "1", "2", "BYRADIUS", "1", "km", "COUNT",
                 "x"],
            s + ["FROMLONLAT", "1", "2", "BYRADIUS", "1", "km", "ANY"],
            s + ["FROMLONLAT", "1", "2", "BYRADIUS", "1", "km", "STORE",
                 "d"],
            s + ["FROMLONLAT", "1", "2", "BYRADIUS", "1", "km", "STOREDIST"],
            s + ["FROMLONLAT", "1", "2", "BYRADIUS", "1", "km", "bogus"],
            ["GEOSEARCH", "nokey", "FROMMEMBER", "x", "BYRADIUS", "1", "km"],
            ["GEOSEARCH", "nokey", "FROMMEMBER", "x", "BYRADIUS", "1", "km",
             "ANY"],
            ["GEOSEARCH", "nokey", "FROMMEMBER", "x", "COUNT", "1", "x"],
            ["GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "1", "2", "BYRADIUS",
             "1", "km", "WITHDIST"],
            ["GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "1", "2", "BYRADIUS",
             "1", "km", "STORE", "x"],
            ["GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "1", "2"],
            ["GEORADIUS", "g", "1", "2", "3", "km", "STORE", "d",
             "WITHCOORD"],
            ["GEORADIUS", "g", "1", "2", "3", "km", "STORE"],
            ["GEORADIUS", "g", "1", "2", "3", "km", "FROMMEMBER", "p1"],
            ["GEORADIUS", "g", "1", "2", "3", "km", "BYBOX", "1", "1", "km"],
            ["GEORADIUS", "g", "1", "2", "x", "km"],
            ["GEORADIUS", "g", "1", "2", "3", "lightyear"],
            ["GEORADIUS", "g", "1", "99", "3", "km"],
            ["GEORADIUS_RO", "g", "1", "2", "3", "km", "STORE", "d"],
            ["GEORADIUS_RO", "g", "1", "2", "3", "km", "STOREDIST", "d"],
            ["GEORADIUSBYMEMBER", "g", "nope", "3", "km"],
            ["GEORADIUSBYMEMBER", "g", "p1", "-3", "km"],
            ["GEORADIUSBYMEMBER", "nokey", "p1", "-3", "km"],
            ["GEORADIUSBYMEMBER", "nokey", "p1", "3", "km", "bogus"],
            ["GEORADIUSBYMEMBER", "nokey", "p1", "3", "km", "STORE", "d"],
            ["GEORADIUSBYMEMBER_RO", "g", "p1", "3", "km", "STORE", "d"],
            ["GEORADIUS", "nokey", "1", "2", "3", "km"],
            ["GEOSEARCH", "g"], ["GEOSEARCHSTORE", "d", "g"],
            ["GEORADIUS", "g", "1", "2", "3"],
            ["GEORADIUSBYMEMBER", "g", "p1", "3"],
        ]
        for proto in (2, 3):
            self.hello(proto)
            self.cmp(cmds)


class TestGeoStore(GeoCase):
    """STORE forms with four workers: the destinations below land on
    several workers (the source is one key), so most commands run across
    workers; each stored zset is compared with redis-server's."""

    fc_threads = 4
    DESTS = ["d%d" % i for i in range(12)] + ["g"]

    def setUp(self):
        super().setUp()
        rnd = random.Random(5)
        self.pts = random_points(rnd, 200, 60)
        self.add_points("g", self.pts, rnd)

    def stored(self, dst):
        return [["EXISTS", dst], ["TYPE", dst],
                ["ZRANGE", dst, 0, -1, "WITHSCORES"]]

    def exclusive_sections(self):
        """fast-cache's count of commands run with the other workers
        parked (None against a reference redis-server)."""
        if is_redis():
            return None
        with self.fc.client() as r:
            return r.info("stats")["exclusive_sections"]

    def test_store_forms(self):
        rnd = random.Random(9)
        members = [m for m, _, _ in self.pts]
        before = self.exclusive_sections()
        for proto in (2, 3):
            self.hello(proto)
            cmds = []
            for i in range(400):
                dst = rnd.choice(self.DESTS[:-1])
                cnt = rnd.choice([[], ["COUNT", "3"], ["COUNT", "50"],
                                  ["COUNT", "5", "ANY"]])
                srt = rnd.choice([[], ["ASC"], ["DESC"]])
                r = rnd.choice(["1", "30", "200", "5000"])
                u = rnd.choice(UNITS)
                kind = i % 5
                if kind == 0:
                    c = ["GEOSEARCHSTORE", dst, "g", "FROMMEMBER",
                         rnd.choice(members), "BYRADIUS", r, u]
                elif kind == 1:
                    c = ["GEOSEARCHSTORE", dst, "g", "FROMLONLAT", lon(rnd),
                         lat(rnd), "BYBOX", r, r, u, "STOREDIST"]
                elif kind == 2:
                    c = ["GEORADIUS", "g", lon(rnd, 11, 16), lat(rnd, 36, 40),
                         r, u, rnd.choice(["STORE", "STOREDIST"]), dst]
                elif kind == 3:
                    c = ["GEORADIUSBYMEMBER", "g", rnd.choice(members), r, u,
                         "STOREDIST", "x", "STORE", dst]
                else:
                    c = ["GEORADIUS", "g", "180", "0", r, u, "STORE", "x",
                         "STOREDIST", dst]
                cmds.append(c + cnt + srt)
                cmds += self.stored(dst)
            self.cmp(cmds)
        if before is not None:
            # destinations on other workers than the source's: those
            # commands ran as exclusive sections (atomic across workers;
            # a pipelined run of them shares one section)
            self.assertGreater(self.exclusive_sections() - before, 0)

    def test_empty_missing_wrongtype_self(self):
        cmds = [["SET", "d1", "a string"], ["LPUSH", "d2", "x"],
                # a result replaces whatever the destination held
                ["GEOSEARCHSTORE", "d1", "g", "FROMMEMBER", "p0", "BYRADIUS",
                 "100", "km"],
                ["GEORADIUS", "g", "13", "38", "100", "km", "STORE", "d2"]]
        cmds += self.stored("d1") + self.stored("d2")
        cmds += [["SET", "d3", "x"], ["SET", "d4", "x"], ["SET", "d5", "x"],
                 # an empty result, or a missing source, deletes it
                 ["GEOSEARCHSTORE", "d3", "g", "FROMLONLAT", "-100", "0",
                  "BYRADIUS", "1", "m"],
                 ["GEORADIUS", "nokey", "1", "2", "3", "km", "STORE", "d4"],
                 ["GEOSEARCHSTORE", "d5", "nokey", "FROMMEMBER", "x",
                  "BYRADIUS", "1", "km"],
                 ["GEORADIUSBYMEMBER", "nokey", "x", "1", "km", "STORE",
                  "d6"]]
        cmds += self.stored("d3") + self.stored("d4") + self.stored("d5")
        # source and destination the same key
        cmds += [["GEOSEARCHSTORE", "g", "g", "FROMMEMBER", "p0", "BYRADIUS",
                  "300", "km", "COUNT", "20"]] + self.stored("g")
        cmds += [["GEOSEARCH", "g", "FROMMEMBER", "p0", "BYRADIUS", "300",
                  "km", "WITHDIST"]]
        # the source of a STORE of the wrong type
        cmds += [["SET", "s", "x"],
                 ["GEOSEARCHSTORE", "d7", "s", "FROMMEMBER", "p0",
                  "BYRADIUS", "1", "km"],
                 ["GEORADIUS", "s", "1", "2", "3", "km", "STORE", "d7"]]
        cmds += self.stored("d7")
        for proto in (2, 3):
            self.hello(proto)
            self.cmp([["FLUSHALL"]])
            self.add_points("g", self.pts)
            self.cmp(cmds)

    def test_getkeys(self):
        """The older forms' destination is a key (COMMAND GETKEYS)."""
        self.cmp([
            ["COMMAND", "GETKEYS", "GEORADIUS", "g", "1", "2", "3", "km",
             "STORE", "d"],
            ["COMMAND", "GETKEYS", "GEORADIUS", "g", "1", "2", "3", "km"],
            ["COMMAND", "GETKEYS", "GEORADIUSBYMEMBER", "g", "m", "3", "km",
             "STOREDIST", "d", "COUNT", "3"],
            ["COMMAND", "GETKEYS", "GEOSEARCHSTORE", "d", "g", "FROMMEMBER",
             "m", "BYRADIUS", "1", "km"]])


GEO_COMMANDS = ["geoadd", "geodist", "geohash", "geopos", "geosearch",
                "geosearchstore", "georadius", "georadius_ro",
                "georadiusbymember", "georadiusbymember_ro"]


class TestGeoCommandInfo(GeoCase):
    def test_command_info(self):
        """Arity, key positions, movablekeys, read/write and the @geo
        category as redis-server reports them (flags Redis has and we do
        not model, such as denyoom, are left out)."""
        ra = self.a.call("COMMAND", "INFO", *GEO_COMMANDS)
        rb = self.b.call("COMMAND", "INFO", *GEO_COMMANDS)
        keep_flags = {b"write", b"readonly", b"movablekeys"}
        keep_cats = {b"@geo", b"@read", b"@write", b"@slow", b"@fast"}
        for x, y in zip(ra, rb):
            self.assertEqual(x[:2] + x[3:6], y[:2] + y[3:6])
            self.assertEqual(set(x[2]) & keep_flags, set(y[2]) & keep_flags)
            self.assertEqual(set(x[6]) & keep_cats, set(y[6]) & keep_cats)
            self.assertIn(b"@geo", x[6])


@fast_cache_only
class TestGeoDurability(PersistCase, unittest.TestCase):
    def test_kill9_gives_back_geo_writes(self):
        """GEOADD is logged as ZADD (op records) and the STORE forms as
        whole values: after SIGKILL (fsync=always) a restart holds exactly
        the state before it, positions included."""
        rnd = random.Random(3)
        pts = random_points(rnd, 120, 40)
        ops = []
        for i in range(0, len(pts), 5):
            # batch i // 5 to key g0, g1, g2 in turn: pts[10] is in g2
            args = ["GEOADD", "g%d" % (i // 5 % 3)] + (["CH"] if i % 2 else [])
            for m, x, y in pts[i:i + 5]:
                args += [x, y, m]
            ops.append(args)
        ops += [["GEOADD", "g0", "XX", "CH", "1", "2", "p0", "3", "4", "no"],
                ["GEOSEARCHSTORE", "st0", "g0", "FROMLONLAT", "13", "38",
                 "BYRADIUS", "300", "km", "STOREDIST"],
                ["GEORADIUS", "g1", "13", "38", "300", "km", "STORE", "st1"],
                ["GEORADIUSBYMEMBER", "g2", pts[10][0], "5000", "km",
                 "COUNT", "4", "STORE", "st2"]]
        s = self.srv(threads=2, fsync="always")
        with s.raw(timeout=60) as c:
            pipeline(c, ops, batch=50)
            want = dump(c)
            pos = c.call("GEOPOS", "g0", *[m for m, _, _ in pts[:30]])
        self.assertEqual(set(want), {b"g0", b"g1", b"g2", b"st0", b"st1",
                                     b"st2"})
        s.kill9()
        s = self.srv(threads=2, fsync="always")
        with s.raw(timeout=60) as c:
            self.assertEqual(dump(c), want)
            self.assertEqual(c.call("GEOPOS", "g0",
                                    *[m for m, _, _ in pts[:30]]), pos)


if __name__ == "__main__":
    unittest.main()
