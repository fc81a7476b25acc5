"""The wire: pipelining, RESP3, inline commands, split frames, binary
safety, large values, malformed input."""

import socket
import threading
import time
import unittest

from fcserver import Map, RawClient, RespError, ServerTestCase


def enc(*args):
    return RawClient.encode(*args)


class TestPipelining(ServerTestCase):
    N = 10000

    def test_raw_pipeline_one_write(self):
        c = self.raw(timeout=30)
        parts = []
        for i in range(self.N):
            if i % 3 == 0:
                parts.append(enc("SET", "k%d" % i, "v%d" % i))
            elif i % 3 == 1:
                parts.append(enc("GET", "k%d" % (i - 1)))
            else:
                parts.append(enc("INCR", "counter"))
        blob = b"".join(parts)
        # Write from a thread so a full socket buffer cannot deadlock us.
        t = threading.Thread(target=c.sock.sendall, args=(blob,))
        t.start()
        incr = 0
        for i in range(self.N):
            r = c.read_reply()
            if i % 3 == 0:
                self.assertEqual(r, b"OK", i)
            elif i % 3 == 1:
                self.assertEqual(r, b"v%d" % (i - 1), i)
            else:
                incr += 1
                self.assertEqual(r, incr, i)
        t.join(30)
        self.assertFalse(t.is_alive())
        self.assertEqual(c.call("PING"), b"PONG")
        self.assertEqual(c.call("DBSIZE"), (self.N + 2) // 3 + 1)

    def test_redis_py_pipeline(self):
        pipe = self.r.pipeline(transaction=False)
        for i in range(self.N // 2):
            pipe.set("p%d" % i, i)
            pipe.get("p%d" % i)
        res = pipe.execute()
        self.assertEqual(len(res), self.N)
        for i in range(self.N // 2):
            self.assertIs(res[2 * i], True)
            self.assertEqual(res[2 * i + 1], str(i).encode())

    def test_pipeline_with_errors_in_between(self):
        c = self.raw()
        blob = (enc("SET", "a", "x") + enc("INCR", "a") + enc("NOSUCH") +
                enc("GET", "a") + enc("GET"))
        c.send(blob)
        self.assertEqual(c.read_reply(), b"OK")
        self.assertErr(c.read_reply(),
                       "ERR value is not an integer or out of range")
        self.assertErr(c.read_reply(), "ERR unknown command 'NOSUCH', with "
                                       "args beginning with: ")
        self.assertEqual(c.read_reply(), b"x")
        self.assertErr(c.read_reply(),
                       "ERR wrong number of arguments for 'get' command")


class TestCommandNames(ServerTestCase):
    def test_names_in_any_case_and_one_byte_off(self):
        """Names of 1..16+ bytes (the lookup folds them eight bytes at a
        time: the word edges matter) in random case run; the same names
        one byte off, or a letter's ASCII neighbour, are unknown."""
        import random
        rng = random.Random(3)
        c = self.raw()
        names = [("ECHO", ["x"], b"x"), ("PING", [], b"PONG"),
                 ("DBSIZE", [], 0), ("STRLEN", ["nokey"], 0),
                 ("SETRANGE", ["sr", "0", "ab"], 2),  # 8 bytes
                 ("SINTERCARD", ["1", "nokey"], 0),
                 ("ZRANGEBYSCORE", ["nokey", "0", "1"], []),
                 ("ZREMRANGEBYSCORE", ["nokey", "0", "1"], 0),  # 16
                 ("ZREVRANGEBYSCORE", ["nokey", "1", "0"], []),
                 ("HINCRBYFLOAT", ["hf", "f", "1.5"], b"1.5")]
        for name, args, want in names:
            for _ in range(4):
                mixed = "".join(ch.lower() if rng.random() < 0.5 else ch
                                for ch in name)
                got = c.call(mixed, *args)
                if want == b"1.5":
                    self.assertFalse(isinstance(got, RespError), got)
                else:
                    self.assertEqual(got, want, mixed)
            for bad in (name + "X", name[:-1], name[:-1] + "@",
                        name[:-1] + "[", "`" + name[1:], "{" + name[1:]):
                got = c.call(bad, *args)
                self.assertTrue(isinstance(got, RespError) and
                                "unknown command" in str(got), (bad, got))


class TestResp3(ServerTestCase):
    def test_resp3_wire_format(self):
        c = self.raw()
        c.send(enc("HELLO", "3"))
        first = c.read_bytes(1)
        self.assertEqual(first, b"%")
        c.unread(first)
        self.assertIsInstance(c.read_reply(), Map)
        c.send(enc("GET", "missing"))
        self.assertEqual(c.read_raw_line(), b"_")
        c.send(enc("SET", "a", "1"))
        self.assertEqual(c.read_raw_line(), b"+OK")
        c.send(enc("MGET", "a", "missing"))
        self.assertEqual(c.read_bytes(14), b"*2\r\n$1\r\n1\r\n_\r\n")
        c.send(enc("SET", "nokey", "v", "XX"))
        self.assertEqual(c.read_raw_line(), b"_")
        c.send(enc("INCR", "n"))
        self.assertEqual(c.read_raw_line(), b":1")
        c.send(enc("GET", "n"))
        self.assertEqual(c.read_bytes(7), b"$1\r\n1\r\n")
        c.send(enc("INCRBY", "n", "x"))
        self.assertEqual(c.read_raw_line(),
                         b"-ERR value is not an integer or out of range")
        # Back to RESP2 on the same connection.
        self.assertIsInstance(c.call("HELLO", "2"), list)
        c.send(enc("GET", "missing"))
        self.assertEqual(c.read_raw_line(), b"$-1")
        c.send(enc("MGET", "missing"))
        self.assertEqual(c.read_bytes(9), b"*1\r\n$-1\r\n")

    def test_resp2_null_forms(self):
        c = self.raw()
        c.send(enc("GET", "missing"))
        self.assertEqual(c.read_raw_line(), b"$-1")
        c.send(enc("SET", "nokey", "v", "XX"))
        self.assertEqual(c.read_raw_line(), b"$-1")


class TestInline(ServerTestCase):
    def test_inline_commands(self):
        c = self.raw()
        c.send(b"PING\r\n")
        self.assertEqual(c.read_raw_line(), b"+PONG")
        c.send(b"SET k \"a b\"\r\n")
        self.assertEqual(c.read_raw_line(), b"+OK")
        c.send(b"GET k\r\n")
        self.assertEqual(c.read_raw_line(), b"$3")
        self.assertEqual(c.read_raw_line(), b"a b")
        c.send(b"ping\n")  # bare LF is accepted
        self.assertEqual(c.read_raw_line(), b"+PONG")
        c.send(b"\r\n\r\nPING\r\n")  # empty lines are skipped
        self.assertEqual(c.read_raw_line(), b"+PONG")
        c.send(b"  ECHO   spaced  \r\n")
        self.assertEqual(c.read_reply(), b"spaced")

    def test_inline_quoting(self):
        c = self.raw()
        c.send(b"ECHO \"\\x41\\n\\t\\\"q\"\r\n")
        self.assertEqual(c.read_reply(), b"A\n\t\"q")
        c.send(b"ECHO 'single \\x41'\r\n")
        self.assertEqual(c.read_reply(), b"single \\x41")
        c.send(b"SET \"key with space\" \"it's\" XX\r\n")
        self.assertIsNone(c.read_reply())
        c.send(b"SET 'key with space' \"it's\" NX\r\n")
        self.assertEqual(c.read_reply(), b"OK")
        self.assertEqual(c.call("GET", "key with space"), b"it's")
        c.send(b"SET \"key with space\" \"\" XX\r\n")
        self.assertEqual(c.read_reply(), b"OK")
        self.assertEqual(c.call("STRLEN", "key with space"), 0)

    def test_inline_pipeline_mixed_with_resp(self):
        c = self.raw()
        c.send(b"SET a 1\r\nINCR a\r\n" + enc("GET", "a") + b"GET a\r\n")
        self.assertEqual([c.read_reply() for _ in range(4)],
                         [b"OK", 2, b"2", b"2"])


class TestSplitFrames(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.c = self.raw()

    def send_split(self, data, at):
        self.c.send(data[:at])
        time.sleep(0.002)
        self.c.send(data[at:])

    def test_split_at_every_byte_boundary(self):
        cmd = enc("SET", "split:key", "hello\r\nworld")
        for at in range(1, len(cmd)):
            self.send_split(cmd, at)
            self.assertEqual(self.c.read_reply(), b"OK", at)
        get = enc("GET", "split:key")
        for at in range(1, len(get)):
            self.send_split(get, at)
            self.assertEqual(self.c.read_reply(), b"hello\r\nworld", at)

    def test_one_byte_per_send(self):
        s = self.c.sock
        for data, want in ((enc("SET", "k", "v" * 20), b"OK"),
                           (b"GET k\r\n", b"v" * 20),
                           (enc("MSET", "a", "1", "b", "2"), b"OK")):
            for i in range(len(data)):
                s.send(data[i:i + 1])
                time.sleep(0.0005)
            self.assertEqual(self.c.read_reply(), want)

    def test_inline_split(self):
        cmd = b"SET inl \"x y\"\r\n"
        for at in range(1, len(cmd)):
            self.send_split(cmd, at)
            self.assertEqual(self.c.read_reply(), b"OK", at)
        self.assertEqual(self.c.call("GET", "inl"), b"x y")


class TestBinary(ServerTestCase):
    def test_binary_keys_and_values(self):
        c = self.raw()
        samples = [b"\x00", b"a\x00b", b"\r\n", b"\r\n\r\n*1\r\n$4\r\nPING",
                   b"\xff\xfe\xfd", bytes(range(256)), b"$-1\r\n", b" "]
        for i, k in enumerate(samples):
            v = k[::-1] + b"\x00\xff" + bytes([i])
            self.assertEqual(c.call("SET", k, v), b"OK")
            self.assertEqual(c.call("GET", k), v)
            self.assertEqual(c.call("STRLEN", k), len(v))
        self.assertEqual(c.call("DBSIZE"), len(samples))
        self.assertEqual(set(c.call("KEYS", "*")), set(samples))
        self.assertEqual(self.r.get(b"\x00"), b"\x00\x00\xff\x00")
        self.assertEqual(c.call("APPEND", b"\x00", b"\r\n"), 6)
        self.assertEqual(c.call("GETRANGE", b"\x00", -2, -1), b"\r\n")

    def test_10mb_value(self):
        big = bytes((i * 7 + (i >> 8)) & 0xFF for i in range(10 * 1024 * 1024))
        c = self.raw(timeout=60)
        self.assertEqual(c.call("SET", "big", big), b"OK")
        self.assertEqual(c.call("STRLEN", "big"), len(big))
        self.assertEqual(c.call("GET", "big"), big)
        self.assertEqual(c.call("GETRANGE", "big", -5, -1), big[-5:])
        r = self.server.client(socket_timeout=60)
        self.addCleanup(r.close)
        self.assertEqual(r.get("big"), big)
        self.assertTrue(r.set("big2", big[::-1]))
        self.assertEqual(c.call("GET", "big2"), big[::-1])
        self.assertEqual(c.call("PING"), b"PONG")


class TestMalformed(ServerTestCase):
    CASES = [
        (b"*1\r\n$abc\r\n", "invalid bulk length"),
        (b"*1\r\n$-5\r\n", "invalid bulk length"),
        (b"*2\r\n$3\r\nGET\r\n$2147483648\r\n", "invalid bulk length"),
        (b"*99999999999\r\n", "invalid multibulk length"),
        (b"*abc\r\n", "invalid multibulk length"),
        (b"*1\r\nxyz\r\n", "expected '$', got 'x'"),
        (b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n:5\r\n", "expected '$', got ':'"),
        (b"SET k \"abc\r\n", "unbalanced quotes in request"),
        (b"SET k \"a\"b\r\n", "unbalanced quotes in request"),
        (b"ECHO 'abc\r\n", "unbalanced quotes in request"),
    ]

    def test_protocol_errors_close_only_that_connection(self):
        bystander = self.raw()
        self.assertEqual(bystander.call("SET", "safe", "data"), b"OK")
        for bad, msg in self.CASES:
            with self.subTest(bad=bad):
                victim = self.raw()
                # A good command pipelined before the garbage is answered.
                victim.send(enc("SET", "before", "1") + bad)
                self.assertEqual(victim.read_raw_line(), b"+OK")
                self.assertEqual(victim.read_raw_line(),
                                 b"-ERR Protocol error: " + msg.encode())
                self.assertTrue(victim.expect_closed(),
                                "connection left open after protocol error")
                self.assertEqual(victim.buf, b"")
                self.assertEqual(bystander.call("GET", "safe"), b"data")
                self.assertEqual(bystander.call("PING"), b"PONG")
        self.assertEqual(bystander.call("DBSIZE"), 2)

    def test_garbage_while_other_client_streams(self):
        worker = self.raw()
        stop = threading.Event()
        errors = []

        def stream():
            i = 0
            try:
                while not stop.is_set():
                    worker.send(enc("SET", "w%d" % i, i) + enc("GET", "w%d" % i))
                    if worker.read_reply() != b"OK" or \
                            worker.read_reply() != str(i).encode():
                        errors.append(i)
                    i += 1
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)
        t = threading.Thread(target=stream)
        t.start()
        try:
            for bad, _ in self.CASES:
                victim = self.raw()
                victim.send(bad)
                self.assertTrue(victim.read_raw_line().startswith(
                    b"-ERR Protocol error: "))
                self.assertTrue(victim.expect_closed())
        finally:
            stop.set()
            t.join(30)
        self.assertEqual(errors, [])
        self.assertAlive()

    def test_half_sent_command_then_disconnect(self):
        c = self.raw()
        c.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100\r\nabc")
        c.close()
        s = socket.create_connection(("127.0.0.1", self.server.port))
        s.close()
        self.assertAlive()
        with self.server.raw() as d:
            self.assertIsNone(d.call("GET", "k"))


if __name__ == "__main__":
    unittest.main()
