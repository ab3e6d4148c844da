"""Scheduled backups take a cross-worker lock: while one worker (or process) writes a
backup, another worker's round is skipped, on SQLite (a lock file) and Postgres (an
advisory lock)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from storage.backup import verify
from storage.backup.schedule import LOCK_SUFFIX, backup_lock, backup_once
from storage.db import sqlite_file
from tests.ops.fill import fill_through_use_cases


def _backups(directory: Path) -> list[Path]:
    return sorted(directory.glob("switchboard-*.jsonl.gz"))


async def _skips_while_held(url: str, directory: Path) -> None:
    async with backup_lock(url) as held:
        assert held
        async with backup_lock(url) as second:
            assert not second  # never two holders
        assert await backup_once(url, directory, keep=3) is None
    assert _backups(directory) == []
    written = await backup_once(url, directory, keep=3)
    assert written is not None and _backups(directory) == [written]
    verify(written)


async def test_sqlite_backup_round_skips_while_another_holds_the_lock(sqlite_url, tmp_path):
    await fill_through_use_cases(sqlite_url)
    await _skips_while_held(sqlite_url, tmp_path / "backups")


async def test_sqlite_lock_held_by_another_process(sqlite_url, tmp_path):
    await fill_through_use_cases(sqlite_url)
    database = sqlite_file(sqlite_url)
    assert database is not None
    lock = database.with_name(database.name + LOCK_SUFFIX)
    holder = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import fcntl, os, sys\n"
        f"fd = os.open({str(lock)!r}, os.O_RDWR | os.O_CREAT)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\n"
        "print('held', flush=True)\n"
        "sys.stdin.read()\n",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert holder.stdout is not None and holder.stdin is not None
    try:
        assert (await holder.stdout.readline()).strip() == b"held"
        assert await backup_once(sqlite_url, tmp_path, keep=3) is None
    finally:
        holder.stdin.close()
        await holder.wait()
    assert await backup_once(sqlite_url, tmp_path, keep=3) is not None


@pytest.mark.postgres
async def test_postgres_backup_round_skips_while_another_holds_the_lock(pg_url, tmp_path):
    await fill_through_use_cases(pg_url)
    await _skips_while_held(pg_url, tmp_path / "backups")
