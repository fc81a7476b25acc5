#!/bin/sh
# info-poller.sh — GET latency while a monitoring client polls INFO every
# 10 ms (issue 9: introspection must not stop the world). Starts
# fast-cache-server on 127.0.0.1, loads a key, runs redis-benchmark -t get
# (bounded -n) once without and once with the poller, and prints the
# p50/p99 lines of each. Asserts nothing: the figures are for reading.
#
#   bench/info-poller.sh [server-binary]     env: N (default 200000),
#   THREADS (default 2), CLIENTS (default 50), FC_ARGS (extra flags)
set -eu
BIN=${1:-build/fast-cache-server}
N=${N:-200000}
THREADS=${THREADS:-2}
CLIENTS=${CLIENTS:-50}
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN" --bind 127.0.0.1 --port "$PORT" --threads "$THREADS" --pin-threads no \
    ${FC_ARGS:-} >/dev/null 2>&1 &
SRV=$!
trap 'kill $SRV 2>/dev/null; [ -n "${POLL:-}" ] && kill $POLL 2>/dev/null; true' EXIT
i=0
until redis-cli -p "$PORT" ping >/dev/null 2>&1; do
    i=$((i + 1)); [ $i -gt 100 ] && { echo "server did not start"; exit 1; }
    sleep 0.1
done
redis-cli -p "$PORT" set key:__rand_int__ v >/dev/null
run() {
    redis-benchmark -p "$PORT" -t get -n "$N" -c "$CLIENTS" -r 1000 --csv \
        2>/dev/null | tail -1
}
echo "test,rps,avg_ms,min_ms,p50_ms,p95_ms,p99_ms,max_ms"
echo "== no poller"; run
# The poller: INFO every 10 ms, bounded to the benchmark's lifetime.
python3 - "$PORT" <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
for _ in range(60000):  # at most 10 minutes
    s.sendall(b"*1\r\n$4\r\nINFO\r\n")
    data = b""
    while True:  # one bulk reply: $<n>\r\n<n bytes>\r\n
        chunk = s.recv(65536)
        if not chunk:
            sys.exit(0)
        data += chunk
        if b"\r\n" in data:
            h = data.index(b"\r\n")
            if len(data) >= h + 2 + int(data[1:h]) + 2:
                break
    time.sleep(0.01)
PY
POLL=$!
sleep 0.2
echo "== INFO every 10 ms"; run
