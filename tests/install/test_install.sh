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

# A non-system prefix, as the README says: with an rpath the program runs
# without LD_LIBRARY_PATH.
cc "$src_dir/examples/embedded.c" $(pkg-config --cflags --libs fastcache) \
   -Wl,-rpath,"$prefix/lib" -o "$prefix/embedded-rpath"
env -u LD_LIBRARY_PATH "$prefix/embedded-rpath" | grep -q "get greeting = hello"

# A system prefix runs ldconfig (not done here: it would change this
# machine); check the install script has that step for /usr/local, and
# that /usr/local/lib is on the loader's path so that ldconfig suffices.
grep -q 'COMMAND ldconfig' "$build_dir/cmake_install.cmake" ||
  { echo "install step does not run ldconfig"; exit 1; }
if [ -d /etc/ld.so.conf.d ]; then
  grep -rqs '/usr/local/lib' /etc/ld.so.conf /etc/ld.so.conf.d/ ||
    echo "note: /usr/local/lib is not in ld.so.conf on this machine"
fi

cc "$src_dir/examples/embedded.c" $(pkg-config --cflags fastcache) \
   "$prefix/lib/libfastcache.a" $(pkg-config --libs-only-l --static libxxhash libzstd) -lpthread \
   -o "$prefix/embedded-static"
"$prefix/embedded-static" | grep -q "get greeting = hello"
echo "install: header, libraries and pkg-config file usable from $prefix"
