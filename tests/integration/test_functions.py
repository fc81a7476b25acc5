"""Functions (FUNCTION LOAD/LIST/DELETE/FLUSH/STATS/DUMP/RESTORE, FCALL,
FCALL_RO): the same libraries and calls go to fast-cache and to
redis-server 7.0.15, replies compared (RESP2 and RESP3, errors included);
then what only fast-cache has to get right: a library loaded through one
worker runs on every worker (--threads 4), DUMP/RESTORE (our payload).
"""

import unittest

from fcserver import RespError, Server, fast_cache_only
from pairutil import PairTestCase

LIB = ("#!lua name=mylib\n"
       "redis.register_function('echo', function(keys, args) "
       "return {keys[1], args[1], #keys, #args} end)\n"
       "redis.register_function{function_name='get_ro', "
       "callback=function(keys) return redis.call('get', keys[1]) end, "
       "flags={'no-writes'}, description='reads a key'}\n"
       "redis.register_function('incr_it', function(keys) "
       "return redis.call('incr', keys[1]) end)\n"
       "redis.register_function('fail', function() error('zz') end)\n"
       "redis.register_function('bad_incr', function() "
       "return redis.call('incr', 's') end)\n")

ONE = ("#!lua name=one\n"
       "redis.register_function{function_name='only', callback=function() "
       "return 1 end, flags={'no-writes', 'allow-oom'}, description='d'}\n")


class TestFunctions(PairTestCase):
    def test_load_and_call(self):
        b = self.both
        b("FUNCTION", "FLUSH")
        b("FUNCTION", "LOAD", LIB)
        b("SET", "s", "abc")
        b("SET", "k", "v")
        for proto in (2, 3):
            for side in (self.a, self.b):
                side.call("HELLO", str(proto))
            b("FCALL", "echo", 1, "key1", "arg1")
            b("FCALL", "echo", 0)
            b("FCALL_RO", "get_ro", 1, "k")
            b("FCALL_RO", "echo", 0)
            b("FCALL", "incr_it", 1, "n")
            b("FCALL_RO", "incr_it", 1, "n")
            b("FCALL", "fail", 0)
            b("FCALL", "bad_incr", 0)
            b("FCALL", "nosuch", 0)
            b("FCALL", "echo", "x")
            b("FCALL", "echo", -1)
            b("FCALL", "echo", 3, "a")
            b("FCALL")
        b("GET", "n")

    def test_load_errors(self):
        b = self.both
        b("FUNCTION", "FLUSH")
        b("FUNCTION", "LOAD", LIB)
        b("FUNCTION", "LOAD", LIB)
        b("FUNCTION", "LOAD", "REPLACE", LIB)
        b("FUNCTION", "LOAD", "FOO", LIB)
        b("FUNCTION", "LOAD", "#!lua name=other\n"
          "redis.register_function('echo', function() end)")
        for code in ("return 1",
                     "#!lua\nreturn 1",
                     "#!py name=x\nreturn 1",
                     "#!lua name=x foo=bar\nreturn 1",
                     "#!lua nam=x\nreturn 1",
                     "#!lua name=x name=y\nreturn 1",
                     "#!lua name=e-4\nreturn 1",
                     "#!lua name=x\nreturn 1 +",
                     "#!lua name=x\nreturn 1",
                     "#!lua name=x\nredis.call('ping')",
                     "#!lua name=x\nlocal s = string.rep('a', 2)",
                     "#!lua name=x\nerror('x')",
                     "#!lua name=x\nredis.register_function('my-f', "
                     "function() end)",
                     "#!lua name=x\nredis.register_function('f', "
                     "function() end) redis.register_function('f', "
                     "function() end)",
                     "#!lua name=x\nredis.register_function{"
                     "function_name='f', callback=function() end, "
                     "flags={'bogus'}}",
                     "#!lua name=x\nredis.register_function('f')",
                     "#!lua name=x\nredis.register_function{"
                     "function_name='f', foo=1}",
                     "#!lua name=x\nredis.register_function{"
                     "callback=function() end}",
                     "#!lua name=x\nredis.register_function{"
                     "function_name='f'}",
                     "#!lua name=x\nredis.register_function()",
                     "#!lua name=x\nredis.register_function({}, 1, 2)",
                     "#!lua name=x\nredis.register_function('f', 1)",
                     "#!lua name=x\nredis.register_function({}, "
                     "function() end)",
                     "#!lua name=x\nredis.register_function(12, "
                     "function() return 'num' end)"):
            b("FUNCTION", "LOAD", code)
        b("FCALL", "12", 0)

    def test_list_delete_stats(self):
        b = self.both
        b("FUNCTION", "FLUSH")
        b("FUNCTION", "LOAD", ONE)
        for proto in (2, 3):
            for side in (self.a, self.b):
                side.call("HELLO", str(proto))
            b("FUNCTION", "LIST")
            b("FUNCTION", "LIST", "WITHCODE")
            b("FUNCTION", "LIST", "LIBRARYNAME", "o*")
            b("FUNCTION", "LIST", "LIBRARYNAME", "x*")
            b("FUNCTION", "LIST", "LIBRARYNAME")
            b("FUNCTION", "LIST", "FOO")
            b("FUNCTION", "STATS")
        b("FUNCTION", "DELETE", "nosuch")
        b("FUNCTION", "DELETE", "one")
        b("FUNCTION", "LIST")
        b("FCALL", "only", 0)
        b("FUNCTION", "FLUSH", "x")
        b("FUNCTION", "FLUSH", "ASYNC")
        b("FUNCTION", "FOO")
        b("FUNCTION", "KILL")
        b("FUNCTION", "RESTORE", "garbage")


