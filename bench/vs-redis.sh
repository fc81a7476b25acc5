#!/usr/bin/env bash
# vs-redis.sh — fast-cache-server and redis-server side by side under the same
# redis-benchmark load, runs interleaved so both see the same machine state.
#
# Env overrides:
#   FC_SERVER     fast-cache binary        (default: <repo>/build/fast-cache-server)
#   REDIS_SERVER  redis-server binary      (default: redis-server on PATH)
#   FC_THREADS    fast-cache --threads     (default: 2)
#   FC_ARGS       more fast-cache flags    (e.g. "--pin-threads no")
#   BENCH_N       requests per run         (default: 200000)
#   BENCH_C       parallel clients         (default: 50)
#   BENCH_TESTS   redis-benchmark tests    (default: set,get,incr,mset)
#   BENCH_PIPES   pipeline depths          (default: "1 16")
# FC_SERVER may point at a redis-server too (to validate this script).
# Servers listen on 127.0.0.1 only and are stopped on exit, whatever happens.
# Keys are not flushed between runs: both servers get the same command
# sequence, so GET finds what the SET run left.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FC_SERVER="${FC_SERVER:-$ROOT/build/fast-cache-server}"
REDIS_SERVER="${REDIS_SERVER:-$(command -v redis-server || true)}"
FC_THREADS="${FC_THREADS:-2}"
FC_ARGS="${FC_ARGS:-}"
BENCH_N="${BENCH_N:-200000}"
BENCH_C="${BENCH_C:-50}"
BENCH_TESTS="${BENCH_TESTS:-set,get,incr,mset}"
BENCH_PIPES="${BENCH_PIPES:-1 16}"
BENCH="$(command -v redis-benchmark || true)"
CLI="$(command -v redis-cli || true)"

die() { echo "vs-redis: $*" >&2; exit 1; }
[[ -x "$FC_SERVER" ]] || die "fast-cache server not found: $FC_SERVER (build first)"
[[ -n "$REDIS_SERVER" && -x "$REDIS_SERVER" ]] || die "redis-server not found"
[[ -n "$BENCH" && -n "$CLI" ]] || die "redis-benchmark/redis-cli not found (redis-tools)"

TMP="$(mktemp -d)"
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        # bounded wait, then force
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_server NAME BINARY PORT [threads]
start_server() {
    local name=$1 bin=$2 port=$3 threads=${4:-}
    local log="$TMP/$name.log"
    if [[ "$(basename "$bin")" == redis-server* ]]; then
        "$bin" --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
            --daemonize no >"$log" 2>&1 &
    else
        # shellcheck disable=SC2086 # FC_ARGS is a list of flags
        "$bin" --bind 127.0.0.1 --port "$port" ${threads:+--threads "$threads"} \
            $FC_ARGS >"$log" 2>&1 &
    fi
    PIDS+=($!)
    for _ in $(seq 100); do # 10 s
        if [[ "$("$CLI" -h 127.0.0.1 -p "$port" PING 2>/dev/null)" == PONG ]]; then
            return 0
        fi
        kill -0 "${PIDS[-1]}" 2>/dev/null || break
        sleep 0.1
    done
    cat "$log" >&2
    die "$name did not answer PING on port $port"
}

# run_bench PORT TEST PIPE -> "rps p50 p99"
run_bench() {
    local port=$1 test=$2 pipe=$3
    "$BENCH" -h 127.0.0.1 -p "$port" -c "$BENCH_C" -d 64 -r 1000000 \
        -n "$BENCH_N" -P "$pipe" -t "$test" --csv 2>/dev/null |
        awk -F'","' 'NR > 1 { gsub(/"/, "", $0); split($0, f, ",");
                     print f[2], f[5], f[7]; exit }'
}

RPORT=$(free_port)
start_server redis "$REDIS_SERVER" "$RPORT"
FPORT=$(free_port)
while [[ "$FPORT" == "$RPORT" ]]; do FPORT=$(free_port); done
start_server fast-cache "$FC_SERVER" "$FPORT" "$FC_THREADS"

echo "redis-benchmark -c $BENCH_C -d 64 -r 1000000 -n $BENCH_N; fast-cache --threads $FC_THREADS $FC_ARGS; $(nproc) cores"
echo "redis: $REDIS_SERVER (port $RPORT)   fast-cache: $FC_SERVER (port $FPORT)"
echo
printf '%-6s %4s %12s %12s %7s %17s %17s\n' test pipe redis_rps fc_rps fc/redis \
    "redis p50/p99" "fc p50/p99"
row=0
for test in ${BENCH_TESTS//,/ }; do
    for pipe in $BENCH_PIPES; do
        # alternate which server goes first so drift does not favour one
        if (( row % 2 == 0 )); then
            r=$(run_bench "$RPORT" "$test" "$pipe")
            f=$(run_bench "$FPORT" "$test" "$pipe")
        else
            f=$(run_bench "$FPORT" "$test" "$pipe")
            r=$(run_bench "$RPORT" "$test" "$pipe")
        fi
        row=$((row + 1))
        read -r rrps rp50 rp99 <<<"${r:-0 - -}"
        read -r frps fp50 fp99 <<<"${f:-0 - -}"
        ratio=$(awk -v a="$frps" -v b="$rrps" 'BEGIN { printf (b > 0 ? "%.2f" : "-"), a / b }')
        printf '%-6s %4s %12.0f %12.0f %7s %17s %17s\n' "$test" "$pipe" \
            "$rrps" "$frps" "$ratio" "$rp50/$rp99 ms" "$fp50/$fp99 ms"
    done
done

# A transaction against a plain command, on one worker (EXEC inline).
if command -v python3 >/dev/null; then
    XPORT=$(free_port)
    start_server fast-cache-1 "$FC_SERVER" "$XPORT" 1
    echo
    echo "EXEC cost (bench/exec-cost.py):"
    printf '  redis-server:             '; python3 "$ROOT/bench/exec-cost.py" "$RPORT" | paste -sd' '
    printf '  fast-cache --threads 1:   '; python3 "$ROOT/bench/exec-cost.py" "$XPORT" | paste -sd' '
fi
