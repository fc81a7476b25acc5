"""Lua scripting (EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT): the same
scripts go to fast-cache and to redis-server 7.0.15 and the replies (RESP2
and RESP3, errors included) must be equal; then what only fast-cache's
design has to get right: EVALSHA across workers, cross-worker atomicity
with --threads 4, busy scripts and SCRIPT KILL, and script writes reaching
a replica and surviving kill -9.
"""

import os
import shutil
import socket
import tempfile
import threading
import time
import unittest

from fcserver import RespError, Server, fast_cache_only, is_redis
from pairutil import PairTestCase
from persistutil import PServer
from replutil import ReplCase


class TestConversions(PairTestCase):
    """Lua <-> RESP as Redis converts, in both protocols."""

    SCRIPTS = [
        "return 1",
        "return -3.99",
        "return 3.99",
        "return 'hello'",
        "return true",
        "return false",
        "return nil",
        "return {}",
        "return {1, 2, 3.9, 'a', nil, 5}",
        "return {1, {2, {3, {'x'}}}, 'y'}",
        "return {ok='FINE'}",
        "return {err='MYERR custom'}",
        "return {err='x'}",
        "return redis.status_reply('OK2')",
        "return redis.error_reply('FOO bar')",
        "return redis.error_reply('bar')",
        "return redis.error_reply('-BAZ qux')",
        "return {double=3.5}",
        "return {double=1e100}",
        "return {map={a=1}}",
        "return {set={z=true}}",
        "return {true, false, 1}",
        "return {ok='a\\r\\nb'}",
        "return redis.call('ping')",
        "return redis.call('set', 'k', 'v')",
        "redis.call('set', 'k', 'v'); return redis.call('get', 'k')",
        "return redis.call('get', 'nokey')",
        "return redis.call('incr', 'n')",
        "redis.call('rpush', 'l', 'a', 'b', 'c'); "
        "return redis.call('lrange', 'l', 0, -1)",
        "redis.call('hset', 'h', 'f', 'v'); return redis.call('hgetall', 'h')",
        "redis.call('zadd', 'z', 1.5, 'm'); "
        "return redis.call('zscore', 'z', 'm')",
        "redis.call('sadd', 's', 'x'); return redis.call('smembers', 's')",
        "return redis.call('set', 'k', 1.5)",
        "return redis.call('set', 'k', 10)",
        "redis.call('set', 'k', 300); return redis.call('get', 'k')",
        "local t = {} for _, v in ipairs({0, -1, 10, 1e15, 1e16, 123456789012, "
        "0.1, 1/3, -2.5e-7, 1e21, 1e300, 3.14159}) do "
        "redis.call('set', 'k', v); t[#t+1] = redis.call('get', 'k') end "
        "return t",
        "return type(redis.call('get', 'nokey'))",
        "return redis.sha1hex('')",
        "return redis.sha1hex('abc')",
        "return redis.REDIS_VERSION",
        "return cjson.encode({a={1,2,3}})",
        "return cjson.decode('[1,2,{\"a\":3}]')[3]['a']",
        "return cjson.encode(cjson.decode('{\"k\":[true,false,null]}'))",
        "return cmsgpack.pack(1, -1, 127, 128, 255, 256, 65535, 65536, "
        "4294967295, 4294967296, -32, -33, -128, -129, -32768, -32769, "
        "-2147483648, -2147483649, 1.5, 0.1, 1e300, 'x', "
        "string.rep('y', 40), string.rep('z', 300), true, false, nil)",
        "return cmsgpack.pack({1, 2, {3, 'a'}}, {}, {k='v'}, "
        "{[1]=1, [3]=3})",
        "return cmsgpack.pack(string.rep('w', 70000))",
        "return {cmsgpack.unpack(cmsgpack.pack(1, 'two', {3, {4}}, "
        "{a='b'}, -7, 2.5))}",
        "local t = {cmsgpack.unpack(cmsgpack.pack({1,2,3}, 'x'))} "
        "return {#t, t[1][3], t[2]}",
        "return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3))}",
        "return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 2)}",
        "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2)}",
        "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 5, 1)}",
        "return cmsgpack.unpack('\\147\\1')",
        "return cmsgpack.unpack('\\193')",
        "return cmsgpack.unpack('\\217')",
        "return cmsgpack.unpack_one('\\1', 5)",
        "return cmsgpack.unpack(5)",
        "return cmsgpack.unpack()",
        "return cmsgpack.unpack({})",
        "return cmsgpack.pack()",
        "local t = {} local c = t for i = 1, 20 do c[1] = {} c = c[1] end "
        "return cmsgpack.pack(t)",
        "return bit.band(0xff, 0x0f)",
        "return bit.tohex(bit.bxor(0x1234, 0xff00))",
        "return bit.lshift(1, 31)",
        "return #KEYS + #ARGV * 10",
        "return {KEYS[1], ARGV[1], ARGV[2]}",
        "return tostring(tonumber('12') + 1)",
        "return string.format('%d-%s', 5, 'x')",
        "return table.concat({'a','b'}, ',')",
        "return math.floor(7.9)",
        "local t = {} for i=1,5 do t[i]=i*i end return t",
        "return redis.pcall('incr', 'notanint_holder')",
        "return redis.replicate_commands()",
        "return type(redis.call('info', 'server'))",
        "return string.sub(redis.call('info', 'server'), 1, 8)",
        "redis.setresp(3) return type(redis.call('info', 'server'))",
    ]

    def run_all(self, proto):
        for side in (self.a, self.b):
            if proto == 3:
                self.assertIsInstance(side.call("HELLO", "3"), dict)
        for s in self.SCRIPTS:
            self.both("FLUSHALL")
            self.both("SET", "notanint_holder", "abc")
            self.both("EVAL", s, 2, "k1", "k2", "a1", "a2")

    def test_resp2(self):
        self.run_all(2)

    def test_resp3(self):
        self.run_all(3)

    def test_setresp3_inside(self):
        b = self.both
        for proto in (2, 3):
            for side in (self.a, self.b):
                side.call("HELLO", str(proto))
            b("HSET", "h", "f", "v")
            b("ZADD", "z", "2.5", "m")
            b("SADD", "s", "x")
            for s in ("redis.setresp(3); return redis.call('hgetall', 'h')",
                      "redis.setresp(3); return redis.call('zscore', 'z', 'm')",
                      "redis.setresp(3); return redis.call('smembers', 's')",
                      "redis.setresp(3); return redis.call('get', 'nokey')",
                      "redis.setresp(3); "
                      "return type(redis.call('get', 'nokey'))",
                      "redis.setresp(3); "
                      "return redis.call('hgetall', 'h')['map']['f']",
                      "redis.setresp(3); "
                      "return redis.call('zscore', 'z', 'm')['double']",
                      "redis.setresp(4)"):
                b("EVAL", s, 0)


