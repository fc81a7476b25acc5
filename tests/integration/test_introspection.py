"""Honest introspection: INFO's default sections in Redis 7.0's order with
the fields client libraries read at connect, real error statistics, and
script management commands that answer on an empty server (scripting
itself is test_scripting.py's and test_functions.py's). Also runs against
redis-server (fast-cache-only checks are marked)."""

import unittest

from fcserver import ServerTestCase, fast_cache_only, is_redis

DEFAULT_SECTIONS = ["server", "clients", "memory", "persistence", "stats",
                    "replication", "cpu", "modules", "errorstats", "cluster",
                    "keyspace"]


def parse_info(text):
    sections, fields = [], {}
    for line in text.decode().split("\r\n"):
        if line.startswith("# "):
            sections.append(line[2:].strip().lower())
        elif ":" in line:
            k, _, v = line.partition(":")
            fields[k] = v
    return sections, fields


class TestInfoLayout(ServerTestCase):
    def test_default_sections_in_redis_order(self):
        self.r.set("k", "v")
        sections, fields = parse_info(self.raw().call("INFO"))
        self.assertEqual(sections, DEFAULT_SECTIONS)
        self.assertEqual(fields["redis_version"], "7.0.15")
        self.assertEqual(fields["arch_bits"], "64")
        self.assertEqual(fields["cluster_enabled"], "0")
        self.assertEqual(fields["redis_mode"], "standalone")
        self.assertEqual(fields["role"], "master")
        self.assertIn("total_error_replies", fields)
        self.assertIn("used_cpu_user_children", fields)

    def test_everything_order(self):
        sections, _ = parse_info(self.raw().call("INFO", "everything"))
        want = [s for s in DEFAULT_SECTIONS]
        want.insert(want.index("errorstats"), "commandstats")
        want.insert(want.index("cluster"), "latencystats")
        if not is_redis():
            want.append("tiers")  # ours, not a default section
        self.assertEqual(sections, want)

    def test_errorstats_count_by_prefix(self):
        c = self.raw()
        c.call("CONFIG", "RESETSTAT")
        c.call("SET", "s", "x")
        c.call("INCR", "s")           # ERR value is not an integer
        c.call("NOSUCHCOMMAND")       # ERR unknown command
        c.call("GET")                 # ERR wrong number of arguments
        c.call("EXEC")                # ERR EXEC without MULTI
        c.call("MULTI")
        c.call("GET")
        c.call("EXEC")                # EXECABORT (and the arity error)
        _, fields = parse_info(c.call("INFO", "errorstats"))
        self.assertEqual(fields["errorstat_ERR"], "count=5")
        self.assertEqual(fields["errorstat_EXECABORT"], "count=1")
        _, stats = parse_info(c.call("INFO", "stats"))
        self.assertEqual(stats["total_error_replies"], "6")
        c.call("CONFIG", "RESETSTAT")
        sections, fields = parse_info(c.call("INFO", "errorstats"))
        self.assertEqual(sections, ["errorstats"])
        self.assertNotIn("errorstat_ERR", fields)

    @fast_cache_only
    def test_no_canned_fields(self):
        self.r.set("k", "v", ex=100)
        _, fields = parse_info(self.raw().call("INFO", "everything"))
        self.assertEqual(fields["fast_cache_version"].count("."), 2)
        # Measured: the budget's highest total, never below what is used.
        self.assertGreaterEqual(int(fields["used_memory_peak"]),
                                int(fields["used_memory"]))
        self.assertNotIn("avg_ttl", fields["db0"])
        self.assertEqual(fields["db0"], "keys=1,expires=1")
        self.assertGreater(int(fields["used_memory_rss_peak"]), 0)

    @fast_cache_only
    def test_object_and_memory_are_measured(self):
        c = self.raw()
        c.call("SET", "k", "x" * 1000)
        self.assertEqual(c.call("OBJECT", "REFCOUNT", "k"), 1)
        self.assertEqual(c.call("OBJECT", "ENCODING", "k"), b"raw")
        self.assertGreaterEqual(c.call("OBJECT", "IDLETIME", "k"), 0)
        small = c.call("MEMORY", "USAGE", "k")
        c.call("SET", "k", "x" * 100000)
        big = c.call("MEMORY", "USAGE", "k")
        # The block as allocated: at least the bytes, not a fixed overhead.
        self.assertGreaterEqual(small, 1001)
        self.assertLess(small, 1200)
        self.assertGreaterEqual(big, 100001)
        self.assertLess(big, 100001 + 8192)


class TestScripting(ServerTestCase):
    def test_flush_answers_ok(self):
        c = self.raw()
        self.assertEqual(c.call("SCRIPT", "FLUSH"), b"OK")
        self.assertEqual(c.call("SCRIPT", "FLUSH", "ASYNC"), b"OK")
        self.assertEqual(c.call("FUNCTION", "FLUSH"), b"OK")
        self.assertEqual(c.call("FUNCTION", "FLUSH", "SYNC"), b"OK")
        self.assertEqual(c.call("FUNCTION", "LIST"), [])
        self.assertEqual(c.call("SCRIPT", "EXISTS", "a" * 40), [0])


if __name__ == "__main__":
    unittest.main()
