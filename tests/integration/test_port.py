"""fast-cache only: one process per port. The listening socket is shared by
the workers instead of a SO_REUSEPORT group, so a second server (ours or a
redis-server) on a busy port fails at start with "Address already in use",
and a running server is never silently joined by another process."""

import shutil
import socket
import subprocess
import time
import unittest

from fcserver import RawClient, Server, fast_cache_only, free_port, server_path


def run_second(port, timeout=10):
    """Starts fast-cache on port; it must exit on its own."""
    p = subprocess.run([server_path(), "--bind", "127.0.0.1", "--port",
                        str(port), "--threads", "2"],
                       stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=timeout)
    return p.returncode, (p.stdout + p.stderr).decode("utf-8", "replace")


@fast_cache_only
class TestOneProcessPerPort(unittest.TestCase):
    def test_second_fast_cache_on_busy_port_fails(self):
        first = Server(threads=2).start()
        try:
            rc, out = run_second(first.port)
            self.assertNotEqual(rc, 0, out)
            self.assertIn("Address already in use", out)
            self.assertNotIn("Ready to accept", out)
            # The first one still owns every connection and its data.
            with first.raw() as c:
                self.assertEqual(c.call("SET", "k", "v"), b"OK")
            for _ in range(20):
                with first.raw() as c:
                    self.assertEqual(c.call("GET", "k"), b"v")
        finally:
            first.stop_and_check()

    def test_reuseport_socket_gets_nothing(self):
        """What let a second process in: a SO_REUSEPORT bind on our port.
        It may still bind (the kernel allows it for the same user), but the
        group's steering program only ever picks our workers' sockets, so
        it never receives a connection."""
        first = Server(threads=2).start()
        try:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            joined = True
            try:
                s.bind(("127.0.0.1", first.port))
                s.listen(64)
            except OSError:
                joined = False  # refused outright is fine too
            for _ in range(64):
                with RawClient(first.port) as c:
                    self.assertEqual(c.call("PING"), b"PONG")
            if joined:
                s.setblocking(False)
                with self.assertRaises(BlockingIOError):
                    s.accept()
            s.close()
        finally:
            first.stop_and_check()

    @unittest.skipUnless(shutil.which("redis-server"), "needs redis-server")
    def test_port_held_by_redis_server(self):
        port = free_port()
        redis = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    with RawClient(port, timeout=1) as c:
                        if c.call("PING") == b"PONG":
                            break
                except OSError:
                    time.sleep(0.05)
            rc, out = run_second(port)
            self.assertNotEqual(rc, 0, out)
            self.assertIn("Address already in use", out)
        finally:
            redis.terminate()
            redis.wait(10)

    def test_workers_share_the_socket(self):
        """Connections reach every worker (CLIENT INFO's worker=), and
        keys of every worker answer from any connection."""
        srv = Server(threads=4, extra_args=["--pin-threads", "no"]).start()
        try:
            conns = [srv.raw() for _ in range(32)]
            workers = {c.call("CLIENT", "INFO").decode().split("worker=")[1]
                       .split()[0] for c in conns}
            self.assertGreaterEqual(len(workers), 3, workers)  # of 4
            for i, c in enumerate(conns):
                self.assertEqual(c.call("SET", "c%d" % i, i), b"OK")
            for i, c in enumerate(conns):
                self.assertEqual(c.call("GET", "c%d" % ((i + 1) % 32)),
                                 str((i + 1) % 32).encode())
            for c in conns:
                c.close()
        finally:
            srv.stop_and_check()


if __name__ == "__main__":
    unittest.main()