class TestErrors(PairTestCase):
    def test_error_texts(self):
        b = self.both
        b("SET", "s", "abc")
        for s in ("return redis.call('incr', 's')",
                  "return foo",
                  "foo = 1",
                  "return redis.call('nosuch')",
                  "return redis.call('get')",
                  "return redis.call('multi')",
                  "return redis.call('blpop', 'nol', 0)",
                  "return redis.call('eval', 'return 1', 0)",
                  "return redis.call('subscribe', 'c')",
                  "error('boom')",
                  "error({err='X my'})",
                  "return redis.call()",
                  "return redis.call(1)",
                  "return redis.call('get', {})",
                  "local ok, e = pcall(redis.call, 'incr', 's') return e",
                  "return pcall(redis.call, 'incr', 's')",
                  "return redis.pcall('nosuch')",
                  "return dofile",
                  "return loadfile",
                  "return os",
                  "return io",
                  "return 'a' 'b'",
                  "if",
                  "\n\nerror('line three')",
                  "return redis.setresp(7)",
                  "return redis.sha1hex()",
                  "local x = nil; return x.y"):
            b("EVAL", s, 0)
        b("EVAL", "return 1", -1)
        b("EVAL", "return 1", 2, "a")
        b("EVAL", "return 1", "x")
        b("EVAL", "return 1")
        b("EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", 0)
        b("EVALSHA", "short", 0)

    def test_read_only(self):
        b = self.both
        b("EVAL_RO", "return redis.call('set', 'a', 'b')", 0)
        b("EVAL_RO", "return redis.call('get', 'a')", 0)
        b("EVAL", "#!lua flags=no-writes\nreturn redis.call('set','a','b')", 0)
        b("EVAL", "#!lua flags=no-writes\nreturn redis.call('get','a')", 0)
        b("EVAL", "#!lua\nreturn redis.call('set','a','b')", 0)
        b("EVAL", "#!lua flags=allow-oom,allow-stale\nreturn 1", 0)
        b("EVAL", "#!lua flags=nonsense\nreturn 1", 0)
        b("EVAL", "#!lua foo=bar\nreturn 1", 0)
        b("EVAL", "#!python\nreturn 1", 0)
        b("EVAL", "#!lua", 0)
        b("EVAL_RO", "#!lua\nreturn 1", 0)
        b("EVAL_RO", "#!lua flags=no-writes\nreturn 1", 0)
        sha_w = b("SCRIPT", "LOAD", "#!lua\nreturn 2")
        b("EVALSHA_RO", sha_w, 0)
        sha = b("SCRIPT", "LOAD", "return redis.call('set', KEYS[1], 'v')")
        b("EVALSHA_RO", sha, 1, "k")
        b("EVALSHA", sha, 1, "k")
        b("GET", "k")


