# SPDX-License-Identifier: MIT
"""The README's story, for real: the FastAPI app under uvicorn (a server process),
queried over HTTP; its shutdown stops the scheduler's child loop (`stopped`), and
when the child was SIGKILLed, status says `failed` and shutdown is still prompt."""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import pytest

APP_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "python", "fastapi_scheduler")

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
        return json.loads(r.read())


def until(condition, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except OSError:
            pass
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def start_server(args, env):
    """A server process whose output goes to a file, read back by output_of(): a pipe
    that nobody reads while it runs fills with its access log and stalls its workers."""
    log = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    proc.log = log
    return proc


def output_of(proc):
    proc.log.seek(0)
    return proc.log.read()


def ready(proc, condition, timeout):
    """until(condition), failing with what the server said."""
    try:
        return until(condition, timeout)
    except AssertionError:
        raise AssertionError(f"not ready in {timeout} s (server exit status {proc.poll()}); its output:\n"
                             + output_of(proc)) from None


@pytest.fixture
def server():
    port = free_port()
    env = dict(os.environ, SCHEDULER_MANAGER=f"story-{os.getpid()}-{port}")
    proc = start_server([sys.executable, "-m", "uvicorn", "app:app", "--app-dir", APP_DIR,
                         "--host", "127.0.0.1", "--port", str(port)], env)
    try:
        ready(proc, lambda: get(port, "/status")["state"] == "running", 60)
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.log.close()


def shut_down(proc):
    began = time.monotonic()
    proc.send_signal(signal.SIGINT)  # Ctrl-C: uvicorn runs the shutdown hook
    proc.wait(timeout=30)
    return time.monotonic() - began, output_of(proc)


def test_the_parent_sees_the_child_loop_and_shutdown_stops_it(server):
    proc, port = server
    first = get(port, "/status")
    assert first["pid"] not in (0, proc.pid)  # the child's loop, seen from the server
    until(lambda: get(port, "/jobs")["jobs_done"] > first["jobs_done"], 10)
    child = first["pid"]
    took, output = shut_down(proc)
    assert "scheduler: loop stopped" in output, output
    assert took < 5, output
    with pytest.raises(OSError):
        os.kill(child, 0)  # the child is gone


def test_a_sigkilled_child_shows_failed_and_shutdown_stays_prompt(server):
    proc, port = server
    child = get(port, "/status")["pid"]
    os.kill(child, signal.SIGKILL)
    status = until(lambda: (s := get(port, "/status"))["state"] == "failed" and s, 10)
    assert f"owner process {child} died" in status["reason"]
    took, output = shut_down(proc)
    assert "scheduler: loop failed" in output, output
    assert took < 5, output
