# SPDX-License-Identifier: MIT
"""The FastAPI app of the story: its startup hook starts the scheduler, its
shutdown hook stops it; endpoints show the loop's state and the jobs done.

    /usr/bin/python3 -m uvicorn app:app --app-dir examples/python/fastapi_scheduler

and open http://127.0.0.1:8000/mpstate/ for the dashboard.
"""
import logging
import time
from typing import Any

from fastapi import FastAPI

import mpstate
from scheduler import JobScheduler

log = logging.getLogger("uvicorn.error")
app = FastAPI(title="job scheduler on mpstate")
# The live page of the scheduler's state at /mpstate/ (its manager starts at startup).
app.mount("/mpstate", mpstate.dashboard(lambda: JobScheduler.manager))


@app.on_event("startup")
async def start_scheduler() -> None:
    state = JobScheduler.start()
    log.info("scheduler: child pid %s, loop %s", JobScheduler.process and JobScheduler.process.pid, state)


@app.on_event("shutdown")
async def stop_scheduler() -> None:
    began = time.monotonic()
    state = await JobScheduler.stop(timeout=1.0)
    log.info("scheduler: loop %s after %.0f ms, %s jobs done", state,
             (time.monotonic() - began) * 1000, JobScheduler.status()["jobs_done"])


@app.get("/status")
async def status() -> dict[str, Any]:
    return JobScheduler.status()


@app.get("/jobs")
async def jobs() -> dict[str, Any]:
    return {"jobs_done": JobScheduler.status()["jobs_done"]}
