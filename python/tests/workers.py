# SPDX-License-Identifier: MIT
"""Functions run in child processes (importable by name, as spawn needs)."""
import os
import signal
import time

import mpstate


def add_many(counter, times):
    for _ in range(times):
        counter.add(1)


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


def start_logging_manager_and_wait(name, ready):
    m = mpstate.Manager(name=name, size="16M", log_level="info", log="logging", shared=True)
    m.Value("q", 0, name="count")
    ready.set()
    while True:
        time.sleep(60)
