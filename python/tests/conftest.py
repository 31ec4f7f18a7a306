# SPDX-License-Identifier: MIT
"""A real manager per test (mpstate-manager as a child process of the test)."""
import itertools
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))  # workers.py, for spawned children

import mpstate  # noqa: E402

_names = itertools.count()


@pytest.fixture
def manager():
    with mpstate.Manager(name=f"py-{os.getpid()}-{next(_names)}", size="16M") as m:
        yield m
