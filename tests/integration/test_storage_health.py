"""``/health``'s database status asks for a write: a database that answers reads but
cannot take a write is not reported ok."""

from __future__ import annotations

import sqlite3

import asyncpg
import pytest

from storage.db import create_engine, sqlite_file
from storage.health import StorageHealth
from storage.kv import open_kv
from storage.migrate import migrate


async def _status(url: str) -> str:
    engine = create_engine(url)
    kv = await open_kv(None)
    try:
        return await StorageHealth(engine, kv, timeout_s=0.3).database()
    finally:
        await kv.aclose()
        await engine.dispose()


async def test_sqlite_ok_then_locked_by_another_writer_then_ok(sqlite_url):
    await migrate(sqlite_url)
    assert await _status(sqlite_url) == "ok"
    other = sqlite3.connect(sqlite_file(sqlite_url), isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process's writer keeps the lock
        assert await _status(sqlite_url) == "locked"
        other.execute("ROLLBACK")
        assert await _status(sqlite_url) == "ok"
    finally:
        other.close()


async def test_sqlite_file_that_cannot_be_written_is_read_only(sqlite_url):
    await migrate(sqlite_url)
    path = sqlite_file(sqlite_url)
    assert await _status(f"sqlite+aiosqlite:///file:{path}?mode=ro&uri=true") == "read_only"


async def test_sqlite_probe_leaves_no_trace(sqlite_url):
    await migrate(sqlite_url)
    before = sqlite3.connect(sqlite_file(sqlite_url)).execute("PRAGMA user_version").fetchone()
    assert await _status(sqlite_url) == "ok"
    after = sqlite3.connect(sqlite_file(sqlite_url)).execute("PRAGMA user_version").fetchone()
    assert before == after


@pytest.mark.postgres
async def test_postgres_ok_then_read_only(pg_url):
    await migrate(pg_url)
    assert await _status(pg_url) == "ok"
    plain = pg_url.replace("postgresql+asyncpg://", "postgresql://")
    name = plain.rsplit("/", 1)[1]
    admin = await asyncpg.connect(plain)
    try:
        await admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
    finally:
        await admin.close()
    assert await _status(pg_url) == "read_only"


async def test_postgres_not_reachable_is_unavailable(unused_tcp_port):
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{unused_tcp_port}/nothing"
    assert await _status(url) == "unavailable"
