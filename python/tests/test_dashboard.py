# SPDX-License-Identifier: MIT
"""The dashboard as a person uses it: the FastAPI example (which mounts it at
/mpstate) under uvicorn, opened in headless Chromium. A loop whose child is
SIGKILLed turns `failed` on the page within 2 s; a stop clicked in the page (and
confirmed) stops it. Then what its HTTP side refuses."""
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from headless_chromium import Browser, chromium_path
from test_fastapi_story import APP_DIR, free_port, get, ready, start_server

import mpstate

pytest.importorskip("websocket")
if not chromium_path():
    pytest.fail("no chromium: scripts/install-deps installs it", pytrace=False)

LOOP_STATE = "document.querySelector('tr[data-loop=\"scheduler/loop\"] .state')?.dataset.state"


@pytest.fixture
def app():
    port = free_port()
    name = f"dash-{os.getpid()}-{port}"
    proc = start_server([sys.executable, "-m", "uvicorn", "app:app", "--app-dir", APP_DIR,
                         "--host", "127.0.0.1", "--port", str(port)], dict(os.environ, SCHEDULER_MANAGER=name))
    try:
        ready(proc, lambda: get(port, "/status")["state"] == "running", 60)
        yield port, name
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    b = Browser(tmp_path_factory.mktemp("chromium"), width=1280, height=720)
    try:
        yield b
    finally:
        b.close()


@pytest.fixture
def page(browser):
    p = browser.page()
    try:
        yield p
    finally:
        p.open("about:blank")  # leaves the page: its event stream ends
        p.close()


def test_a_killed_child_shows_failed_within_2_seconds(app, page):
    port, _ = app
    page.open(f"http://127.0.0.1:{port}/mpstate/")
    assert page.wait_for(LOOP_STATE, 10) == "running"
    assert page.evaluate("document.getElementById('link').dataset.link") == "live"
    pid = get(port, "/status")["pid"]
    os.kill(pid, signal.SIGKILL)
    began = time.monotonic()
    page.wait_for(LOOP_STATE + " === 'failed'", 2.0)
    took = time.monotonic() - began
    assert took < 2.0
    reason = page.evaluate("document.querySelector('tr[data-loop=\"scheduler/loop\"] .reason')?.textContent")
    assert str(pid) in reason  # the manager's words: its owner died
    assert get(port, "/status")["state"] == "failed"


def test_a_stop_clicked_and_confirmed_in_the_page_stops_the_loop(app, page, tmp_path):
    port, name = app
    # Something in every panel, for the screenshot (docs/dashboard.png).
    c = mpstate.connect(name)
    q = c.Queue(name="jobs/pending")
    for i in range(5):
        q.put({"job": i})
    lock = c.Lock(name="jobs/lock")
    lock.acquire()
    page.open(f"http://127.0.0.1:{port}/mpstate/")
    assert page.wait_for(LOOP_STATE, 10) == "running"
    depth = "document.querySelector('tr[data-queue=\"jobs/pending\"] .depth')?.textContent === '{}'"
    page.wait_for(depth.format(5), 5)
    for i in range(5, 12):  # the queue's depth over time: a line of the depths the page saw
        q.put({"job": i})
        page.wait_for(depth.format(i + 1), 5)
    for _ in range(4):
        q.get()
    page.wait_for(depth.format(8), 5)
    points = page.evaluate("document.querySelector('tr[data-queue=\"jobs/pending\"] polyline').getAttribute('points')")
    assert len(points.split()) >= 9  # 5, 6, ..., 12, then 8
    page.wait_for(f"document.querySelector('tr[data-lock=\"jobs/lock\"] .holder')?.textContent === 'pid {os.getpid()}'",
                  5)
    page.evaluate("document.querySelector('tr[data-loop=\"scheduler/loop\"] button.stop').click()")
    assert page.evaluate("!document.getElementById('confirm').hidden")
    page.screenshot(os.environ.get("MPSTATE_DASHBOARD_SCREENSHOT", str(tmp_path / "dashboard.png")))
    assert get(port, "/status")["state"] == "running"  # nothing happens before the confirmation
    page.evaluate("document.getElementById('confirm-stop').click()")
    page.wait_for(LOOP_STATE + " === 'stopped'", 5)
    assert get(port, "/status")["state"] == "stopped"
    assert page.evaluate("document.querySelector('tr[data-loop=\"scheduler/loop\"] button.stop')") is None
    lock.release()


