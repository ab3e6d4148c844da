"""Failed-login counters: at most ``limit`` failures per ``window_s`` for each key (an
account, an address). In Redis when configured (shared by every worker), else in-process;
while Redis is down the in-process counters stand in (``storage.kv.fallback.FallbackLoginLimiter``,
behind the same breaker as the other Redis services)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence

from redis.asyncio import Redis

DEFAULT_LIMIT = 5
DEFAULT_WINDOW_S = 15 * 60


class MemoryLoginLimiter:
    """A sliding window of failure times per key."""

    def __init__(self, limit: int = DEFAULT_LIMIT, window_s: float = DEFAULT_WINDOW_S) -> None:
        self._limit = limit
        self._window = window_s
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now - self._window:
            times.popleft()
        if not times:
            del self._failures[key]  # forget quiet keys, so the dict cannot grow forever
            return deque()
        return times

    async def retry_after(self, keys: Sequence[str]) -> float | None:
        now = time.monotonic()
        waits = [
            times[0] + self._window - now
            for key in keys
            if len(times := self._recent(key, now)) >= self._limit
        ]
        return max(waits) if waits else None

    async def failed(self, keys: Sequence[str]) -> None:
        now = time.monotonic()
        for key in keys:
            self._failures.setdefault(key, deque()).append(now)


class RedisLoginLimiter:
    """A fixed window per key (INCR, EXPIRE on the first failure): one round trip each.

    Redis errors propagate; wrap it in ``FallbackLoginLimiter`` to keep counting while
    Redis is away."""

    def __init__(
        self,
        redis: Redis,
        prefix: str = "sb:login:",
        limit: int = DEFAULT_LIMIT,
        window_s: int = DEFAULT_WINDOW_S,
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._limit = limit
        self._window = window_s

    async def retry_after(self, keys: Sequence[str]) -> float | None:
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.get(self._prefix + key)
                pipe.pttl(self._prefix + key)
            replies = await pipe.execute()
        waits = [
            max(ttl, 1000) / 1000
            for count, ttl in zip(replies[::2], replies[1::2], strict=True)
            if count is not None and int(count) >= self._limit
        ]
        return max(waits) if waits else None

    async def failed(self, keys: Sequence[str]) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            for key in keys:
                pipe.incr(self._prefix + key)
                pipe.expire(self._prefix + key, self._window, nx=True)
            await pipe.execute()
