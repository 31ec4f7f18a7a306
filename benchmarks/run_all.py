#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""make bench: mpstate, its boost::interprocess baseline and the peers (Python's
multiprocessing.Manager, Redis) on the same work, interleaved in one invocation,
each case repeated --rounds times. Writes results/latest.json, results/latest.md and
results/latest.png (gnuplot). Medians over rounds; ratios from the same run.

  run_all.py --build build/release [--rounds 3] [--seconds 1] [--no-scale]
"""
import argparse
import datetime
import json
import re
import os
import platform
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers"))
import redis_peer  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


# The manager's --busy-poll for the "busy" rows (README, "A five-minute tour").
BUSY_POLL_US = 50


def mpstate_bench(build, seconds, op, procs=1, transport="local", pipeline=1, variables=1, system="both", busy_poll=0,
                  redis="", local_writer=False):
    cmd = [os.path.join(build, "benchmarks", "mpstate-bench"), "--op", op, "--procs", str(procs),
           "--seconds", str(seconds), "--transport", transport, "--pipeline", str(pipeline),
           "--variables", str(variables), "--system", system, "--busy-poll", str(busy_poll), "--json"]
    if redis:
        cmd += ["--redis", redis]
    if local_writer:
        cmd += ["--local-writer"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out)["results"]


def python_manager(seconds, kind, op, procs):
    out = subprocess.run([sys.executable, os.path.join(HERE, "peers", "python_manager.py"), "--kind", kind,
                          "--op", op, "--procs", str(procs), "--seconds", str(seconds)],
                         capture_output=True, text=True, check=True).stdout
    return [{"system": "python-manager", "variant": kind, "op": op, "procs": procs, **json.loads(out)}]


def python_rows(build, seconds, sock):
    """The Python rows (python_rows.py), under Debian's interpreter (or $PYTHON):
    mpstate's package against multiprocessing and redis-py, in one process."""
    python = os.environ.get("PYTHON", "/usr/bin/python3")
    cmd = [python, os.path.join(HERE, "peers", "python_rows.py"), "--build", build, "--seconds", str(seconds)]
    if sock:
        cmd += ["--redis-socket", sock]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def cases(build, loop_binary):
    """Each case: a label and a function(seconds, sock, port) -> rows."""
    c = []
    for op in ("get", "set", "add", "cas", "update", "lock", "lookup"):
        c.append((f"mpstate {op}", lambda s, *_, op=op: mpstate_bench(build, s, op)))
    for op in ("sync-lock", "queue"):  # the Python-parity types
        c.append((f"mpstate {op}", lambda s, *_, op=op: mpstate_bench(build, s, op)))
    for op in ("dict-get", "dict-lookup"):  # over a dict of 10 keys
        c.append((f"mpstate {op}", lambda s, *_, op=op: mpstate_bench(build, s, op, variables=10)))
    c.append(("mpstate add x2", lambda s, *_: mpstate_bench(build, s, "add", procs=2)))
    c.append(("mpstate get x2", lambda s, *_: mpstate_bench(build, s, "get", procs=2)))
    c.append(("mpstate wait", lambda s, *_: mpstate_bench(build, s, "wait", procs=2)))
    for procs in (1, 2):
        c.append((f"mpstate socket get x{procs}", lambda s, *_, n=procs: mpstate_bench(build, s, "get", n, "socket")))
        c.append((f"mpstate socket get p16 x{procs}",
                  lambda s, *_, n=procs: mpstate_bench(build, s, "get", n, "socket", 16)))
    for procs in (1, 2):  # loopback TCP with the key (the handshake is outside the timed loop)
        c.append((f"mpstate tcp get x{procs}", lambda s, *_, n=procs: mpstate_bench(build, s, "get", n, "tcp")))
        c.append((f"mpstate tcp get p16 x{procs}",
                  lambda s, *_, n=procs: mpstate_bench(build, s, "get", n, "tcp", 16)))
    for pipeline in (1, 16):  # TLS, beside redis-benchmark --tls
        c.append((f"mpstate tls get p{pipeline} x1",
                  lambda s, *_, pl=pipeline: mpstate_bench(build, s, "get", 1, "tls", pl)))
    c.append(("mpstate socket wait", lambda s, *_: mpstate_bench(build, s, "wait", 2, "socket")))
    # The writer in shared memory (a child's loop), the waiter over the socket (a
    # status page): the manager's watcher thread wakes on the futex and answers.
    c.append(("mpstate socket wait local-writer",
              lambda s, *_: mpstate_bench(build, s, "wait", 2, "socket", system="mpstate", local_writer=True)))
    # The same with a busy-polling manager (--busy-poll): fewer wake-ups for more CPU.
    bp = BUSY_POLL_US
    for transport in ("socket", "tcp"):
        for procs in (1, 2):
            for pipeline in (1, 16):
                c.append((f"mpstate {transport} get p{pipeline} x{procs} busy-poll",
                          lambda s, *_, t=transport, n=procs, pl=pipeline:
                          mpstate_bench(build, s, "get", n, t, pl, system="mpstate", busy_poll=bp)))
    # The Redis backend (docs/redis.md) on the peers' Redis, beside hiredis doing the same op.
    for op in ("get", "set", "add"):
        c.append((f"mpstate redis {op} x1",
                  lambda s, sock, *_, op=op: mpstate_bench(
                      build, s, op, 1, "redis", system="mpstate", redis=f"redis+unix://{sock}?prefix=mpstate-bench")))
    c.append(("mpstate socket wait busy-poll",
              lambda s, *_: mpstate_bench(build, s, "wait", 2, "socket", system="mpstate", busy_poll=bp)))
    for kind in ("value", "dict", "namespace"):
        for op in ("get", "set"):
            for procs in (1, 2):
                c.append((f"python {kind} {op} x{procs}",
                          lambda s, *_, k=kind, op=op, n=procs: python_manager(s, k, op, n)))
    for kind in ("queue", "lock"):
        c.append((f"python {kind} x1",
                  lambda s, *_, k=kind: python_manager(s, k, "queue" if k == "queue" else "sync-lock", 1)))
    if os.path.exists(os.path.join(build, "python", "mpstate", "__init__.py")):
        c.append(("python rows (mpstate, multiprocessing, redis-py)",
                  lambda s, sock, *_: python_rows(build, min(s, 0.5), sock)))
    for variant, op, procs, run in redis_peer.cases(loop_binary):
        c.append((f"redis {variant} {op} x{procs}",
                  lambda s, sock, port, run=run, v=variant, op=op, n=procs:
                  [{"system": "redis", "variant": v, "op": op, "procs": n, **run(sock, port, s)}]))
    return c


