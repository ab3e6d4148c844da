"""Fifty chat requests, and fifty units of work, cancelled at random points (before,
during and after their transactions), then the next request: it is served in normal
time, nothing stays locked, /health says ok and every balance equals its ledger. On the
embedded SQLite default and on Postgres."""

from __future__ import annotations

import asyncio
import random

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from core.services import Core
from core.services.requests import ChatRequest
from core.types import Outcome, Role
from storage.db import create_engine
from storage.health import StorageHealth
from storage.kv import open_kv
from storage.migrate import migrate
from storage.uow import sql_uow_factory
from tests.fakes.llm_server import FakeLLM
from tests.harness import caller, collect, core_on

PEOPLE = 50
# Far above a normal answer (well under a second) and below SQLite's 15 s busy timeout,
# which is what every request waited for when a cancelled one had kept the write lock.
NEXT_REQUEST_DEADLINE_S = 10.0


async def _asked_and_cancelled(core: Core, n: int, rnd: random.Random) -> object:
    task = asyncio.create_task(
        collect(core.chat.ask(ChatRequest(caller=caller(str(n)), chat_id="c", text=f"q{n}")))
    )
    # Half are cancelled after a number of event-loop turns (every await of the request's
    # path is a possible point), half after a time (some mid-stream, some after the end).
    if n % 2:
        for _ in range(rnd.randrange(0, 120)):
            await asyncio.sleep(0)
    else:
        await asyncio.sleep(rnd.uniform(0.0, 0.25))
    task.cancel()
    # Whatever the point, it ends: cancelled, or finished before the cancel arrived.
    # The outcome is kept (a CancelledError and its traceback, as a server's tasks and
    # logs keep them a while): what it references must not hold the database.
    [outcome] = await asyncio.gather(task, return_exceptions=True)
    return outcome


async def _sweep_cancelled_requests(engine: AsyncEngine, seed: int) -> None:
    uow = sql_uow_factory(engine)
    async with FakeLLM() as llm, core_on(uow, llm.base_url) as core:
        llm.script(reply="an answer of a dozen words or so, streamed in small parts", delay=0.004)
        for n in range(PEOPLE):
            await core.accounts.resolve(caller(str(n)))
        rnd = random.Random(seed)
        outcomes = await asyncio.gather(
            *(_asked_and_cancelled(core, n, rnd) for n in range(PEOPLE))
        )
        assert all(isinstance(o, asyncio.CancelledError | list) for o in outcomes)

        async with asyncio.timeout(NEXT_REQUEST_DEADLINE_S):
            events = await collect(
                core.chat.ask(ChatRequest(caller=caller("next"), chat_id="c", text="still there?"))
            )
        assert events[-1].outcome is Outcome.OK

        # Every balance still equals its ledger. (Open holds are not asserted here: a
        # request cancelled between its reservation's commit and the reply's creation
        # leaves its hold to the sweep; that window is in core.chat.start, issue 11 item 7.)
        async with uow() as unit:
            for n in [*map(str, range(PEOPLE)), "next"]:
                account = await unit.accounts.find_by_identity(caller(n).identity)
                assert account is not None
                assert account.balance == await unit.ledger.sum_for(account.id)
        del outcomes


async def _health(engine: AsyncEngine) -> str:
    kv = await open_kv(None)
    try:
        return await StorageHealth(engine, kv).database()
    finally:
        await kv.aclose()


@pytest.mark.parametrize("seed", [1, 2])
async def test_fifty_cancelled_requests_leave_sqlite_writable(sqlite_url, seed):
    await migrate(sqlite_url)
    engine = create_engine(sqlite_url)
    try:
        await _sweep_cancelled_requests(engine, seed)
        assert await _health(engine) == "ok"
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_fifty_cancelled_requests_leave_postgres_writable(pg_url):
    await migrate(pg_url)
    engine = create_engine(pg_url)
    try:
        await _sweep_cancelled_requests(engine, 3)
        assert await _health(engine) == "ok"
    finally:
        await engine.dispose()


async def _write_cancelled(engine: AsyncEngine, account_id: int, rnd: random.Random) -> object:
    """A unit of work that reserves, reads and writes, cancelled after a random number of
    event-loop turns: at any of its awaits, or not at all."""

    async def work() -> None:
        async with sql_uow_factory(engine)() as uow:
            await uow.accounts.reserve(account_id, 1)
            await uow.accounts.add_to_balance(account_id, 1)
            await uow.accounts.get(account_id)
            await uow.commit()

    task = asyncio.create_task(work())
    for _ in range(rnd.randrange(0, 60)):
        await asyncio.sleep(0)
    task.cancel()
    [outcome] = await asyncio.gather(task, return_exceptions=True)
    return outcome


async def _units_of_work_cancelled_at_any_await(engine: AsyncEngine, seed: int) -> None:
    async with sql_uow_factory(engine)() as uow:
        account = await uow.accounts.create(Role.USER)
        await uow.accounts.add_to_balance(account.id, 1000)
        await uow.commit()
    rnd = random.Random(seed)
    outcomes = await asyncio.gather(
        *(_write_cancelled(engine, account.id, rnd) for _ in range(PEOPLE))
    )
    async with asyncio.timeout(NEXT_REQUEST_DEADLINE_S):
        async with sql_uow_factory(engine)() as uow:
            assert await uow.accounts.add_to_balance(account.id, 5) == 1005
            await uow.commit()
    assert all(o is None or isinstance(o, asyncio.CancelledError) for o in outcomes)


@pytest.mark.parametrize("seed", [4, 5])
async def test_units_of_work_cancelled_at_any_await_leave_sqlite_writable(sqlite_url, seed):
    await migrate(sqlite_url)
    engine = create_engine(sqlite_url)
    try:
        await _units_of_work_cancelled_at_any_await(engine, seed)
        assert await _health(engine) == "ok"
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_units_of_work_cancelled_at_any_await_leave_postgres_writable(pg_url):
    await migrate(pg_url)
    engine = create_engine(pg_url)
    try:
        await _units_of_work_cancelled_at_any_await(engine, 6)
        assert await _health(engine) == "ok"
    finally:
        await engine.dispose()
