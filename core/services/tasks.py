"""Stopping helper tasks for sure."""

from __future__ import annotations

import asyncio
from typing import Any


async def cancel_and_wait(*tasks: asyncio.Task[Any], every_s: float = 0.5) -> None:
    """Cancel ``tasks`` and wait until every one has ended, repeating the cancel.

    One cancel is not always enough: on Python 3.11 ``asyncio.wait_for`` (which redis-py
    uses for its socket timeouts) drops a cancellation that races with the awaited call
    finishing, and the task carries on as if nothing happened. The chaos suite caught Stop
    watchers doing exactly that, and the answer they belonged to never settled. Their
    outcomes (results, exceptions) are consumed here: the caller has what it needs."""
    pending = {task for task in tasks if not task.done()}
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=every_s)
    for task in tasks:
        if not task.cancelled():
            task.exception()  # retrieved, so asyncio does not log it as never retrieved
