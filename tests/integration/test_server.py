"""Server commands: INFO CONFIG COMMAND DBSIZE FLUSHDB FLUSHALL TIME MEMORY
OBJECT."""

import time
import unittest

from fcserver import Map, ServerTestCase, is_redis


def parse_info(text):
    """INFO bulk -> (sections in order, {field: value})."""
    sections, fields = [], {}
    for line in text.decode().split("\r\n"):
        if line.startswith("# "):
            sections.append(line[2:].strip().lower())
        elif ":" in line:
            k, _, v = line.partition(":")
            fields[k] = v
    return sections, fields


class TestInfo(ServerTestCase):
    def test_info_default_sections(self):
        c = self.raw()
        text = c.call("INFO")
        self.assertIsInstance(text, bytes)
        self.assertIn(b"\r\n", text)
        sections, fields = parse_info(text)
        for s in ("server", "clients", "memory", "stats", "keyspace"):
            self.assertIn(s, sections)
        self.assertEqual(fields["tcp_port"], str(self.server.port))
        self.assertRegex(fields["redis_version"], r"^\d+\.\d+\.\d+")
        self.assertGreaterEqual(int(fields["uptime_in_seconds"]), 0)
        self.assertGreaterEqual(int(fields["connected_clients"]), 2)
        self.assertGreater(int(fields["used_memory"]), 0)
        self.assertGreater(int(fields["total_connections_received"]), 0)
        self.assertGreater(int(fields["total_commands_processed"]), 0)
        self.assertIn("keyspace_hits", fields)
        self.assertIn("keyspace_misses", fields)

    def test_info_single_section(self):
        c = self.raw()
        sections, fields = parse_info(c.call("INFO", "server"))
        self.assertEqual(sections, ["server"])
        self.assertIn("tcp_port", fields)
        self.assertNotIn("used_memory", fields)
        sections, fields = parse_info(c.call("info", "MEMORY"))
        self.assertEqual(sections, ["memory"])
        self.assertIn("used_memory", fields)
        self.assertEqual(c.call("INFO", "nosuchsection"), b"")

    def test_info_keyspace(self):
        c = self.raw()
        sections, fields = parse_info(c.call("INFO", "keyspace"))
        self.assertEqual(sections, ["keyspace"])
        self.assertNotIn("db0", fields)  # empty db is not listed
        c.call("SET", "a", "1")
        c.call("SET", "b", "2", "EX", "1000")
        c.call("SET", "c", "3")
        _, fields = parse_info(c.call("INFO", "keyspace"))
        parts = dict(p.split("=") for p in fields["db0"].split(","))
        self.assertEqual(parts["keys"], "3")
        self.assertEqual(parts["expires"], "1")
        # avg_ttl: Redis estimates it; fast-cache does not measure it, so
        # leaves it out rather than print a made-up 0.
        if is_redis():
            self.assertIn("avg_ttl", parts)
        else:
            self.assertNotIn("avg_ttl", parts)

    def test_info_stats_hits_misses(self):
        c = self.raw()
        self.assertEqual(c.call("CONFIG", "RESETSTAT"), b"OK")
        _, f = parse_info(c.call("INFO", "stats"))
        before = int(f["total_commands_processed"])
        c.call("SET", "k", "v")
        c.call("GET", "k")
        c.call("GET", "k")
        c.call("GET", "missing")
        _, f = parse_info(c.call("INFO", "stats"))
        self.assertEqual(int(f["keyspace_hits"]), 2)
        self.assertEqual(int(f["keyspace_misses"]), 1)
        # INFO, SET, GET x3: each INFO counts itself either before or after
        # it runs, the same way both times, so the delta is exact.
        self.assertEqual(int(f["total_commands_processed"]) - before, 5)
        self.assertEqual(c.call("CONFIG", "RESETSTAT"), b"OK")
        _, f = parse_info(c.call("INFO", "stats"))
        self.assertEqual(int(f["keyspace_hits"]), 0)
        self.assertEqual(int(f["keyspace_misses"]), 0)

    def wait_connected(self, c, n):
        """Polls until the server counts n clients: closes of earlier
        tests' connections are noticed asynchronously."""
        deadline = time.monotonic() + 5
        while True:
            _, f = parse_info(c.call("INFO", "clients"))
            got = int(f["connected_clients"])
            if got == n or time.monotonic() > deadline:
                return got

    def test_info_connected_clients_counts(self):
        c = self.raw()  # open: c and setUp's redis-py connection
        self.assertEqual(self.wait_connected(c, 2), 2)
        extra = [self.raw() for _ in range(5)]
        for e in extra:
            self.assertEqual(e.call("PING"), b"PONG")
        self.assertEqual(self.wait_connected(c, 7), 7)
        for e in extra:
            e.close()
        self.assertEqual(self.wait_connected(c, 2), 2)

    def test_redis_py_info(self):
        info = self.r.info()
        self.assertEqual(int(info["tcp_port"]), self.server.port)
        self.assertIn("used_memory", self.r.info("memory"))