class TestScriptCommand(PairTestCase):
    def test_load_exists_flush(self):
        b = self.both
        sha = b("SCRIPT", "LOAD", "return 'loaded'")
        self.assertEqual(len(sha), 40)
        b("SCRIPT", "EXISTS", sha, "f" * 40, sha.upper())
        b("EVALSHA", sha, 0)
        b("EVALSHA", sha.upper(), 0)
        b("SCRIPT", "LOAD", "return (")
        b("EVAL", "return 'cached by eval'", 0)
        b("SCRIPT", "EXISTS", "ae5b5d8b1e6c5cc7ff8ab8b9d8dee1ef1c6c7b88")
        b("SCRIPT", "FLUSH")
        b("SCRIPT", "EXISTS", sha)
        b("EVALSHA", sha, 0)
        b("SCRIPT", "FLUSH", "ASYNC")
        b("SCRIPT", "FLUSH", "SYNC")
        b("SCRIPT", "FLUSH", "x")
        b("SCRIPT", "KILL")
        b("SCRIPT", "FOO")
        b("SCRIPT")
        b("SCRIPT", "LOAD")
        b("SCRIPT", "EXISTS")

    @fast_cache_only
    def test_info_counts_scripts(self):
        def mem():
            return dict(l.split(":", 1) for l in
                        self.a.call("INFO", "memory").decode().splitlines()
                        if ":" in l)
        self.a.call("SCRIPT", "FLUSH")
        self.assertEqual(mem()["number_of_cached_scripts"], "0")
        self.assertEqual(mem()["used_memory_scripts_eval"], "0")
        self.a.call("SCRIPT", "LOAD", "return 1")
        self.a.call("EVAL", "return 'abc'", 0)
        m = mem()
        self.assertEqual(m["number_of_cached_scripts"], "2")
        self.assertEqual(m["used_memory_scripts_eval"],
                         str(len("return 1") + len("return 'abc'")))
        self.assertGreater(int(m["used_memory_lua"]), 10000)

    def test_command_getkeys(self):
        b = self.both
        b("COMMAND", "GETKEYS", "EVAL", "return 1", 2, "a", "b", "c")
        b("COMMAND", "GETKEYS", "EVAL", "return 1", 0, "c")
        b("COMMAND", "GETKEYS", "EVALSHA", "x", 1, "a")
        b("COMMAND", "GETKEYS", "FCALL", "f", 1, "k", "a")
        b("COMMAND", "GETKEYS", "EVAL", "return 1", 5, "a")
        b("COMMAND", "GETKEYS", "ZUNIONSTORE", "d", 2, "a", "b")

    def test_eval_caches(self):
        b = self.both
        body = "return 'via eval ' .. ARGV[1]"
        b("EVAL", body, 0, "x")
        sha = self.a.call("EVAL", "return redis.sha1hex(ARGV[1])", 0, body)
        b("SCRIPT", "EXISTS", sha)
        b("EVALSHA", sha, 0, "y")

    def test_multi_and_watch(self):
        b = self.both
        b("MULTI")
        b("EVAL", "return redis.call('incr', KEYS[1])", 1, "c")
        b("EVAL", "return redis.call('incr', KEYS[1])", 1, "c")
        b("EXEC")
        # WATCH sees a script's write on another connection.
        a2, b2 = self.fc.raw(), self.ref.raw()
        self.addCleanup(a2.close)
        self.addCleanup(b2.close)
        b("WATCH", "w")
        for side in (a2, b2):
            side.call("EVAL", "return redis.call('set', 'w', 'x')", 1, "w")
        b("MULTI")
        b("GET", "w")
        b("EXEC")


