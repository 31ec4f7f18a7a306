# SPDX-License-Identifier: MIT
"""CPython's own tests judge mpstate: every test of Lib/test/lock_tests.py and of
the manager classes of Lib/test/_test_multiprocessing.py that passes for
multiprocessing.Manager() (run here, in the same invocation, as the reference)
passes for mpstate too, with fork and with spawn, or it is listed below with its
reason (docs/python.md shows the table). Its own ctest entry: python_conformance.
"""
import concurrent.futures
import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
RUNNER = os.path.join(HERE, "cpython_suites.py")

# Tests the Manager passes and mpstate does not, each with its reason.
DIFFERENCES = {
    "_test_multiprocessing._TestEvent.test_repr":
        "asserts the Manager's proxy repr (<EventProxy object, typeid 'Event' at ...>); mpstate's Event "
        "shows its name and state as multiprocessing.Event's repr does (<mpstate.Event at 0x... 'name': unset>)",
}
# Tests neither passes, each with the reason mpstate does not.
BOTH_FAIL = {
    "lock_tests.LockTests.test_at_fork_reinit":
        "_at_fork_reinit() resets a thread lock in a forked child; a shared lock is never reset by one process",
    "lock_tests.EventTests.test_at_fork_reinit":
        "the same, through threading.Event's private _cond",
    "lock_tests.ConditionTests.test_acquire":
        "passes a threading lock to Condition(); an mpstate Condition has its own shared lock "
        "(threading.Condition(mpstate_rlock) serves one process's threads)",
    "_test_multiprocessing._TestValue.test_rawvalue":
        "RawValue is no manager type (the test skips managers in CPython)",
    "_test_multiprocessing._TestArray.test_rawarray": "RawArray is no manager type (the same)",
    "_test_multiprocessing._TestValue.test_getobj_getlock":
        "get_lock()/get_obj() are multiprocessing.Value's wrapper over ctypes memory; an mpstate value is "
        "atomic itself (add, compare_exchange, update(fn)), with a Lock for wider critical sections",
    "_test_multiprocessing._TestArray.test_getobj_getlock_obj": "the same for Array",
}
# The Manager is the reference, run once, under fork: its results are the same under
# spawn (64/83 and 42/47 both; checked when this list was made) and its run is the
# slowest (34 s fork, 42 s spawn), so CI does not pay for it twice.
RUNS = [("mpstate", "fork"), ("mpstate", "spawn"), ("manager", "fork"), ("threading", "fork")]


def _run(impl, start):
    done = subprocess.run([sys.executable, RUNNER, "--impl", impl, "--start", start],
                          capture_output=True, text=True, timeout=900, env=os.environ.copy())
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def results():
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:  # two cores
        futures = {run: pool.submit(_run, *run) for run in RUNS}
        out = {run: f.result() for run, f in futures.items()}
    table = os.environ.get("MPSTATE_CONFORMANCE_TABLE")
    if table:
        with open(table, "w") as f:
            f.write(markdown_table(out))
    return out


def _passed(outcome):
    return outcome.startswith("ok")


def markdown_table(out):
    """The table docs/python.md shows: passed / run per suite and implementation."""
    lines = ["| suite | start | threading | multiprocessing.Manager | mpstate |", "| --- | --- | --- | --- | --- |"]
    for suite in ("lock_tests", "_test_multiprocessing"):
        for start in ("fork", "spawn"):
            cells = []
            for impl in ("threading", "manager", "mpstate"):
                run = out.get((impl, start if impl == "mpstate" else "fork"), {})
                tests = {k: v for k, v in run.items() if k.startswith(suite + ".") and v != "skip"}
                cells.append(f"{sum(map(_passed, tests.values()))} / {len(tests)}" if tests else "—")
            lines.append(f"| `{suite}` | {start} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_mpstate_passes_what_the_manager_passes(results, start):
    ours, reference = results[("mpstate", start)], results[("manager", "fork")]
    assert set(ours) == set(reference)
    worse = {t: ours[t] for t in reference if _passed(reference[t]) and not _passed(ours[t]) and t not in DIFFERENCES}
    assert not worse, "passes for the Manager, fails for mpstate (fix it, or list it with its reason):\n" + \
        "\n".join(f"{t}: {o}" for t, o in sorted(worse.items()))


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_every_failure_of_mpstate_is_listed_with_its_reason(results, start):
    failed = {t for t, o in results[("mpstate", start)].items() if not _passed(o) and o != "skip"}
    assert failed <= set(DIFFERENCES) | set(BOTH_FAIL), sorted(failed - set(DIFFERENCES) - set(BOTH_FAIL))


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_every_listed_difference_still_is_one(results, start):
    ours, reference = results[("mpstate", start)], results[("manager", "fork")]
    for test in DIFFERENCES:
        assert _passed(reference[test]) and not _passed(ours[test]), f"{test} is no difference any more: unlist it"
    for test in BOTH_FAIL:
        assert not _passed(ours[test]), f"{test} passes for mpstate now: unlist it"


def test_lock_tests_pass_for_threading_itself(results):
    # The suite is sound here: threading passes all of it, so a failure is the implementation's.
    run = results[("threading", "fork")]
    assert run and all(_passed(o) or o == "skip" for o in run.values())
