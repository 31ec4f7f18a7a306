# SPDX-License-Identifier: MIT
"""The manager's --metrics endpoint, scraped as Prometheus would and parsed with
Prometheus's own text parser (python3-prometheus-client), checked against `stat`
and against what the test put in the segment; and what it refuses."""
import os
import socket
import time
import urllib.error
import urllib.request

import pytest

import mpstate

parser = pytest.importorskip("prometheus_client.parser")

_names = iter(range(10**6))


def scrape(address, path="/metrics", headers=None, method="GET"):
    request = urllib.request.Request(f"http://{address}{path}", headers=headers or {}, method=method)
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return answer.read().decode()


def samples(text):
    """{(name, frozenset(labels)): value} of every sample, by the real parser."""
    out = {}
    for family in parser.text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def status_of(address, path="/metrics", headers=None, method="GET"):
    try:
        scrape(address, path, headers, method)
        return 200
    except urllib.error.HTTPError as e:
        return e.code


@pytest.fixture
def metered():
    name = f"metrics-{os.getpid()}-{next(_names)}"
    with mpstate.Manager(name=name, size="16M", args=("--metrics", "127.0.0.1:0")) as m:
        yield m, m.stat()["metrics"]


def test_the_scrape_parses_and_agrees_with_stat(metered):
    m, address = metered
    loop = m.loop("jobs/loop")
    loop.mark_starting()
    loop.mark_running()
    loop.heartbeat()
    q = m.Queue(name="jobs/queue")
    for i in range(3):
        q.put(i)
    held = m.Lock(name="jobs/lock")
    held.acquire()
    m.Lock(name="jobs/free")
    m.Value("q", 7, name="jobs/count")
    m.dict(name="jobs/table")
    figures = m.stat()
    got = samples(scrape(address))

    by_type = {dict(labels)["type"]: v for (n, labels), v in got.items() if n == "mpstate_variables"}
    assert sum(by_type.values()) == figures["variables"]
    assert by_type["lock"] == 2 and by_type["queue"] == 1 and by_type["loop"] == 1 and by_type["int64"] == 1
    assert got[("mpstate_segment_size_bytes", frozenset())] == figures["size"]
    assert (got[("mpstate_segment_used_bytes", frozenset())] + got[("mpstate_segment_free_bytes", frozenset())]
            == figures["size"])
    info = [labels for (n, labels), _ in got.items() if n == "mpstate_info"]
    assert dict(info[0])["manager"] == m.name
    # Counters only grow: each is at least what stat (asked just before) said.
    for op, n in figures["counters"]["ops"].items():
        assert got[("mpstate_ops_total", frozenset({("op", op)}))] >= n
    count = got[("mpstate_request_duration_seconds_count", frozenset())]
    assert count >= figures["latency"]["count"] > 0
    assert got[("mpstate_request_duration_seconds_bucket", frozenset({("le", "+Inf")}))] == count

    assert got[("mpstate_loop_state", frozenset({("name", "jobs/loop"), ("state", "running")}))] == 1
    assert got[("mpstate_loop_state", frozenset({("name", "jobs/loop"), ("state", "failed")}))] == 0
    assert got[("mpstate_loop_iterations_total", frozenset({("name", "jobs/loop")}))] == 1
    assert 0 <= got[("mpstate_loop_heartbeat_age_seconds", frozenset({("name", "jobs/loop")}))] < 60
    assert got[("mpstate_queue_depth", frozenset({("name", "jobs/queue")}))] == 3
    assert got[("mpstate_queue_puts_total", frozenset({("name", "jobs/queue")}))] == 3
    assert got[("mpstate_lock_held", frozenset({("name", "jobs/lock"), ("type", "lock")}))] == 1
    assert got[("mpstate_lock_held", frozenset({("name", "jobs/free"), ("type", "lock")}))] == 0
    assert got[("mpstate_lock_held_seconds", frozenset({("name", "jobs/lock"), ("type", "lock")}))] >= 0
    assert got[("mpstate_lock_held_seconds", frozenset({("name", "jobs/free"), ("type", "lock")}))] == 0
    held.release()
    bindings = m.stat()["bindings"]
    after = samples(scrape(address))
    assert m.stat()["bindings"] == bindings  # what a scrape binds to describe, it unbinds
    assert after[("mpstate_lock_held", frozenset({("name", "jobs/lock"), ("type", "lock")}))] == 0
    assert after[("mpstate_ops_total", frozenset({("op", "metrics")}))] >= 1  # the first scrape, counted
    # The op and the method say the same as the endpoint.
    assert {k for k in samples(m.metrics())} == {k for k in after}


