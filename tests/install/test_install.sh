#!/usr/bin/env bash
# Installs the build into a throwaway prefix and builds the embedded example
# the way a user would: through the installed header and pkg-config file,
# against the shared and then the static library.
set -euo pipefail
build_dir=$1
src_dir=$2
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT

cmake --install "$build_dir" --prefix "$prefix" >/dev/null
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
[ -f "$prefix/include/fastcache.h" ] || { echo "header not installed"; exit 1; }

cc "$src_dir/examples/embedded.c" $(pkg-config --cflags --libs fastcache) \
   -o "$prefix/embedded-shared"
LD_LIBRARY_PATH="$prefix/lib" "$prefix/embedded-shared" | grep -q "get greeting = hello"

cc "$src_dir/examples/embedded.c" $(pkg-config --cflags fastcache) \
   "$prefix/lib/libfastcache.a" $(pkg-config --libs-only-l --static libxxhash libzstd) -lpthread \
   -o "$prefix/embedded-static"
"$prefix/embedded-static" | grep -q "get greeting = hello"
echo "install: header, libraries and pkg-config file usable from $prefix"
