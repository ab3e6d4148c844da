"""The sweep of reservations a dead worker left open: refunded in full, once, even with
two sweepers at the same moment."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from core.ports import KeyOptions
from core.services.auth import api_caller
from core.services.billing import Billing, Hold, Settlement
from core.services.requests import ChatRequest
from core.services.sweep import ReservationSweeper
from core.types import Account, Feature, IdentityKey, LedgerEntry, LedgerKind, Outcome, Role
from storage.db import create_engine
from storage.migrate import migrate
from storage.uow import sql_uow_factory
from tests.fakes.memory import MemoryStore, memory_uow_factory
from tests.harness import caller

LATER = timedelta(minutes=21)


class RecordingSink:
    def __init__(self) -> None:
        self.settled: list[tuple[str, Feature, Outcome, int]] = []
        self.open = 0

    def reservation_opened(self, feature: Feature) -> None:
        self.open += 1

    def reservation_closed(self, feature: Feature) -> None:
        self.open -= 1

    def request_settled(self, platform, feature, outcome, credits, latency_s) -> None:
        self.settled.append((platform, feature, outcome, credits))


async def _account_with(uow_factory, balance: int) -> Account:
    async with uow_factory() as uow:
        account = await uow.accounts.create(Role.USER)
        await uow.ledger.append(LedgerEntry(account.id, balance, LedgerKind.WELCOME))
        await uow.accounts.add_to_balance(account.id, balance)
        await uow.commit()
        fresh = await uow.accounts.get(account.id)
    assert fresh is not None
    return fresh


async def _abandoned_hold(billing: Billing, account: Account, cost: int) -> Hold:
    """What a worker killed mid-stream leaves: a committed hold and no settle."""
    request = ChatRequest(caller=caller(str(account.id)), chat_id="c", text="hi")
    return await billing.hold(account, request, cost, Feature.CHAT, "chat-a")


async def _balances_match_ledgers(uow_factory, accounts: list[Account]) -> None:
    async with uow_factory() as uow:
        for account in accounts:
            fresh = await uow.accounts.get(account.id)
            assert fresh is not None
            assert fresh.balance == await uow.ledger.sum_for(account.id) == account.balance


async def test_old_open_holds_are_refunded_once_and_young_ones_left_alone():
    uow = memory_uow_factory(MemoryStore())
    billing = Billing(uow)
    old, young, done = [await _account_with(uow, 1000) for _ in range(3)]
    old_hold = await _abandoned_hold(billing, old, 300)
    finished = await _abandoned_hold(billing, done, 200)
    await billing.settle(finished, Settlement(charge=50, outcome=Outcome.OK))
    await asyncio.sleep(0.3)
    young_hold = await _abandoned_hold(billing, young, 100)

    sink = RecordingSink()
    sweeper = ReservationSweeper(uow, older_than=timedelta(seconds=0.2), metrics=sink)
    assert await sweeper.sweep_once() == 1
    assert await sweeper.sweep_once() == 0
    await _balances_match_ledgers(uow, [old])
    async with uow() as tx:
        events = await tx.usage.recent(old.id, 10)
        assert (await tx.accounts.get(young.id)).balance == 1000 - young_hold.reserved
    assert [(e.request_id, e.outcome, e.credits, e.model) for e in events] == [
        (old_hold.request_id, Outcome.FAILED, 0, "unknown")
    ]
    assert sink.settled == [("unknown", Feature.CHAT, Outcome.FAILED, 0)]
    assert sink.open == 0  # the sweeper never closes a reservation it did not open


async def test_a_hold_settled_meanwhile_is_not_refunded_twice():
    uow = memory_uow_factory(MemoryStore())
    billing = Billing(uow)
    account = await _account_with(uow, 1000)
    hold = await _abandoned_hold(billing, account, 400)
    sweeper = ReservationSweeper(uow, clock=lambda: datetime.now(UTC) + LATER)
    assert await sweeper.sweep_once() == 1
    # The worker was alive after all and settles late: its settle is refused.
    assert not await billing.settle(hold, Settlement(charge=100, outcome=Outcome.OK))
    await _balances_match_ledgers(uow, [account])


@pytest.mark.postgres
async def test_two_sweepers_at_once_on_postgres_settle_each_hold_once(pg_url):
    await migrate(pg_url)
    engine = create_engine(pg_url)
    try:
        uow = sql_uow_factory(engine)
        billing = Billing(uow)
        accounts = [await _account_with(uow, 10_000 + i) for i in range(12)]
        holds = [await _abandoned_hold(billing, a, 777 + i) for i, a in enumerate(accounts)]
        holds.append(await _abandoned_hold(billing, accounts[0], 5))  # two on one account
        later = datetime.now(UTC) + LATER
        sweepers = [ReservationSweeper(uow, clock=lambda: later) for _ in range(2)]
        counts = await asyncio.gather(*(s.sweep_once() for s in sweepers))
        assert sum(counts) == len(holds)
        await _balances_match_ledgers(uow, accounts)
        async with engine.connect() as connection:
            rows = (
                await connection.exec_driver_sql(
                    "SELECT request_id, count(*) FROM ledger WHERE kind = 'settle' GROUP BY 1"
                )
            ).all()
            usage = (await connection.exec_driver_sql("SELECT count(*) FROM usage_events")).one()
        assert sorted(r[0] for r in rows) == sorted(h.request_id for h in holds)
        assert all(r[1] == 1 for r in rows) and usage[0] == len(holds)
    finally:
        await engine.dispose()


async def test_the_periodic_sweeper_refunds_and_keeps_running():
    from core.services.sweep import run_sweeper

    uow = memory_uow_factory(MemoryStore())
    account = await _account_with(uow, 1000)
    await _abandoned_hold(Billing(uow), account, 250)
    task = asyncio.create_task(run_sweeper(uow, 0.05, older_than=timedelta(0)))
    try:
        for _ in range(100):
            async with uow() as tx:
                if not await tx.ledger.open_holds(datetime.now(UTC) + LATER):
                    break
            await asyncio.sleep(0.02)
        assert not task.done()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    await _balances_match_ledgers(uow, [account])


async def test_the_sweep_gives_a_keys_hold_back_to_the_key_too(sqlite_url):
    """A key's budget held by a dead worker's request comes back with the credits: the
    ledger's hold row names the key (SQLite here, the migrated schema)."""
    await migrate(sqlite_url)
    engine = create_engine(sqlite_url)
    try:
        uow = sql_uow_factory(engine)
        async with uow() as tx:
            account = await tx.accounts.create(Role.USER)
            await tx.accounts.add_identity(IdentityKey("api", "", "kim"), account.id, "kim")
            await tx.credentials.create("kim", account.id, "hash")
            credential = await tx.credentials.get("kim")
            key_id = await tx.api_keys.add(
                credential.id, "h", "sb-x", None, KeyOptions(budget=1000)
            )
            await tx.ledger.append(LedgerEntry(account.id, 1000, LedgerKind.WELCOME))
            await tx.accounts.add_to_balance(account.id, 1000)
            await tx.commit()
            account = await tx.accounts.get(account.id)
            key = await tx.api_keys.get(credential.id, key_id)
        request = ChatRequest(caller=api_caller("kim", key.limits), chat_id="v1", text="hi")
        hold = await Billing(uow).hold(account, request, 600, Feature.CHAT, "chat-a")
        assert hold.key_reserved == 600
        async with uow() as tx:
            assert (await tx.api_keys.get(credential.id, key_id)).spent == 600
        sweeper = ReservationSweeper(uow, clock=lambda: datetime.now(UTC) + LATER)
        assert await sweeper.sweep_once() == 1
        async with uow() as tx:
            after = await tx.api_keys.get(credential.id, key_id)
            assert (await tx.accounts.get(account.id)).balance == 1000
        assert (after.spent, after.requests) == (0, 1)
    finally:
        await engine.dispose()