def request(port, path, method="GET", body=None, content_type="application/json"):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/mpstate/{path}", method=method, data=body,
                                 headers={"content-type": content_type})
    try:
        with urllib.request.urlopen(req, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_what_the_dashboard_refuses(app):
    port, name = app
    assert request(port, "nothing")[0] == 404
    assert request(port, "api/stop")[0] == 405
    assert request(port, "api/stop", "POST", b'{"name": "scheduler/loop"}', "text/plain")[0] == 415  # no CSRF
    assert request(port, "api/stop", "POST", b"not json")[0] == 400
    cross = urllib.request.Request(f"http://127.0.0.1:{port}/mpstate/api/stop", method="POST",
                                   data=b'{"name": "scheduler/loop"}',
                                   headers={"content-type": "application/json", "origin": "http://evil.example"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(cross, timeout=10)
    assert refused.value.code == 403  # a stop asked from another site
    assert request(port, "api/stop", "POST", b'{"name": 5}')[0] == 400
    status, body = request(port, "api/stop", "POST", b'{"name": "no/such/loop"}')
    assert status == 404 and json.loads(body)["error"]["code"] == "not_found"
    assert "no/such/loop" not in mpstate.connect(name).names()  # asking made no loop
    status, body = request(port, "api/stop", "POST", b'{"name": "scheduler/jobs_done"}')
    assert status == 404  # not a loop
    assert get(port, "/status")["state"] == "running"  # and it serves on
    status, text = request(port, "metrics")
    assert status == 200 and b'mpstate_loop_state{name="scheduler/loop",state="running"} 1' in text
    state = json.loads(request(port, "api/state?prefix=scheduler/jobs")[1])
    assert [v["name"] for v in state["variables"]] == ["scheduler/jobs_done"]
    assert [v["name"] for v in state["loops"]] == ["scheduler/loop"]


def test_a_read_only_dashboard_refuses_the_stop(manager):
    import asyncio
    app = mpstate.dashboard(manager, read_only=True)
    manager.loop("ro/loop")
    sent = []

    async def call():
        scope = {"type": "http", "method": "POST", "path": "/api/stop", "root_path": "", "query_string": b"",
                 "headers": [(b"content-type", b"application/json")]}
        messages = iter([{"type": "http.request", "body": b'{"name": "ro/loop"}', "more_body": False}])

        async def receive():
            return next(messages)

        async def send(message):
            sent.append(message)
        await app(scope, receive, send)
    asyncio.run(call())
    assert sent[0]["status"] == 403
    assert manager.loop("ro/loop").info()["state"] == "idle"


def test_the_cli_serves_the_dashboard_of_a_manager_by_name(manager):
    from mpstate._programs import program_path
    cli = program_path("mpstate")
    env = dict(os.environ, MPSTATE_PYTHON=sys.executable)
    manager.loop("cli/loop")
    port = free_port()
    proc = start_server([cli, "dashboard", manager.name, "--port", str(port)], env)
    try:
        state = ready(proc, lambda: json.loads(request_root(port, "api/state")), 30)
        assert state["stat"]["manager"] == manager.name
        assert [v["name"] for v in state["loops"]] == ["cli/loop"]
        assert b"<title>mpstate</title>" in request_root(port, "")
        evil = urllib.request.Request(f"http://127.0.0.1:{port}/api/state", headers={"Host": "evil.example"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(evil, timeout=10)
        assert refused.value.code == 403  # a page led here by DNS rebinding
    finally:
        proc.terminate()
        proc.wait(30)
    bad = [([cli, "dashboard"], 2, "usage: mpstate dashboard NAME"),
           ([cli, "dashboard", "x", "--port", "70000"], 2, "--port must be 0 to 65535"),
           ([cli, "dashboard", f"no-such-{os.getpid()}", "--port", "0"], 3, "no manager at"),
           ([cli, "dashboard", manager.name, "--host", "0.0.0.0"], 2, "serves loopback addresses only")]
    for args, code, words in bad:
        done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == code and words in done.stderr, (args, done.returncode, done.stderr)


def request_root(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/{path}", timeout=10) as answer:
        return answer.read()


def test_pages_that_miss_at_once_share_one_snapshot(manager):
    """Twenty pages asking while a snapshot is being taken get that one: one dump
    of the segment, not twenty."""
    import asyncio
    import threading

    class CountingClient:  # the manager's client, its dumps counted and held until released
        def __init__(self):
            self.dumps = 0
            self.release = threading.Event()

        def dump(self, prefix):
            self.dumps += 1
            self.release.wait(10)
            return manager.dump(prefix)

        def stat(self):
            return manager.stat()

    counting = CountingClient()
    app = mpstate.dashboard(counting, interval=60)

    async def pages():
        asked = [asyncio.ensure_future(app.latest("")) for _ in range(20)]
        while counting.dumps == 0:  # the first snapshot has begun (in a worker thread)
            await asyncio.sleep(0.001)
        await asyncio.sleep(0)  # every page has asked by now: each ran to its first await
        counting.release.set()
        return await asyncio.gather(*asked)

    states = asyncio.run(pages())
    assert counting.dumps == 1
    assert all(s is states[0] for s in states)
