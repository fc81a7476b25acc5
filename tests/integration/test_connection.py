"""Connection-level commands: PING ECHO QUIT HELLO AUTH SELECT CLIENT RESET."""

import unittest

import fcserver
from fcserver import Map, ServerTestCase, fast_cache_only

HELLO_NOAUTH = ("NOAUTH HELLO must be called with the client already "
                "authenticated")
BAD_NAME = ("ERR Client names cannot contain spaces, newlines or special "
            "characters.")
WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."


def client_fields(line):
    """'id=1 addr=... name=x' -> dict of str."""
    out = {}
    for part in line.strip().split(" "):
        k, _, v = part.partition("=")
        out[k] = v
    return out


class TestBasics(ServerTestCase):
    def test_ping(self):
        c = self.raw()
        c.send(b"*1\r\n$4\r\nPING\r\n")
        self.assertEqual(c.read_raw_line(), b"+PONG")
        c.send(c.encode("PING", "hello world"))
        self.assertEqual(c.read_raw_line(), b"$11")
        self.assertEqual(c.read_raw_line(), b"hello world")
        self.assertErr(c.call("PING", "a", "b"),
                       "ERR wrong number of arguments for 'ping' command")
        self.assertEqual(c.call("ping"), b"PONG")
        self.assertTrue(self.r.ping())

    def test_echo(self):
        c = self.raw()
        self.assertEqual(c.call("ECHO", b"a\x00b\r\nc\xff"), b"a\x00b\r\nc\xff")
        self.assertEqual(c.call("ECHO", ""), b"")
        self.assertErr(c.call("ECHO"),
                       "ERR wrong number of arguments for 'echo' command")
        self.assertErr(c.call("ECHO", "a", "b"),
                       "ERR wrong number of arguments for 'echo' command")
        self.assertEqual(self.r.echo("x" * 1000), b"x" * 1000)

    def test_quit_replies_ok_then_closes(self):
        c = self.raw()
        c.send(c.encode("PING") + c.encode("QUIT") + c.encode("PING"))
        self.assertEqual(c.read_raw_line(), b"+PONG")
        self.assertEqual(c.read_raw_line(), b"+OK")
        self.assertTrue(c.expect_closed(), "connection still open after QUIT")
        self.assertEqual(c.buf, b"", "reply after QUIT: %r" % c.buf)
        self.assertAlive()

    def test_unknown_command(self):
        c = self.raw()
        self.assertErr(c.call("FOO"),
                       "ERR unknown command 'FOO', with args beginning with: ")
        self.assertErr(c.call("foo", "a", "b"),
                       "ERR unknown command 'foo', with args beginning with: "
                       "'a' 'b' ")
        self.assertEqual(c.call("PING"), b"PONG")

    def test_wrong_arity(self):
        c = self.raw()
        self.assertErr(c.call("GET"),
                       "ERR wrong number of arguments for 'get' command")
        self.assertErr(c.call("SET", "k"),
                       "ERR wrong number of arguments for 'set' command")
        self.assertErr(c.call("get", "a", "b"),
                       "ERR wrong number of arguments for 'get' command")

    def test_select(self):
        c = self.raw()
        self.assertEqual(c.call("SELECT", "0"), b"OK")
        self.assertErr(c.call("SELECT", "16"), "ERR DB index is out of range")
        self.assertErr(c.call("SELECT", "-1"), "ERR DB index is out of range")
        self.assertErr(c.call("SELECT", "abc"),
                       "ERR value is not an integer or out of range")
        self.assertErr(c.call("SELECT"),
                       "ERR wrong number of arguments for 'select' command")
        self.assertEqual(c.call("SET", "k", "v"), b"OK")
        self.assertEqual(c.call("SELECT", "0"), b"OK")
        self.assertEqual(c.call("GET", "k"), b"v")

    def test_auth_without_password_configured(self):
        c = self.raw()
        self.assertErr(c.call("AUTH", "x"),
                       "ERR AUTH <password> called without any password "
                       "configured for the default user. Are you sure your "
                       "configuration is correct?")
        self.assertErr(c.call("AUTH"),
                       "ERR wrong number of arguments for 'auth' command")
        self.assertEqual(c.call("PING"), b"PONG")