def scale_runs(build, seconds):
    rows = []
    for k in (1, 1000, 10000, 100000, 1000000):
        for op in ("lookup", "get"):
            for r in mpstate_bench(build, seconds, op, variables=k):
                rows.append(r)
    for procs in (1, 2, 4, 8, 16):
        for op in ("get", "add"):
            for r in mpstate_bench(build, seconds, op, procs=procs):
                rows.append(r)
    return rows


def key(r):
    return (r["system"], r["variant"], r["op"], r["procs"], r.get("variables", 1))


def medians(rows):
    groups = {}
    for r in rows:
        groups.setdefault(key(r), []).append(r)
    out = []
    for k, rs in groups.items():
        med = {f: statistics.median([r[f] for r in rs if r.get(f) is not None])
               if any(r.get(f) is not None for r in rs) else None
               for f in ("ops_per_s", "p50_ns", "p99_ns", "p999_ns", "server_cpu_us_per_op")}
        out.append({"system": k[0], "variant": k[1], "op": k[2], "procs": k[3], "variables": k[4],
                    "runs": len(rs), **med,
                    "ops_per_s_min": min(r["ops_per_s"] for r in rs), "ops_per_s_max": max(r["ops_per_s"] for r in rs),
                    "check": ",".join(sorted({r.get("check", "n/a") for r in rs}))})
    return out


def find(meds, system, variant, op, procs=1, variables=1):
    for m in meds:
        if (m["system"], m["variant"], m["op"], m["procs"], m["variables"]) == (system, variant, op, procs, variables):
            return m
    return None


