# SPDX-License-Identifier: MIT
"""The scheduler's child process: an asyncio loop that runs a job per tick until
asked to stop (its own module, so that a spawned child imports only this)."""
import asyncio

import mpstate


def run_scheduler(loop_state: mpstate.LoopState, jobs_done: mpstate.ValueProxy, tick_seconds: float = 0.05) -> None:
    asyncio.run(_loop(loop_state, jobs_done, tick_seconds))


async def _loop(loop_state: mpstate.LoopState, jobs_done: mpstate.ValueProxy, tick_seconds: float) -> None:
    loop_state.mark_starting()
    loop_state.mark_running()
    while not loop_state.stop_requested():
        jobs_done.add(1)
        loop_state.heartbeat()
        await asyncio.sleep(tick_seconds)
    loop_state.mark_stopped()
