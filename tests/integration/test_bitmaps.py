"""Bitmap commands (SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD
BITFIELD_RO): every command goes to fast-cache (--threads 2) and to a
redis-server, and the replies (errors included) and the resulting values
must be equal.
"""

import random
import shutil
import tempfile
import unittest

from fcserver import fast_cache_only
from pairutil import PairTestCase

MAXBIT = 4294967295  # (512 MB * 8) - 1: the last valid bit offset


class TestSetGetBit(PairTestCase):
    def test_setbit_getbit_edges(self):
        b = self.both
        for off in (0, 1, 7, 8, 9, 63, 64, 100, 1000):
            b("SETBIT", "k", off, 1)
            b("GETBIT", "k", off)
            b("GET", "k")
        self.assertEqual(b("SETBIT", "k", 7, 0), 1)
        self.assertEqual(b("SETBIT", "k", 7, 0), 0)
        b("GET", "k")
        b("STRLEN", "k")
        # far past the end: zero-filled growth
        b("SETBIT", "g", 8 * 5000 + 3, 1)
        b("STRLEN", "g")
        b("GET", "g")
        b("GETBIT", "g", 8 * 5000 + 3)
        b("GETBIT", "g", 8 * 5000 + 4)
        b("GETBIT", "g", 10 ** 9)
        b("GETBIT", "nokey", 0)
        b("GETBIT", "nokey", MAXBIT)

    def test_errors(self):
        b = self.both
        b("SET", "s", "abc")
        b("LPUSH", "l", "x")
        for off in ("-1", "x", "", "1.5", "4294967296", str(MAXBIT + 10),
                    "9223372036854775808", "+1", " 1", "#1"):
            b("SETBIT", "s", off, 1)
            b("GETBIT", "s", off)
        for val in ("2", "-1", "x", "", "01", "1.0"):
            b("SETBIT", "s", 0, val)
        b("SETBIT", "l", 0, 1)
        b("GETBIT", "l", 0)
        b("SETBIT", "l", "x", 1)  # offset error first
        b("SETBIT", "s", 0)
        b("GETBIT", "s")
        b("SETBIT", "s", 1, 1, 1)
        b("GET", "s")

    def test_int_encoded_and_ttl(self):
        b = self.both
        b("SET", "n", "12345")
        b("SETBIT", "n", 3, 1)
        b("GET", "n")
        b("SET", "t", "x", "EX", "1000")
        b("SETBIT", "t", 100, 1)
        self.assertGreater(self.a.call("TTL", "t"), 0)
        b("GET", "t")


