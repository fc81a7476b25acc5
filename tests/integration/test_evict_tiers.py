"""fast-cache only: the [tiers] keys (hot/warm/cold_capacity,
promotion_batch) — validated at start-up, defaults from the host's caches
as ../shared/spec/storage.md §3 gives them, CONFIG GET/SET — and INFO's
# Tiers moving under a small maxmemory with a read-heavy hot set
(engine/evict.c: the levels of the default policy)."""

import os
import subprocess
import tempfile
import unittest

import fcserver
from fcserver import Server, fast_cache_only, server_path

SHARDS = 4


def write_config(text):
    fd, path = tempfile.mkstemp(suffix=".toml", prefix="fc-itest-")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return path


def info(c, section):
    return parse_info(c.call("INFO", section))


def parse_info(reply):
    text = reply.decode()
    out = {}
    for line in text.split("\r\n"):
        if ":" in line and not line.startswith("#"):
            k, _, v = line.partition(":")
            out[k] = v
    return out


def cache_size(index):
    path = "/sys/devices/system/cpu/cpu0/cache/index%d/" % index
    try:
        with open(path + "size") as f:
            s = f.read().strip()
    except OSError:
        return 0
    mult = {"K": 1 << 10, "M": 1 << 20}.get(s[-1:], 1)
    return int(s.rstrip("KM")) * mult


def clamp(v, lo, hi):
    return max(lo, min(hi, v))


