# SPDX-License-Identifier: MIT
"""Many workers, one state (examples/python/many_workers): under `uvicorn --workers
4` and under gunicorn with 4 uvicorn workers, the workers share one manager (the
first starts it, Manager(shared=True)), the scheduler starts exactly once, a
counter that every worker adds to is exact, and after the server stops the manager
ends by itself."""
import concurrent.futures
import os
import signal
import subprocess
import sys

import pytest

import mpstate
from test_fastapi_story import free_port, get, output_of, ready, start_server, until

APP_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "python", "many_workers")
WORKERS, HITS = 4, 400

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")


def command(server, port):
    if server == "uvicorn":
        return [sys.executable, "-m", "uvicorn", "app:app", "--app-dir", APP_DIR, "--workers", str(WORKERS),
                "--host", "127.0.0.1", "--port", str(port)]
    pytest.importorskip("gunicorn")
    return [sys.executable, "-m", "gunicorn", "-w", str(WORKERS), "-k", "uvicorn.workers.UvicornWorker",
            "--chdir", APP_DIR, "-b", f"127.0.0.1:{port}", "app:app"]


def manager_gone(name):
    try:
        mpstate.connect(name)
        return False
    except mpstate.ManagerUnavailable:
        return True


@pytest.mark.parametrize("server", ["uvicorn", "gunicorn"])
def test_workers_share_one_state_and_start_the_scheduler_once(server):
    port = free_port()
    name = f"workers-{server}-{os.getpid()}-{port}"
    proc = start_server(command(server, port), dict(os.environ, APP_STATE=name))
    try:
        serving = ready(proc, lambda: (s := get(port, "/status"))["workers"] == WORKERS
                        and s["scheduler"]["state"] == "running" and s, 60)
        base = serving["hits"]
        answers = []
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            # batches until at least two workers answered (the kernel picks who accepts)
            while len({a["worker"] for a in answers}) < 2 and len(answers) < 4 * HITS:
                answers += pool.map(lambda _: get(port, "/hit"), range(HITS))
        assert len({a["worker"] for a in answers}) >= 2, "the requests all went to one worker"
        # every add answered a distinct count: none lost, none doubled
        assert sorted(a["hits"] for a in answers) == list(range(base + 1, base + len(answers) + 1))
        statuses = [get(port, "/status") for _ in range(20)]
        assert statuses[-1]["hits"] == base + len(answers)
        assert {s["scheduler"]["starts"] for s in statuses} == {1}
        assert len({s["scheduler"]["pid"] for s in statuses}) == 1
        scheduler = statuses[-1]["scheduler"]["pid"]
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT if server == "uvicorn" else signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        output = output_of(proc)
        proc.log.close()
    assert proc.returncode == 0, output
    with pytest.raises(OSError):
        os.kill(scheduler, 0)  # the owning worker stopped its scheduler
    until(lambda: manager_gone(name), 30)  # nobody uses it any more: it ended by itself


def test_a_shared_join_waits_for_a_starting_managers_socket(tmp_path):
    """A manager between making its segment and listening on its socket (held there:
    its --snapshot is a FIFO nobody has written yet) is not joined: a client that
    mapped its segment without an answer would fail at its first structural op."""
    import threading
    from mpstate._programs import manager_executable
    name = f"starting-{os.getpid()}"
    fifo = tmp_path / "snapshot"
    os.mkfifo(fifo)
    starting = subprocess.Popen([manager_executable(), "--name", name, "--size", str(1 << 20),
                                 "--snapshot", str(fifo), "--log-level", "off"])
    outcome = {}

    def join():
        try:
            m = mpstate.Manager(name=name, shared=True)
            m.Value("q", 7, name="a/b")
            outcome["value"] = m.Value("q", name="a/b").value
            outcome["started"] = m.started
        except Exception as e:  # reported by the assertions below
            outcome["error"] = e
    try:
        until(lambda: any(name in f for f in os.listdir("/dev/shm")), 10)  # its segment exists
        joiner = threading.Thread(target=join)
        joiner.start()
        joiner.join(0.5)  # an observation, not a synchronisation: a join that does not wait returns now
        assert joiner.is_alive() and not outcome, outcome
        with open(fifo, "w") as f:  # let the manager go on: an empty snapshot, then it listens
            f.write('{"format":"mpstate-snapshot","format_version":1,"variables":[]}')
        joiner.join(30)
        assert outcome == {"value": 7, "started": False}
    finally:
        starting.terminate()
        starting.wait(30)