class TestConfig(ServerTestCase):
    def test_config_get(self):
        c = self.raw()
        self.assertEqual(c.call("CONFIG", "GET", "port"),
                         [b"port", str(self.server.port).encode()])
        r = c.call("CONFIG", "GET", "maxmemory")
        self.assertEqual(r[0], b"maxmemory")
        int(r[1])
        r = c.call("CONFIG", "GET", "maxclients")
        self.assertEqual(r[0], b"maxclients")
        self.assertGreater(int(r[1]), 0)
        self.assertEqual(c.call("CONFIG", "GET", "nosuchparam"), [])
        self.assertErr(c.call("CONFIG", "GET"),
                       "ERR wrong number of arguments for 'config|get' command")

    def test_config_set(self):
        c = self.raw()
        old = c.call("CONFIG", "GET", "maxclients")[1]
        self.addCleanup(lambda: self.server.client().config_set(
            "maxclients", old.decode()))
        self.assertEqual(c.call("CONFIG", "SET", "maxclients", "5000"), b"OK")
        self.assertEqual(c.call("CONFIG", "GET", "maxclients"),
                         [b"maxclients", b"5000"])
        self.assertEqual(c.call("CONFIG", "SET", "maxclients", old), b"OK")
        self.assertEqual(c.call("CONFIG", "SET", "loglevel", "warning"), b"OK")
        self.assertEqual(c.call("CONFIG", "GET", "loglevel"),
                         [b"loglevel", b"warning"])
        self.assertEqual(c.call("config", "set", "loglevel", "notice"), b"OK")

    def test_config_get_patterns(self):
        c = self.raw()
        r = c.call("CONFIG", "GET", "maxc*")
        self.assertEqual(r[0::2], [b"maxclients"])
        r = c.call("CONFIG", "GET", "port", "maxclients")
        self.assertEqual(dict(zip(r[0::2], r[1::2]))[b"port"],
                         str(self.server.port).encode())
        self.assertIn(b"maxclients", r[0::2])
        r = c.call("CONFIG", "GET", "*")
        self.assertIn(b"port", r[0::2])
        self.assertEqual(len(r) % 2, 0)

    def test_config_errors(self):
        c = self.raw()
        self.assertErr(c.call("CONFIG", "SET", "nosuchparam", "1"),
                       "ERR Unknown option or number of arguments for "
                       "CONFIG SET - 'nosuchparam'")
        self.assertErr(c.call("CONFIG", "SET", "maxclients", "abc"),
                       "ERR CONFIG SET failed (possibly related to argument "
                       "'maxclients') - argument couldn't be parsed into an "
                       "integer")
        self.assertErr(c.call("CONFIG", "SET", "loglevel", "bogus"),
                       "ERR CONFIG SET failed (possibly related to argument "
                       "'loglevel') - argument(s) must be one of the "
                       "following: debug, verbose, notice, warning")
        self.assertErr(c.call("CONFIG", "SET", "maxmemory"),
                       "ERR wrong number of arguments for 'config|set' command")
        self.assertErr(c.call("CONFIG", "FOO"),
                       "ERR unknown subcommand 'FOO'. Try CONFIG HELP.")

    def test_config_get_resp3_is_map(self):
        c = self.raw()
        c.call("HELLO", "3")
        r = c.call("CONFIG", "GET", "port")
        self.assertIsInstance(r, Map)
        self.assertEqual(r, {b"port": str(self.server.port).encode()})

    def test_redis_py_config(self):
        self.assertEqual(self.r.config_get("port"),
                         {"port": str(self.server.port)})


