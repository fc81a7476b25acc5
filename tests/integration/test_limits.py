"""Per-client input limits: the query buffer limit and the bulk length
limit close the offending client, while the server and other clients keep
their data and carry on."""

import socket
import time
import unittest

from fcserver import RawClient, ServerTestCase

ONE_MB = 1024 * 1024


class TestQueryBufferLimit(ServerTestCase):
    def setUp(self):
        super().setUp()
        # 1 MiB is the smallest limit Redis accepts; set it on both servers.
        self.r.config_set("client-query-buffer-limit", ONE_MB)
        self.addCleanup(self.r.config_set, "client-query-buffer-limit",
                        1024 * ONE_MB)

    def test_unfinished_request_over_limit_closes_client(self):
        self.r.set("kept", "value")
        bystander = self.raw()
        victim = self.raw(timeout=10)
        # A 100 MB bulk announced but never completed: the server buffers
        # what arrives and must drop the client once it holds over 1 MiB.
        victim.send(b"*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$100000000\r\n")
        chunk = b"x" * 65536
        closed = False
        try:
            for _ in range(4 * ONE_MB // len(chunk)):
                victim.send(chunk)
        except (BrokenPipeError, ConnectionResetError):
            closed = True
        self.assertTrue(closed or victim.expect_closed(timeout=10),
                        "client over the query buffer limit stayed open")
        self.assertEqual(bystander.call("GET", "kept"), b"value")
        self.assertEqual(bystander.call("EXISTS", "big"), 0)
        self.assertEqual(self.r.ping(), True)

    def test_pipeline_under_limit_is_untouched(self):
        # Many complete requests in flight are not "buffered input": a
        # 3 MiB pipeline of small SETs must run in full.
        c = self.raw(timeout=30)
        n = 30000
        payload = b"".join(
            RawClient.encode("SET", "k%d" % i, "v" * 80) for i in range(n))
        self.assertGreater(len(payload), 3 * ONE_MB)
        c.send(payload)
        for i in range(n):
            self.assertEqual(c.read_reply(), b"OK", i)
        self.assertEqual(self.r.dbsize(), n)


class TestQueryBufferLimitFourWorkers(TestQueryBufferLimit):
    # Most keys owned by other workers: input held back while their
    # replies are in flight must not count against the client.
    server_kwargs = {"threads": 4}


class TestBulkLengthLimit(ServerTestCase):
    def test_bulk_over_proto_max_bulk_len_is_refused(self):
        self.r.set("kept", "value")
        c = self.raw()
        # 512 MiB + 1: one byte over Redis's proto-max-bulk-len default.
        c.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870913\r\n")
        self.assertEqual(c.read_raw_line(),
                         b"-ERR Protocol error: invalid bulk length")
        self.assertTrue(c.expect_closed())
        self.assertEqual(self.r.get("kept"), b"value")


if __name__ == "__main__":
    unittest.main()
