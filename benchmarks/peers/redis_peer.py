#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Redis as a peer: starts Debian's redis-server (Unix socket + TCP on 127.0.0.1,
no persistence), runs redis-benchmark and redis-loop against it, stops it by pid.

  redis_peer.py --loop-binary build/release/benchmarks/redis-loop [--seconds S]

Prints one JSON object per line per measurement. Used by benchmarks/run_all.py.
"""
import argparse
import contextlib
import csv
import io
import json
import os
import socket
import subprocess
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Set by redis_server() when Debian's redis-server serves TLS too (it is built
# with it): the TLS port and the certificate (its own CA) for the TLS rows.
TLS = {}


def tls_args(workdir):
    """A certificate for 127.0.0.1 made by openssl, and redis-server's TLS options."""
    cert, key = os.path.join(workdir, "tls.crt"), os.path.join(workdir, "tls.key")
    made = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                           "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                           "-keyout", key, "-out", cert], capture_output=True)
    if made.returncode != 0:
        return []
    TLS.update(port=free_port(), ca=cert)
    return ["--tls-port", str(TLS["port"]), "--tls-cert-file", cert, "--tls-key-file", key,
            "--tls-ca-cert-file", cert, "--tls-auth-clients", "no"]


SERVER = {}  # the running redis-server's pid, for its CPU time


def server_cpu_s():
    """redis-server's CPU time so far (user + system, every thread), in seconds."""
    with open(f"/proc/{SERVER['pid']}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # fields 14 and 15


def with_server_cpu(run):
    """run(sock, port, secs) with the server's CPU per request added (µs = CPU s per million requests)."""
    def measured(sock, port, secs):
        before = server_cpu_s()
        row = run(sock, port, secs)
        requests = row.pop("requests", None) or row["ops_per_s"] * secs
        row["server_cpu_us_per_op"] = (server_cpu_s() - before) * 1e6 / requests if requests else None
        return row
    return measured


@contextlib.contextmanager
def redis_server():
    """A private redis-server; yields (unix_socket_path, tcp_port) (and sets TLS)."""
    workdir = tempfile.mkdtemp(prefix="mpstate-redis-")
    sock = os.path.join(workdir, "redis.sock")
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--unixsocket", sock,
         "--unixsocketperm", "700", "--save", "", "--appendonly", "no", "--dir", workdir, *tls_args(workdir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists(sock):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.02)
        SERVER["pid"] = proc.pid
        yield sock, port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def redis_benchmark(sock, port, op, clients, pipeline, seconds, tls=False):
    """redis-benchmark's own figure (one client process, `clients` connections)."""
    expected_rate = 20000 * clients * pipeline
    n = max(1000, int(expected_rate * seconds))
    where = ["-s", sock] if sock else ["-h", "127.0.0.1", "-p", str(port)]
    if tls:
        where = ["-h", "127.0.0.1", "-p", str(TLS["port"]), "--tls", "--cacert", TLS["ca"]]
    out = subprocess.run(["redis-benchmark", *where, "-t", op, "-n", str(n), "-c", str(clients),
                          "-P", str(pipeline), "--csv"], capture_output=True, text=True, check=True).stdout
    row = next(r for r in csv.DictReader(io.StringIO(out)) if r["test"].lower() == op)
    return {"ops_per_s": float(row["rps"]), "p50_ns": float(row["p50_latency_ms"]) * 1e6,
            "p99_ns": float(row["p99_latency_ms"]) * 1e6, "p999_ns": None, "check": "n/a",
            "per_process_ops_per_s": [float(row["rps"])], "requests": n}


def redis_loop(binary, sock, port, op, procs, seconds):
    where = ["--socket", sock] if sock else ["--port", str(port)]
    out = subprocess.run([binary, *where, "--op", op, "--procs", str(procs), "--seconds", str(seconds)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def cases(loop_binary):
    """(variant, op, procs, run(sock, port, seconds)) for every Redis measurement."""
    out = []
    for transport in ("unix", "tcp"):
        for pipeline in (1, 16):
            for clients in (1, 2):
                for op in ("get", "set"):
                    out.append((f"redis-benchmark-{transport}-p{pipeline}", op, clients,
                                lambda s, p, secs, t=transport, op=op, c=clients, pl=pipeline:
                                redis_benchmark(s if t == "unix" else None, p, op, c, pl, secs)))
    for pipeline in (1, 16) if TLS else ():  # Redis over TLS (call this inside redis_server())
        out.append((f"redis-benchmark-tls-p{pipeline}", "get", 1,
                    lambda s, p, secs, pl=pipeline: redis_benchmark(None, p, "get", 1, pl, secs, tls=True)))
    if loop_binary:
        for op, ours in (("get", "get"), ("set", "set"), ("incr", "add")):
            for procs in (1, 2):
                out.append(("hiredis-unix", ours, procs,
                            lambda s, p, secs, op=op, n=procs: redis_loop(loop_binary, s, p, op, n, secs)))
        for procs in (1, 2):  # loopback TCP, beside mpstate's tcp rows
            out.append(("hiredis-tcp", "get", procs,
                        lambda s, p, secs, n=procs: redis_loop(loop_binary, None, p, "get", n, secs)))
    return [(variant, op, procs, with_server_cpu(run)) for variant, op, procs, run in out]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--loop-binary", default="")
    ap.add_argument("--seconds", type=float, default=1.0)
    a = ap.parse_args()
    with redis_server() as (sock, port):
        for variant, op, procs, run in cases(a.loop_binary):
            row = run(sock, port, a.seconds)
            print(json.dumps({"system": "redis", "variant": variant, "op": op, "procs": procs, **row}), flush=True)


if __name__ == "__main__":
    main()
