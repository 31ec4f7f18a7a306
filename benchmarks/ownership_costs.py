#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""What the ownership model costs (issue 21's figures), in one invocation, rounds
interleaved, medians:

  - a local get and set before and after the incarnation check: two builds
    (--before BUILD, e.g. a worktree of the commit before), the same op, alternating;
  - a fenced write against a plain one: set and fenced-set, add and fenced-add, on
    the mapped segment, over TCP and on Redis (a private redis-server).

  ownership_costs.py --build build/release [--before /tmp/old/build/release] [--rounds 5]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers"))
import redis_peer  # noqa: E402


def bench(build, op, transport, seconds, redis=""):
    cmd = [os.path.join(build, "benchmarks", "mpstate-bench"), "--op", op, "--transport", transport,
           "--seconds", str(seconds), "--system", "mpstate", "--json"]
    if redis:
        cmd += ["--redis", redis]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    row = json.loads(out)["results"][0]
    if row.get("check", "n/a") not in ("n/a", "ok"):
        raise RuntimeError(f"{op} {transport}: {row['check']}")
    return 1e9 / row["ops_per_s"]  # ns per op


def compare(label, a, b, rounds):
    """a() and b() interleaved `rounds` times: medians and the ratio b / a."""
    xs, ys = [], []
    for _ in range(rounds):
        xs.append(a())
        ys.append(b())
    ma, mb = statistics.median(xs), statistics.median(ys)
    spread = f"{min(ys) / max(xs):.2f}-{max(ys) / min(xs):.2f}"
    print(f"| {label} | {ma:,.1f} ns | {mb:,.1f} ns | {mb / ma:.2f}x | {spread} |", flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--build", default="build/release")
    p.add_argument("--before", default="", help="a build of the commit before, for the local get/set rows")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--seconds", type=float, default=1)
    a = p.parse_args()
    print("| what | baseline | measured | ratio (median) | range |")
    print("|---|---:|---:|---:|---:|")
    if a.before:
        for op in ("get", "set"):
            compare(f"local {op}: before → after the incarnation check",
                    lambda: bench(a.before, op, "local", a.seconds),
                    lambda: bench(a.build, op, "local", a.seconds), a.rounds)
        compare("tcp get: before → after the client's liveness checks",
                lambda: bench(a.before, "get", "tcp", a.seconds),
                lambda: bench(a.build, "get", "tcp", a.seconds), a.rounds)
    for transport in ("local", "tcp"):
        for op in ("set", "add"):
            compare(f"{transport} {op} → fenced-{op}", lambda: bench(a.build, op, transport, a.seconds),
                    lambda: bench(a.build, "fenced-" + op, transport, a.seconds), a.rounds)
    with redis_peer.redis_server() as (sock, _port):
        url = f"redis+unix://{sock}?prefix=costs"
        for op in ("set", "add"):
            compare(f"redis {op} → fenced-{op}", lambda: bench(a.build, op, "redis", a.seconds, url),
                    lambda: bench(a.build, "fenced-" + op, "redis", a.seconds, url), a.rounds)


if __name__ == "__main__":
    main()
