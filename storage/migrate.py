"""Apply the Alembic migrations (``upgrade head``), safely when several processes start
at once: a Postgres advisory lock, or a file lock next to the SQLite database."""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.db import create_engine, sqlite_file, translate_errors

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
# Any constant shared by every Switchboard process ("SWBD" in ASCII).
ADVISORY_LOCK_KEY = 0x53574244


def alembic_config(url: str | None = None) -> Config:
    """Alembic's configuration, built in code: no alembic.ini, no logging setup."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def migrate(url: str) -> None:
    """Bring the database at ``url`` to the newest schema."""
    path = sqlite_file(url)
    if path is None:
        await _upgrade(url)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    async with _file_lock(path.with_name(f"{path.name}.migrate.lock")):
        await _upgrade(url)


async def check_schema_current(engine: AsyncEngine) -> bool:
    """Whether the database is at the newest migration (False when never migrated)."""
    heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    async with translate_errors(), engine.connect() as connection:
        current = await connection.run_sync(
            lambda sync: set(MigrationContext.configure(sync).get_current_heads())
        )
    return current == heads


async def _upgrade(url: str) -> None:
    # No statement timeout: waiting for another process's migration is expected.
    engine = create_engine(url, pool_size=1, command_timeout=None)
    try:
        async with translate_errors(), engine.connect() as connection:
            async with _advisory_lock(connection):
                await connection.run_sync(_upgrade_sync, alembic_config())
    finally:
        await engine.dispose()


def _upgrade_sync(connection: Connection, config: Config) -> None:
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
    logger.info("database schema is at the newest revision")


@asynccontextmanager
async def _advisory_lock(connection: AsyncConnection) -> AsyncIterator[None]:
    if connection.dialect.name != "postgresql":
        yield
        return
    # A session-level lock: it outlives the migration's own transactions, and the
    # server drops it if this process dies.
    await connection.execute(select(func.pg_advisory_lock(ADVISORY_LOCK_KEY)))
    await connection.commit()
    try:
        yield
    finally:
        await connection.execute(select(func.pg_advisory_unlock(ADVISORY_LOCK_KEY)))
        await connection.commit()


def _acquire_file_lock(path: Path) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _release_file_lock(fd: int) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@asynccontextmanager
async def _file_lock(path: Path) -> AsyncIterator[None]:
    waiting = asyncio.ensure_future(asyncio.to_thread(_acquire_file_lock, path))
    try:
        fd = await asyncio.shield(waiting)
    except asyncio.CancelledError:
        # The thread cannot be interrupted: release the lock whenever it is granted.
        waiting.add_done_callback(
            lambda done: (
                None if done.cancelled() or done.exception() else _release_file_lock(done.result())
            )
        )
        raise
    try:
        yield
    finally:
        _release_file_lock(fd)
