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
# Runs a step with its output kept aside, shown only if the step fails.
quiet() { "$@" >"$work/step.log" 2>&1 || { cat "$work/step.log"; echo "failed: $*" >&2; return 1; }; }

quiet cmake --install "$build" --prefix "$work/prefix"
# The unit runs the manager of the prefix it was installed to; its account is declared.
grep -qx "ExecStart=$work/prefix/bin/mpstate-manager .*" "$work/prefix/lib/systemd/system/mpstate@.service"
grep -q '^u mpstate ' "$work/prefix/lib/sysusers.d/mpstate.conf"
quiet cmake -S "$src/tests/consumer/find_package" -B "$work/installed" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_PREFIX_PATH="$work/prefix"
quiet cmake --build "$work/installed"
"$work/installed/consumer"
if command -v pkg-config >/dev/null; then
  [[ $(PKG_CONFIG_PATH=$work/prefix/lib/pkgconfig pkg-config --modversion mpstate) == "$(sed -n 's/^project(mpstate VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")" ]]
fi

# The embedded build also takes the shared-library option (the installed one is static).
quiet cmake -S "$src/tests/consumer/subdirectory" -B "$work/embedded" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DMPSTATE_SOURCE_DIR="$src" -DMPSTATE_SHARED_LIBS=ON
quiet cmake --build "$work/embedded" --target consumer mpstate-manager
[[ ! -e "$work/embedded/mpstate/tests" ]]  # not the top-level project: no tests built
# Not `ldd | grep -q`: grep's early exit can SIGPIPE ldd, and pipefail then fails the step.
libraries=$(ldd "$work/embedded/consumer")
[[ $libraries == *libmpstate_client.so.* ]] || { echo "consumer not linked to libmpstate_client.so: $libraries" >&2; exit 1; }
MPSTATE_MANAGER="$work/embedded/mpstate/manager/mpstate-manager" "$work/embedded/consumer"
echo "consumer projects: find_package, pkg-config and add_subdirectory (shared libraries) all work"
