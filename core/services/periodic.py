"""One way to run a background round every so often: a round that fails (the database is
down, or a bug) is logged and the next one runs anyway; only cancellation ends the loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from core.errors import StorageUnavailable

logger = logging.getLogger(__name__)


async def every(
    interval_s: float,
    what: str,
    round_: Callable[[], Awaitable[int]],
    done: Callable[[int], None],
    *,
    first_now: bool = False,
) -> None:
    """Run ``round_`` every ``interval_s`` seconds until cancelled; ``done`` gets each
    round's count. ``first_now`` runs the first round before the first wait."""
    if not first_now:
        await asyncio.sleep(interval_s)
    while True:
        try:
            done(await round_())
        except StorageUnavailable:
            logger.warning("%s skipped: the database is unavailable", what)
        except Exception:  # a periodic task's edge: one bad round must not end the task
            logger.exception("%s failed", what)
        await asyncio.sleep(interval_s)
