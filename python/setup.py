# SPDX-License-Identifier: MIT
"""Builds the mpstate wheel with the project's CMake (the pattern of pybind11's
cmake_example): the extension module mpstate._core and mpstate's programs
(mpstate-manager, mpstate, mpstate-dump), linked with hiredis and
Boost.ProgramOptions statically (MPSTATE_SELF_CONTAINED), go into the wheel, the
programs under mpstate/bin where the package looks first (mpstate/_programs.py).

Environment:
  MPSTATE_CMAKE_BUILD_DIR  a CMake build tree to use; an existing, configured one
                           (build/release, say) is only built, not configured again
  CMAKE_BUILD_PARALLEL_LEVEL  jobs (default: every CPU)
"""

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

SOURCE = Path(__file__).resolve().parent.parent  # the repository: CMake's top level


def programs():
    """mpstate/_programs.py's table of the programs and their build-tree folders
    (read from the file: the package cannot be imported before _core is built)."""
    text = (SOURCE / "python" / "mpstate" / "_programs.py").read_text()
    return ast.literal_eval(re.search(r"^_BUILD_TREE_DIRS = (\{.*?\})$", text, re.M).group(1))


PROGRAMS = programs()
TARGETS = ["mpstate_python", "mpstate-manager", "mpstate-cli", "mpstate-dump"]


def project_version():
    text = (SOURCE / "CMakeLists.txt").read_text()
    return re.search(r"project\(mpstate VERSION ([0-9.]+)", text).group(1)


def cache_value(build_dir, name):
    cache = build_dir / "CMakeCache.txt"
    if not cache.exists():
        return None
    match = re.search(rf"^{name}:\w+=(.*)$", cache.read_text(), re.M)
    return match.group(1) if match else None


class CMakeExtension(Extension):
    def __init__(self, name):
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build_dir = Path(os.environ.get("MPSTATE_CMAKE_BUILD_DIR") or Path(self.build_temp) / "cmake").resolve()
        if cache_value(build_dir, "CMAKE_HOME_DIRECTORY") is None:
            self.configure(build_dir)
        if cache_value(build_dir, "MPSTATE_SELF_CONTAINED") != "ON":
            sys.exit(f"{build_dir} is not configured with -DMPSTATE_SELF_CONTAINED=ON: its programs "
                     f"would need hiredis and Boost at run time")
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL") or str(os.cpu_count() or 1)
        subprocess.run(["cmake", "--build", str(build_dir), "--parallel", jobs, "--target", *TARGETS], check=True)

        module = next((build_dir / "python" / "mpstate").glob("_core*.so"))
        target = Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        self.install_stripped(module, target)
        bin_dir = target.parent / "bin"
        bin_dir.mkdir(exist_ok=True)
        for program, folder in PROGRAMS.items():
            self.install_stripped(build_dir / folder / program, bin_dir / program)

    def configure(self, build_dir):
        generator = ["-G", "Ninja"] if shutil.which("ninja") else []
        subprocess.run(["cmake", "-S", str(SOURCE), "-B", str(build_dir), *generator,
                        "-DCMAKE_BUILD_TYPE=Release", "-DMPSTATE_BUILD_TESTS=OFF", "-DMPSTATE_PYTHON=ON",
                        "-DMPSTATE_SELF_CONTAINED=ON", f"-DPython_EXECUTABLE={sys.executable}"], check=True)

    @staticmethod
    def install_stripped(source, target):
        """A copy without debug information (the release preset builds with -g)."""
        shutil.copy2(source, target)
        if shutil.which("strip"):
            subprocess.run(["strip", "--strip-debug", str(target)], check=True)


setup(
    version=project_version(),
    ext_modules=[CMakeExtension("mpstate._core")],
    cmdclass={"build_ext": CMakeBuild},
    zip_safe=False,
)
