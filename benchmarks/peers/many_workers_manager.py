# SPDX-License-Identifier: MIT
"""The many-workers app (examples/python/many_workers) on multiprocessing.Manager:
every worker connects to one SyncManager server (address and key from the
environment, started by benchmarks/web_status.py) and reads the same six figures
for /status, each a round trip to the server."""
import os
from multiprocessing.managers import DictProxy, SyncManager
from typing import Any

from fastapi import FastAPI


class StateManager(SyncManager):
    pass


StateManager.register("state", proxytype=DictProxy)
app = FastAPI()
state: Any = None


@app.on_event("startup")
async def connect() -> None:
    global state
    host, port = os.environ["STATE_ADDRESS"].rsplit(":", 1)
    m = StateManager(address=(host, int(port)), authkey=os.environ["STATE_KEY"].encode())
    m.connect()
    state = m.state()


@app.get("/status")
async def status() -> dict[str, Any]:
    return {"worker": os.getpid(), "workers": state["workers"], "hits": state["hits"],
            "scheduler": {"state": state["scheduler_state"], "pid": state["scheduler_pid"],
                          "starts": state["scheduler_starts"], "jobs_done": state["jobs_done"]}}