class TestHello(ServerTestCase):
    def check_hello_fields(self, fields, proto, cid):
        self.assertEqual(fields[b"proto"], proto)
        self.assertEqual(fields[b"id"], cid)
        self.assertIsInstance(fields[b"server"], bytes)
        self.assertIsInstance(fields[b"version"], bytes)
        self.assertRegex(fields[b"version"].decode(), r"^\d+\.\d+\.\d+")
        self.assertEqual(fields[b"mode"], b"standalone")
        self.assertEqual(fields[b"role"], b"master")
        self.assertEqual(list(fields[b"modules"]), [])

    def test_hello2_is_flat_array(self):
        c = self.raw()
        cid = c.call("CLIENT", "ID")
        r = c.call("HELLO", "2")
        self.assertIsInstance(r, list)
        self.assertEqual(len(r) % 2, 0)
        self.check_hello_fields(dict(zip(r[0::2], r[1::2])), 2, cid)
        self.assertIsNone(c.call("GET", "missing"))

    def test_hello3_is_map_and_null_is_underscore(self):
        c = self.raw()
        cid = c.call("CLIENT", "ID")
        c.send_cmd("HELLO", "3")
        first = c.read_bytes(1)
        self.assertEqual(first, b"%")
        c.unread(first)
        r = c.read_reply()
        self.assertIsInstance(r, Map)
        self.check_hello_fields(r, 3, cid)
        c.send_cmd("GET", "missing")
        self.assertEqual(c.read_raw_line(), b"_")
        # HELLO with no version reports the current protocol.
        r = c.call("HELLO")
        self.assertIsInstance(r, Map)
        self.assertEqual(r[b"proto"], 3)
        r = c.call("HELLO", "2")
        self.assertIsInstance(r, list)
        c.send_cmd("GET", "missing")
        self.assertEqual(c.read_raw_line(), b"$-1")

    def test_hello_bad_versions(self):
        c = self.raw()
        self.assertErr(c.call("HELLO", "4"),
                       "NOPROTO unsupported protocol version")
        self.assertErr(c.call("HELLO", "1"),
                       "NOPROTO unsupported protocol version")
        self.assertErr(c.call("HELLO", "abc"),
                       "ERR Protocol version is not an integer or out of range")
        self.assertErr(c.call("HELLO", "2", "FOO"),
                       "ERR Syntax error in HELLO option 'FOO'")
        c.send_cmd("GET", "missing")  # still RESP2
        self.assertEqual(c.read_raw_line(), b"$-1")

    def test_hello_setname(self):
        c = self.raw()
        r = c.call("HELLO", "3", "SETNAME", "myconn")
        self.assertIsInstance(r, Map)
        self.assertEqual(c.call("CLIENT", "GETNAME"), b"myconn")
        self.assertErr(c.call("HELLO", "2", "SETNAME", "bad name"), BAD_NAME)
        self.assertEqual(c.call("CLIENT", "GETNAME"), b"myconn")

    def test_hello_auth_when_no_password(self):
        # The default user has no password: any password authenticates it.
        c = self.raw()
        r = c.call("HELLO", "2", "AUTH", "default", "whatever")
        self.assertIsInstance(r, list)
        self.assertErr(c.call("HELLO", "2", "AUTH", "nosuchuser", "x"),
                       WRONGPASS)


