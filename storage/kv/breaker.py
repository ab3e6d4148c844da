"""Whether Redis answers, shared by the fallback wrappers of a process (storage.kv.fallback).

Sharing one breaker means an outage logs one warning and one recovery, and Redis is probed
at most once every ``retry_interval_s`` rather than on every call (a dead host would
otherwise cost each call a connect timeout)."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import redis.exceptions

logger = logging.getLogger(__name__)

T = TypeVar("T")

# What "Redis is not there" looks like; any other error (a script bug, a wrong type) is
# ours to see and propagates.
UNREACHABLE: tuple[type[BaseException], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    TimeoutError,
    OSError,
)


class RedisBreaker:
    """Whether Redis answers, and when to try it again."""

    def __init__(
        self, retry_interval_s: float = 5.0, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._retry_interval_s = retry_interval_s
        self._clock = clock
        self._degraded = False
        self._next_probe = 0.0

    @property
    def degraded(self) -> bool:
        return self._degraded

    async def call(
        self, primary: Callable[[], Awaitable[T]], backup: Callable[[], Awaitable[T]]
    ) -> T:
        probing = self._degraded
        if probing:
            if self._clock() < self._next_probe:
                return await backup()
            # Claim the probe before awaiting, so concurrent calls keep using the backup
            # instead of all waiting on the same dead connection.
            self._next_probe = self._clock() + self._retry_interval_s
        try:
            result = await primary()
        except UNREACHABLE as exc:
            self._trip(exc)
            return await backup()
        if probing:
            # Only a probe's success says Redis is back; a call that began before the outage
            # and finished late says nothing about now.
            self._recover()
        return result

    def _trip(self, exc: BaseException) -> None:
        self._next_probe = self._clock() + self._retry_interval_s
        if self._degraded:
            return
        self._degraded = True
        logger.warning(
            "Redis unreachable, using per-process state (rate and login limits, link codes, "
            "flags, pacing) until it answers (%s: %s)",
            type(exc).__name__,
            exc,
        )

    def _recover(self) -> None:
        if self._degraded:
            self._degraded = False
            logger.info("Redis reachable again, using shared state")