class TestCommandCommand(ServerTestCase):
    # Every command this suite exercises.
    ALL = """ping echo quit hello auth select client reset
        info config command dbsize flushdb flushall time memory object
        get set setnx setex psetex getex getdel getset mget mset msetnx append
        strlen getrange substr setrange incr decr incrby decrby incrbyfloat lcs
        del unlink exists type touch expire pexpire expireat pexpireat
        expiretime pexpiretime ttl pttl persist keys scan randomkey rename
        renamenx copy""".split()

    def test_command_count(self):
        c = self.raw()
        n = c.call("COMMAND", "COUNT")
        self.assertIsInstance(n, int)
        listing = c.call("COMMAND")
        self.assertEqual(len(listing), n)
        names = [e[0] for e in listing]
        self.assertEqual(len(set(names)), n)
        missing = {x for x in self.ALL if x.encode() not in names}
        self.assertEqual(missing, set())

    def test_command_info(self):
        c = self.raw()
        r = c.call("COMMAND", "INFO", "get", "MSET", "nosuchcmd", "del")
        self.assertEqual(len(r), 4)
        get, mset, none, dele = r
        self.assertEqual(get[:2], [b"get", 2])
        self.assertIn(b"readonly", get[2])
        self.assertEqual(get[3:6], [1, 1, 1])
        self.assertEqual(mset[:2], [b"mset", -3])
        self.assertIn(b"write", mset[2])
        self.assertEqual(mset[3:6], [1, -1, 2])
        self.assertIsNone(none)
        self.assertEqual(dele[:2], [b"del", -2])
        self.assertEqual(dele[3:6], [1, -1, 1])
        ping = c.call("COMMAND", "INFO", "ping")[0]
        self.assertEqual(ping[:2], [b"ping", -1])
        self.assertEqual(ping[3:6], [0, 0, 0])

    def test_command_docs(self):
        c = self.raw()
        r = c.call("COMMAND", "DOCS", "get", "set")
        self.assertIsInstance(r, list)
        docs = dict(zip(r[0::2], r[1::2]))
        self.assertEqual(set(docs), {b"get", b"set"})
        get = docs[b"get"]
        get = dict(zip(get[0::2], get[1::2]))
        self.assertTrue(get[b"summary"])
        self.assertEqual(get[b"since"], b"1.0.0")
        self.assertEqual(get[b"group"], b"string")
        self.assertErr(c.call("COMMAND", "FOO"),
                       "ERR unknown subcommand 'FOO'. Try COMMAND HELP.")


class TestKeyspaceAdmin(ServerTestCase):
    def test_dbsize_flushdb_flushall(self):
        c = self.raw()
        self.assertEqual(c.call("DBSIZE"), 0)
        for i in range(50):
            c.call("SET", "k%d" % i, i)
        self.assertEqual(c.call("DBSIZE"), 50)
        self.assertEqual(c.call("FLUSHDB"), b"OK")
        self.assertEqual(c.call("DBSIZE"), 0)
        self.assertIsNone(c.call("GET", "k1"))
        c.call("MSET", "a", "1", "b", "2")
        self.assertEqual(c.call("FLUSHALL"), b"OK")
        self.assertEqual(c.call("DBSIZE"), 0)
        c.call("SET", "a", "1")
        self.assertEqual(c.call("FLUSHDB", "SYNC"), b"OK")
        c.call("SET", "a", "1")
        self.assertEqual(c.call("FLUSHALL", "ASYNC"), b"OK")
        self.assertEqual(c.call("DBSIZE"), 0)
        self.assertErr(c.call("FLUSHDB", "FOO"), "ERR syntax error")
        self.assertErr(c.call("DBSIZE", "x"),
                       "ERR wrong number of arguments for 'dbsize' command")

    def test_time(self):
        c = self.raw()
        r = c.call("TIME")
        self.assertEqual(len(r), 2)
        secs, usecs = int(r[0]), int(r[1])
        self.assertLess(abs(secs - time.time()), 5)
        self.assertTrue(0 <= usecs < 1000000)
        r2 = c.call("TIME")
        self.assertGreaterEqual((int(r2[0]), int(r2[1])), (secs, usecs))
        self.assertErr(c.call("TIME", "x"),
                       "ERR wrong number of arguments for 'time' command")

    def test_memory_usage(self):
        c = self.raw()
        self.assertIsNone(c.call("MEMORY", "USAGE", "nokey"))
        c.call("SET", "small", "x")
        c.call("SET", "big", "x" * 10000)
        small = c.call("MEMORY", "USAGE", "small")
        big = c.call("MEMORY", "USAGE", "big")
        self.assertIsInstance(small, int)
        self.assertGreater(small, 1)
        self.assertGreaterEqual(big, 10000)
        self.assertLess(big, 20000 + 1000)
        self.assertErr(c.call("MEMORY", "FOO"),
                       "ERR unknown subcommand 'FOO'. Try MEMORY HELP.")

    def test_object_encoding(self):
        c = self.raw()
        self.assertIsNone(c.call("OBJECT", "ENCODING", "nokey"))
        c.call("SET", "i", "12345")
        c.call("SET", "s", "hello")
        c.call("SET", "long", "y" * 100)
        if is_redis():
            want = (b"int", b"embstr", b"raw")
        else:  # every value is stored as plain bytes: fast-cache says so
            want = (b"raw", b"raw", b"raw")
        self.assertEqual(c.call("OBJECT", "ENCODING", "i"), want[0])
        self.assertEqual(c.call("OBJECT", "ENCODING", "s"), want[1])
        self.assertEqual(c.call("OBJECT", "ENCODING", "long"), want[2])
        self.assertErr(c.call("OBJECT", "FOO"),
                       "ERR unknown subcommand 'FOO'. Try OBJECT HELP.")


if __name__ == "__main__":
    unittest.main()