class TestBitcount(PairTestCase):
    def test_ranges(self):
        b = self.both
        b("SET", "k", b"\xff\x0f\x00\xaa\x55\x01\x80")
        b("BITCOUNT", "k")
        vals = ["0", "1", "2", "3", "6", "7", "8", "-1", "-2", "-7", "-8",
                "-100", "100", "13", "50", "55", "56", "-56", "-57"]
        for s in vals:
            for e in vals:
                b("BITCOUNT", "k", s, e)
                b("BITCOUNT", "k", s, e, "BIT")
                b("BITCOUNT", "k", s, e, "byte")
        b("BITCOUNT", "nokey")
        b("BITCOUNT", "nokey", 0, 1, "bit")
        b("BITCOUNT", "nokey", "x", "y")
        b("SET", "e", "")
        b("BITCOUNT", "e")
        b("BITCOUNT", "e", 0, -1, "BIT")

    def test_errors(self):
        b = self.both
        b("SET", "k", "foobar")
        b("BITCOUNT", "k", 0)
        b("BITCOUNT", "k", 0, 1, "bits")
        b("BITCOUNT", "k", 0, 1, "BIT", "x")
        b("BITCOUNT", "k", "a", 1)
        b("BITCOUNT", "k", 1, "a")
        b("BITCOUNT", "k", 1, "a", "foo")
        b("BITCOUNT", "k", -1, -2, "foo")
        b("HSET", "h", "f", "v")
        b("BITCOUNT", "h")
        b("BITCOUNT", "h", "x")
        b("BITCOUNT")

    def test_random(self):
        rnd = random.Random(7)
        cmds = []
        for i in range(300):
            n = rnd.randint(0, 40)
            cmds.append(("SET", "r", bytes(rnd.randrange(256) for _ in range(n))))
            for _ in range(4):
                s, e = rnd.randint(-400, 400), rnd.randint(-400, 400)
                cmds.append(("BITCOUNT", "r", s, e, rnd.choice(["BIT", "BYTE"])))
                cmds.append(("BITCOUNT", "r", s // 8, e // 8))
        self.many(cmds)


class TestBitpos(PairTestCase):
    def test_basic(self):
        b = self.both
        for v in (b"", b"\x00", b"\xff", b"\xff\xf0\x00", b"\x00\x00\x01",
                  b"\xff\xff\xff", b"\x00\xff\xf0", b"\x10\x00\x00\x08"):
            b("SET", "k", v)
            for bit in (0, 1):
                b("BITPOS", "k", bit)
                for s in (0, 1, 2, -1, -2, -3, 5, -10):
                    b("BITPOS", "k", bit, s)
                    for e in (0, 1, 2, -1, -2, 7, 8, 15, 23, -9, 100):
                        b("BITPOS", "k", bit, s, e)
                        b("BITPOS", "k", bit, s, e, "BYTE")
                        b("BITPOS", "k", bit, s, e, "BIT")
        b("BITPOS", "nokey", 0)
        b("BITPOS", "nokey", 1)
        b("BITPOS", "nokey", 1, 0, 5, "BIT")

    def test_errors(self):
        b = self.both
        b("SET", "k", "\x0f")
        b("BITPOS", "k", 2)
        b("BITPOS", "k", -1)
        b("BITPOS", "k", "x")
        b("BITPOS", "nokey", 2)
        b("BITPOS", "k", 1, "x")
        b("BITPOS", "k", 1, 0, "x")
        b("BITPOS", "k", 1, 0, 1, "bitt")
        b("BITPOS", "k", 1, 0, 1, "bit", "x")
        b("SADD", "s", "m")
        b("BITPOS", "s", 1)
        b("BITPOS", "k")

    def test_random(self):
        rnd = random.Random(11)
        cmds = []
        for i in range(300):
            n = rnd.randint(0, 12)
            cmds.append(("SET", "r", bytes(rnd.choice([0, 255, rnd.randrange(256)])
                                            for _ in range(n))))
            for _ in range(4):
                s, e = rnd.randint(-120, 120), rnd.randint(-120, 120)
                bit = rnd.randint(0, 1)
                cmds.append(("BITPOS", "r", bit, s, e, rnd.choice(["BIT", "BYTE"])))
                cmds.append(("BITPOS", "r", bit, s // 8))
        self.many(cmds)


class TestBitop(PairTestCase):
    def test_ops(self):
        b = self.both
        # keys chosen to land on both workers
        b("SET", "a", b"\xff\x00\xf0\x0f\xaa")
        b("SET", "b", b"\x0f\x0f")
        b("SET", "c", b"\x01\x02\x03\x04\x05\x06\x07\x08\x09")
        for op in ("AND", "OR", "XOR", "and", "Or"):
            b("BITOP", op, "dst", "a", "b", "c")
            b("GET", "dst")
            b("BITOP", op, "dst", "a", "missing", "c")
            b("GET", "dst")
            b("BITOP", op, "dst", "a")
            b("GET", "dst")
            b("BITOP", op, "a2", "a", "a")
            b("GET", "a2")
        b("BITOP", "NOT", "dst", "c")
        b("GET", "dst")
        b("BITOP", "NOT", "c", "c")  # destination is the source
        b("GET", "c")
        # every source missing: the destination is deleted
        b("SET", "dst", "x")
        b("BITOP", "OR", "dst", "m1", "m2")
        b("EXISTS", "dst")
        b("BITOP", "NOT", "dst", "m1")
        b("EXISTS", "dst")
        # the destination loses its TTL and type
        b("SET", "t", "v", "EX", "100")
        b("BITOP", "AND", "t", "a", "b")
        b("TTL", "t")
        b("RPUSH", "L", "x")
        b("BITOP", "OR", "L", "a")
        b("TYPE", "L")
        b("GET", "L")
        b("SET", "e", "")
        b("BITOP", "AND", "dst", "e", "a")
        b("GET", "dst")

    def test_errors(self):
        b = self.both
        b("SET", "a", "x")
        b("RPUSH", "l", "x")
        b("BITOP", "NAND", "d", "a")
        b("BITOP", "NOT", "d", "a", "a")
        b("BITOP", "NOT", "d")
        b("BITOP", "AND", "d")
        b("BITOP", "AND", "d", "a", "l")
        b("BITOP", "NOT", "d", "l")
        b("EXISTS", "d")

    def test_many_keys(self):
        """Sources on both workers: the command is one atomic step."""
        b = self.both
        cmds = [("SET", "src%d" % i, bytes([i] * (i % 7 + 1))) for i in range(40)]
        self.many(cmds)
        for op in ("AND", "OR", "XOR"):
            b("BITOP", op, "out", *["src%d" % i for i in range(40)])
            b("GET", "out")


class TestBitfield(PairTestCase):
    def test_get_set_incr(self):
        b = self.both
        b("BITFIELD", "k", "SET", "u8", 0, 255, "GET", "u8", 0)
        b("BITFIELD", "k", "SET", "i8", 8, -3, "GET", "i8", 8, "GET", "u8", 8)
        b("BITFIELD", "k", "INCRBY", "u4", 2, 5, "INCRBY", "i5", 100, -7)
        b("GET", "k")
        b("BITFIELD", "k", "GET", "i64", 0, "GET", "u63", 1, "GET", "i1", 3,
          "GET", "u1", 3, "GET", "u16", 1000)
        b("BITFIELD", "k", "SET", "i64", 64, "-9223372036854775808")
        b("BITFIELD", "k", "GET", "i64", 64, "INCRBY", "i64", 64, -1)
        b("BITFIELD", "k", "SET", "u63", 200, "9223372036854775807",
          "GET", "u63", 200)
        b("GET", "k")
        b("BITFIELD", "k", "SET", "u8", "#3", 7, "GET", "u8", "#3",
          "GET", "u8", 24, "INCRBY", "i16", "#10", 1000)
        b("STRLEN", "k")
        b("BITFIELD", "nokey", "GET", "u8", 0, "GET", "i32", 5)
        b("EXISTS", "nokey")
        b("BITFIELD", "k")
        b("BITFIELD_RO", "k", "GET", "u8", 0, "get", "i7", 3)

    def test_overflow(self):
        b = self.both
        for ow in ("WRAP", "SAT", "FAIL", "wrap", "sat", "fail"):
            for t in ("u1", "u2", "u8", "u63", "i1", "i2", "i8", "i63", "i64"):
                key = "o" + ow + t
                for incr in ("1", "-1", "100", "-100", "9223372036854775807",
                             "-9223372036854775808", "3", "-3"):
                    b("BITFIELD", key, "OVERFLOW", ow, "INCRBY", t, 5, incr)
                    b("BITFIELD", key, "OVERFLOW", ow, "SET", t, 70, incr)
                b("GET", key)
        # the mode applies to the subcommands after it only
        b("BITFIELD", "m", "INCRBY", "u2", 0, 5, "OVERFLOW", "SAT",
          "INCRBY", "u2", 0, 5, "OVERFLOW", "FAIL", "INCRBY", "u2", 0, 5,
          "OVERFLOW", "WRAP", "INCRBY", "u2", 0, 5)
        # FAIL leaves the value, but the string still grows
        b("BITFIELD", "f", "OVERFLOW", "FAIL", "SET", "u2", 100, 9)
        b("GET", "f")

    def test_errors(self):
        b = self.both
        b("SET", "k", "x")
        b("LPUSH", "l", "x")
        for t in ("u64", "i65", "u0", "i0", "x8", "U8", "I8", "u", "i", "",
                  "u-1", "u08", "u8x"):
            b("BITFIELD", "k", "GET", t, 0)
        for off in ("-1", "x", "#x", "#-1", "4294967296", "#536870912",
                    "#", "1.5"):
            b("BITFIELD", "k", "GET", "u8", off)
            b("BITFIELD", "k", "SET", "u8", off, 1)
        b("BITFIELD", "k", "SET", "u8", "#536870911", 1, "GET", "u8", 0)
        b("BITFIELD", "k", "SET", "u8", 0, "x")
        b("BITFIELD", "k", "INCRBY", "u8", 0, "1.5")
        b("BITFIELD", "k", "OVERFLOW", "BAD", "GET", "u8", 0)
        b("BITFIELD", "k", "OVERFLOW")
        b("BITFIELD", "k", "GET", "u8")
        b("BITFIELD", "k", "SET", "u8", 0)
        b("BITFIELD", "k", "FOO", "u8", 0)
        b("BITFIELD", "l", "GET", "u8", 0)
        b("BITFIELD", "l", "SET", "u8", 0, 1)
        b("BITFIELD", "l", "SET", "u99", 0, 1)
        b("BITFIELD_RO", "k", "SET", "u8", 0, 1)
        b("BITFIELD_RO", "k", "INCRBY", "u8", 0, 1)
        b("BITFIELD_RO", "k", "GET", "u8", 0, "SET", "u8", "x", 1)
        b("BITFIELD_RO", "l", "GET", "u8", 0)
        b("BITFIELD_RO", "k", "OVERFLOW", "SAT", "GET", "u8", 0)
        b("GET", "k")

    def test_random(self):
        rnd = random.Random(5)
        cmds = []
        for _ in range(600):
            args = ["BITFIELD", rnd.choice(["r1", "r2"])]
            for _ in range(rnd.randint(1, 4)):
                sub = rnd.choice(["GET", "SET", "INCRBY", "OVERFLOW"])
                if sub == "OVERFLOW":
                    args += [sub, rnd.choice(["WRAP", "SAT", "FAIL"])]
                    continue
                sign = rnd.choice("iu")
                bits = rnd.randint(1, 64 if sign == "i" else 63)
                off = rnd.randint(0, 200)
                args += [sub, "%s%d" % (sign, bits),
                         ("#%d" % (off // 16)) if rnd.random() < 0.2 else off]
                if sub != "GET":
                    args.append(rnd.choice([rnd.randint(-300, 300),
                                            rnd.randint(-2 ** 63, 2 ** 63 - 1)]))
            cmds.append(tuple(args))
        cmds += [("GET", "r1"), ("GET", "r2")]
        self.many(cmds)


@fast_cache_only
class TestDurable(unittest.TestCase):
    """The edits reach the WAL as their resulting values: after a SIGKILL
    and a restart (WAL replay) every key reads as before."""

    def test_replay_after_kill(self):
        from persistutil import PServer
        d = tempfile.mkdtemp(prefix="fc-bits-")
        self.addCleanup(shutil.rmtree, d, True)
        srv = PServer(d).start()
        try:
            with srv.raw() as c:
                c.call("SET", "t", "abc", "EX", "1000")
                c.call("SETBIT", "t", 100, 1)
                c.call("SETBIT", "g", 12345, 1)
                c.call("BITFIELD", "f", "SET", "i16", "#3", -5,
                       "INCRBY", "u8", 0, 300, "OVERFLOW", "FAIL",
                       "INCRBY", "u2", 90, 9)
                c.call("BITOP", "XOR", "x", "t", "g")
                c.call("PFADD", "h", *["e%d" % i for i in range(2000)])
                c.call("PFCOUNT", "h")  # writes the cache back
                c.call("PFADD", "h2", "a", "b")
                c.call("PFMERGE", "m", "h", "h2")
                keys = ["t", "g", "f", "x", "h", "h2", "m"]
                before = [c.call("GET", k) for k in keys]
            srv.kill9()
            srv.start()
            with srv.raw() as c:
                self.assertEqual([c.call("GET", k) for k in keys], before)
                self.assertGreater(c.call("TTL", "t"), 0)
        finally:
            srv.kill()


if __name__ == "__main__":
    unittest.main()
