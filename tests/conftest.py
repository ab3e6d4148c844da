"""Shared fixtures: real Postgres and Redis when TEST_DATABASE_URL / TEST_REDIS_URL are set.

Locally a missing service skips the tests that need it; in CI (CI=true) it fails them,
because a green CI that never touched Postgres proves nothing.

The suite runs in parallel (pytest-xdist, ``-n auto``): every test gets its own database,
SQLite file (tmp_path), Redis key prefix and ports (0: the kernel picks), so workers never
share state. Each worker is a process with its own session: its own log scan below."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest


def _missing(what: str) -> None:
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"{what} is not set in CI: integration tests must run on real services")
    pytest.skip(f"{what} not set")


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """A fresh, empty Postgres database for one test, dropped afterwards.

    Yields an SQLAlchemy URL (postgresql+asyncpg://...)."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        _missing("TEST_DATABASE_URL")
    import asyncpg  # imported here so unit-only runs need no driver

    plain = base.replace("postgresql+asyncpg://", "postgresql://")
    name = f"sb_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(plain)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    head, _, _ = plain.rpartition("/")
    try:
        yield f"{head.replace('postgresql://', 'postgresql+asyncpg://')}/{name}"
    finally:
        admin = await asyncpg.connect(plain)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@pytest.fixture
def sqlite_url(tmp_path: object) -> str:
    return f"sqlite+aiosqlite:///{tmp_path}/switchboard.db"


@pytest.fixture
async def redis_url() -> AsyncIterator[str]:
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        _missing("TEST_REDIS_URL")
    yield url  # type: ignore[misc]


@pytest.fixture
async def redis_prefix(redis_url: str) -> AsyncIterator[str]:
    """A key prefix of this test's own; every key under it is deleted afterwards."""
    import redis.asyncio as aioredis

    prefix = f"sbtest:{uuid.uuid4().hex[:10]}:"
    yield prefix
    client = aioredis.from_url(redis_url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


# The live collector, so that tests/unit/test_logging.py can prove the scan sees records.
LOG_SCAN: list[logging.Handler] = []


class _LogCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        self.lines.append(text)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests first (stable otherwise): under xdist they then run beside the many
    short ones instead of alone at the end of the run."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(scope="session", autouse=True)
def no_secret_in_any_log() -> Iterator[None]:
    """Capture every log record of the whole suite; fail the run if a secret leaked.

    Under xdist each worker process runs this for the tests it ran, so every record of
    every worker is scanned; a leak fails that worker's last test (teardown error)."""
    from tests.known_secrets import ALL

    collector = _LogCollector()
    LOG_SCAN.append(collector)
    root = logging.getLogger()
    root.addHandler(collector)
    root.setLevel(logging.INFO)
    # SQLAlchemy logs every statement at INFO; nothing secret there, and a lot of volume.
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)
    yield
    root.removeHandler(collector)
    leaked = [s for s in ALL if any(s in line for line in collector.lines)]
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    if leaked:  # pytest.fail, not assert: the report must not print the secrets themselves
        pytest.fail(f"{len(leaked)} secret(s) appeared in log records (pytest {worker})")


@pytest.fixture(autouse=True)
async def own_redis_prefix(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    """Every test's Settings get a Redis prefix of their own (REDIS_PREFIX), so counters
    from one test or run (rate limits of account 1, say) never leak into another; the keys
    are deleted afterwards."""
    prefix = f"sbtest:{uuid.uuid4().hex[:10]}:"
    monkeypatch.setenv("REDIS_PREFIX", prefix)
    yield
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        return
    import redis.asyncio as aioredis

    client = aioredis.from_url(url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()
