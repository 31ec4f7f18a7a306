# SPDX-License-Identifier: MIT
"""Real processes under fork and spawn (and forkserver): proxies passed as
arguments, exact counts, items exactly once, a dead lock holder noticed."""
import concurrent.futures
import multiprocessing
import os
import signal

import pytest

import mpstate

import workers

START_METHODS = ["fork", "spawn", "forkserver"]


def run_all(ctx, target, args_list, timeout=60):
    procs = [ctx.Process(target=target, args=args) for args in args_list]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout)
        assert p.exitcode == 0, f"{p.name} exited with {p.exitcode}"


@pytest.mark.parametrize("method", START_METHODS)
def test_four_processes_times_ten_thousand_adds_are_exact(manager, method):
    counter = manager.Value("q", 0, name="count")
    run_all(multiprocessing.get_context(method), workers.add_many, [(counter, 10_000)] * 4)
    assert counter.value == 40_000


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_a_counter_pickled_to_four_processes_ends_at_exactly_their_adds(manager, method):
    hits = manager.Counter(5)
    run_all(multiprocessing.get_context(method), workers.add_to_counter, [(hits, 10_000)] * 4)
    assert hits.value == 5 + 40_000
    assert repr(hits).startswith("<mpstate.Counter ")
    with pytest.raises(TypeError):
        hits.add(1.5)
    with pytest.raises(mpstate.OutOfRange):
        hits.add(2**70)
    manager.Value("q", 0, name="plain")
    with pytest.raises(mpstate.TypeMismatch):
        manager.Counter(name="plain")
    assert hits.value == 5 + 40_000  # nothing refused changed it


def test_processes_that_connect_by_name_share_the_variable(manager):
    ctx = multiprocessing.get_context("spawn")
    run_all(ctx, workers.by_name, [(manager.name, "jobs/by-name", 1000)] * 3)
    assert manager.Value("q", name="jobs/by-name").value == 3000


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_a_barrier_action_runs_once_a_round_in_whichever_process_came_last(manager, method):
    actions, passed = manager.Value("q", 0), manager.Value("q", 0)
    barrier = manager.Barrier(3, action=workers.CountAction(actions), timeout=30)
    run_all(multiprocessing.get_context(method), workers.wait_at_barrier, [(barrier, 50, passed)] * 3)
    assert (actions.value, passed.value) == (50, 150)


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_a_lock_makes_a_read_modify_write_exact(manager, method):
    lock, value = manager.Lock(), manager.Value("i", 0)
    run_all(multiprocessing.get_context(method), workers.add_under_lock, [(lock, value, 2000)] * 3)
    assert value.value == 6000


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_three_consumers_take_every_item_exactly_once(manager, method):
    items, taken = manager.Queue(maxsize=100), manager.Queue()
    ctx = multiprocessing.get_context(method)
    consumers = [ctx.Process(target=workers.drain, args=(items, taken)) for _ in range(3)]
    for c in consumers:
        c.start()
    for i in range(3000):
        items.put(i)
    for _ in consumers:
        items.put(None)
    got = [taken.get(timeout=30) for _ in consumers]
    for c in consumers:
        c.join(30)
        assert c.exitcode == 0
    everything = sorted(i for part in got for i in part)
    assert everything == list(range(3000))
    assert all(part == sorted(part) for part in got)  # FIFO per consumer


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_a_sigkilled_lock_holder_is_noticed_by_the_next_acquire(manager, method):
    lock, ready = manager.Lock(), manager.Event()
    ctx = multiprocessing.get_context(method)
    holder = ctx.Process(target=workers.hold_lock_forever, args=(lock, ready))
    holder.start()
    assert ready.wait(30)
    assert lock.acquire(timeout=0.05) is False
    os.kill(holder.pid, signal.SIGKILL)
    holder.join(10)
    assert lock.acquire(timeout=5) is True
    assert lock.previous_owner_died is True
    lock.release()
    assert lock.acquire(timeout=1) and lock.previous_owner_died is False


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_pools_and_executors_take_proxies(manager, method):
    total = manager.Value("q", 0)
    ctx = multiprocessing.get_context(method)
    with ctx.Pool(2) as pool:
        assert pool.map(workers.square, [(total, n) for n in range(10)]) == [n * n for n in range(10)]
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=ctx) as ex:
        assert list(ex.map(workers.square, [(total, n) for n in range(10)])) == [n * n for n in range(10)]
    assert total.value == 2 * sum(range(10))


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_a_loop_in_a_child_is_seen_and_stopped_by_the_parent(manager, method):
    loop, iterations = manager.loop("jobs/loop"), manager.Value("q", 0)
    child = multiprocessing.get_context(method).Process(target=workers.run_loop, args=(loop, iterations))
    child.start()
    assert loop.wait_for("running", timeout=30) == "running"
    assert loop.info()["pid"] == child.pid  # the child owns it, not the parent
    seen = iterations.version
    while iterations.value < 1:  # a job done, seen here
        seen = iterations.wait_for_change(seen, timeout=10)
    loop.request_stop()
    assert loop.wait_for("stopped", timeout=10) == "stopped"
    child.join(10)
    assert child.exitcode == 0 and iterations.value >= 1


def test_a_loop_whose_owner_is_sigkilled_turns_failed(manager):
    loop, ready = manager.loop("jobs/doomed"), manager.Event()
    child = multiprocessing.get_context("fork").Process(target=workers.die_holding_loop, args=(loop, ready))
    child.start()
    child.join(10)
    assert loop.wait_for("stopped", timeout=5) == "failed"
    assert "died" in loop.info()["reason"]
