"""The same commands to fast-cache and to a real redis-server, replies
compared: the harness of test_bitmaps.py and test_hll.py.

PairTestCase starts a fast-cache server (FC_SERVER, --threads 2) and a
redis-server from PATH on free ports for the class; self.both(*cmd) sends
cmd to both, asserts the replies are equal (errors included, as RespError
values) and returns the reply. When FC_SERVER is itself a redis-server (a
reference run) both sides are redis-servers. Without a redis-server on
PATH the class is skipped.
"""

import shutil
import unittest

from fcserver import Server, is_redis


def redis_path():
    return shutil.which("redis-server")


class PairTestCase(unittest.TestCase):
    fc_threads = 2  # fast-cache's --threads (a class may want more workers)

    @classmethod
    def setUpClass(cls):
        if not redis_path():
            raise unittest.SkipTest("no redis-server on PATH to compare with")
        cls.fc = Server(threads=None if is_redis() else cls.fc_threads)
        cls.fc.start()
        cls.ref = Server()
        cls.ref.path = redis_path()
        cls.ref.redis = True
        try:
            cls.ref.start()
        except Exception:
            cls.fc.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.ref.stop()
        cls.fc.stop_and_check()

    def setUp(self):
        self.a = self.fc.raw()
        self.b = self.ref.raw()
        self.addCleanup(self.a.close)
        self.addCleanup(self.b.close)
        self.a.call("FLUSHALL")
        self.b.call("FLUSHALL")

    def both(self, *cmd):
        ra = self.a.call(*cmd)
        rb = self.b.call(*cmd)
        self.assertEqual(ra, rb, "fast-cache and redis-server differ on %r"
                         % (cmd,))
        return ra

    def many(self, cmds):
        """Pipelines a list of commands to both; compares reply by reply."""
        for side in (self.a, self.b):
            side.send(b"".join(side.encode(*c) for c in cmds))
        ra = [self.a.read_reply() for _ in cmds]
        rb = [self.b.read_reply() for _ in cmds]
        for c, x, y in zip(cmds, ra, rb):
            self.assertEqual(x, y, "fast-cache and redis-server differ on %r"
                             % (c,))
        return ra
