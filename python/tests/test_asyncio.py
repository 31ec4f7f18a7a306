# SPDX-License-Identifier: MIT
"""The awaitable forms wait in the executor: the event loop goes on meanwhile."""
import asyncio
import threading

import mpstate


def test_waiting_for_a_loop_state_does_not_block_the_event_loop(manager):
    loop_state = manager.loop("async/loop")

    async def main():
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        task = asyncio.create_task(ticker())
        # another thread (it could be another process) runs the loop and stops it later

        def owner():
            loop_state.mark_starting()
            loop_state.mark_running()
            threading.Event().wait(0.3)
            loop_state.mark_stopped()
        threading.Thread(target=owner).start()
        state = await loop_state.wait_for_async("stopped", timeout=10)
        task.cancel()
        return state, ticks

    state, ticks = asyncio.run(main())
    assert state == "stopped"
    assert ticks >= 10  # ~30 in 0.3 s: the loop was never blocked


def test_awaitable_queue_and_event(manager):
    q, ev = manager.Queue(), manager.Event()

    async def main():
        getter = asyncio.create_task(q.get_async(timeout=5))
        waiter = asyncio.create_task(ev.wait_async(5))
        await asyncio.sleep(0.05)
        await q.put_async("item")
        ev.set()
        return await getter, await waiter

    assert asyncio.run(main()) == ("item", True)
    assert isinstance(manager, mpstate.Manager)
