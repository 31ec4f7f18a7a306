# SPDX-License-Identifier: MIT
"""The package is typed (py.typed and .pyi stubs): mypy --strict passes on it and on
the examples, catches a misuse, and every public name has a declared type."""
import ast
import os
import subprocess
import sys

import pytest

import mpstate

pytest.importorskip("mypy")
PACKAGE = os.path.dirname(mpstate.__file__)
EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "python")


def mypy(tmp_path, *targets, cwd=None):
    env = dict(os.environ)
    site = os.path.dirname(PACKAGE)
    if os.path.basename(site) not in ("site-packages", "dist-packages"):
        env["MYPYPATH"] = site  # a build tree; installed (the wheel's venv), mypy finds it by py.typed
    return subprocess.run([sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache"),
                           *targets], capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


def test_the_package_ships_its_types():
    for name in ("py.typed", "__init__.pyi", "_core.pyi", "_proxies.pyi", "_errors.pyi"):
        assert os.path.exists(os.path.join(PACKAGE, name)), name


def test_every_public_name_has_a_declared_type():
    tree = ast.parse(open(os.path.join(PACKAGE, "__init__.pyi")).read())
    declared = {a.asname or a.name for node in tree.body if isinstance(node, ast.ImportFrom) for a in node.names}
    declared |= {node.name for node in tree.body if isinstance(node, (ast.ClassDef, ast.FunctionDef))}
    missing = set(mpstate.__all__) - declared
    assert not missing, f"not in __init__.pyi: {sorted(missing)}"


def test_mypy_strict_passes_on_the_package_and_the_examples(tmp_path):
    result = mypy(tmp_path, "-p", "mpstate")
    assert result.returncode == 0, result.stdout + result.stderr
    for example in sorted(os.listdir(EXAMPLES)):
        # the example's folder is its package root, whatever lies above the checkout
        result = mypy(tmp_path, "--explicit-package-bases", ".", cwd=os.path.join(EXAMPLES, example))
        assert result.returncode == 0, f"{example}: {result.stdout}{result.stderr}"


def test_mypy_catches_a_misuse(tmp_path):
    (tmp_path / "misuse.py").write_text(
        "import mpstate\n"
        "m = mpstate.connect('app')\n"
        "names: list[int] = m.names('jobs/')\n"          # list[str]
        "m.Lock(name=7)\n"                                # a name is a str
        "state: int = m.loop('l').wait_for('stopped')\n")  # a state is a str
    result = mypy(tmp_path, str(tmp_path / "misuse.py"))
    assert result.returncode == 1
    assert result.stdout.count("error:") == 3, result.stdout
