"""route_mode (issue 12): with route_mode = "session_prefix" every chunk of a
session ("s:<id>:c:<n>", or an LMCache key "...@session%<id>@...") lives in
one shard, while keys still behave as before (GET, MGET across sessions and
workers, DEL). Placement is observed through SCAN: one call covers one
shard, named by the cursor's low bits (SHARDS shards: mask SHARDS - 1).
Sessions may share a shard (the hash seed is random per process); what
must hold is that no session spans two.
"""

import os
import subprocess
import tempfile
import unittest

from fcserver import Server, fast_cache_only, server_path

SESSIONS = ["s:%d" % i for i in range(6)]
SHARDS = 16
CHUNKS = 25


def config(text):
    fd, path = tempfile.mkstemp(suffix=".toml")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return path


def scan_all(r):
    """(shard, key) for every key."""
    out, cursor, rounds = [], 0, 0
    while True:
        shard = cursor & (SHARDS - 1)
        cursor, keys = r.scan(cursor=cursor, count=40)
        out += [(shard, k.decode()) for k in keys]
        rounds += 1
        if cursor == 0 or rounds > 1000:
            return out


def session_of(key):
    if key.startswith("s:"):
        return key[:key.rfind(":c:")]
    return "lmcache-session:" + key.split("@")[1][len("session%"):]


@fast_cache_only
class TestRouteMode(unittest.TestCase):
    def run_mode(self, mode):
        path = config('route_mode = "%s"\nshard_count = %d\n' %
                      (mode, SHARDS))
        srv = Server(threads=2, extra_args=["--config", path]).start()
        try:
            r = srv.client()
            keys = []
            for c in range(CHUNKS):  # sessions interleaved on purpose
                for s in SESSIONS:
                    keys.append("%s:c:%d" % (s, c))
                keys.append("model@session%%lm1@%d" % c)
            for k in keys:
                r.set(k, "v:" + k)
            self.assertEqual(r.get("s:3:c:7"), b"v:s:3:c:7")
            probe = ["s:0:c:1", "s:5:c:24", "s:9:c:0", "model@session%lm1@3"]
            self.assertEqual(r.mget(probe), [b"v:s:0:c:1", b"v:s:5:c:24",
                                             None, b"v:model@session%lm1@3"])
            order = scan_all(r)
            self.assertEqual(sorted(k for _, k in order), sorted(keys))
            self.assertEqual(r.delete("s:1:c:0", "s:2:c:0", "nope"), 2)
            r.close()
            return order
        finally:
            srv.stop_and_check()
            os.unlink(path)

    def shards_of_sessions(self, mode):
        by = {}
        for shard, k in self.run_mode(mode):
            by.setdefault(session_of(k), set()).add(shard)
        return by

    def test_session_keys_share_a_shard(self):
        by = self.shards_of_sessions("session_prefix")
        self.assertEqual(len(by), len(SESSIONS) + 1)
        for sess, shards in by.items():
            self.assertEqual(len(shards), 1, (sess, shards))

    def test_full_key_spreads_them(self):
        by = self.shards_of_sessions("full_key")
        # 25 chunks over 16 shards: every session spans several.
        for sess, shards in by.items():
            self.assertGreater(len(shards), 3, (sess, shards))

    def test_bad_mode_and_persistence_are_refused(self):
        for text, want in [('route_mode = "by_session"\n', b"route_mode"),
                           ('route_mode = "session_prefix"\n'
                            '[persistence]\nenabled = true\n',
                            b"needs [persistence] enabled = false")]:
            path = config(text)
            try:
                p = subprocess.run([server_path(), "--config", path],
                                   capture_output=True, timeout=10)
            finally:
                os.unlink(path)
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertIn(want, p.stderr)


if __name__ == "__main__":
    unittest.main()
