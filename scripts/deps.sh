#!/usr/bin/env bash
# Installs the Debian packages fast-cache builds, tests and benchmarks with,
# skipping those already present. Run as root (or with sudo available).
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config clang llvm libclang-rt-14-dev cppcheck
  libxxhash-dev      # XXH3 key hashing, WAL and snapshot checksums
  libzstd-dev        # snapshot and replication compression
  liblz4-dev         # replication (FCRP) frame compression
  liburing-dev       # io_uring event loop
  libinih-dev        # config file parsing
  libmicrohttpd-dev  # the Prometheus endpoint (--metrics-bind)
  libcmocka-dev      # unit tests
  libhiredis-dev     # C integration tests and the embedded-vs-redis bench
  liblua5.1-0-dev lua-cjson-dev lua-bitop-dev # scripting (EVAL): Lua 5.1, cjson, bit
  libglib2.0-dev uthash-dev libck-dev # in-process peers in fast-cache-bench only
  redis-server redis-tools python3 python3-redis # real peers and clients
  procps
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
# The Debian package starts a redis-server on 6379; tests start their own.
if command -v systemctl >/dev/null 2>&1; then
  $SUDO systemctl disable --now redis-server >/dev/null 2>&1 || true
fi