def targets(meds):
    """(target, measured, met) from the medians; ratios are between figures of this run."""
    t = []

    def rate(*a, **k):
        m = find(meds, *a, **k)
        return m["ops_per_s"] if m else None

    def add(name, value, goal, met, unit="x"):
        if value is not None:
            t.append({"target": name, "measured": f"{value:,.2f}{unit}", "goal": goal, "met": bool(met)})

    get = rate("mpstate", "local", "get")
    for label, other in (("Python Manager Value.get", rate("python-manager", "value", "get")),
                         ("Redis GET (hiredis, unix, unpipelined)", rate("redis", "hiredis-unix", "get"))):
        if get and other:
            add(f"local get vs {label}", get / other, ">= 2000x", get / other >= 2000)
    for op, goal in (("get", 1.3), ("set", 0.5), ("add", 0.5)):
        ours, base = rate("mpstate", "local", op), rate("baseline", "mutex", op)
        if ours and base:
            add(f"local {op}: time per op vs raw mutex", base / ours, f"<= {goal}x", base / ours <= goal)
    for op in ("set", "add"):  # a lock-free scalar write is one 16-byte compare-exchange
        ours, cas16, xadd = (rate("mpstate", "local", op), rate("baseline", "cas16", op),
                             rate("baseline", "xadd", op))
        if ours and cas16:
            add(f"local {op}: time per op vs a bare 16-byte compare-exchange", cas16 / ours, "<= 1.5x",
                cas16 / ours <= 1.5)
        if ours and xadd:
            add(f"local {op}: time per op vs a bare lock xadd", xadd / ours, "<= 1.5x", xadd / ours <= 1.5)
    ours, seq = rate("mpstate", "local", "get"), rate("baseline", "seqlock", "get")
    if ours and seq:
        add("local get vs raw seqlock read (stretch)", seq / ours, "<= 2x", seq / ours <= 2)
    ours, base = rate("mpstate", "local", "add", 2), rate("baseline", "mutex", "add", 2)
    if ours and base:
        add("add, 2 processes contending: throughput vs raw mutex", ours / base, ">= 2x", ours / base >= 2)
    ours, cas16 = rate("mpstate", "local", "add", 2), rate("baseline", "cas16", "add", 2)
    if ours and cas16:
        add("add, 2 processes contending: throughput vs bare 16-byte compare-exchange", ours / cas16, ">= 0.67x",
            ours / cas16 >= 0.67)
    ours, red = rate("mpstate", "socket", "get"), rate("redis", "hiredis-unix", "get")
    if ours and red:
        add("socket get vs Redis GET unix unpipelined", ours / red, ">= 1x", ours / red >= 1)
    busy = f"-busy{BUSY_POLL_US}"
    ours = rate("mpstate", "socket" + busy, "get")
    if ours and red:
        add(f"socket get, --busy-poll {BUSY_POLL_US} vs Redis GET unix unpipelined", ours / red, ">= 1.2x",
            ours / red >= 1.2)
    ours, red = rate("mpstate", "tcp" + busy, "get"), rate("redis", "hiredis-tcp", "get")
    if ours and red:
        add(f"tcp get, --busy-poll {BUSY_POLL_US} vs Redis GET tcp unpipelined", ours / red, ">= 1x", ours / red >= 1)
    ours, red = rate("mpstate", "socket-p16", "get"), rate("redis", "redis-benchmark-unix-p16", "get")
    if ours and red:
        add("socket get, 16 deep vs redis-benchmark -P 16 (unix, 1 client)", ours / red, ">= 1x", ours / red >= 1)
    ours, red = rate("mpstate", "tcp", "get"), rate("redis", "hiredis-tcp", "get")
    if ours and red:
        add("tcp get vs Redis GET tcp unpipelined (loopback)", ours / red, ">= 1x", ours / red >= 1)
    for procs in (1, 2):
        ours, red = rate("mpstate", "tcp-p16", "get", procs), rate("redis", "redis-benchmark-tcp-p16", "get", procs)
        if ours and red:
            add(f"tcp get, 16 deep vs redis-benchmark -P 16 (tcp, {procs} client)", ours / red, ">= 1x",
                ours / red >= 1)
    for pipeline, ours_variant in ((1, "tls"), (16, "tls-p16")):
        ours, red = rate("mpstate", ours_variant, "get"), rate("redis", f"redis-benchmark-tls-p{pipeline}", "get")
        if ours and red:
            add(f"tls get{', 16 deep' if pipeline > 1 else ''} vs redis-benchmark --tls -P {pipeline} (1 client)",
                ours / red, ">= 1x", ours / red >= 1)
    for op, peer in (("get", "get"), ("set", "set"), ("add", "add")):
        ours, direct = rate("mpstate", "redis", op), rate("redis", "hiredis-unix", peer)
        if ours and direct:
            add(f"Redis backend {op}: time per op vs the same op with hiredis (unix)", direct / ours, "<= 1.2x",
                direct / ours <= 1.2)
    for variant in ("local", "socket", "socket-local-writer", "socket" + busy):
        w, rtt = find(meds, "mpstate", variant, "wait", 2), find(meds, "baseline", "socket-rtt", "wait", 2)
        if w and rtt:
            add(f"wait p50 ({variant} waiter) vs one socket round trip", w["p50_ns"] / rtt["p50_ns"], "<= 1x",
                w["p50_ns"] <= rtt["p50_ns"])
    for op in ("value-get", "value-set", "value-add", "dict-get", "dict-set", "queue-put-get", "lock-acquire-release"):
        ours, manager = rate("python", "mpstate", op), rate("python", "mp-manager", op)
        if ours and manager:
            add(f"Python {op} vs multiprocessing.Manager", ours / manager, ">= 100x", ours / manager >= 100)
    for op, peer in (("value-get", "multiprocessing.Value('q').value"),
                     ("value-add", "multiprocessing.Value under its lock"),
                     ("queue-put-get", "multiprocessing.Queue"), ("lock-acquire-release", "multiprocessing.Lock")):
        ours, shared = rate("python", "mpstate", op), rate("python", "mp-shared", op)
        if ours and shared:
            add(f"Python {op} vs {peer}", ours / shared, ">= 1x", ours / shared >= 1)
    ours, base = rate("mpstate", "local", "lookup"), rate("baseline", "boost-find", "lookup")
    if ours and base:
        add("lookup: time vs Boost find<T>(name)", base / ours, "<= 1.5x", base / ours <= 1.5)
    return t


