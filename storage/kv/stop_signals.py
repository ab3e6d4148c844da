"""Stop flags in Redis, so a Stop pressed on any worker cancels a generation on another."""

from __future__ import annotations

from redis.asyncio import Redis

# Long enough to outlive any generation; short enough that old flags do not pile up.
DEFAULT_STOP_TTL_S = 3600


class RedisStopSignals:
    """``StopSignals`` on Redis: ``{prefix}stop:{request_id}`` exists while a stop stands."""

    def __init__(
        self, client: Redis, prefix: str = "sb:", *, ttl_s: int = DEFAULT_STOP_TTL_S
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._ttl_s = ttl_s

    def _key(self, request_id: str) -> str:
        return f"{self._prefix}stop:{request_id}"

    async def request_stop(self, request_id: str) -> None:
        await self._client.set(self._key(request_id), b"1", ex=self._ttl_s)

    async def is_stopped(self, request_id: str) -> bool:
        return bool(await self._client.exists(self._key(request_id)))
