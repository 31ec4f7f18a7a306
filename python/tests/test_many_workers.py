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
