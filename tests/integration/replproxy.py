"""A TCP proxy for the replication tests: 127.0.0.1:<port> forwards to a
target port on 127.0.0.1 (a primary's FCRP port), so a test can break the
link between a replica and its primary without touching either process.

- cut():    resets every connection open now (RST to both ends); new ones
            are accepted again at once (a replica reconnects by itself).
- pause():  cut(), and from then on every new connection is closed as soon
            as it is accepted (the primary looks unreachable); resume() ends
            that.
- rate:     bytes per second forwarded in each direction (None: as fast as
            the sockets go), to make a snapshot last long enough to be cut
            in the middle; set_rate() changes it for open connections too.
- retarget(port): later connections go there (a primary restarted on
            another port).

Counters (read them any time): accepted, refused, down_bytes (target to
client, all connections), conn_down_bytes (the newest connection's).

One thread accepts; each connection has two pump threads. Every blocking
call has a timeout or is woken by cut()/close(), so close() always returns.
"""

import socket
import struct
import threading
import time

CHUNK = 64 * 1024


class _Conn:
    def __init__(self, client, upstream):
        self.client, self.upstream = client, upstream
        self.down_bytes = 0
        self.dead = False
        self.lock = threading.Lock()

    def end(self, reset):
        """Ends both sides once. reset: linger 0, so the close is an RST
        (what a broken link looks like); else a plain FIN. shutdown() wakes
        a pump thread blocked in recv or send; the sockets are closed by
        the pump threads as they leave."""
        with self.lock:
            if self.dead:
                return
            self.dead = True
        for s in (self.client, self.upstream):
            try:
                if reset:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                 struct.pack("ii", 1, 0))
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        for s in (self.client, self.upstream):
            try:
                s.close()
            except OSError:
                pass


class Proxy:
    def __init__(self, target_port, rate=None):
        self.target_port = target_port
        self.rate = rate
        self.paused = False
        self.accepted = 0
        self.refused = 0
        self.down_bytes = 0
        self.conns = []
        self.lock = threading.Lock()
        self.stopping = False
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(64)
        self.lsock.settimeout(0.1)
        self.port = self.lsock.getsockname()[1]
        self.thread = threading.Thread(target=self._accept_loop, daemon=True)
        self.thread.start()

    # --- control -------------------------------------------------------
    def cut(self):
        with self.lock:
            conns, self.conns = self.conns, []
        for c in conns:
            c.end(reset=True)
        return len(conns)

    def pause(self):
        self.paused = True
        self.cut()

    def resume(self):
        self.paused = False

    def set_rate(self, rate):
        self.rate = rate

    def retarget(self, port):
        self.target_port = port

    def open_connections(self):
        with self.lock:
            return sum(1 for c in self.conns if not c.dead)

    @property
    def conn_down_bytes(self):
        with self.lock:
            return self.conns[-1].down_bytes if self.conns else 0

    def close(self):
        self.stopping = True
        self.cut()
        self.thread.join(5)
        try:
            self.lsock.close()
        except OSError:
            pass

    # --- threads -------------------------------------------------------
    def _accept_loop(self):
        while not self.stopping:
            try:
                client, _ = self.lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            if self.paused or self.stopping:
                self.refused += 1
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                  struct.pack("ii", 1, 0))
                client.close()
                continue
            try:
                up = socket.create_connection(("127.0.0.1", self.target_port),
                                              timeout=2.0)
            except OSError:
                self.refused += 1
                client.close()
                continue
            for s in (client, up):
                s.settimeout(None)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = _Conn(client, up)
            with self.lock:
                self.conns.append(conn)
                self.accepted += 1
            for src, dst, down in ((client, up, False), (up, client, True)):
                threading.Thread(target=self._pump,
                                 args=(conn, src, dst, down),
                                 daemon=True).start()

    def _pump(self, conn, src, dst, down):
        clean = False
        try:
            while not conn.dead:
                data = src.recv(CHUNK if self.rate is None else
                                min(CHUNK, max(1024, int(self.rate) // 50)))
                if not data:
                    clean = True
                    break
                if conn.dead:
                    break
                dst.sendall(data)
                if down:
                    conn.down_bytes += len(data)
                    self.down_bytes += len(data)
                rate = self.rate
                if rate:
                    time.sleep(len(data) / float(rate))
        except OSError:
            pass
        finally:
            # One side ended: end the other too (a clean EOF is passed on as
            # a close, anything else as a reset).
            conn.end(reset=not clean)
            conn.close()
            with self.lock:
                if conn in self.conns:
                    self.conns.remove(conn)
