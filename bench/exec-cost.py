#!/usr/bin/env python3
"""What a transaction costs against a plain command, server side: the time
per `SET k v` pipelined in batches, against the time per `MULTI; SET k v;
EXEC`, on one connection (one key, so on fast-cache --threads 1 the EXEC
runs inline on the connection's worker). Prints ns per SET and per
transaction and their ratio. Usage: exec-cost.py PORT [N]"""

import socket
import sys
import time


def enc(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def run(sock, batch, reply_len, rounds):
    t0 = time.perf_counter()
    for _ in range(rounds):
        sock.sendall(batch)
        need = reply_len
        while need > 0:
            chunk = sock.recv(1 << 20)
            if not chunk:
                raise SystemExit("server closed the connection")
            need -= len(chunk)
    return time.perf_counter() - t0


def main():
    port = int(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 200000
    per = 200  # commands (or transactions) per pipelined batch
    rounds = max(1, n // per)
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    setc = enc(b"SET", b"bench:exec", b"v" * 64)
    plain = setc * per
    tx = (enc(b"MULTI") + setc + enc(b"EXEC")) * per
    plain_reply = len(b"+OK\r\n") * per
    tx_reply = len(b"+OK\r\n+QUEUED\r\n*1\r\n+OK\r\n") * per
    run(s, plain, plain_reply, rounds // 10 + 1)  # warm up
    best_plain = min(run(s, plain, plain_reply, rounds) for _ in range(3))
    best_tx = min(run(s, tx, tx_reply, rounds) for _ in range(3))
    ns_plain = best_plain / (rounds * per) * 1e9
    ns_tx = best_tx / (rounds * per) * 1e9
    print("SET %.0f ns, MULTI+SET+EXEC %.0f ns, ratio %.2f (pipelined x%d, "
          "best of 3, client time included)" % (ns_plain, ns_tx,
                                                ns_tx / ns_plain, per))
    # The server's own timing (INFO commandstats): EXEC's usec includes
    # the SET it runs.
    s.sendall(enc(b"INFO", b"commandstats"))
    time.sleep(0.2)
    text = s.recv(1 << 20).decode("utf-8", "replace")
    per_call = {}
    for line in text.split("\r\n"):
        if line.startswith("cmdstat_"):
            name, _, rest = line[len("cmdstat_"):].partition(":")
            for kv in rest.split(","):
                k, _, v = kv.partition("=")
                if k == "usec_per_call":
                    per_call[name] = float(v)
    if {"set", "multi", "exec"} <= per_call.keys():
        print("server side, usec per call: set %.3f, multi %.3f, exec %.3f "
              "(exec includes its set)" % (per_call["set"], per_call["multi"],
                                           per_call["exec"]))


if __name__ == "__main__":
    main()
