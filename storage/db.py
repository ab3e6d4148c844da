"""Engines for Postgres (asyncpg) and SQLite (aiosqlite), and the one place where a
driver's connection failure becomes the core's ``StorageUnavailable``."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from core.errors import StorageUnavailable

logger = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 15_000
# SQLSTATE classes that mean "the server is not there for us": connection exceptions,
# operator intervention (shutdown, cannot connect now), too many connections.
_UNAVAILABLE_SQLSTATES = ("08", "57P", "53300")


# What people write in DATABASE_URL, and the async driver each one means here.
_ASYNC_DRIVERS = {
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
}


def async_url(url: str | URL) -> URL:
    """``url`` with the async driver this layer uses (``postgres://`` → asyncpg)."""
    parsed = make_url(url) if isinstance(url, str) else url
    driver = _ASYNC_DRIVERS.get(parsed.drivername)
    return parsed.set(drivername=driver) if driver else parsed


def sqlite_url_for(path: str | Path) -> str:
    """The SQLAlchemy URL of an SQLite file (aiosqlite driver)."""
    return f"sqlite+aiosqlite:///{Path(path).expanduser().resolve()}"


def sqlite_file(url: str | URL) -> Path | None:
    """The file behind an SQLite URL; None for other databases and in-memory SQLite."""
    parsed = async_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if database in {"", ":memory:"} or database.startswith("file::memory:"):
        return None
    if database.startswith("file:"):
        # A URI filename ("file:/path?mode=ro", with uri=true): the path is after the
        # scheme. Taken literally it would be a relative "file:" folder in the cwd.
        return Path(database.removeprefix("file:"))
    return Path(database)


def create_engine(
    url: str | URL, *, pool_size: int = 20, command_timeout: float | None = 30.0
) -> AsyncEngine:
    """An async engine for ``url``: SQLite gets WAL, a busy timeout, foreign keys and a
    rollback before every close on every connection (writers take turns on
    ``sqlite_writer_lock``); Postgres gets a recycled pool, and statements that
    outlive ``command_timeout`` seconds fail (as ``StorageUnavailable``) instead of
    hanging a request."""
    parsed = async_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    return create_async_engine(
        parsed,
        # Connections are kept once opened, up to pool_size, and none beyond: an overflow
        # connection is closed as soon as it is returned, so under a burst (50 requests
        # at once) each checkout past the pool forked a Postgres backend and paid its
        # authentication, measured at more CPU than the request itself
        # (bench.gateway_vs_litellm, "+ Postgres backends" at c=50).
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=10,
        # No pre-ping: it costs three round trips per checkout (measured: a third of a
        # chat request's database time). A connection lost to a restart fails one
        # statement, which invalidates the pool; the request gets StorageUnavailable and
        # the next ones reconnect.
        pool_pre_ping=False,
        pool_recycle=1800,
        connect_args={"timeout": 10, "command_timeout": command_timeout},
    )


class _RollbackOnClose(sqlite3.Connection):
    """An SQLite connection that rolls back before it closes.

    ``sqlite3.Connection.close()`` (Python 3.11) does not roll back, and while a cursor
    still holds an unfinished statement SQLite only marks the connection a "zombie": it
    stays open, with its transaction and its write lock, until that cursor is garbage
    collected, which may be never. That is what a request cancelled between a statement
    and its fetch left behind (the driver then drops the connection without a rollback),
    and every later writer waited for the busy timeout and failed. Rolling back first
    ends the transaction whatever its cursors still hold."""

    def close(self) -> None:
        try:
            if self.in_transaction:
                self.rollback()
        except sqlite3.Error as exc:
            logger.warning("rollback before closing an SQLite connection failed: %s", exc)
        finally:
            super().close()


# One asyncio lock per SQLite engine: the writers of one process take turns here instead
# of in SQLite's busy handler (which sleeps and retries, unfairly, up to the busy timeout).
_WRITER_LOCKS: weakref.WeakKeyDictionary[Any, asyncio.Lock] = weakref.WeakKeyDictionary()


def sqlite_writer_lock(engine: AsyncEngine) -> asyncio.Lock | None:
    """The lock this process's writers take turns on for ``engine``; None off SQLite."""
    if engine.dialect.name != "sqlite":
        return None
    lock = _WRITER_LOCKS.get(engine.sync_engine)
    if lock is None:
        lock = _WRITER_LOCKS[engine.sync_engine] = asyncio.Lock()
    return lock


def _sqlite_engine(url: URL) -> AsyncEngine:
    path = sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(
        url,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "factory": _RollbackOnClose},
    )
    event.listen(engine.sync_engine, "connect", _on_sqlite_connect)
    return engine


def _on_sqlite_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot be reached (as opposed to a bad query)."""
    if isinstance(exc, OSError | sa_exc.TimeoutError):  # TimeoutError is an OSError
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
            return True
        return _unavailable_state(exc.orig)
    # asyncpg errors raised outside SQLAlchemy's wrapping (e.g. while connecting)
    return type(exc).__module__.startswith("asyncpg") and (
        type(exc).__name__ in {"InterfaceError", "ConnectionDoesNotExistError"}
        or _unavailable_state(exc)
    )


def _unavailable_state(error: BaseException | None) -> bool:
    state = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    return isinstance(state, str) and state.startswith(_UNAVAILABLE_SQLSTATES)


@asynccontextmanager
async def translate_errors() -> AsyncIterator[None]:
    """Re-raise connection failures inside the block as ``StorageUnavailable``."""
    try:
        yield
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        # The driver's own message only: SQLAlchemy's text would add the statement and
        # its parameters (people's messages). Driver messages carry no passwords.
        cause = getattr(exc, "orig", None) or exc
        logger.warning("database unavailable: %s: %.200s", type(cause).__name__, cause)
        raise StorageUnavailable() from exc
