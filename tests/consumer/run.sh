#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# CTest's consumer_projects: mpstate as another project uses it. Installs the build
# to a temporary prefix and builds + runs a find_package(mpstate) consumer (and
# checks pkg-config), then a consumer that add_subdirectory()s the source tree in a
# plain Release build.   run.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
work=$(mktemp -d /tmp/mpstate-consumer.XXXXXX)
trap 'rm -rf "$work"' EXIT
export MPSTATE_RUNTIME_DIR=$work/run && mkdir -m 0700 "$MPSTATE_RUNTIME_DIR"

cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S "$src/tests/consumer/find_package" -B "$work/installed" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/installed" >/dev/null
"$work/installed/consumer"
if command -v pkg-config >/dev/null; then
  [[ $(PKG_CONFIG_PATH=$work/prefix/lib/pkgconfig pkg-config --modversion mpstate) == "$(sed -n 's/^project(mpstate VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")" ]]
fi

cmake -S "$src/tests/consumer/subdirectory" -B "$work/embedded" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DMPSTATE_SOURCE_DIR="$src" >/dev/null
cmake --build "$work/embedded" --target consumer mpstate-manager >/dev/null
[[ ! -e "$work/embedded/mpstate/tests" ]]  # not the top-level project: no tests built
MPSTATE_MANAGER="$work/embedded/mpstate/manager/mpstate-manager" "$work/embedded/consumer"
echo "consumer projects: find_package, pkg-config and add_subdirectory all work"
