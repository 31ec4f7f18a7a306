# SPDX-License-Identifier: MIT
"""Functions run in child processes (importable by name, as spawn needs)."""
import os
import signal
import time

import mpstate


def add_many(counter, times):
    for _ in range(times):
        counter.add(1)


def add_to_counter(counter, times):
    for _ in range(times):
        counter.add()


def add_under_lock(lock, value, times):
    for _ in range(times):
        with lock:
            value.value = value.value + 1  # not atomic by itself: the lock makes it exact


def drain(queue, taken):
    got = []
    while True:
        item = queue.get(timeout=10)
        if item is None:
            break
        got.append(item)
    taken.put(got)


def hold_lock_forever(lock, ready):
    lock.acquire()
    ready.set()
    while True:
        time.sleep(60)


def square(args):
    value, n = args
    value.add(n)
    return n * n


def by_name(manager_name, variable, times):
    counter = mpstate.connect(manager_name).Value("q", 0, name=variable)
    for _ in range(times):
        counter.add(1)


def run_loop(loop, iterations):
    loop.mark_starting()
    loop.mark_running()
    while not loop.stop_requested():
        loop.heartbeat()
        iterations.add(1)
        time.sleep(0.001)
    loop.mark_stopped()


def die_holding_loop(loop, ready):
    loop.mark_starting()
    loop.mark_running()
    ready.set()
    os.kill(os.getpid(), signal.SIGKILL)


def delete_key(d, key):
    del d[key]


def append_to_nested(outer, key, item):
    outer[key].append(item)


def no_op():
    pass


def record_action(counter):
    counter.add(1)


class CountAction:
    """A barrier action that travels by pickle (a class instance, as a Manager needs)."""

    def __init__(self, counter):
        self.counter = counter

    def __call__(self):
        self.counter.add(1)


def wait_at_barrier(barrier, rounds, passed):
    for _ in range(rounds):
        barrier.wait()
        passed.add(1)


def hold_proxy(proxy, held, release):
    """Holds `proxy` (appends 4 to the list) until `release` is set."""
    proxy.append(4)
    held.set()
    release.wait(30)


# ---- the pickle serializer: objects JSON cannot hold, made and read in children
import dataclasses  # noqa: E402
import datetime  # noqa: E402


@dataclasses.dataclass
class Job:
    id: int
    due: datetime.datetime
    tags: tuple


def take_job_and_answer(jobs, answers):
    job = jobs.get(timeout=30)
    answers.put((job.id, job.tags, job.due + datetime.timedelta(days=1), {job.id: frozenset(job.tags)}))


def start_logging_manager_and_wait(name, ready):
    m = mpstate.Manager(name=name, size="16M", log_level="info", log="logging", shared=True)
    m.Value("q", 0, name="count")
    ready.set()
    while True:
        time.sleep(60)
