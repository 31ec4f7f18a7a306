# SPDX-License-Identifier: MIT
"""A job scheduler whose asyncio event loop runs in a child process, with
start()/stop() classmethods -- the way the web app in the README wrote it.

Without mpstate, `stop()` in the parent found `JobScheduler.loop` still None: the
child set its own copy of the class attribute. Here the loop's state lives in an
mpstate LoopState that every process sees: the parent reads it, asks the loop to
stop, and waits until it has (or finds it `failed` if the child was killed).
"""
import asyncio
import multiprocessing
import os
from multiprocessing.process import BaseProcess
from typing import Any, Optional

import mpstate

MANAGER_NAME = os.environ.get("SCHEDULER_MANAGER", f"scheduler-{os.getpid()}")


class JobScheduler:
    manager: Optional[mpstate.Manager] = None  # embedded: it ends with this process
    loop_state: Optional[mpstate.LoopState] = None  # the child's event loop, as every process sees it
    jobs_done: Optional[mpstate.ValueProxy] = None
    process: Optional[BaseProcess] = None

    @classmethod
    def start(cls, tick_seconds: float = 0.05) -> str:
        cls.manager = mpstate.Manager(name=MANAGER_NAME, size="16M")
        loop_state = cls.loop_state = cls.manager.loop("scheduler/loop")
        cls.jobs_done = cls.manager.Value("q", 0, name="scheduler/jobs_done")
        # spawn: a fresh interpreter; the proxies travel as names, not values
        ctx = multiprocessing.get_context("spawn")
        cls.process = ctx.Process(target=run_scheduler, args=(loop_state, cls.jobs_done, tick_seconds),
                                  name="job-scheduler", daemon=True)
        cls.process.start()
        return loop_state.wait_for("running", timeout=30)

    @classmethod
    async def stop(cls, timeout: float = 1.0) -> str:
        """Asks the child's loop to stop and waits (without blocking the event
        loop) until it has; a child that died is reported `failed` at once."""
        if cls.loop_state is None or cls.process is None:
            return "idle"
        cls.loop_state.request_stop()
        state = await cls.loop_state.wait_for_async("stopped", timeout)
        cls.process.join(timeout)
        if cls.process.is_alive():  # it did not stop in time: end it
            cls.process.kill()
            cls.process.join()
        return state

    @classmethod
    def status(cls) -> dict[str, Any]:
        assert cls.loop_state is not None and cls.jobs_done is not None, "start() first"
        info = cls.loop_state.info()
        return {"state": info["state"], "pid": info["pid"], "iterations": info["iterations"],
                "reason": info["reason"], "jobs_done": cls.jobs_done.value}


def run_scheduler(loop_state: mpstate.LoopState, jobs_done: mpstate.ValueProxy, tick_seconds: float) -> None:
    """The child process: an asyncio loop that runs jobs until asked to stop."""
    asyncio.run(scheduler_loop(loop_state, jobs_done, tick_seconds))


async def scheduler_loop(loop_state: mpstate.LoopState, jobs_done: mpstate.ValueProxy, tick_seconds: float) -> None:
    loop_state.mark_starting()
    loop_state.mark_running()
    try:
        while not loop_state.stop_requested():
            jobs_done.add(1)         # a job
            loop_state.heartbeat()
            await asyncio.sleep(tick_seconds)
    except Exception as e:
        loop_state.mark_failed(f"{type(e).__name__}: {e}")
        raise
    loop_state.mark_stopped()
