#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The package as a user gets it: a wheel made with `python3 -m build --wheel
# --no-isolation`, pip-installed into a fresh venv, then the programs, the FastAPI
# story and the install-sensitive tests run from that venv with no PYTHONPATH and no
# MPSTATE_MANAGER: everything must come from the wheel.
#   wheel_in_a_fresh_venv.sh SOURCE_DIR CMAKE_BUILD_DIR [PYTHON]
# CMAKE_BUILD_DIR is reused (ctest passes build/release, configured self-contained);
# an empty or new directory gets a full Release build of its own.
set -euo pipefail
source_dir=$(realpath "$1") build_dir=$(realpath -m "$2") python=${3:-/usr/bin/python3}
work=$(mktemp -d /tmp/mpstate-wheel.XXXXXX)
trap 'rm -rf "$work"' EXIT

step() { echo "== $*"; }
step "python3 -m build --wheel --no-isolation"
if ! MPSTATE_CMAKE_BUILD_DIR=$build_dir "$python" -m build --wheel --no-isolation --outdir "$work/dist" \
       "$source_dir/python" >"$work/build.log" 2>&1; then
  cat "$work/build.log"; exit 1
fi
wheel=$(echo "$work"/dist/mpstate-*.whl)
"$python" - "$wheel" <<'PY'
import sys, zipfile
names = set(zipfile.ZipFile(sys.argv[1]).namelist())
needed = {"mpstate/__init__.py", "mpstate/bin/mpstate-manager", "mpstate/bin/mpstate", "mpstate/bin/mpstate-dump"}
missing = needed - names
assert not missing, f"the wheel lacks {sorted(missing)}"
assert any(n.startswith("mpstate/_core") and n.endswith(".so") for n in names), "the wheel lacks _core"
print(sys.argv[1].rsplit("/", 1)[1], len(names), "files")
PY

step "a fresh venv (Debian's pytest, fastapi and httpx through --system-site-packages)"
"$python" -m venv --system-site-packages "$work/venv"
"$work/venv/bin/pip" install --quiet --no-index --no-deps "$wheel"
"$work/venv/bin/pip" show mpstate | grep -E '^(Name|Version|Location):'
unset PYTHONPATH MPSTATE_MANAGER
cd "$work"
venv_python=$work/venv/bin/python

step "the package and its programs come from the venv"
"$venv_python" - "$work/venv" <<'PY'
import os, subprocess, sys
import mpstate
from mpstate import _programs
venv = sys.argv[1]
assert mpstate.__file__.startswith(venv), mpstate.__file__
for program in ("mpstate-manager", "mpstate", "mpstate-dump"):
    path = _programs.program_path(program)
    assert path.startswith(venv), f"{program} is {path}, not the wheel's"
    needs = subprocess.run(["ldd", path], capture_output=True, text=True).stdout
    for library in ("hiredis", "boost", "spdlog", "fmt"):
        assert f"lib{library}" not in needs, f"{program} needs lib{library}: {needs}"
with mpstate.Manager(size="1M") as m:
    v = m.Value("i", 41, name="n")
    assert v.add(1) == 42
print("mpstate", mpstate.__version__, "from", os.path.dirname(mpstate.__file__))
PY
"$work/venv/bin/mpstate" --version
"$venv_python" -m mpstate --version
"$work/venv/bin/mpstate-manager" --help >/dev/null
"$work/venv/bin/mpstate-dump" --help >/dev/null

# What depends on how the package is installed: children started by fork and spawn,
# the web servers' workers, types found by py.typed, values, lifetimes. (The rest of
# the suite runs in python_tests against the build tree.)
step "pytest from the venv: the FastAPI story, many workers, processes, types, values, lifetimes"
tests=$source_dir/python/tests
"$venv_python" -m pytest -q -p no:cacheprovider "$tests/test_fastapi_story.py" "$tests/test_many_workers.py" \
  "$tests/test_processes.py" "$tests/test_typing.py" "$tests/test_values.py" "$tests/test_lifetimes.py"
