# SPDX-License-Identifier: MIT
"""The side that loses is told, from Python: proxies of an ended manager raise
(as Python's Manager raises BrokenPipeError), a manager started again under the
name is a new one, and fenced writes are refused once their lock moved on."""
import multiprocessing as mp
import os
import time

import pytest

import mpstate


def _name():
    return f"own-{os.getpid()}-{os.urandom(3).hex()}"


def test_proxies_of_an_ended_manager_raise_manager_unavailable():
    with mpstate.Manager(name=_name(), size="4M") as m:
        v = m.Value("i", 1)
        q = m.Queue()
        lock = m.Lock()
        d = m.dict(a=1)
        assert v.add(5) == 6
    with pytest.raises(mpstate.ManagerUnavailable):
        v.add(5)
    with pytest.raises(mpstate.ManagerUnavailable):
        v.value
    with pytest.raises(mpstate.ManagerUnavailable):
        q.put(1)
    with pytest.raises(mpstate.ManagerUnavailable):
        lock.acquire()
    with pytest.raises(mpstate.ManagerUnavailable):
        d["a"] = 2
    assert issubclass(mpstate.ManagerUnavailable, ConnectionError)


def test_a_manager_started_again_under_the_name_is_served_by_a_new_client():
    name = _name()
    with mpstate.Manager(name=name, size="4M") as m:
        old = m.Value("i", 1, name="n")
        old.add(1)
    with mpstate.Manager(name=name, size="4M") as m:
        new = m.Value("i", 1, name="n")
        new.add(1)
        with pytest.raises(mpstate.ManagerUnavailable):
            old.add(1)
        assert new.value == 2
        assert mpstate.connect(name).dump()["variables"][0]["value"] == 2


def _take_and_keep(lock, ready):
    lock.release()  # anyone may release a held Lock, as in Python
    lock.acquire()
    ready.set()
    ready.wait()  # (the parent ends us)
    os._exit(0)


def test_a_fenced_write_is_refused_once_the_lock_moved_on(manager):
    lock = manager.Lock(name="f/lock")
    n = manager.Value("i", 0, name="f/n")
    with lock as held:
        fence = held.fence
        assert isinstance(fence, mpstate.Fence) and fence.lock == "f/lock" and fence.epoch > 0
        n.set(1, fence=fence)
        assert n.add(1, fence=fence) == 2
        assert n.compare_exchange(2, 3, fence=fence) == (True, 2)
        assert n.update(lambda x: x + 1, fence=fence) == 4
    assert lock.fence is None
    with pytest.raises(mpstate.OwnershipLost):
        n.set(100, fence=fence)
    assert n.value == 4
    with pytest.raises(TypeError):
        n.set(1, fence=fence.epoch)
    # A former owner's release is refused once another process holds the lock.
    lock.acquire()
    ctx = mp.get_context("fork")
    ready = ctx.Event()
    child = ctx.Process(target=_take_and_keep, args=(lock, ready))
    child.start()
    assert ready.wait(10)
    with pytest.raises(mpstate.OwnershipLost):
        lock.release()
    assert lock.locked()
    child.kill()
    child.join()


def test_a_fence_travels_by_pickle_as_its_lock_and_epoch(manager):
    import pickle
    lock = manager.Lock(name="p/lock")
    n = manager.Value("i", 0, name="p/n")
    lock.acquire()
    copy = pickle.loads(pickle.dumps(lock.fence))
    assert copy == lock.fence
    n.add(1, fence=copy)
    lock.release()
    with pytest.raises(mpstate.OwnershipLost):
        n.add(1, fence=copy)
    assert n.value == 1


def test_a_loop_owner_taken_over_is_told_at_its_heartbeat(manager):
    owner = manager.loop("l/loop")
    owner.mark_starting()
    owner.mark_running()
    owner.heartbeat()
    other = manager.loop("l/loop")
    other.mark_starting()
    assert other.epoch > owner.epoch > 0
    with pytest.raises(mpstate.OwnershipLost):
        owner.heartbeat()


def _start_and_wait(name, queue):
    m = mpstate.Manager(name=name, size="4M")
    queue.put(m.pid)
    time.sleep(600)  # until killed


def test_an_embedded_manager_outlives_its_killed_starter_while_others_use_it():
    import signal
    name = _name()
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    starter = ctx.Process(target=_start_and_wait, args=(name, queue))
    starter.start()
    manager_pid = queue.get(timeout=30)
    worker = mpstate.connect(name)  # a second web worker, say
    v = worker.Value("i", 0, name="jobs/done")
    v.add(1)
    os.kill(starter.pid, signal.SIGKILL)
    starter.join()
    deadline = time.monotonic() + 10
    while not worker.stat()["starter_gone"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    for _ in range(10):
        v.add(1)
    assert mpstate.connect(name).Value("i", name="jobs/done").value == 11
    del v, worker
    import gc
    gc.collect()
    deadline = time.monotonic() + 10
    while os.path.exists(f"/proc/{manager_pid}") and open(f"/proc/{manager_pid}/stat").read().split()[2] != "Z":
        assert time.monotonic() < deadline, "the manager stayed after the last user left"
        time.sleep(0.05)
