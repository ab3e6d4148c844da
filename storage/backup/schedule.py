"""Scheduled backups: one file every ``interval_s`` seconds into a directory, keeping the
newest ``keep``; a failed round is logged and the next one tried on time.

Each round takes a cross-worker lock first (a Postgres advisory lock, or an ``flock`` on a
file next to the SQLite database), so two workers never write a backup at the same time:
a worker that finds the lock taken skips its round. Still, run the schedule on one worker
if you want one file per interval rather than one per worker."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from core.errors import StorageUnavailable
from storage.backup.codec import BackupError
from storage.backup.export import backup_database
from storage.db import async_url, create_engine, sqlite_file, translate_errors

logger = logging.getLogger(__name__)

PREFIX = "switchboard-"
SUFFIX = ".jsonl.gz"
LOCK_SUFFIX = ".backup.lock"  # next to the SQLite file
# pg_advisory_lock's key: a fixed 63-bit number that names "the scheduled backup".
ADVISORY_KEY = 0x5377_4261_636B_7570  # "SwBackup"


def backup_name(now: datetime | None = None) -> str:
    """A file name whose alphabetical order is its time order."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{PREFIX}{stamp}{SUFFIX}"


def prune(directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups in ``directory``; returns the deleted."""
    ours = sorted(p for p in directory.glob(f"{PREFIX}*{SUFFIX}") if p.is_file())
    doomed = ours[: max(len(ours) - keep, 0)]
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


@contextlib.asynccontextmanager
async def _file_lock(path: Path) -> AsyncIterator[bool]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextlib.asynccontextmanager
async def _advisory_lock(url: str) -> AsyncIterator[bool]:
    # Held on a connection of its own for the whole round; closing it releases the lock
    # even if the unlock below never runs (the worker died).
    engine = create_engine(url, pool_size=1, command_timeout=None)
    try:
        async with translate_errors(), engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            query = text("SELECT pg_try_advisory_lock(:key)")
            got = bool((await connection.execute(query, {"key": ADVISORY_KEY})).scalar())
            try:
                yield got
            finally:
                if got:
                    unlock = text("SELECT pg_advisory_unlock(:key)")
                    await connection.execute(unlock, {"key": ADVISORY_KEY})
    finally:
        await engine.dispose()


def backup_lock(url: str) -> contextlib.AbstractAsyncContextManager[bool]:
    """The cross-worker lock of one backup round: yields True when this worker holds it,
    False when another does (never waits)."""
    database_file = sqlite_file(url)
    if database_file is not None:
        return _file_lock(database_file.with_name(database_file.name + LOCK_SUFFIX))
    if async_url(url).get_backend_name() == "postgresql":
        return _advisory_lock(url)
    return _no_lock()  # in-memory SQLite: one process by definition


@contextlib.asynccontextmanager
async def _no_lock() -> AsyncIterator[bool]:
    yield True


async def backup_once(url: str, directory: Path, keep: int) -> Path | None:
    """One round: the backup file, or None when another worker holds the lock."""
    async with backup_lock(url) as held:
        if not held:
            logger.info("scheduled backup skipped: another worker is writing one")
            return None
        path = directory / backup_name()
        await backup_database(url, path)
        removed = await asyncio.to_thread(prune, directory, keep)
    logger.info("scheduled backup written to %s (%d old one(s) removed)", path, len(removed))
    return path


async def run_backups(url: str, directory: Path, interval_s: float, keep: int) -> None:
    """Back up every ``interval_s`` seconds until cancelled; returns at once when
    ``interval_s`` is 0 (scheduled backups off)."""
    if interval_s <= 0:
        return
    while True:
        await asyncio.sleep(interval_s)
        try:
            await backup_once(url, directory, keep)
        except (BackupError, StorageUnavailable) as exc:
            logger.warning("scheduled backup failed: %s", exc)
        except Exception:  # a periodic task's edge: the next round may well succeed
            logger.exception("scheduled backup failed")
