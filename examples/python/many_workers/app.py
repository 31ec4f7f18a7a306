# SPDX-License-Identifier: MIT
"""One state for every worker of a web app: counters exact across workers, and a
scheduler started exactly once, whichever worker comes first.

    /usr/bin/python3 -m uvicorn app:app --app-dir examples/python/many_workers --workers 4
    gunicorn -w 4 -k uvicorn.workers.UvicornWorker --chdir examples/python/many_workers app:app

Each worker joins the manager named $APP_STATE (default "many-workers"):
``Manager(name=..., shared=True)`` starts it in the first worker and joins it in
the others, and none stops it from under the rest. The worker that wins the
scheduler lock starts the scheduler's child process and holds the lock for as long
as it lives. /hit counts requests in one variable that every worker adds to.
"""
import multiprocessing
import os
from multiprocessing.process import BaseProcess
from typing import Any, Optional

from fastapi import FastAPI

import jobs
import mpstate

STATE_NAME = os.environ.get("APP_STATE", "many-workers")
app = FastAPI(title="many workers, one state")


class Shared:
    """This worker's proxies to the state every worker shares."""

    def __init__(self) -> None:
        self.manager = mpstate.Manager(name=STATE_NAME, size="16M", shared=True)
        self.hits = self.manager.Value("q", 0, name="app/hits")
        self.workers = self.manager.Value("q", 0, name="app/workers")
        self.scheduler_starts = self.manager.Value("q", 0, name="app/scheduler_starts")
        self.jobs_done = self.manager.Value("q", 0, name="app/jobs_done")
        self.loop = self.manager.loop("app/scheduler")
        self.owner = self.manager.Lock(name="app/scheduler_owner")
        self.scheduler: Optional[BaseProcess] = None  # in the worker that owns it


shared: Optional[Shared] = None


def state() -> Shared:
    assert shared is not None, "the startup hook has not run"
    return shared


@app.on_event("startup")
async def join_the_state() -> None:
    global shared
    s = shared = Shared()
    s.workers.add(1)
    if s.owner.acquire(blocking=False):  # exactly one worker wins it, for its lifetime
        s.scheduler_starts.add(1)
        s.scheduler = multiprocessing.get_context("spawn").Process(
            target=jobs.run_scheduler, args=(s.loop, s.jobs_done), name="scheduler", daemon=True)
        s.scheduler.start()
        s.loop.wait_for("running", timeout=30)


@app.on_event("shutdown")
async def leave_the_state() -> None:
    s = state()
    if s.scheduler is not None:
        s.loop.request_stop()
        await s.loop.wait_for_async("stopped", 5)
        s.scheduler.join(5)
        s.owner.release()
    s.workers.add(-1)
    s.manager.shutdown()  # shared: a no-op; the manager serves on while others use it


@app.get("/hit")
async def hit() -> dict[str, Any]:
    return {"hits": state().hits.add(1), "worker": os.getpid()}


@app.get("/status")
async def status() -> dict[str, Any]:
    s = state()
    info = s.loop.info()
    return {"worker": os.getpid(), "workers": s.workers.value, "hits": s.hits.value,
            "scheduler": {"state": info["state"], "pid": info["pid"], "starts": s.scheduler_starts.value,
                          "jobs_done": s.jobs_done.value}}
