#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""What the manager's --metrics endpoint costs, with 10,000 variables in the segment
(9,400 int64 values, 200 loops, 200 queues, 200 locks), interleaved rounds in one run:

    /usr/bin/python3 benchmarks/metrics_cost.py --build build/release [--rounds 3] [--seconds 3]

- one scrape: its wall time, and the manager's CPU for it (over 50 back to back);
- the manager's CPU share at one scrape a second (that), and idle (no requests);
- unpipelined socket `get` throughput (mpstate-bench) with and without a scraper
  at one scrape a second, and their ratio.
Medians over rounds. The manager's CPU is read from /proc/PID/stat."""
import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Scraper(threading.Thread):
    """GET /metrics once a second (a benchmark's pace, not a synchronisation)."""

    def __init__(self, address):
        super().__init__(daemon=True)
        self.address, self.stop, self.walls = address, threading.Event(), []

    def run(self):
        while not self.stop.is_set():
            began = time.perf_counter()
            with urllib.request.urlopen(f"http://{self.address}/metrics", timeout=30) as answer:
                answer.read()
            self.walls.append(time.perf_counter() - began)
            self.stop.wait(max(0.0, 1.0 - (time.perf_counter() - began)))


def idle_cpu(pid, seconds):
    """The manager's CPU seconds over `seconds` of nobody asking anything."""
    before = cpu_seconds(pid)
    time.sleep(seconds)  # the measured interval
    return cpu_seconds(pid) - before


def scrape_cost(pid, address, scrapes):
    """The manager's CPU seconds per scrape over `scrapes` back to back, and each one's wall time."""
    walls = []
    before = cpu_seconds(pid)
    for _ in range(scrapes):
        began = time.perf_counter()
        with urllib.request.urlopen(f"http://{address}/metrics", timeout=30) as answer:
            answer.read()
        walls.append(time.perf_counter() - began)
    return (cpu_seconds(pid) - before) / scrapes, walls


def get_throughput(bench, m, seconds, address=None):
    for left in m.names("bench/"):  # mpstate-bench --manager makes its variables anew each run
        m.remove(left)
    scraper = Scraper(address) if address else None
    if scraper:
        scraper.start()
    out = subprocess.run([bench, "--op", "get", "--transport", "socket", "--manager", m.name, "--system", "mpstate",
                          "--seconds", f"{seconds:g}", "--json"], capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"mpstate-bench failed: {out.stderr}")
    out = out.stdout
    if scraper:
        scraper.stop.set()
        scraper.join()
    return json.loads(out.strip().splitlines()[-1])["results"][0]["ops_per_s"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "release"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=3)
    a = ap.parse_args()
    sys.path.insert(0, os.path.join(a.build, "python"))
    os.environ.setdefault("MPSTATE_MANAGER", os.path.join(a.build, "manager", "mpstate-manager"))
    import mpstate
    bench = os.path.join(a.build, "benchmarks", "mpstate-bench")
    name = f"metrics-cost-{os.getpid()}"
    with mpstate.Manager(name=name, size="256M", args=("--metrics", "127.0.0.1:0")) as m:
        for i in range(9400):
            m.Value("q", i, name=f"v/{i:05}")
        for i in range(200):
            m.loop(f"loops/{i:03}")
            m.Queue(name=f"queues/{i:03}").put(i)
            m.Lock(name=f"locks/{i:03}")
        address = m.stat()["metrics"]
        assert m.stat()["variables"] >= 10000
        text = urllib.request.urlopen(f"http://{address}/metrics").read()
        variables = m.stat()["variables"]
        idle, scrape_cpu, walls, plain, scraped = [], [], [], [], []
        for _ in range(a.rounds):
            idle.append(idle_cpu(m.pid, a.seconds) / a.seconds)
            cpu, w = scrape_cost(m.pid, address, 50)
            scrape_cpu.append(cpu)
            walls += w
            plain.append(get_throughput(bench, m, a.seconds))
            scraped.append(get_throughput(bench, m, a.seconds, address))
    med = statistics.median
    result = {
        "variables": variables, "scrape_bytes": len(text),
        "scrape_wall_ms_p50": med(walls) * 1e3,
        "manager_cpu_ms_per_scrape": med(scrape_cpu) * 1e3,
        "manager_cpu_share_at_1_scrape_per_s": med(scrape_cpu),
        "manager_idle_cpu_share": med(idle),
        "socket_get_per_s": med(plain), "socket_get_per_s_scraped_1_per_s": med(scraped),
        "ratio_scraped_to_plain": med(scraped) / med(plain),
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
