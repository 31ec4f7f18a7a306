# SPDX-License-Identifier: MIT
"""mpstate's programs (mpstate-manager, the mpstate CLI, mpstate-dump) as this
package finds them, and the console scripts that run them.

The package looks for its own copy first, so that an installed package never starts
some other build's manager:

1. ``mpstate/bin/<program>``: the wheel carries the programs it was built with;
2. ``<prefix>/bin/<program>`` when the package sits in
   ``<prefix>/lib/pythonX.Y/{site,dist}-packages`` (``cmake --install --prefix``);
3. the build tree's, when the package is ``<build>/python/mpstate``;
4. the first ``<program>`` on ``$PATH``.

``$MPSTATE_MANAGER`` (or ``Manager(executable=...)``) overrides the manager.
"""

import os
import shutil
import sys

_PACKAGE = os.path.dirname(os.path.abspath(__file__))
# setup.py reads this table too (which programs the wheel carries): keep it one line.
_BUILD_TREE_DIRS = {"mpstate-manager": "manager", "mpstate": "client", "mpstate-dump": "client"}


def _candidates(program):
    yield os.path.join(_PACKAGE, "bin", program)
    site = os.path.dirname(_PACKAGE)
    if os.path.basename(site) in ("site-packages", "dist-packages"):
        prefix = os.path.dirname(os.path.dirname(os.path.dirname(site)))  # <prefix>/lib/pythonX.Y/
        yield os.path.join(prefix, "bin", program)
    if os.path.basename(site) == "python" and program in _BUILD_TREE_DIRS:
        yield os.path.join(os.path.dirname(site), _BUILD_TREE_DIRS[program], program)


def program_path(program):
    """The path of `program` ("mpstate-manager", "mpstate", "mpstate-dump") this
    package runs; FileNotFoundError when there is none."""
    if program not in _BUILD_TREE_DIRS:
        raise ValueError(f"unknown program {program!r}: one of {sorted(_BUILD_TREE_DIRS)}")
    for candidate in _candidates(program):
        if os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(program)
    if found:
        return found
    raise FileNotFoundError(f"{program} is neither in this package ({_PACKAGE}/bin) nor on $PATH; "
                            f"install the wheel, or `make install`")


def manager_executable():
    """The manager a Manager() starts: $MPSTATE_MANAGER, else the package's own."""
    return os.environ.get("MPSTATE_MANAGER") or program_path("mpstate-manager")


def _run(program):
    path = program_path(program)
    try:
        os.execv(path, [program] + sys.argv[1:])
    except OSError as e:
        sys.exit(f"{program}: cannot run {path}: {e.strerror}")


def cli():
    """The console script `mpstate` and ``python -m mpstate``: the operator's CLI.
    Its `dashboard` command runs this interpreter (a venv's, say) with this package."""
    os.environ.setdefault("MPSTATE_PYTHON", sys.executable)
    _run("mpstate")


def manager():
    """The console script `mpstate-manager`."""
    _run("mpstate-manager")


def dump():
    """The console script `mpstate-dump`."""
    _run("mpstate-dump")
