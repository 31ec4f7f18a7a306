# SPDX-License-Identifier: MIT
"""The same proxies over TCP with the key (tcp://HOST:PORT): children that get
them by pickle reconnect over TCP, counts stay exact, and a SIGKILLed remote lock
holder's lease ends with its connection, so the next acquirer is told."""
import multiprocessing
import os
import signal

import pytest

import mpstate
import workers

KEY = "a-key-for-the-python-tcp-tests-0123"


@pytest.fixture
def tcp(tmp_path, monkeypatch):
    key_file = tmp_path / "key"
    key_file.write_text(KEY + "\n")
    key_file.chmod(0o600)
    monkeypatch.setenv("MPSTATE_KEY_FILE", str(key_file))  # children inherit it
    with mpstate.Manager(name=f"py-tcp-{os.getpid()}", size="16M",
                         args=["--listen", "127.0.0.1:0", "--key-file", str(key_file), "--lease", "2"]) as m:
        url = "tcp://" + m.stat()["listening"][0]
        yield m, mpstate.connect(url)


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_children_adding_over_tcp_are_exact(tcp, method):
    manager, remote = tcp
    counter = remote.Value("q", 0, name="count")
    ctx = multiprocessing.get_context(method)
    procs = [ctx.Process(target=workers.add_many, args=(counter, 2000)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert manager.Value("q", name="count").value == 6000


def test_a_sigkilled_remote_lock_holder_is_noticed_by_the_next_acquire(tcp):
    manager, remote = tcp
    lock, ready = remote.Lock(name="guard"), remote.Event(name="ready")
    holder = multiprocessing.get_context("spawn").Process(target=workers.hold_lock_forever, args=(lock, ready))
    holder.start()
    assert ready.wait(30)
    local_lock = manager.Lock(name="guard")
    assert local_lock.acquire(timeout=0.05) is False
    os.kill(holder.pid, signal.SIGKILL)
    holder.join(10)
    assert local_lock.acquire(timeout=5) is True
    assert local_lock.previous_owner_died is True


def test_no_key_or_a_wrong_key_is_refused(tcp, monkeypatch):
    manager, remote = tcp
    # "localhost", not the address the cached client has: a fresh connection
    url = "tcp://localhost:" + manager.stat()["listening"][0].rsplit(":", 1)[1]
    monkeypatch.delenv("MPSTATE_KEY_FILE")
    with pytest.raises(mpstate.PermissionDenied):
        mpstate.connect(url)
    monkeypatch.setenv("MPSTATE_KEY", "not-the-key-not-the-key-0123")
    with pytest.raises(mpstate.PermissionDenied):
        mpstate.connect(url, transport="socket")  # another cache entry: a fresh connection
