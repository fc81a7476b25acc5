"""Many clients at once, --maxclients, and shutdown with clients attached."""

import resource
import socket
import threading
import time
import unittest

from fcserver import RawClient, Server, ServerTestCase

N_CONN = 1000


def raise_nofile(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        new = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class TestManyClients(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        # The server inherits the limit, so raise it before starting it.
        raise_nofile(N_CONN * 2 + 200)
        super().setUpClass()

    def test_1000_concurrent_connections(self):
        self.assertGreaterEqual(raise_nofile(N_CONN * 2 + 200), N_CONN + 100)
        conns = []
        try:
            for _ in range(N_CONN):
                conns.append(RawClient(self.server.port, timeout=30))
            # Every connection is open at once; send first, then read.
            for i, c in enumerate(conns):
                c.send_cmd("SET", "conn:%d" % i, "value-%d" % i)
            for i, c in enumerate(conns):
                self.assertEqual(c.read_reply(), b"OK", i)
            for i, c in enumerate(conns):
                c.send_cmd("GET", "conn:%d" % ((i + 1) % N_CONN))
            for i, c in enumerate(conns):
                self.assertEqual(c.read_reply(),
                                 b"value-%d" % ((i + 1) % N_CONN), i)
            self.assertEqual(conns[0].call("DBSIZE"), N_CONN)
        finally:
            for c in conns:
                c.close()
        self.assertAlive()

    def test_threads_hammering_one_counter(self):
        n_threads, n_ops = 16, 300
        errors = []

        def work():
            try:
                with self.server.raw(timeout=30) as c:
                    blob = b"".join(RawClient.encode("INCR", "ctr")
                                    for _ in range(n_ops))
                    c.send(blob)
                    last = 0
                    for _ in range(n_ops):
                        v = c.read_reply()
                        if not isinstance(v, int) or v <= last:
                            errors.append(v)
                        last = v
            except Exception as e:  # noqa: BLE001 - collected for the assert
                errors.append(e)
        threads = [threading.Thread(target=work) for _ in range(n_threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(errors, [])
        self.assertEqual(self.r.get("ctr"), str(n_threads * n_ops).encode())

    def test_connect_disconnect_churn(self):
        for i in range(300):
            s = socket.create_connection(("127.0.0.1", self.server.port),
                                         timeout=10)
            if i % 2:
                s.sendall(b"*1\r\n$4\r\nPING\r\n")
                self.assertEqual(s.recv(7), b"+PONG\r\n")
            s.close()
        self.assertAlive()


class TestMaxClients(ServerTestCase):
    LIMIT = 8
    server_kwargs = {"maxclients": LIMIT}

    def test_maxclients_rejects_extra_connection(self):
        first = RawClient(self.server.port)
        accepted, refused = [first], None
        # Wait until the server has noticed the startup probe went away.
        deadline = time.monotonic() + 5
        while b"connected_clients:1\r\n" not in first.call("INFO", "clients"):
            self.assertLess(time.monotonic(), deadline, "stale connections")
            time.sleep(0.05)
        try:
            for _ in range(self.LIMIT + 3):
                c = RawClient(self.server.port)
                c.send_cmd("PING")
                line = c.read_raw_line()
                if line == b"+PONG":
                    accepted.append(c)
                    continue
                refused = (c, line)
                break
            # setUp's redis-py client has not connected yet (lazy pool).
            self.assertIsNotNone(refused, "no connection was refused")
            c, line = refused
            self.assertEqual(line, b"-ERR max number of clients reached")
            self.assertTrue(c.expect_closed())
            c.close()
            self.assertEqual(len(accepted), self.LIMIT)
            accepted.pop().close()
            deadline = time.monotonic() + 5
            while True:  # a slot frees once the server sees the close
                with RawClient(self.server.port) as d:
                    d.send_cmd("PING")
                    if d.read_raw_line() == b"+PONG":
                        break
                self.assertLess(time.monotonic(), deadline)
                time.sleep(0.05)
        finally:
            for a in accepted:
                a.close()

    def setUp(self):  # no flush: it would hold a slot
        self.r = None


class TestShutdown(unittest.TestCase):
    def test_sigterm_with_clients_attached_exits_zero(self):
        srv = Server().start()
        try:
            idle = [srv.raw() for _ in range(20)]
            for c in idle:
                self.assertEqual(c.call("PING"), b"PONG")
            busy = srv.raw()
            busy.call("SET", "k", "v")
            # Half a command pending in the server's read buffer.
            busy.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\nab")
        finally:
            srv.stop_and_check()
        for c in idle + [busy]:
            self.assertTrue(c.expect_closed(timeout=2))
            c.close()

    def test_sigterm_idle_exits_zero(self):
        srv = Server().start()
        srv.stop_and_check()


if __name__ == "__main__":
    unittest.main()
