"""cancel_and_wait ends a task that swallows its first cancellation (as a task inside
Python 3.11's asyncio.wait_for may), where a single cancel and a gather would hang."""

from __future__ import annotations

import asyncio

from core.services.tasks import cancel_and_wait


async def _deaf_once(ended: list[str]) -> None:
    # Swallows the first cancellation, as a lost cancel looks from outside, then sleeps on.
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        ended.append("swallowed one cancel")
    try:
        await asyncio.sleep(3600)
    finally:
        ended.append("ended")


async def test_a_task_that_loses_one_cancel_is_still_ended() -> None:
    ended: list[str] = []
    deaf = asyncio.create_task(_deaf_once(ended))
    await asyncio.sleep(0)
    await asyncio.wait_for(cancel_and_wait(deaf, every_s=0.01), timeout=5)
    assert deaf.cancelled() and ended == ["swallowed one cancel", "ended"]


async def test_failures_are_consumed_not_logged_later() -> None:
    async def boom() -> None:
        raise RuntimeError("no")

    failing = asyncio.create_task(boom())
    await asyncio.sleep(0)
    await cancel_and_wait(failing)
    assert isinstance(failing.exception(), RuntimeError)