@fast_cache_only
class TestFunctionsAcrossWorkers(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server(threads=4).start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop_and_check()

    def conns(self, n):
        cs = [self.srv.raw() for _ in range(n)]
        for c in cs:
            self.addCleanup(c.close)
        return cs

    def test_every_worker_runs_a_loaded_library(self):
        cs = self.conns(16)
        cs[0].call("FUNCTION", "FLUSH")
        self.assertEqual(cs[0].call("FUNCTION", "LOAD", LIB), b"mylib")
        for i, c in enumerate(cs):
            self.assertEqual(c.call("FCALL", "incr_it", 1, "cnt:%d" % i), 1)
            self.assertEqual(c.call("FCALL", "echo", 1, "k", "a"),
                             [b"k", b"a", 1, 1])
        # A replaced library replaces the callbacks everywhere.
        cs[5].call("FUNCTION", "LOAD", "REPLACE",
                   LIB.replace("return redis.call('incr', keys[1])",
                               "return redis.call('incrby', keys[1], 10)"))
        for i, c in enumerate(cs):
            self.assertEqual(c.call("FCALL", "incr_it", 1, "cnt:%d" % i), 11)
        cs[9].call("FUNCTION", "DELETE", "mylib")
        for c in cs:
            r = c.call("FCALL", "echo", 0)
            self.assertIsInstance(r, RespError)
            self.assertEqual(r.msg, "ERR Function not found")

    def test_dump_restore(self):
        c = self.conns(1)[0]
        c.call("FUNCTION", "FLUSH")
        c.call("FUNCTION", "LOAD", LIB)
        c.call("FUNCTION", "LOAD", ONE)
        payload = c.call("FUNCTION", "DUMP")
        listed = c.call("FUNCTION", "LIST", "WITHCODE")
        self.assertEqual(c.call("FUNCTION", "FLUSH"), b"OK")
        self.assertEqual(c.call("FUNCTION", "LIST"), [])
        self.assertEqual(c.call("FUNCTION", "RESTORE", payload), b"OK")
        self.assertEqual(c.call("FUNCTION", "LIST", "WITHCODE"), listed)
        r = c.call("FUNCTION", "RESTORE", payload)
        self.assertIsInstance(r, RespError)
        self.assertEqual(r.msg, "ERR Library mylib already exists")
        self.assertEqual(c.call("FUNCTION", "RESTORE", payload, "REPLACE"),
                         b"OK")
        self.assertEqual(c.call("FUNCTION", "RESTORE", payload, "FLUSH"),
                         b"OK")
        self.assertEqual(c.call("FCALL_RO", "only", 0), 1)
        bad = payload[:-1] + bytes([payload[-1] ^ 1])
        r = c.call("FUNCTION", "RESTORE", bad)
        self.assertEqual(r.msg, "ERR DUMP payload version or checksum are wrong")
        self.assertEqual(c.call("FUNCTION", "LIST", "WITHCODE"), listed)


if __name__ == "__main__":
    unittest.main()
