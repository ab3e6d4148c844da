"""``HealthProbe`` on the real stores: whether the database can take a write now, and
the Redis breaker's view of Redis.

A database that answers ``SELECT 1`` may still refuse every write (an SQLite file whose
write lock is held, a read-only file, a Postgres standby or a read-only server); the
probe asks for the write side, in a transaction that is always rolled back, with a short
timeout, so ``/health`` never answers ok while every request fails."""

from __future__ import annotations

import asyncio

from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.db import SQLITE_BUSY_TIMEOUT_MS, is_unavailable, sqlite_writer_lock
from storage.kv import KvServices

HEALTH_TIMEOUT_S = 2.0
# SQLSTATE 25006: read_only_sql_transaction.
_PG_READ_ONLY = "25006"


class StorageHealth:
    def __init__(
        self, engine: AsyncEngine, kv: KvServices, *, timeout_s: float = HEALTH_TIMEOUT_S
    ) -> None:
        self._engine = engine
        self._kv = kv
        self._timeout_s = timeout_s

    async def database(self) -> str:
        """``"ok"``; ``"unavailable"`` (not reached, or no answer within the timeout);
        ``"locked"`` (SQLite: another writer kept the write lock past the timeout);
        ``"read_only"`` (the database answers but refuses writes)."""
        sqlite = self._engine.dialect.name == "sqlite"
        try:
            # The margin lets SQLite's own busy timeout (set to timeout_s) answer first.
            async with asyncio.timeout(self._timeout_s + 1.0):
                if sqlite:
                    return await self._sqlite_status()
                return await self._postgres_status()
        except TimeoutError:
            return "locked" if sqlite else "unavailable"
        except Exception as exc:  # any failure to reach it is the answer, not a crash
            status = _write_refusal(exc)
            if status is not None:
                return status
            if not is_unavailable(exc):
                raise
            return "unavailable"

    async def _sqlite_status(self) -> str:
        lock = sqlite_writer_lock(self._engine)
        assert lock is not None  # an SQLite engine always has one
        async with lock, self._engine.connect() as connection:
            await connection.exec_driver_sql(f"PRAGMA busy_timeout={int(self._timeout_s * 1000)}")
            try:
                await _sqlite_tiny_write(connection)
            finally:
                await connection.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        return "ok"

    async def _postgres_status(self) -> str:
        async with self._engine.connect() as connection:
            read_only = await connection.scalar(
                text(
                    "SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on'"
                )
            )
            await connection.rollback()
        return "read_only" if read_only else "ok"

    def shared_state(self) -> str:
        if self._kv.redis is None:
            return "off"
        return "degraded" if self._kv.degraded else "ok"


async def _sqlite_tiny_write(connection: AsyncConnection) -> None:
    """Take the write lock and write the header's user version back unchanged, then roll
    back: fails fast on a lock held elsewhere and on a file that cannot be written."""
    await connection.exec_driver_sql("BEGIN IMMEDIATE")
    try:
        version = int(await connection.scalar(text("PRAGMA user_version")) or 0)
        await connection.exec_driver_sql(f"PRAGMA user_version={version}")
    finally:
        await connection.rollback()


def _write_refusal(exc: BaseException) -> str | None:
    """ "locked" or "read_only" when ``exc`` is the database refusing the write."""
    if not isinstance(exc, sa_exc.DBAPIError):
        return None
    name = getattr(exc.orig, "sqlite_errorname", "") or ""
    if name.startswith("SQLITE_BUSY") or name.startswith("SQLITE_LOCKED"):
        return "locked"
    if name.startswith("SQLITE_READONLY"):
        return "read_only"
    state = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return "read_only" if state == _PG_READ_ONLY else None
