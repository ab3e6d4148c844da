"""``HealthProbe`` on the real stores: a round trip to the database, and the Redis
breaker's view of Redis."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import is_unavailable
from storage.kv import KvServices


class StorageHealth:
    def __init__(self, engine: AsyncEngine, kv: KvServices) -> None:
        self._engine = engine
        self._kv = kv

    async def database(self) -> str:
        try:
            async with self._engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as exc:  # any failure to reach it is the answer, not a crash
            if not is_unavailable(exc):
                raise
            return "unavailable"
        return "ok"

    def shared_state(self) -> str:
        if self._kv.redis is None:
            return "off"
        return "degraded" if self._kv.degraded else "ok"
