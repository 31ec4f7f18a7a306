#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The Python rows of make bench: the same calls from one Python process on
mpstate's proxies (import mpstate), multiprocessing.Manager's proxies, the shared
ctypes and pipes of multiprocessing (Value, Queue, Lock: the fastest stdlib path,
but anonymous and not crash-safe) and redis-py on a Unix socket.

  /usr/bin/python3 python_rows.py --build build/release --seconds 0.5 [--redis-socket PATH]

Each case runs calls in batches for --seconds and reports ops/s and the mean ns per
call (batch timing: per-call timers would cost more than the calls measured).
Prints one JSON list of rows {system, variant, op, procs, ops_per_s, p50_ns}.
Run it with the interpreter that has Debian's packages (python3-redis) and
PYTHONPATH=<build>/python for mpstate.
"""
import argparse
import json
import multiprocessing
import operator
import os
import sys
import time


def measure(fn, seconds):
    batch, calls = 1000, 0
    begin = time.perf_counter()
    end = begin + seconds
    while True:
        for _ in range(batch):
            fn()
        calls += batch
        now = time.perf_counter()
        if now >= end:
            break
    elapsed = now - begin
    return {"ops_per_s": calls / elapsed, "p50_ns": elapsed / calls * 1e9}


def mpstate_cases(build):
    sys.path.insert(0, os.path.join(build, "python"))
    os.environ.setdefault("MPSTATE_MANAGER", os.path.join(build, "manager", "mpstate-manager"))
    import mpstate
    m = mpstate.Manager(name=f"pybench-{os.getpid()}", size="16M")
    v, d, q, lock = m.Value("q", 1), m.dict(k=1), m.Queue(), m.Lock()
    return m, {
        "value-get": lambda: v.value,
        "value-set": lambda: setattr(v, "value", 2),
        "value-add": lambda: v.add(1),
        "dict-get": lambda: d["k"],
        "dict-set": lambda: operator.setitem(d, "k", 2),
        "queue-put-get": lambda: (q.put(1), q.get()),
        "lock-acquire-release": lambda: (lock.acquire(), lock.release()),
    }


def manager_cases():
    m = multiprocessing.Manager()
    v, d, q, lock = m.Value("q", 1), m.dict(k=1), m.Queue(), m.Lock()

    def add():
        v.value += 1  # what a Manager Value offers: two round trips, not atomic
    return m, {
        "value-get": lambda: v.value,
        "value-set": lambda: setattr(v, "value", 2),
        "value-add": add,
        "dict-get": lambda: d["k"],
        "dict-set": lambda: operator.setitem(d, "k", 2),
        "queue-put-get": lambda: (q.put(1), q.get()),
        "lock-acquire-release": lambda: (lock.acquire(), lock.release()),
    }


def shared_ctypes_cases():
    v, q, lock = multiprocessing.Value("q", 1), multiprocessing.Queue(), multiprocessing.Lock()

    def add():
        with v.get_lock():
            v.value += 1
    return q, {
        "value-get": lambda: v.value,
        "value-set": lambda: setattr(v, "value", 2),
        "value-add": add,
        "queue-put-get": lambda: (q.put(1), q.get()),
        "lock-acquire-release": lambda: (lock.acquire(), lock.release()),
    }


def redis_cases(sock):
    import redis
    r = redis.Redis(unix_socket_path=sock)
    r.set("pybench:v", 1)
    r.hset("pybench:d", "k", 1)
    lock = r.lock("pybench:lock")
    return r, {
        "value-get": lambda: r.get("pybench:v"),
        "value-set": lambda: r.set("pybench:v", 2),
        "value-add": lambda: r.incr("pybench:v"),
        "dict-get": lambda: r.hget("pybench:d", "k"),
        "dict-set": lambda: r.hset("pybench:d", "k", 2),
        "queue-put-get": lambda: (r.lpush("pybench:q", 1), r.rpop("pybench:q")),
        "lock-acquire-release": lambda: (lock.acquire(), lock.release()),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build/release")
    ap.add_argument("--seconds", type=float, default=0.5)
    ap.add_argument("--redis-socket", default="")
    a = ap.parse_args()
    systems = [("mpstate", lambda: mpstate_cases(a.build)), ("mp-manager", manager_cases),
               ("mp-shared", shared_ctypes_cases)]
    if a.redis_socket:
        systems.append(("redis-py", lambda: redis_cases(a.redis_socket)))
    rows = []
    for variant, make in systems:
        try:
            keep, cases = make()
        except ImportError as e:
            print(f"python_rows: {variant} skipped ({e})", file=sys.stderr)
            continue
        for op, fn in cases.items():
            # the slow peers need fewer seconds for a stable mean
            rows.append({"system": "python", "variant": variant, "op": op, "procs": 1,
                         **measure(fn, a.seconds)})
        del keep
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