def spec_defaults(shards):
    """The seed's formulas (spec §3), in Python."""
    try:
        with open("/sys/devices/system/cpu/cpu0/cache/index0/type") as f:
            l1_index = 1 if f.read().strip() == "Instruction" else 0
    except OSError:
        l1_index = 0
    l1d = cache_size(l1_index) or cache_size(1) or 64 << 10
    l2 = cache_size(2) or 4 << 20
    l3 = cache_size(3) or 16 << 20
    slots = max(4, l1d * 3 // 5 // 64)
    lo = 1
    while lo * 2 <= slots:
        lo *= 2
    slots = lo if slots - lo <= 2 * lo - slots else 2 * lo
    slots = clamp(slots, 256, 2048)
    hot = clamp(slots * 4 // 5, 128, 16384)
    warm = clamp(l2 // 160, 1024, 131072)
    cold = clamp(max(l3 // shards, 2 << 20) // 192, 8192, 1000000)
    return hot, warm, cold, 256


@fast_cache_only
class TestTiersValidation(unittest.TestCase):
    def refused(self, text):
        fd, path = tempfile.mkstemp(suffix=".toml", prefix="fc-itest-")
        with os.fdopen(fd, "w") as f:
            f.write(text)
        self.addCleanup(os.unlink, path)
        p = subprocess.run([server_path(), "--config", path, "--port",
                            str(fcserver.free_port())], capture_output=True,
                           timeout=10, stdin=subprocess.DEVNULL)
        err = (p.stdout + p.stderr).decode()
        self.assertEqual(p.returncode, 2, err)
        return err, path

    def test_zero_negative_and_junk_are_refused(self):
        for key in ("hot_capacity", "warm_capacity", "cold_capacity",
                    "promotion_batch"):
            for bad in ("0", "-5", "lots", "1.5"):
                err, path = self.refused("[tiers]\n%s = %s\n" % (key, bad))
                self.assertIn("%s:2: [tiers] '%s' must be an integer > 0"
                              % (path, key), err)
                self.assertIn("got '%s'" % bad, err)

    def test_disk_tier_still_refused(self):
        err, _ = self.refused("[tiers]\nenabled = true\nhot_capacity = 10\n")
        self.assertIn("disk tier is not implemented", err)


@fast_cache_only
class TestTiersConfig(unittest.TestCase):
    def start(self, *args):
        srv = Server(threads=1, extra_args=["--shards", str(SHARDS)] +
                     list(args)).start()
        self.addCleanup(srv.stop_and_check)
        c = srv.raw()
        self.addCleanup(c.close)
        return c

    def get(self, c, name):
        return int(c.call("CONFIG", "GET", name)[1])

    def test_defaults_follow_the_host(self):
        c = self.start()
        hot, warm, cold, batch = spec_defaults(SHARDS)
        self.assertEqual(self.get(c, "hot-capacity"), hot)
        self.assertEqual(self.get(c, "warm-capacity"), warm)
        self.assertEqual(self.get(c, "cold-capacity"), cold)
        self.assertEqual(self.get(c, "promotion-batch"), batch)
        self.assertEqual(self.get(c, "hot_capacity"), hot)
        t = info(c, "tiers")
        # Divided among the shards, each at least 1.
        self.assertEqual(int(t["tier_hot_capacity"]),
                         max(1, hot // SHARDS) * SHARDS)
        self.assertEqual(int(t["tier_warm_capacity"]),
                         max(1, warm // SHARDS) * SHARDS)

    def test_file_values_and_config_set(self):
        path = write_config("[tiers]\nhot_capacity = 40\nwarm_capacity = 400\n"
                            "cold_capacity = 9000\npromotion_batch = 32\n")
        self.addCleanup(os.unlink, path)
        c = self.start("--config", path)
        self.assertEqual(self.get(c, "hot-capacity"), 40)
        self.assertEqual(self.get(c, "warm-capacity"), 400)
        self.assertEqual(self.get(c, "cold-capacity"), 9000)
        self.assertEqual(self.get(c, "promotion-batch"), 32)
        self.assertEqual(c.call("CONFIG", "SET", "hot-capacity", "100"), b"OK")
        self.assertEqual(self.get(c, "hot-capacity"), 100)
        self.assertEqual(int(info(c, "tiers")["tier_hot_capacity"]), 100)
        for bad in ("0", "-1", "x"):
            self.assertIsInstance(c.call("CONFIG", "SET", "warm-capacity",
                                         bad), fcserver.RespError)
        self.assertEqual(self.get(c, "warm-capacity"), 400)


@fast_cache_only
class TestTiersMove(unittest.TestCase):
    HOT = 40
    WARM = 400

    def test_hot_set_is_promoted_under_a_limit(self):
        path = write_config("[tiers]\nhot_capacity = %d\nwarm_capacity = %d\n"
                            % (self.HOT, self.WARM))
        self.addCleanup(os.unlink, path)
        srv = Server(threads=1, extra_args=[
            "--shards", str(SHARDS), "--config", path, "--maxmemory", "2mb"]
        ).start()
        self.addCleanup(srv.stop_and_check)
        c = srv.raw()
        self.addCleanup(c.close)
        val = b"v" * 100
        hot = [b"hot:%d" % i for i in range(30)]
        for k in hot:
            c.call("SET", k, val)
        n = 0
        for _ in range(40):
            for k in hot:  # cache-aside: a miss is written back
                if c.call("GET", k) is None:
                    c.call("SET", k, val)
            for _ in range(500):  # one-shot keys: a scan
                c.call("SET", b"cold:%d" % n, val)
                n += 1
        t = info(c, "tiers")
        st = info(c, "stats")
        self.assertGreater(int(st["evicted_keys"]), 1000)
        self.assertGreater(int(t["tier_warm_promotions"]), 0)
        self.assertGreater(int(t["tier_hot_promotions"]), 0)
        self.assertGreater(int(t["tier_cold_hits"]), 0)
        self.assertLessEqual(int(t["tier_hot_keys"]),
                             int(t["tier_hot_capacity"]))
        self.assertLessEqual(int(t["tier_warm_keys"]),
                             int(t["tier_warm_capacity"]))
        self.assertGreater(int(t["tier_hot_keys"]), 0)
        # Both in one pipeline, so no sweep tick runs between them: one
        # may evict a few keys while over the limit (worker.c).
        c.send(c.encode("INFO", "tiers") + c.encode("DBSIZE"))
        t2 = parse_info(c.read_reply())
        dbsize = c.read_reply()
        total = sum(int(t2["tier_%s_keys" % l]) for l in ("hot", "warm",
                                                          "cold"))
        self.assertEqual(total, dbsize)
        # The read set is still there: far fewer misses than the scan's.
        present = sum(c.call("EXISTS", k) for k in hot)
        self.assertGreaterEqual(present, 27)
        # Another policy: every key counts as cold.
        self.assertEqual(c.call("CONFIG", "SET", "maxmemory-policy",
                                "allkeys-lru"), b"OK")
        t = info(c, "tiers")
        self.assertEqual(int(t["tier_hot_keys"]) + int(t["tier_warm_keys"]),
                         0)
        self.assertEqual(int(t["tier_cold_keys"]), c.call("DBSIZE"))


if __name__ == "__main__":
    unittest.main()
