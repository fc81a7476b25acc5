"""Seeded key hash (issue 9): each server process picks a random seed, so
two processes place the same keys differently (anyone could otherwise
precompute keys that all land on one worker and one probe chain), and
--hash-seed N fixes the seed so placement is reproducible.

Placement is observed through SCAN, whose order is the order of shards and
table slots: it is a function of the seed alone for the same keys inserted
in the same order into a fresh server.
"""

import unittest

from fcserver import Server, fast_cache_only

KEYS = ["key:%d" % i for i in range(300)]


def scan_order(extra_args):
    srv = Server(threads=2, extra_args=extra_args).start()
    try:
        r = srv.client()
        for k in KEYS:
            r.set(k, "v")
        order, cursor, rounds = [], 0, 0
        while True:
            cursor, keys = r.scan(cursor=cursor, count=50)
            order += [k.decode() for k in keys]
            rounds += 1
            if cursor == 0 or rounds > 1000:  # bounded
                break
        r.close()
        return order
    finally:
        srv.stop_and_check()


@fast_cache_only
class TestHashSeed(unittest.TestCase):
    def test_processes_place_keys_differently(self):
        a = scan_order([])
        b = scan_order([])
        self.assertEqual(sorted(a), sorted(KEYS))
        self.assertEqual(sorted(b), sorted(KEYS))
        self.assertNotEqual(a, b, "two processes placed 300 keys alike")

    def test_fixed_seed_reproduces_placement(self):
        a = scan_order(["--hash-seed", "12345"])
        b = scan_order(["--hash-seed", "12345"])
        c = scan_order(["--hash-seed", "54321"])
        self.assertEqual(a, b)
        self.assertEqual(sorted(a), sorted(KEYS))
        self.assertNotEqual(a, c)

    def test_bad_seed_is_refused(self):
        import subprocess
        from fcserver import server_path
        p = subprocess.run([server_path(), "--hash-seed", "-1"],
                           capture_output=True, timeout=10)
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"hash-seed", p.stderr)


if __name__ == "__main__":
    unittest.main()
