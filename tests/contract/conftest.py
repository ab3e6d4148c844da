"""The backends every contract test runs on: memory, SQLite (migrated) and Postgres
(migrated; skipped locally without TEST_DATABASE_URL)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from core.ports import UnitOfWork
from storage.db import create_engine
from storage.migrate import migrate
from storage.uow import sql_uow_factory
from tests.fakes.memory import MemoryStore, memory_uow_factory

UowFactory = Callable[[], UnitOfWork]


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str | None:
    if request.param == "memory":
        return None
    fixture = "sqlite_url" if request.param == "sqlite" else "pg_url"
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture
async def uow(database_url: str | None) -> AsyncIterator[UowFactory]:
    if database_url is None:
        yield memory_uow_factory(MemoryStore())
        return
    await migrate(database_url)
    engine = create_engine(database_url, pool_size=5)
    try:
        yield sql_uow_factory(engine)
    finally:
        await engine.dispose()