def _cross_keys(prefix, n):
    return ["%s:%d" % (prefix, i) for i in range(n)]


@fast_cache_only
class TestAcrossWorkers(unittest.TestCase):
    """--threads 4: cache sharing, atomicity, undeclared keys."""

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

    def test_evalsha_from_every_worker(self):
        cs = self.conns(16)  # connections spread over the workers
        sha = cs[0].call("SCRIPT", "LOAD", "return 'w' .. ARGV[1]")
        for i, c in enumerate(cs):
            self.assertEqual(c.call("EVALSHA", sha, 0, str(i)),
                             ("w%d" % i).encode())
        cs[3].call("SCRIPT", "FLUSH")
        for c in cs:
            self.assertErr(c.call("EVALSHA", sha, 0, "x"),
                           "NOSCRIPT No matching script. Please use EVAL.")

    def assertErr(self, r, msg):
        self.assertIsInstance(r, RespError)
        self.assertEqual(r.msg, msg)

    def transfers(self, script, declared):
        """Concurrent clients move units between 8 keys spread over the
        workers; every move is a read-modify-write of two keys in one
        script. The total must stay exact."""
        keys = _cross_keys("acct", 8)
        c0 = self.conns(1)[0]
        c0.call("FLUSHALL")
        for k in keys:
            c0.call("SET", k, "1000")
        errors = []

        def client(seed):
            try:
                with self.srv.raw() as c:
                    for i in range(300):
                        src = keys[(seed + i) % 8]
                        dst = keys[(seed * 3 + i * 5 + 1) % 8]
                        if declared:
                            r = c.call("EVAL", script, 2, src, dst, "1")
                        else:
                            r = c.call("EVAL", script, 0, src, dst, "1")
                        if isinstance(r, RespError):
                            errors.append(r)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)

        ts = [threading.Thread(target=client, args=(s,)) for s in range(6)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(120)
        self.assertFalse(any(t.is_alive() for t in ts), "clients hung")
        self.assertEqual(errors, [])
        total = sum(int(c0.call("GET", k)) for k in keys)
        self.assertEqual(total, 8000)

    def test_atomic_declared_keys(self):
        self.transfers(
            "local a = tonumber(redis.call('get', KEYS[1])) "
            "local b = tonumber(redis.call('get', KEYS[2])) "
            "for i = 1, 20000 do end "
            "redis.call('set', KEYS[1], a - ARGV[1]) "
            "redis.call('set', KEYS[2], b + ARGV[1]) return 1", True)

    def test_atomic_undeclared_keys(self):
        # Reads both keys before writing: the escalation reruns it.
        self.transfers(
            "local a = tonumber(redis.call('get', ARGV[1])) "
            "local b = tonumber(redis.call('get', ARGV[2])) "
            "for i = 1, 20000 do end "  # a window for the others to act in
            "redis.call('set', ARGV[1], a - ARGV[3]) "
            "redis.call('set', ARGV[2], b + ARGV[3]) return 1", False)

    def test_write_then_foreign_key(self):
        # Writes one key first, then touches keys anywhere: the script
        # takes the token without waiting (nobody else wants it here).
        c = self.conns(1)[0]
        c.call("FLUSHALL")
        keys = _cross_keys("wf", 16)
        r = c.call("EVAL", "redis.call('set', 'wf:first', '1') "
                   "for i = 1, #ARGV do redis.call('set', ARGV[i], i) end "
                   "return redis.call('mget', unpack(ARGV))", 0, *keys)
        self.assertEqual(r, [str(i + 1).encode() for i in range(16)])
        self.assertEqual(c.call("EVAL", "return redis.call('dbsize')", 0), 17)
        self.assertEqual(c.call("EVAL", "return #redis.call('keys', 'wf:*')",
                                0), 17)


def excl_sections(c):
    for line in c.call("INFO", "stats").decode().splitlines():
        if line.startswith("exclusive_sections:"):
            return int(line.split(":")[1])
    raise AssertionError("no exclusive_sections in INFO stats")


@fast_cache_only
class TestBusy(unittest.TestCase):
    """A script past busy-reply-threshold: clients of other workers get
    -BUSY, SCRIPT KILL stops it unless it wrote."""

    BUSY = ("BUSY Redis is busy running a script. You can only call SCRIPT "
            "KILL or SHUTDOWN NOSAVE.")

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(threads=4).start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop_and_check()

    def start_loop(self, script, *args, conn=None):
        c = conn or self.srv.raw(timeout=30.0)
        if not conn:
            self.addCleanup(c.close)
        self.assertEqual(c.call("CONFIG", "SET", "busy-reply-threshold",
                                "200"), b"OK")
        c.send_cmd("EVAL", script, 0, *args)
        return c

    def busy_peers(self, text=None):
        """Connections on other workers than the script's (they answer
        -BUSY); the ones on its worker just wait. Bounded."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            peers = []
            for _ in range(12):
                p = self.srv.raw(timeout=0.5)
                self.addCleanup(p.close)
                try:
                    r = p.call("PING")
                except OSError:
                    continue  # same worker as the script: it waits
                if isinstance(r, RespError) and r.msg == (text or self.BUSY):
                    peers.append(p)
                    return peers
            time.sleep(0.1)
        self.fail("no client saw -BUSY")

    def test_kill(self):
        c = self.start_loop("local i = 0 while true do i = i + 1 end")
        peers = self.busy_peers()
        self.assertEqual(peers[0].call("FUNCTION", "KILL").msg, self.BUSY)
        self.assertEqual(peers[0].call("SCRIPT", "KILL"), b"OK")
        r = c.read_reply()
        self.assertIsInstance(r, RespError)
        self.assertTrue(r.msg.startswith(
            "ERR Script killed by user with SCRIPT KILL... script: "), r.msg)
        with self.srv.raw() as p:
            self.assertEqual(p.call("PING"), b"PONG")
            self.assertEqual(p.call("SCRIPT", "KILL").msg,
                             "NOTBUSY No scripts in execution right now.")

    def test_pcall_cannot_swallow_kill(self):
        c = self.start_loop("while true do pcall(function() "
                            "local i = 0 while true do i = i + 1 end end) end")
        peers = self.busy_peers()
        self.assertEqual(peers[0].call("SCRIPT", "KILL"), b"OK")
        self.assertIsInstance(c.read_reply(), RespError)

    def local_key(self, c):
        """A key c's worker owns: writing it from a script does not take
        an exclusive section (INFO exclusive_sections does not move), so
        the other workers stay free to answer -BUSY. Bounded."""
        for i in range(64):
            k = "busyw:%d" % i
            before = excl_sections(c)
            c.call("EVAL", "return redis.call('set', ARGV[1], '0')", 0, k)
            if excl_sections(c) == before:
                return k
        self.fail("no key of the connection's worker among 64")

    def test_function_kill(self):
        with self.srv.raw() as p:
            self.assertEqual(p.call(
                "FUNCTION", "LOAD", "REPLACE", "#!lua name=spin\n"
                "redis.register_function('spin', function() "
                "local i = 0 while true do i = i + 1 end end)"), b"spin")
        c = self.srv.raw(timeout=30.0)
        self.addCleanup(c.close)
        self.assertEqual(c.call("CONFIG", "SET", "busy-reply-threshold",
                                "200"), b"OK")
        c.send_cmd("FCALL", "spin", 0)
        fbusy = ("BUSY Redis is busy running a script. You can only call "
                 "FUNCTION KILL or SHUTDOWN NOSAVE.")
        peers = self.busy_peers(fbusy)
        self.assertEqual(peers[0].call("SCRIPT", "KILL").msg, fbusy)
        self.assertEqual(peers[0].call("FUNCTION", "KILL"), b"OK")
        r = c.read_reply()
        self.assertTrue(r.msg.startswith(
            "ERR Script killed by user with SCRIPT KILL... script: spin, "
            "on @user_function:"), r.msg)

    def test_unkillable_after_write(self):
        c = self.srv.raw(timeout=30.0)
        self.addCleanup(c.close)
        k = self.local_key(c)
        c = self.start_loop("redis.call('set', ARGV[1], '1') "
                            "local t = redis.call('time')[1] + 4 "
                            "while tonumber(redis.call('time')[1]) <= "
                            "tonumber(t) do end return 'done'", k, conn=c)
        peers = self.busy_peers()
        r = peers[0].call("SCRIPT", "KILL")
        self.assertIsInstance(r, RespError)
        self.assertTrue(r.msg.startswith("UNKILLABLE Sorry the script already "
                                         "executed write commands"), r.msg)
        self.assertEqual(c.read_reply(), b"done")
        with self.srv.raw() as p:
            self.assertEqual(p.call("GET", k), b"1")

    def test_shutdown_nosave_ends_a_busy_script(self):
        srv = Server(threads=4).start()
        try:
            c = srv.raw(timeout=30.0)
            self.addCleanup(c.close)
            c.call("CONFIG", "SET", "busy-reply-threshold", "100")
            c.send_cmd("EVAL", "while true do end", 0)
            deadline = time.monotonic() + 10
            sent = False
            while time.monotonic() < deadline and not sent:
                p = srv.raw(timeout=0.5)
                self.addCleanup(p.close)
                try:
                    r = p.call("PING")
                except OSError:
                    continue
                if isinstance(r, RespError) and r.msg == self.BUSY:
                    p.send_cmd("SHUTDOWN", "NOSAVE")
                    sent = True
            self.assertTrue(sent, "no client saw -BUSY")
            srv.proc.wait(15)  # raises if the server still runs
        finally:
            srv.kill()

    def test_config(self):
        with self.srv.raw() as p:
            self.assertEqual(p.call("CONFIG", "SET", "lua-time-limit", "1234"),
                             b"OK")
            self.assertEqual(p.call("CONFIG", "GET", "busy-reply-threshold"),
                             [b"busy-reply-threshold", b"1234"])
            self.assertEqual(p.call("CONFIG", "GET", "lua-time-limit"),
                             [b"lua-time-limit", b"1234"])


SCRIPT_WRITES = ("for i = 1, 50 do redis.call('set', 'p:' .. i, i) end "
                 "redis.call('rpush', 'pl', 'a', 'b') "
                 "redis.call('hset', 'ph', 'f', ARGV[1]) "
                 "return redis.call('incrby', 'pc', 7)")


@fast_cache_only
class TestDurability(unittest.TestCase):
    """A script's writes reach the WAL as commands' effects: they survive
    kill -9 and a restart on the same directory."""

    def test_survive_kill9(self):
        d = tempfile.mkdtemp(prefix="fc-script-")
        self.addCleanup(shutil.rmtree, d, True)
        srv = PServer(d, threads=2).start()
        try:
            with srv.raw() as c:
                self.assertEqual(c.call("EVAL", SCRIPT_WRITES, 0, "hv"), 7)
                # undeclared keys of both workers, after a write: escalated
                self.assertEqual(c.call("EVAL", SCRIPT_WRITES, 0, "hv2"), 14)
        finally:
            srv.kill9()
        srv2 = PServer(d, threads=2).start()
        try:
            with srv2.raw() as c:
                self.assertEqual(c.call("GET", "p:50"), b"50")
                self.assertEqual(c.call("LRANGE", "pl", 0, -1),
                                 [b"a", b"b", b"a", b"b"])
                self.assertEqual(c.call("HGET", "ph", "f"), b"hv2")
                self.assertEqual(c.call("GET", "pc"), b"14")
                self.assertEqual(c.call("DBSIZE"), 53)
        finally:
            srv2.stop_and_check()


@fast_cache_only
class TestReplication(ReplCase):
    """A replica converges with a primary whose writes came from scripts,
    and refuses a script's writes itself."""

    def test_script_writes_replicate(self):
        p = self.primary()
        pc = self.client(p)
        r = self.replica(p.rport)
        self.wait_online(r)
        rc = self.client(r)
        self.assertEqual(pc.call("EVAL", SCRIPT_WRITES, 0, "x"), 7)
        sha = pc.call("SCRIPT", "LOAD", "redis.call('del', KEYS[1]) "
                      "return redis.call('expire', KEYS[2], 300)")
        self.assertEqual(pc.call("EVALSHA", sha, 2, "p:1", "p:2"), 1)
        self.assert_converged(p, r)
        self.assertEqual(rc.call("HGET", "ph", "f"), b"x")
        self.assertIsNone(rc.call("GET", "p:1"))
        r2 = rc.call("EVAL", "return redis.call('set', 'r', '1')", 0)
        self.assertIsInstance(r2, RespError)
        self.assertTrue(r2.msg.startswith("READONLY"), r2.msg)
        self.assertEqual(rc.call("EVAL_RO", "return redis.call('get', "
                                 "'p:3')", 0), b"3")


if __name__ == "__main__":
    unittest.main()
