"""Authenticating an API request costs one database round trip: one SELECT, and on
Postgres no BEGIN/COMMIT around it (SQLite keeps its transaction: BEGIN IMMEDIATE). This
holds for the refusals too: a revoked or expired key, an outdated or unknown token."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from bots.jwt_tokens import JwtCodec
from core.errors import Unauthenticated
from core.ports import KeyOptions
from core.services import Core
from core.services.auth import digest
from storage.db import create_engine
from storage.migrate import migrate
from storage.uow import sql_uow_factory
from tests.harness import core_on
from tests.known_secrets import JWT_SECRET

EXPIRED_KEY = "sb-" + "e" * 43


@dataclass(eq=False)  # hashable: SQLAlchemy keeps listeners in sets
class Statements:
    """Every statement SQLAlchemy sends, and whether the connection was inside a
    transaction right after it (Postgres only): True there means a BEGIN was sent."""

    seen: list[str] = field(default_factory=list)
    in_transaction: list[bool] = field(default_factory=list)

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.seen.append(statement.split(None, 1)[0].upper())
        driver = conn.connection.driver_connection
        if conn.dialect.name == "postgresql":
            self.in_transaction.append(driver.is_in_transaction())

    def clear(self) -> None:
        self.seen.clear()
        self.in_transaction.clear()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    # A sync fixture: pg_url is async, and only a sync one may ask for it by name.
    url: str = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")
    return url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    await migrate(database_url)
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def core(engine: AsyncEngine) -> AsyncIterator[Core]:
    uow = sql_uow_factory(engine)
    async with core_on(uow, "http://127.0.0.1:9/v1", token_codec=JwtCodec(JWT_SECRET)) as core:
        yield core


@pytest.fixture
def statements(engine: AsyncEngine) -> Iterator[Statements]:
    counter = Statements()
    event.listen(engine.sync_engine, "after_cursor_execute", counter)
    yield counter
    event.remove(engine.sync_engine, "after_cursor_execute", counter)


def one_round_trip(engine: AsyncEngine) -> list[str]:
    # SQLite's units of work all take the writer's turn with BEGIN IMMEDIATE; a local
    # file has no round trip to save.
    return ["SELECT"] if engine.dialect.name == "postgresql" else ["BEGIN", "SELECT"]


async def test_authenticating_a_key_or_a_token_is_one_statement(
    engine: AsyncEngine, core: Core, statements: Statements
) -> None:
    principal = await core.auth.register("alice", "long enough")
    pair = await core.auth.login("alice", "long enough", "10.0.0.1")
    key = (await core.api_keys.create(principal, "laptop", KeyOptions())).key

    for bearer in (key, pair.access_token):
        statements.clear()
        found = await core.auth.authenticate(bearer)
        assert found.account.id == principal.account.id
        assert statements.seen == one_round_trip(engine)
        assert not any(statements.in_transaction)  # no BEGIN on Postgres


async def test_refusals_are_one_statement_too(
    engine: AsyncEngine, core: Core, statements: Statements
) -> None:
    principal = await core.auth.register("alice", "long enough")
    pair = await core.auth.login("alice", "long enough", "10.0.0.1")
    revoked = await core.api_keys.create(principal, None, KeyOptions())
    await core.api_keys.revoke(principal, revoked.record.id)
    async with sql_uow_factory(engine)() as tx:
        past = datetime.now(UTC) - timedelta(minutes=1)
        await tx.api_keys.add(
            principal.credential.id,
            digest(EXPIRED_KEY),
            "sb-eeee",
            None,
            KeyOptions(expires_at=past),
        )
        await tx.commit()
    await core.auth.logout(principal)  # the session token's version is now outdated

    for bearer in (revoked.key, EXPIRED_KEY, "sb-unknown", pair.access_token):
        statements.clear()
        with pytest.raises(Unauthenticated):
            await core.auth.authenticate(bearer)
        assert statements.seen == one_round_trip(engine)
        assert not any(statements.in_transaction)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_the_probe_sees_a_begin_when_one_is_sent(
    engine: AsyncEngine, statements: Statements
) -> None:
    """The check above would fail if authentication opened a transaction (the probe is
    asyncpg's: Postgres only)."""
    async with sql_uow_factory(engine)() as tx:
        assert await tx.credentials.find_principal("nobody") is None
    assert statements.in_transaction == [True]
