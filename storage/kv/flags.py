"""``SharedFlags`` in Redis and in process memory (the embedded default, and the backup
while Redis is down). Every key lives under ``{prefix}flag:`` plus the caller's namespace."""

from __future__ import annotations

import time
from collections.abc import Callable

from redis.asyncio import Redis

from core.ports import SharedFlags

Clock = Callable[[], float]
# A process that sees many distinct keys must not keep the expired ones for ever.
_MEMORY_MAX = 100_000


def _ms(ttl_s: float) -> int:
    return max(1, int(ttl_s * 1000))


class RedisSharedFlags:
    def __init__(self, client: Redis, prefix: str = "sb:") -> None:
        self._client = client
        self._prefix = f"{prefix}flag:"

    async def put(self, key: str, value: str, ttl_s: float) -> None:
        await self._client.set(self._prefix + key, value.encode(), px=_ms(ttl_s))

    async def get(self, key: str) -> str | None:
        found = await self._client.get(self._prefix + key)
        if found is None:
            return None
        return found.decode() if isinstance(found, bytes) else str(found)

    async def claim(self, key: str, ttl_s: float) -> bool:
        return bool(await self._client.set(self._prefix + key, b"1", px=_ms(ttl_s), nx=True))


class MemorySharedFlags:
    """The same semantics in one process; check and record happen without an ``await``."""

    def __init__(self, *, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._values: dict[str, tuple[float, str]] = {}

    async def put(self, key: str, value: str, ttl_s: float) -> None:
        self._store(key, value, ttl_s)

    async def get(self, key: str) -> str | None:
        until, value = self._values.get(key, (0.0, ""))
        return value if until > self._clock() else None

    async def claim(self, key: str, ttl_s: float) -> bool:
        until, _ = self._values.get(key, (0.0, ""))
        if until > self._clock():
            return False
        self._store(key, "1", ttl_s)
        return True

    def _store(self, key: str, value: str, ttl_s: float) -> None:
        if len(self._values) >= _MEMORY_MAX:
            now = self._clock()
            self._values = {k: v for k, v in self._values.items() if v[0] > now}
            while len(self._values) >= _MEMORY_MAX:
                self._values.pop(next(iter(self._values)))
        self._values[key] = (self._clock() + ttl_s, value)


class NamespacedFlags:
    """One adapter's view of the flags: its keys cannot meet another adapter's."""

    def __init__(self, inner: SharedFlags, namespace: str) -> None:
        self._inner = inner
        self._namespace = namespace

    async def put(self, key: str, value: str, ttl_s: float) -> None:
        await self._inner.put(self._namespace + key, value, ttl_s)

    async def get(self, key: str) -> str | None:
        return await self._inner.get(self._namespace + key)

    async def claim(self, key: str, ttl_s: float) -> bool:
        return await self._inner.claim(self._namespace + key, ttl_s)
