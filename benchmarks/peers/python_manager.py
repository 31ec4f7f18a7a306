#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Python's multiprocessing.Manager as a peer: Value, dict and Namespace get/set,
Queue put+get and Lock acquire+release, each from N client processes started
together, every call timed.

  python_manager.py --kind value|dict|namespace|queue|lock --op get|set --procs N --seconds S
  (queue and lock ignore --op: one call is put+get, or acquire+release)

Prints one JSON object (ops_per_s, per_process_ops_per_s, p50_ns, p99_ns, p999_ns).
Standard library only.
"""
import argparse
import json
import multiprocessing as mp
import time


def call(kind, op, proxy, i):
    if kind == "value":
        if op == "get":
            return proxy.value
        proxy.value = i
    elif kind == "dict":
        if op == "get":
            return proxy["k"]
        proxy["k"] = i
    elif kind == "queue":
        proxy.put(i)
        return proxy.get()
    elif kind == "lock":
        proxy.acquire()
        proxy.release()
    else:
        if op == "get":
            return proxy.x
        proxy.x = i


def worker(kind, op, proxy, seconds, barrier, results):
    barrier.wait()
    samples = []
    ops = 0
    begin = time.perf_counter()
    end = begin + seconds
    while True:
        t0 = time.perf_counter_ns()
        call(kind, op, proxy, ops)
        t1 = time.perf_counter_ns()
        ops += 1
        samples.append(t1 - t0)
        if time.perf_counter() >= end:
            break
    results.put({"ops": ops, "rate": ops / (time.perf_counter() - begin), "samples": samples})


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kind", choices=["value", "dict", "namespace", "queue", "lock"], default="value")
    ap.add_argument("--op", choices=["get", "set", "queue", "sync-lock"], default="get")  # the last two: a label
    ap.add_argument("--procs", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=1.0)
    a = ap.parse_args()

    ctx = mp.get_context("fork")
    with ctx.Manager() as manager:
        if a.kind == "value":
            proxy = manager.Value("q", 0)
        elif a.kind == "dict":
            proxy = manager.dict(k=0)
        elif a.kind == "queue":
            proxy = manager.Queue(1024)
        elif a.kind == "lock":
            proxy = manager.Lock()
        else:
            proxy = manager.Namespace(x=0)
        barrier = ctx.Barrier(a.procs)
        results = ctx.Queue()
        procs = [ctx.Process(target=worker, args=(a.kind, a.op, proxy, a.seconds, barrier, results))
                 for _ in range(a.procs)]
        for p in procs:
            p.start()
        got = [results.get(timeout=a.seconds + 60) for _ in procs]
        for p in procs:
            p.join()
    samples = sorted(s for g in got for s in g["samples"])

    def at(q):
        return float(samples[min(len(samples) - 1, int(q * len(samples)))]) if samples else 0.0

    print(json.dumps({"ops_per_s": sum(g["rate"] for g in got),
                      "per_process_ops_per_s": [g["rate"] for g in got],
                      "p50_ns": at(0.5), "p99_ns": at(0.99), "p999_ns": at(0.999), "check": "n/a"}))


if __name__ == "__main__":
    main()
