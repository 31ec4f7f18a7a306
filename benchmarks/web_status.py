#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""/status latency of the many-workers app under `uvicorn --workers 4`, on mpstate
(examples/python/many_workers) and on multiprocessing.Manager
(benchmarks/peers/many_workers_manager.py), interleaved rounds in one run.

    /usr/bin/python3 benchmarks/web_status.py --build build/release [--requests 2000] [--rounds 3]

One client sends GET /status on one keep-alive connection, one request at a time;
reports p50 and p99 per app (medians over rounds) and their ratio."""
import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from multiprocessing.managers import DictProxy, SyncManager

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
shared_state = {"workers": 4, "hits": 0, "scheduler_state": "running", "scheduler_pid": 0,
                "scheduler_starts": 1, "jobs_done": 0}


def _the_state():
    return shared_state


class StateManager(SyncManager):
    pass


StateManager.register("state", callable=_the_state, proxytype=DictProxy)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(app_dir, module, env, port):
    return subprocess.Popen([sys.executable, "-m", "uvicorn", f"{module}:app", "--app-dir", app_dir, "--workers", "4",
                             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                            env=env, stdout=subprocess.DEVNULL, stderr=open(f"/tmp/web_status_{module}.log", "w"))


def wait_ready(port, all_workers):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/status")
            body = json.loads(conn.getresponse().read())
            if not all_workers or body.get("workers") == 4:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the server did not come up")


def measure(port, requests):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.connect()
    times = []
    for _ in range(requests):
        began = time.perf_counter()
        conn.request("GET", "/status")
        # uvicorn writes the headers and the body apart and leaves Nagle on: without an
        # immediate ACK the body waits for the client's delayed one (40 ms) on both apps
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        conn.getresponse().read()
        times.append(time.perf_counter() - began)
    times.sort()
    return times[len(times) // 2] * 1e6, times[int(len(times) * 0.99)] * 1e6


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", default="build/release")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    build = os.path.abspath(args.build)
    env = dict(os.environ, PYTHONPATH=os.path.join(build, "python"),
               MPSTATE_MANAGER=os.path.join(build, "manager", "mpstate-manager"))
    manager = StateManager(address=("127.0.0.1", free_port()), authkey=b"bench")
    manager.start()
    results = {"mpstate": [], "multiprocessing.Manager": []}
    try:
        for _ in range(args.rounds):
            for name in results:
                port = free_port()
                if name == "mpstate":
                    proc = serve(os.path.join(ROOT, "examples", "python", "many_workers"), "app",
                                 dict(env, APP_STATE=f"bench-{os.getpid()}-{port}"), port)
                else:
                    host, mport = manager.address
                    proc = serve(os.path.join(ROOT, "benchmarks", "peers"), "many_workers_manager",
                                 dict(env, STATE_ADDRESS=f"{host}:{mport}", STATE_KEY="bench"), port)
                try:
                    wait_ready(port, all_workers=True)
                    measure(port, 200)  # warm-up
                    results[name].append(measure(port, args.requests))
                finally:
                    proc.send_signal(signal.SIGINT)
                    proc.wait(60)
    finally:
        manager.shutdown()
    p50 = {n: statistics.median(r[0] for r in rs) for n, rs in results.items()}
    p99 = {n: statistics.median(r[1] for r in rs) for n, rs in results.items()}
    for n in results:
        print(f"{n:24s} /status p50 {p50[n]:7.0f} us  p99 {p99[n]:7.0f} us  (median of {args.rounds} rounds, "
              f"{args.requests} requests each)")
    print(f"mpstate / Manager: p50 {p50['mpstate'] / p50['multiprocessing.Manager']:.2f}x, "
          f"p99 {p99['mpstate'] / p99['multiprocessing.Manager']:.2f}x")


if __name__ == "__main__":
    main()
