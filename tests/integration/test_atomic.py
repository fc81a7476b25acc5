"""Atomic multi-key writes: MSET over keys of several workers is never seen
half-applied (Redis guarantees it; fast-cache runs a multi-worker MSET in
one exclusive section). The reader takes its snapshot with MULTI/MGET/EXEC,
which is atomic on both servers. Also runs against redis-server."""

import threading
import time
import unittest

from fcserver import ServerTestCase, is_redis

KEYS = ["atom:%d" % i for i in range(32)]


class AtomicMsetChecks:
    def test_mset_never_seen_half_applied(self):
        self.r.mset({k: 0 for k in KEYS})
        stop = threading.Event()
        torn = []

        def writer():
            c = self.server.raw()
            try:
                i = 0
                while not stop.is_set():
                    i += 1
                    args = []
                    for k in KEYS:
                        args += [k, i]
                    c.call("MSET", *args)
            finally:
                c.close()

        def reader():
            c = self.server.raw()
            try:
                while not stop.is_set() and len(torn) < 5:
                    c.send(c.encode("MULTI") + c.encode("MGET", *KEYS) +
                           c.encode("EXEC"))
                    c.read_reply()
                    c.read_reply()
                    vals = c.read_reply()[0]
                    if len(set(vals)) != 1:
                        torn.append(vals)
            finally:
                c.close()

        ts = [threading.Thread(target=writer), threading.Thread(target=writer),
              threading.Thread(target=reader)]
        for t in ts:
            t.start()
        time.sleep(2.0)
        stop.set()
        for t in ts:
            t.join(30)
        self.assertEqual(torn, [])
        vals = self.r.mget(KEYS)
        self.assertEqual(len(set(vals)), 1)


class TestAtomicMsetFourWorkers(AtomicMsetChecks, ServerTestCase):
    server_kwargs = {"threads": 4, "extra_args": (
        [] if is_redis() else ["--pin-threads", "no"])}


class TestAtomicMsetTwoWorkers(AtomicMsetChecks, ServerTestCase):
    server_kwargs = {"threads": 2}


if __name__ == "__main__":
    unittest.main()
