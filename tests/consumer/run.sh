#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# CTest's consumer_projects: mpstate as another project uses it. Installs the build
# to a temporary prefix and builds + runs a find_package(mpstate) consumer (and
# checks pkg-config), then a consumer that add_subdirectory()s the source tree in a
# plain Release build with shared libraries.   run.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
work=$(mktemp -d /tmp/mpstate-consumer.XXXXXX)
trap 'rm -rf "$work"' EXIT
export MPSTATE_RUNTIME_DIR=$work/run && mkdir -m 0700 "$MPSTATE_RUNTIME_DIR"

cmake --install "$build" --prefix "$work/prefix" >/dev/null
# The unit runs the manager of the prefix it was installed to; its account is declared.
grep -qx "ExecStart=$work/prefix/bin/mpstate-manager .*" "$work/prefix/lib/systemd/system/mpstate@.service"
grep -q '^u mpstate ' "$work/prefix/lib/sysusers.d/mpstate.conf"
cmake -S "$src/tests/consumer/find_package" -B "$work/installed" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/installed" >/dev/null
"$work/installed/consumer"
if command -v pkg-config >/dev/null; then
  [[ $(PKG_CONFIG_PATH=$work/prefix/lib/pkgconfig pkg-config --modversion mpstate) == "$(sed -n 's/^project(mpstate VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")" ]]
fi

# The embedded build also takes the shared-library option (the installed one is static).
cmake -S "$src/tests/consumer/subdirectory" -B "$work/embedded" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DMPSTATE_SOURCE_DIR="$src" -DMPSTATE_SHARED_LIBS=ON >/dev/null
cmake --build "$work/embedded" --target consumer mpstate-manager >/dev/null
[[ ! -e "$work/embedded/mpstate/tests" ]]  # not the top-level project: no tests built
ldd "$work/embedded/consumer" | grep -q 'libmpstate_client\.so\.'
MPSTATE_MANAGER="$work/embedded/mpstate/manager/mpstate-manager" "$work/embedded/consumer"
echo "consumer projects: find_package, pkg-config and add_subdirectory (shared libraries) all work"
