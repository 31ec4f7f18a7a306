#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Redis's memory per key, beside mpstate's segment bytes per variable
(`mpstate-bench --op memory`): a private redis-server (redis_peer.redis_server),
then for each count N, N keys of one kind written in pipelined batches, and
`INFO memory`'s used_memory before and after, divided by N.

  /usr/bin/python3 redis_memory.py [--counts 1000,1000000]

Kinds, with the names mpstate's bench uses (bench/vNNN): an integer (`SET k 12345`),
a 16-byte string, and a list holding one integer (a queue). Prints one JSON object
per kind and count: {system, kind, keys, bytes_per_key}.
"""
import argparse
import json
import os
import sys

import redis

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from redis_peer import redis_server  # noqa: E402

KINDS = {
    "int64": lambda p, k: p.set(k, 12345),
    "string16": lambda p, k: p.set(k, "0123456789abcdef"),
    "queue": lambda p, k: p.rpush(k, 1),
}


def bytes_per_key(r, kind, count, batch=10000):
    r.flushall()
    before = r.info("memory")["used_memory"]
    for start in range(0, count, batch):
        p = r.pipeline(transaction=False)
        for i in range(start, min(count, start + batch)):
            KINDS[kind](p, f"bench/v{i}")
        p.execute()
    return (r.info("memory")["used_memory"] - before) / count


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--counts", default="1000,1000000")
    a = ap.parse_args()
    with redis_server() as (sock, _port):
        r = redis.Redis(unix_socket_path=sock)
        for count in (int(c) for c in a.counts.split(",")):
            for kind in KINDS:
                row = {"system": "redis", "kind": kind, "keys": count, "bytes_per_key": bytes_per_key(r, kind, count)}
                print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