def test_per_variable_series_are_capped(metered):
    m, address = metered
    for i in range(1001):
        m.Lock(name=f"many/{i:04}")
    got = samples(scrape(address))
    assert len([k for k in got if k[0] == "mpstate_lock_held"]) == 1000
    assert got[("mpstate_series_omitted", frozenset({("kind", "lock")}))] == 1
    assert got[("mpstate_variables", frozenset({("type", "lock")}))] == 1001


def test_what_the_endpoint_refuses_and_it_serves_on(metered):
    m, address = metered
    assert status_of(address, "/") == 404
    assert status_of(address, "/metrics", method="POST") == 405
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port))) as s:
        s.sendall(b"not http at all\r\n\r\n")
        assert s.recv(100).startswith(b"HTTP/1.1 400 ")
    with socket.create_connection((host, int(port))) as s:
        s.sendall(b"GET /metrics HTTP/1.1\r\nX: " + b"y" * 20000)
        assert s.recv(100).startswith(b"HTTP/1.1 431 ")
    silent = [socket.create_connection((host, int(port))) for _ in range(16)]  # the most served at once
    try:
        with pytest.raises((ConnectionError, urllib.error.URLError)):
            scrape(address)  # a 17th is let go while they hold every place
        silent[0].settimeout(15)
        began = time.monotonic()
        assert silent[0].recv(1) == b""  # the deadline cuts a silent one
        assert 3 < time.monotonic() - began < 10
    finally:
        for s in silent:
            s.close()
    assert "mpstate_info" in scrape(address)  # and it serves on
    assert m.Value("q", 1, name="still").value == 1


def test_an_open_loopback_endpoint_answers_only_loopback_hosts(metered):
    _, address = metered
    assert status_of(address, headers={"Host": "localhost"}) == 200
    assert status_of(address, headers={"Host": "attacker.example:80"}) == 403  # DNS rebinding


def test_off_loopback_a_scrape_shows_the_read_only_key_never_the_other(tmp_path, monkeypatch):
    monkeypatch.delenv("MPSTATE_KEY", raising=False)
    monkeypatch.delenv("MPSTATE_KEY_FILE", raising=False)
    name = f"metrics-{os.getpid()}-{next(_names)}"
    keys = {}
    for which, byte in (("key", "k"), ("read-only", "r")):
        keys[which] = tmp_path / which
        keys[which].write_text(byte * 32)
        keys[which].chmod(0o600)
    with pytest.raises(mpstate.Error, match="exited with status 1 before it was ready"):
        mpstate.Manager(name=name, size="16M", args=("--metrics", "0.0.0.0:0", "--key-file", str(keys["key"])))
    with mpstate.Manager(name=name, size="16M", args=("--metrics", "0.0.0.0:0", "--key-file", str(keys["key"]),
                                                      "--read-only-key-file", str(keys["read-only"]))) as m:
        port = m.stat()["metrics"].rsplit(":", 1)[1]
        address = f"127.0.0.1:{port}"
        assert status_of(address) == 401
        assert status_of(address, headers={"Authorization": "Bearer " + "k" * 32}) == 401  # the read-write key
        assert status_of(address, headers={"Authorization": "Bearer " + "x" * 32}) == 401
        assert status_of(address, headers={"Authorization": "Basic " + "r" * 32}) == 401
        assert "mpstate_info" in scrape(address, headers={"Authorization": "bearer " + "r" * 32 + " "})
