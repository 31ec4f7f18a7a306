# SPDX-License-Identifier: MIT
"""Unnamed proxies live as Python's Manager's objects do: while any process holds a
proxy to them. Named variables stay until removed."""
import multiprocessing
import pickle
import time

import pytest

import mpstate
import workers


def _until(condition, timeout=15):
    """Polls `condition` until it holds (a deadline, not a sleep as synchronisation)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "not within the deadline"
        time.sleep(0.02)


def test_unnamed_proxies_dropped_in_a_loop_leave_the_segment_as_it_was():
    with mpstate.Manager(size="2M") as m:  # about 1,700 lists fill it when none is freed
        free = m.stat()["free_bytes"]
        for i in range(20_000):
            kind = i % 4
            proxy = (m.list([1, 2, 3]) if kind == 0 else m.dict(a=i) if kind == 1
                     else m.Value("i", i) if kind == 2 else m.Queue())
            del proxy
        stat = m.stat()
        assert stat["variables"] == 0
        assert stat["free_bytes"] == free
        assert stat["variables_collected"] >= 20_000


def test_every_unnamed_kind_goes_with_its_last_proxy(manager):
    made = [manager.list([1]), manager.dict(k="v"), manager.Namespace(x=1), manager.Value("d", 1.5),
            manager.Array("i", 3), manager.Queue(), manager.JoinableQueue(), manager.Lock(), manager.RLock(),
            manager.Semaphore(2), manager.BoundedSemaphore(2), manager.Condition(), manager.Event(),
            manager.Barrier(2)]
    assert len(manager.names("_py/")) >= len(made)
    del made
    assert manager.names("_py/") == []


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_a_proxy_held_in_another_process_keeps_it(manager, method):
    items = manager.list([1, 2, 3])
    name = items._value.name
    held, release = manager.Event(name="held"), manager.Event(name="release")
    child = multiprocessing.get_context(method).Process(target=workers.hold_proxy, args=(items, held, release))
    child.start()
    assert held.wait(30)
    del items  # the child's proxy keeps the list
    assert manager.names(name) == [name]
    assert mpstate.connect(manager.name).list(name=name)[:] == [1, 2, 3, 4]
    release.set()
    child.join(30)
    assert child.exitcode == 0
    _until(lambda: manager.names(name) == [])  # gone with the child's binding (spawn: at its exit; fork: swept)


def test_a_proxy_stored_in_a_container_pins_its_variable(manager):
    box = manager.dict(name="box")
    inner = manager.list(["kept"])
    box["inner"] = inner
    del inner
    assert box["inner"][:] == ["kept"]


def test_named_variables_stay_until_removed(manager):
    v = manager.Value("i", 5, name="named/v")
    d = manager.dict({"a": 1}, name="named/d")
    del v, d
    assert manager.names("named/") == ["named/d/a", "named/v"]


def test_a_pickled_proxy_whose_last_holder_went_finds_its_variable_gone(manager):
    items = manager.list([1])
    payload = pickle.dumps(items)
    del items  # no process holds it: the bytes in flight hold nothing
    with pytest.raises(mpstate.NotFound):
        pickle.loads(payload)[:]
