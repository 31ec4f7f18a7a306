# SPDX-License-Identifier: MIT
"""CPython's own tests for what mpstate replaces, run unchanged against mpstate,
against multiprocessing.Manager() (the reference) and, for lock_tests, against
threading itself.

- Lib/test/lock_tests.py: LockTests ... BarrierTests take a factory, as
  test_threading uses them.
- Lib/test/_test_multiprocessing.py: the manager classes (_TestQueue ...
  _TestSemaphore) over a mixin that gives them the objects, as CPython's
  test_multiprocessing_{fork,spawn} do.

    /usr/bin/python3 cpython_suites.py --impl mpstate --start spawn  # JSON: {test id: "ok" | "skip" | "FAIL: ..."}

The classes are made at import under module-level names, so that spawned children
(which unpickle a test by its class's module and name) find them here.
"""
import argparse
import json
import multiprocessing
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.append(f"/usr/lib/python3.{sys.version_info.minor}")  # Debian's libpython3.X-testsuite
from test import _test_multiprocessing as mp_tests  # noqa: E402
from test import lock_tests  # noqa: E402

import mpstate  # noqa: E402

LOCK_CLASSES = {  # lock_tests class -> its factory attribute and the type it names
    "LockTests": ("locktype", "Lock"), "RLockTests": ("locktype", "RLock"),
    "EventTests": ("eventtype", "Event"), "ConditionTests": ("condtype", "Condition"),
    "SemaphoreTests": ("semtype", "Semaphore"), "BoundedSemaphoreTests": ("semtype", "BoundedSemaphore"),
    "BarrierTests": ("barriertype", "Barrier"),
}
MANAGER_CLASSES = ["_TestQueue", "_TestContainers", "_TestValue", "_TestArray", "_TestBarrier",
                   "_TestEvent", "_TestCondition", "_TestLock", "_TestSemaphore"]
IMPLEMENTATIONS = ("mpstate", "manager", "threading")


class MpstateMixin(mp_tests.ManagerMixin):
    """ManagerMixin with an mpstate.Manager in place of multiprocessing's."""

    @classmethod
    def setUpClass(cls):
        mp_tests.BaseMixin.setUpClass.__func__(cls)
        cls.manager = mpstate.Manager(size="64M")

    @classmethod
    def tearDownClass(cls):
        cls.manager.shutdown()
        cls.manager = None
        mp_tests.BaseMixin.tearDownClass.__func__(cls)


class _Factories:
    """The objects lock_tests' classes make, from one source for the whole run."""
    source = None

    @classmethod
    def start(cls, impl):
        if impl == "mpstate":
            cls.source = mpstate.Manager(size="64M")
        elif impl == "manager":
            cls.source = multiprocessing.Manager()
        else:
            cls.source = threading

    @classmethod
    def stop(cls):
        if hasattr(cls.source, "shutdown"):
            cls.source.shutdown()
        cls.source = None


def _factory(kind):
    return staticmethod(lambda *args, **kwargs: getattr(_Factories.source, kind)(*args, **kwargs))


def _install():
    for impl in IMPLEMENTATIONS:
        for name, (attribute, kind) in LOCK_CLASSES.items():
            cls = type(f"{impl}_{name}", (getattr(lock_tests, name),), {attribute: _factory(kind)})
            cls.__module__ = __name__
            globals()[cls.__name__] = cls
    for impl, mixin in (("mpstate", MpstateMixin), ("manager", mp_tests.ManagerMixin)):
        for name in MANAGER_CLASSES:
            cls = type(f"{impl}{name}", (getattr(mp_tests, name), mixin, unittest.TestCase), {})
            cls.__module__ = __name__
            globals()[cls.__name__] = cls


_install()


def _run_class(cls, retries):
    """{test id: outcome}; a failure is run again up to `retries` times (timing
    checks on a loaded machine), and counts as passed when a retry passes."""
    out = {}
    suite = unittest.TestLoader().loadTestsFromTestCase(cls)
    result = unittest.TestResult()
    suite.run(result)
    failed = {t.id().rsplit(".", 1)[-1]: tb for t, tb in result.failures + result.errors if hasattr(t, "id")}
    for t, tb in result.errors:  # setUpClass / tearDownClass
        if not hasattr(t, "id") or t.id().rsplit(".", 1)[-1] not in failed:
            failed.setdefault("<class>", tb)
    skipped = {t.id().rsplit(".", 1)[-1] for t, _ in result.skipped}
    for test in unittest.TestLoader().getTestCaseNames(cls):
        if test in skipped:
            out[test] = "skip"
        elif test in failed:
            for _ in range(retries):
                again = unittest.TestResult()
                unittest.TestLoader().loadTestsFromName(test, cls).run(again)
                if again.wasSuccessful() and not again.skipped:
                    out[test] = "ok (passed on a retry)"
                    break
            else:
                out[test] = "FAIL: " + failed[test].strip().splitlines()[-1][:300]
        else:
            out[test] = "ok"
    if "<class>" in failed:
        out["<class>"] = "FAIL: " + failed["<class>"].strip().splitlines()[-1][:300]
    return out


def run(impl, start, retries=2):
    """Every suite for one implementation and start method: {"suite.Class.test": outcome}."""
    multiprocessing.set_start_method(start, force=True)
    results = {}
    _Factories.start(impl)
    try:
        for name in LOCK_CLASSES:
            for test, outcome in _run_class(globals()[f"{impl}_{name}"], retries).items():
                results[f"lock_tests.{name}.{test}"] = outcome
    finally:
        _Factories.stop()
    if impl != "threading":
        for name in MANAGER_CLASSES:
            began = time.monotonic()
            for test, outcome in _run_class(globals()[f"{impl}{name}"], retries).items():
                results[f"_test_multiprocessing.{name}.{test}"] = outcome
            print(f"{impl} {start} {name}: {time.monotonic() - began:.1f} s", file=sys.stderr)
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--impl", choices=IMPLEMENTATIONS, required=True)
    parser.add_argument("--start", choices=("fork", "spawn", "forkserver"), default="fork")
    parser.add_argument("--retries", type=int, default=2)
    args = parser.parse_args()
    print(json.dumps(run(args.impl, args.start, args.retries), indent=1, sort_keys=True))