def fmt_rate(x):
    return "-" if x is None else f"{x:,.0f}"


def fmt_ns(x):
    if x is None:
        return "-"
    return f"{x / 1000:,.1f} µs" if x >= 10000 else f"{x:,.1f} ns"


def write_markdown(path, doc):
    lines = [f"Measured {doc['date']} on {doc['machine']}; medians of {doc['rounds']} interleaved rounds "
             f"of {doc['seconds']} s each (`make bench`).", "",
             "| system | variant | op | procs | ops/s (median) | min – max | p50 | p99 | p99.9 | check |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    order = {"mpstate": 0, "baseline": 1, "redis": 2, "python-manager": 3, "python": 4}
    for m in sorted(doc["medians"], key=lambda m: (m["op"], order.get(m["system"], 9), m["variant"], m["procs"])):
        if m["variables"] != 1 and not m["op"].startswith("dict"):  # the scale runs have their own table
            continue
        lines.append(f"| {m['system']} | {m['variant']} | {m['op']} | {m['procs']} | {fmt_rate(m['ops_per_s'])} | "
                     f"{fmt_rate(m['ops_per_s_min'])} – {fmt_rate(m['ops_per_s_max'])} | {fmt_ns(m['p50_ns'])} | "
                     f"{fmt_ns(m['p99_ns'])} | {fmt_ns(m['p999_ns'])} | {m['check']} |")
    served = [m for m in doc["medians"] if m.get("server_cpu_us_per_op") is not None]
    if served:  # what a request costs the server, spinning included (--busy-poll)
        lines += ["", "The server's CPU per request (µs, = CPU seconds per million requests: the manager's for "
                  "mpstate, redis-server's for Redis), medians:", "",
                  "| system | variant | op | procs | ops/s | server CPU per request |",
                  "| --- | --- | --- | --- | --- | --- |"]
        for m in sorted(served, key=lambda m: (m["op"], order.get(m["system"], 9), m["variant"], m["procs"])):
            lines.append(f"| {m['system']} | {m['variant']} | {m['op']} | {m['procs']} | {fmt_rate(m['ops_per_s'])} | "
                         f"{m['server_cpu_us_per_op']:,.2f} µs |")
    lines += ["", "| target | measured | goal | met |", "| --- | --- | --- | --- |"]
    lines += [f"| {t['target']} | {t['measured']} | {t['goal']} | {'yes' if t['met'] else '**no**'} |"
              for t in doc["targets"]]
    if doc.get("scale"):
        lines += ["", "Scale (one round): mpstate local, ops/s", "",
                  "| op | variables | procs | mpstate ops/s | baseline ops/s | baseline |",
                  "| --- | --- | --- | --- | --- | --- |"]
        rows = doc["scale"]
        for r in rows:
            if r["system"] != "mpstate":
                continue
            base = next((b for b in rows if b["system"] == "baseline" and b["op"] == r["op"]
                         and b["procs"] == r["procs"] and b["variables"] == r["variables"]), None)
            lines.append(f"| {r['op']} | {r['variables']:,} | {r['procs']} | {fmt_rate(r['ops_per_s'])} | "
                         f"{fmt_rate(base['ops_per_s']) if base else '-'} | {base['variant'] if base else ''} |")
    if doc.get("memory"):
        lines += ["", "Memory: " + ", ".join(f"{k} = {v:,.0f}" if isinstance(v, (int, float)) else f"{k} = {v}"
                                             for k, v in doc["memory"].items())]
    if doc.get("redis_memory"):
        lines += ["", "Redis used_memory per key (same names): " + ", ".join(
            f"{r['kind']} × {r['keys']:,} = {r['bytes_per_key']:,.0f}" for r in doc["redis_memory"])]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def write_chart(path, meds):
    """One bar per (system, variant) for get/set/add with 1 process, log scale."""
    rows = [m for m in meds if m["procs"] == 1 and m["variables"] == 1 and m["op"] in ("get", "set", "add")
            and m["ops_per_s"]]
    order = {"mpstate": 0, "baseline": 1, "redis": 2, "python-manager": 3}
    rows.sort(key=lambda m: (m["op"], order.get(m["system"], 9), m["variant"]))
    data = path + ".dat"
    with open(data, "w") as f:
        for i, m in enumerate(rows):
            f.write(f'{i} {m["ops_per_s"]:.0f} "{m["op"]}: {m["system"]} {m["variant"]}" {order.get(m["system"], 4)}\n')
    title = ("Operations per second, 1 process (log scale; medians) - higher is better\\n"
             "blue: mpstate   grey: boost::interprocess baseline   red: Redis   green: Python multiprocessing.Manager")
    script = f"""
set terminal pngcairo size 1500,850 noenhanced font ",10"
set output "{path}"
set title "{title}"
set rmargin 14
set bmargin 14
set logscale y
set yrange [1000:*]
set style fill solid 0.8
set boxwidth 0.8
set xtics rotate by -50 left
set grid ytics
unset key
set palette defined (0 "#1f77b4", 1 "#7f7f7f", 2 "#d62728", 3 "#2ca02c", 4 "#9467bd")
unset colorbox
set cbrange [0:4]
plot "{data}" using 1:2:4:xtic(3) with boxes lc palette
"""
    try:
        subprocess.run(["gnuplot"], input=script, text=True, check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"run_all: no chart ({e})", file=sys.stderr)
    finally:
        os.remove(data)


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build/release")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--no-scale", action="store_true")
    ap.add_argument("--only", default="", help="run only the cases whose label matches this regex")
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    a = ap.parse_args()
    loop_binary = os.path.join(a.build, "benchmarks", "redis-loop")
    if not os.path.exists(loop_binary):
        loop_binary = ""
    os.makedirs(a.out, exist_ok=True)
    rows = []
    with redis_peer.redis_server() as (sock, port):
        all_cases = [c for c in cases(a.build, loop_binary) if re.search(a.only, c[0])]
        for rnd in range(a.rounds):
            for label, run in all_cases:
                print(f"[round {rnd + 1}/{a.rounds}] {label}", file=sys.stderr, flush=True)
                for r in run(a.seconds, sock, port):
                    r.setdefault("variables", 1)
                    rows.append({**r, "round": rnd})
    meds = medians(rows)
    doc = {"date": datetime.date.today().isoformat(), "machine": machine(), "rounds": a.rounds,
           "seconds": a.seconds, "rows": rows, "medians": meds, "targets": targets(meds)}
    if not a.no_scale:
        print("scale runs", file=sys.stderr, flush=True)
        doc["scale"] = scale_runs(a.build, min(a.seconds, 0.5))
    memory = subprocess.run([os.path.join(a.build, "benchmarks", "mpstate-bench"), "--op", "memory", "--json"],
                            capture_output=True, text=True, check=True).stdout
    doc["memory"] = json.loads(memory)
    redis_memory = subprocess.run([sys.executable, os.path.join(HERE, "peers", "redis_memory.py"), "--counts",
                                   "1000" if a.no_scale else "1000,1000000"], capture_output=True, text=True)
    if redis_memory.returncode == 0:
        doc["redis_memory"] = [json.loads(line) for line in redis_memory.stdout.splitlines()]
    else:  # the rest of the run is kept
        print("redis_memory.py failed:\n" + redis_memory.stderr, file=sys.stderr)
    with open(os.path.join(a.out, "latest.json"), "w") as f:
        json.dump(doc, f, indent=1)
    write_markdown(os.path.join(a.out, "latest.md"), doc)
    write_chart(os.path.join(a.out, "latest.png"), meds)
    print(open(os.path.join(a.out, "latest.md")).read())


if __name__ == "__main__":
    main()