class TestClient(ServerTestCase):
    def test_client_id_unique_and_increasing(self):
        # b connects only once a has been served, so b is the later client.
        a = self.raw()
        ia = a.call("CLIENT", "ID")
        b = self.raw()
        ib = b.call("CLIENT", "ID")
        self.assertIsInstance(ia, int)
        self.assertGreater(ib, ia)
        self.assertEqual(a.call("CLIENT", "ID"), ia)
        others = [self.raw() for _ in range(10)]
        ids = {o.call("CLIENT", "ID") for o in others} | {ia, ib}
        self.assertEqual(len(ids), 12)  # unique

    def test_setname_getname(self):
        c = self.raw()
        self.assertIsNone(c.call("CLIENT", "GETNAME"))
        self.assertEqual(c.call("CLIENT", "SETNAME", "worker-1"), b"OK")
        self.assertEqual(c.call("CLIENT", "GETNAME"), b"worker-1")
        self.assertErr(c.call("CLIENT", "SETNAME", "has space"), BAD_NAME)
        self.assertErr(c.call("CLIENT", "SETNAME", "new\nline"), BAD_NAME)
        self.assertEqual(c.call("CLIENT", "GETNAME"), b"worker-1")
        self.assertEqual(c.call("CLIENT", "SETNAME", ""), b"OK")
        self.assertIsNone(c.call("CLIENT", "GETNAME"))
        self.r.client_setname("via-redis-py")
        self.assertEqual(self.r.client_getname(), "via-redis-py")

    def test_client_list_and_info(self):
        a, b = self.raw(), self.raw()
        a.call("CLIENT", "SETNAME", "alpha")
        b.call("CLIENT", "SETNAME", "beta")
        ia, ib = a.call("CLIENT", "ID"), b.call("CLIENT", "ID")
        listing = a.call("CLIENT", "LIST")
        self.assertIsInstance(listing, bytes)
        lines = [client_fields(x) for x in
                 listing.decode().strip("\n").split("\n")]
        by_id = {int(f["id"]): f for f in lines}
        self.assertIn(ia, by_id)
        self.assertIn(ib, by_id)
        self.assertEqual(by_id[ia]["name"], "alpha")
        self.assertEqual(by_id[ib]["name"], "beta")
        port_a = a.sock.getsockname()[1]
        self.assertEqual(by_id[ia]["addr"], "127.0.0.1:%d" % port_a)
        info = a.call("CLIENT", "INFO")
        self.assertTrue(info.endswith(b"\n"))
        self.assertEqual(info.count(b"\n"), 1)
        f = client_fields(info.decode())
        self.assertEqual(int(f["id"]), ia)
        self.assertEqual(f["name"], "alpha")
        self.assertEqual(f["addr"], "127.0.0.1:%d" % port_a)
        self.assertEqual(f["db"], "0")

    def test_client_kill_by_id(self):
        a, victim = self.raw(), self.raw()
        vid = victim.call("CLIENT", "ID")
        self.assertEqual(a.call("CLIENT", "KILL", "ID", str(vid)), 1)
        self.assertTrue(victim.expect_closed())
        self.assertEqual(a.call("CLIENT", "KILL", "ID", str(vid)), 0)
        self.assertEqual(a.call("CLIENT", "KILL", "ID", "99999999"), 0)
        self.assertEqual(a.call("PING"), b"PONG")

    def test_client_kill_by_addr(self):
        a, victim, v2 = self.raw(), self.raw(), self.raw()
        addr = "127.0.0.1:%d" % victim.sock.getsockname()[1]
        self.assertEqual(a.call("CLIENT", "KILL", addr), b"OK")
        self.assertTrue(victim.expect_closed())
        self.assertErr(a.call("CLIENT", "KILL", addr), "ERR No such client")
        addr2 = "127.0.0.1:%d" % v2.sock.getsockname()[1]
        self.assertEqual(a.call("CLIENT", "KILL", "ADDR", addr2), 1)
        self.assertTrue(v2.expect_closed())

    def test_client_unknown_subcommand(self):
        c = self.raw()
        self.assertErr(c.call("CLIENT", "FOO"),
                       "ERR unknown subcommand 'FOO'. Try CLIENT HELP.")

    @fast_cache_only
    def test_client_setinfo(self):
        # CLIENT SETINFO is Redis 7.2; the reference redis-server is 7.0.
        c = self.raw()
        self.assertEqual(c.call("CLIENT", "SETINFO", "lib-name", "mylib"), b"OK")
        self.assertEqual(c.call("CLIENT", "SETINFO", "LIB-VER", "1.2.3"), b"OK")
        self.assertErr(c.call("CLIENT", "SETINFO", "foo", "x"),
                       "ERR Unrecognized option 'foo'")
        bad = c.call("CLIENT", "SETINFO", "lib-name", "a b")
        self.assertIsInstance(bad, fcserver.RespError)
        self.assertTrue(bad.msg.startswith("ERR "), bad)
        f = client_fields(c.call("CLIENT", "INFO").decode())
        self.assertEqual(f.get("lib-name"), "mylib")
        self.assertEqual(f.get("lib-ver"), "1.2.3")

    def test_reset(self):
        c = self.raw()
        c.call("CLIENT", "SETNAME", "before")
        self.assertIsInstance(c.call("HELLO", "3"), Map)
        c.send_cmd("RESET")
        self.assertEqual(c.read_raw_line(), b"+RESET")
        self.assertIsNone(c.call("CLIENT", "GETNAME"))
        c.send_cmd("GET", "missing")
        self.assertEqual(c.read_raw_line(), b"$-1")  # back to RESP2
        self.assertEqual(c.call("PING"), b"PONG")


