"""The SQL storage under load and failure: concurrent reserves on Postgres, migrations
started by two processes at once, and a database that is not there."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import make_url, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from core.errors import StorageUnavailable
from core.types import LedgerEntry, LedgerKind, Role
from storage.db import async_url, create_engine, sqlite_file, sqlite_url_for
from storage.migrate import check_schema_current, migrate
from storage.tables import Base
from storage.uow import SqlUnitOfWork, sql_uow_factory

ROOT = Path(__file__).resolve().parents[2]
NOWHERE = "postgresql+asyncpg://postgres@127.0.0.1:1/nothing"


@pytest.fixture
async def pg_engine(pg_url: str) -> AsyncIterator[AsyncEngine]:
    await migrate(pg_url)
    engine = create_engine(pg_url, pool_size=10)
    try:
        yield engine
    finally:
        await engine.dispose()


async def _reserve_and_hold(uow: SqlUnitOfWork, account_id: int, cost: int, n: int) -> int:
    async with uow:
        taken = await uow.accounts.reserve(account_id, cost)
        if taken:
            await uow.ledger.append(LedgerEntry(account_id, -taken, LedgerKind.HOLD, f"req-{n}"))
        await uow.commit()
    return taken


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("balance", "expected"),
    [(1_000, [1_000]), (2_500, [1_000, 1_000, 500])],
)
async def test_concurrent_reserves_never_overdraw(
    pg_engine: AsyncEngine, balance: int, expected: list[int]
) -> None:
    uow = sql_uow_factory(pg_engine)
    async with uow() as tx:
        account = await tx.accounts.create(Role.USER)
        await tx.accounts.add_to_balance(account.id, balance)
        await tx.ledger.append(LedgerEntry(account.id, balance, LedgerKind.GRANT))
        await tx.commit()
    taken = await asyncio.gather(
        *(_reserve_and_hold(uow(), account.id, 1_000, n) for n in range(50))
    )
    assert sorted((t for t in taken if t), reverse=True) == expected
    assert taken.count(0) == 50 - len(expected)
    async with uow() as tx:
        after = await tx.accounts.get(account.id)
        ledger_sum = await tx.ledger.sum_for(account.id)
    assert after is not None and after.balance == 0
    assert ledger_sum == after.balance


def _migrate_in_subprocess(url: str) -> asyncio.Future[asyncio.subprocess.Process]:
    code = "import asyncio, sys; from storage.migrate import migrate; asyncio.run(migrate(sys.argv[1]))"
    return asyncio.ensure_future(
        asyncio.create_subprocess_exec(
            sys.executable, "-c", code, url, cwd=ROOT, stderr=asyncio.subprocess.PIPE
        )
    )


async def _migrate_twice_at_once(url: str) -> None:
    processes = await asyncio.gather(_migrate_in_subprocess(url), _migrate_in_subprocess(url))
    for process in processes:
        _, stderr = await process.communicate()
        assert process.returncode == 0, stderr.decode()


async def _assert_schema_matches_models(url: str) -> None:
    engine = create_engine(url)
    try:
        assert await check_schema_current(engine)
        async with engine.connect() as connection:
            diff = await connection.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata
                )
            )
        assert diff == []
    finally:
        await engine.dispose()


@pytest.mark.slow
@pytest.mark.postgres
async def test_two_processes_migrate_postgres_at_once(pg_url: str) -> None:
    engine = create_engine(pg_url)
    try:
        assert not await check_schema_current(engine)
    finally:
        await engine.dispose()
    await _migrate_twice_at_once(pg_url)
    await _assert_schema_matches_models(pg_url)


@pytest.mark.slow
async def test_two_processes_migrate_sqlite_at_once(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/nested/dir/switchboard.db"
    await _migrate_twice_at_once(url)
    assert (tmp_path / "nested/dir/switchboard.db.migrate.lock").exists()
    await _assert_schema_matches_models(url)
    await asyncio.gather(migrate(url), migrate(url))  # and again, in one process


async def test_nothing_listening_is_storage_unavailable() -> None:
    engine = create_engine(NOWHERE)
    try:
        with pytest.raises(StorageUnavailable) as raised:
            async with sql_uow_factory(engine)() as tx:
                await tx.accounts.get(1)
        assert isinstance(raised.value.__cause__, OSError)
        with pytest.raises(StorageUnavailable):
            await check_schema_current(engine)
    finally:
        await engine.dispose()
    with pytest.raises(StorageUnavailable):
        await migrate(NOWHERE)


async def test_failures_name_no_password(caplog: pytest.LogCaptureFixture) -> None:
    engine = create_engine("postgresql://switchboard:s3cr3t-pw@127.0.0.1:1/sb")
    try:
        with pytest.raises(StorageUnavailable) as raised:
            async with sql_uow_factory(engine)() as tx:
                await tx.accounts.get(1)
    finally:
        await engine.dispose()
    assert "database unavailable" in caplog.text
    assert "s3cr3t" not in caplog.text
    assert "s3cr3t" not in str(raised.value)


async def test_unopenable_sqlite_file_is_storage_unavailable(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/db.sqlite")
    (tmp_path / "db.sqlite").mkdir()  # a directory where the database file should be
    try:
        with pytest.raises(StorageUnavailable):
            async with sql_uow_factory(engine)() as tx:
                await tx.accounts.get(1)
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_connection_lost_mid_transaction(pg_engine: AsyncEngine, pg_url: str) -> None:
    uow = sql_uow_factory(pg_engine)
    with pytest.raises(StorageUnavailable):
        async with uow() as tx:
            await tx.accounts.create(Role.USER)
            await _kill_other_sessions(pg_url)
            await tx.accounts.create(Role.USER)
    async with uow() as tx:  # the pool recovers with fresh connections
        created = await tx.accounts.create(Role.USER)
        await tx.commit()
    assert created.id > 0


@pytest.mark.postgres
async def test_commit_after_connection_loss(pg_engine: AsyncEngine, pg_url: str) -> None:
    uow = sql_uow_factory(pg_engine)
    tx = uow()
    with pytest.raises(StorageUnavailable):
        async with tx:
            await tx.accounts.create(Role.USER)
            await _kill_other_sessions(pg_url)
            await tx.commit()


@pytest.mark.postgres
async def test_bad_statements_are_not_hidden(pg_engine: AsyncEngine) -> None:
    """Only connectivity becomes StorageUnavailable; a real bug keeps its own error."""
    with pytest.raises(IntegrityError):
        async with sql_uow_factory(pg_engine)() as tx:
            await tx.ledger.append(LedgerEntry(424242, 5, LedgerKind.GRANT))


async def _kill_other_sessions(url: str) -> None:
    killer = create_engine(url)
    try:
        async with killer.connect() as connection:
            await connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
    finally:
        await killer.dispose()


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("postgres://u:p@db:5432/sb", "postgresql+asyncpg"),
        ("postgresql://u@db/sb", "postgresql+asyncpg"),
        ("postgresql+asyncpg://u@db/sb", "postgresql+asyncpg"),
        ("sqlite:///data/sb.db", "sqlite+aiosqlite"),
    ],
)
def test_database_urls_get_the_async_driver(given: str, driver: str) -> None:
    url = async_url(given)
    assert url.drivername == driver
    assert url.database == make_url(given).database


def test_sqlite_file_of_a_url(tmp_path: Path) -> None:
    assert sqlite_file(sqlite_url_for(tmp_path / "a.db")) == tmp_path / "a.db"
    assert sqlite_file("sqlite+aiosqlite://") is None
    assert sqlite_file("sqlite+aiosqlite:///:memory:") is None
    assert sqlite_file("postgresql://u@db/sb") is None
