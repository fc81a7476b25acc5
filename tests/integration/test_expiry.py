"""Keys with a TTL really go away: lazily on access and actively in the
background. Waits are bounded polls; nothing asserts how fast it happens."""

import time
import unittest

from fcserver import ServerTestCase

DEADLINE = 5.0  # generous: the machine is shared


class TestExpiry(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.c = self.raw()
        self.call = self.c.call

    def wait_until(self, pred, what):
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end:
            if pred():
                return
            time.sleep(0.02)
        self.fail("not within %.0fs: %s" % (DEADLINE, what))

    def test_set_px_expires(self):
        self.assertEqual(self.call("SET", "k", "v", "PX", "100"), b"OK")
        self.call("SET", "long", "v", "EX", "1000")
        self.wait_until(lambda: self.call("GET", "k") is None, "GET k is nil")
        self.assertEqual(self.call("EXISTS", "k"), 0)
        self.assertEqual(self.call("TTL", "k"), -2)
        self.assertEqual(self.call("PTTL", "k"), -2)
        self.assertEqual(self.call("GET", "long"), b"v")

    def test_expired_key_invisible_everywhere(self):
        self.call("SET", "gone", "v", "PX", "100")
        self.call("SET", "stay", "v")
        time.sleep(0.25)
        self.wait_until(lambda: self.call("EXISTS", "gone") == 0, "gone")
        self.assertEqual(self.call("MGET", "gone", "stay"), [None, b"v"])
        self.assertEqual(self.call("KEYS", "*"), [b"stay"])
        cursor, keys = b"0", []
        while True:
            cursor, batch = self.call("SCAN", cursor)
            keys += batch
            if cursor == b"0":
                break
        self.assertEqual(keys, [b"stay"])
        self.assertEqual(self.call("TYPE", "gone"), b"none")
        self.assertEqual(self.call("STRLEN", "gone"), 0)
        self.assertEqual(self.call("APPEND", "gone", "x"), 1)  # fresh key
        self.assertEqual(self.call("TTL", "gone"), -1)

    def test_expiring_commands(self):
        self.call("MSET", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5")
        self.assertEqual(self.call("PEXPIRE", "a", 100), 1)
        self.assertEqual(self.call("PEXPIREAT", "b",
                                   int(time.time() * 1000) + 100), 1)
        self.assertEqual(self.call("GETEX", "c", "PX", "100"), b"3")
        self.assertEqual(self.call("PSETEX", "d", "100", "x"), b"OK")
        self.assertEqual(self.call("SET", "e", "y", "PXAT",
                                   int(time.time() * 1000) + 100), b"OK")
        self.call("SET", "keep", "v", "PX", "100")
        self.assertEqual(self.call("PERSIST", "keep"), 1)
        self.wait_until(
            lambda: self.call("EXISTS", "a", "b", "c", "d", "e") == 0,
            "a..e expired")
        self.assertEqual(self.call("GET", "keep"), b"v")

    def test_incr_after_expiry_starts_fresh(self):
        self.call("SET", "n", "41", "PX", "100")
        self.wait_until(lambda: self.call("EXISTS", "n") == 0, "n expired")
        self.assertEqual(self.call("INCR", "n"), 1)

    def test_active_expiry_reaps_untouched_keys(self):
        # Nobody reads these keys: only a background cycle removes them.
        pipe = self.r.pipeline(transaction=False)
        for i in range(200):
            pipe.set("t%d" % i, "v", px=100)
        pipe.set("stay", "v")
        pipe.execute()
        self.wait_until(lambda: self.call("DBSIZE") == 1,
                        "DBSIZE drops to 1 without touching the keys")

    def test_overwrite_resets_ttl(self):
        self.call("SET", "k", "v", "PX", "150")
        self.call("SET", "k", "w")
        time.sleep(0.3)
        self.assertEqual(self.call("GET", "k"), b"w")


if __name__ == "__main__":
    unittest.main()
