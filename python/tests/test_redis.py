# SPDX-License-Identifier: MIT
"""The Python package on the Redis backend: mpstate.connect("redis+unix://...")
against a redis-server this module starts, with children under fork and spawn."""
import multiprocessing as mp
import os
import shutil
import signal
import subprocess
import time

import pytest

import mpstate

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    d = tmp_path_factory.mktemp("redis")
    sock = str(d / "redis.sock")
    server = subprocess.Popen(["redis-server", "--port", "0", "--unixsocket", sock, "--save", "",
                               "--appendonly", "no", "--dir", str(d)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 15
    while subprocess.run(["redis-cli", "-s", sock, "ping"], capture_output=True, text=True).stdout.strip() != "PONG":
        assert time.monotonic() < deadline, "redis-server did not start"
        assert server.poll() is None, "redis-server exited"
        time.sleep(0.02)  # polling a condition with a deadline
    yield f"redis+unix://{sock}?lease_ms=500&prefix=py{os.getpid()}"
    server.send_signal(signal.SIGTERM)
    server.wait(10)


def _add(v, n):
    for _ in range(n):
        v.add(1)


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_children_add_exactly_over_redis(redis_url, method):
    c = mpstate.connect(redis_url)
    v = c.Value("q", 0, name=f"count-{method}")
    ctx = mp.get_context(method)
    ps = [ctx.Process(target=_add, args=(v, 500)) for _ in range(3)]
    for p in ps:
        p.start()
    for p in ps:
        p.join(60)
        assert p.exitcode == 0
    assert v.value == 1500
    assert not c.is_local


def _hold(lock, ready):
    lock.acquire()
    ready.set()
    time.sleep(600)  # held until killed


def test_a_killed_holders_lock_is_taken_over_after_its_lease(redis_url):
    c = mpstate.connect(redis_url)
    lock = c.Lock(name="held")
    ready = mp.get_context("fork").Event()
    holder = mp.get_context("fork").Process(target=_hold, args=(lock, ready))
    holder.start()
    assert ready.wait(10)
    assert not lock.acquire(timeout=0.2)  # held, and its lease renewed
    os.kill(holder.pid, signal.SIGKILL)
    holder.join()
    start = time.monotonic()
    assert lock.acquire(timeout=5)
    assert time.monotonic() - start < 3
    lock.release()


def test_queue_and_names_over_redis(redis_url):
    c = mpstate.connect(redis_url)
    q = c.Queue(name="jobs")
    for i in range(10):
        q.put(i)
    assert [q.get() for _ in range(10)] == list(range(10))
    assert "jobs" in c.names()


def test_a_thread_blocked_on_redis_holds_up_no_other_thread(redis_url):
    import threading
    c = mpstate.connect(redis_url)
    v = c.Value("q", 1, name="threads/v")
    q = c.Queue(name="threads/q")
    blocked = threading.Thread(target=v.wait_for_change, args=(v.version, 3))
    blocked.start()
    got = []
    consumer = threading.Thread(target=lambda: got.append(q.get(timeout=10)))
    consumer.start()
    worst = 0.0
    for _ in range(50):
        t = time.monotonic()
        assert v.value == 1
        worst = max(worst, time.monotonic() - t)
    assert blocked.is_alive()  # still in its 3 s wait: nobody wrote
    assert worst < 0.2, worst
    t = time.monotonic()
    q.put("job")
    consumer.join(5)
    assert got == ["job"] and time.monotonic() - t < 1
    blocked.join(5)


def _hold_and_stop(url, ready):
    lock = mpstate.connect(url).Lock(name="lapsed/lock")
    lock.acquire()
    ready.set()
    os.kill(os.getpid(), signal.SIGSTOP)  # its lease lapses while it is stopped
    try:
        lock.release()
    except mpstate.OwnershipLost:
        os._exit(0)
    os._exit(1)


def test_a_holder_whose_lease_lapsed_is_told_and_frees_nothing(redis_url):
    c = mpstate.connect(redis_url)
    lock = c.Lock(name="lapsed/lock")
    ctx = mp.get_context("fork")
    ready = ctx.Event()
    holder = ctx.Process(target=_hold_and_stop, args=(redis_url, ready))
    holder.start()
    assert ready.wait(10)
    deadline = time.monotonic() + 10
    while not lock.acquire(timeout=0.1):
        assert time.monotonic() < deadline
    assert lock.previous_owner_died
    os.kill(holder.pid, signal.SIGCONT)
    holder.join(20)
    assert holder.exitcode == 0
    assert lock.locked()  # still ours
    lock.release()


def test_metrics_and_the_dashboard_over_redis(redis_url):
    """No manager: the client makes the metrics from its stat and dump, and the
    dashboard's snapshot from the same."""
    pytest.importorskip("prometheus_client.parser")
    from test_metrics import samples  # the real parser's samples, as the manager's test reads them
    c = mpstate.connect(redis_url)
    loop = c.loop("seen/loop")
    loop.mark_starting()
    loop.mark_running()
    q = c.Queue(name="seen/queue")
    q.put(1)
    q.put(2)
    lock = c.Lock(name="seen/lock")
    lock.acquire()
    try:
        got = samples(c.metrics())
        assert got[("mpstate_loop_state", frozenset({("name", "seen/loop"), ("state", "running")}))] == 1
        assert got[("mpstate_queue_depth", frozenset({("name", "seen/queue")}))] == 2
        assert got[("mpstate_lock_held", frozenset({("name", "seen/lock"), ("type", "lock")}))] == 1
        assert sum(v for (n, _), v in got.items() if n == "mpstate_variables") == c.stat()["variables"]
        assert dict(next(labels for (n, labels) in got if n == "mpstate_info"))["url"].startswith("redis+unix://")
        state = mpstate._dashboard.snapshot(c, "seen/")
        assert [v["value"]["state"] for v in state["loops"] if v["name"] == "seen/loop"] == ["running"]
        assert {v["name"] for v in state["variables"]} == {"seen/loop", "seen/queue", "seen/lock"}
    finally:
        lock.release()
        loop.mark_stopped()