class TestAuth(ServerTestCase):
    server_kwargs = {"requirepass": "s3cret"}

    def setUp(self):
        self.r = self.server.client(password="s3cret")
        self.addCleanup(self.r.close)
        self.r.flushall()

    def test_noauth_before_auth(self):
        c = self.raw()
        for cmd in (("GET", "k"), ("PING",), ("SET", "k", "v"),
                    ("CLIENT", "ID"), ("SELECT", "0")):
            self.assertErr(c.call(*cmd), "NOAUTH Authentication required.")
        r = c.call("HELLO", "3")
        self.assertIsInstance(r, fcserver.RespError)
        self.assertTrue(r.msg.startswith(HELLO_NOAUTH), r)

    def test_auth_wrong_then_right(self):
        c = self.raw()
        self.assertErr(c.call("AUTH", "wrong"), WRONGPASS)
        self.assertErr(c.call("AUTH", "default", "wrong"), WRONGPASS)
        self.assertErr(c.call("GET", "k"), "NOAUTH Authentication required.")
        self.assertEqual(c.call("AUTH", "s3cret"), b"OK")
        self.assertEqual(c.call("SET", "k", "v"), b"OK")
        d = self.raw()
        self.assertEqual(d.call("AUTH", "default", "s3cret"), b"OK")
        self.assertEqual(d.call("GET", "k"), b"v")

    def test_hello_auth(self):
        c = self.raw()
        self.assertErr(c.call("HELLO", "3", "AUTH", "default", "wrong"),
                       WRONGPASS)
        self.assertErr(c.call("GET", "k"), "NOAUTH Authentication required.")
        r = c.call("HELLO", "3", "AUTH", "default", "s3cret", "SETNAME", "me")
        self.assertIsInstance(r, Map)
        self.assertEqual(r[b"proto"], 3)
        self.assertEqual(c.call("CLIENT", "GETNAME"), b"me")
        c.send_cmd("GET", "missing")
        self.assertEqual(c.read_raw_line(), b"_")

    def test_reset_deauthenticates(self):
        c = self.raw()
        self.assertEqual(c.call("AUTH", "s3cret"), b"OK")
        self.assertEqual(c.call("PING"), b"PONG")
        self.assertEqual(c.call("RESET"), b"RESET")
        self.assertErr(c.call("GET", "k"), "NOAUTH Authentication required.")

    def test_quit_allowed_before_auth(self):
        c = self.raw()
        c.send_cmd("QUIT")
        self.assertEqual(c.read_raw_line(), b"+OK")
        self.assertTrue(c.expect_closed())

    def test_redis_py_with_password(self):
        self.assertTrue(self.r.set("a", "1"))
        self.assertEqual(self.r.incr("a"), 2)
        bad = self.server.client(password="nope")
        self.addCleanup(bad.close)
        with self.assertRaises(fcserver.redis.exceptions.ResponseError) as cm:
            bad.ping()
        self.assertEqual(str(cm.exception), WRONGPASS)


if __name__ == "__main__":
    unittest.main()
