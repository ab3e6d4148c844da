"""Scheduled backups: one file every ``interval_s`` seconds into a directory, keeping the
newest ``keep``. Run it on ONE worker only (each worker running it writes its own
files); a failed round is logged and the next one tried on time."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path

from core.errors import StorageUnavailable
from storage.backup.codec import BackupError
from storage.backup.export import backup_database

logger = logging.getLogger(__name__)

PREFIX = "switchboard-"
SUFFIX = ".jsonl.gz"


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


async def backup_once(url: str, directory: Path, keep: int) -> Path:
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
