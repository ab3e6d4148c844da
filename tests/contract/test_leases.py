"""Worker leases on every backend: the holds of a worker whose lease expired are refunded
at once, live workers' holds are never touched, and the event such a hold started is
answered again once when it is redelivered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.errors import DuplicateEvent
from core.ports import Interruption
from core.services.billing import Billing, Hold
from core.services.leases import WorkerLease
from core.services.requests import ChatRequest
from core.services.sweep import ReservationSweeper
from core.types import Account, Feature, LedgerEntry, LedgerKind, Role
from tests.contract.conftest import UowFactory
from tests.harness import caller

TTL = timedelta(seconds=30)


class RecordingNotices:
    def __init__(self) -> None:
        self.notices: list[Interruption] = []

    @property
    def chats(self) -> list[tuple[str, int]]:
        return [(n.chat_id, n.refunded) for n in self.notices]

    async def interrupted(self, notice: Interruption) -> None:
        self.notices.append(notice)


class BrokenNotices:
    async def interrupted(self, notice: Interruption) -> None:
        raise ConnectionError("the platform is down")


async def _account(uow: UowFactory, balance: int = 1000) -> Account:
    async with uow() as tx:
        account = await tx.accounts.create(Role.USER)
        await tx.ledger.append(LedgerEntry(account.id, balance, LedgerKind.WELCOME))
        await tx.accounts.add_to_balance(account.id, balance)
        await tx.commit()
        fresh = await tx.accounts.get(account.id)
    assert fresh is not None
    return fresh


async def _hold(billing: Billing, account: Account, event_id: str | None = None) -> Hold:
    request = ChatRequest(caller=caller(str(account.id)), chat_id="42", event_id=event_id)
    return await billing.hold(account, request, 300, Feature.CHAT, "chat-a")


async def _balance(uow: UowFactory, account: Account) -> int:
    async with uow() as tx:
        fresh = await tx.accounts.get(account.id)
        assert fresh is not None
        assert fresh.balance == await tx.ledger.sum_for(account.id)
        return fresh.balance


async def _lease(uow: UowFactory, worker: str, now: datetime) -> WorkerLease:
    sweeper = ReservationSweeper(uow, clock=lambda: now)
    lease = WorkerLease(uow, worker, TTL, sweeper, clock=lambda: now)
    await lease.renew()
    return lease


async def test_a_dead_workers_holds_are_refunded_and_a_live_ones_are_not(uow: UowFactory):
    start = datetime.now(UTC)
    await _lease(uow, "dead", start)
    await _lease(uow, "alive", start)
    dead, alive, ownerless = [await _account(uow) for _ in range(3)]
    await _hold(Billing(uow, worker_id="dead"), dead)
    await _hold(Billing(uow, worker_id="alive"), alive)
    await _hold(Billing(uow), ownerless)  # no lease: left to the age-based sweep

    later = start + TTL + timedelta(seconds=5)
    survivor = await _lease(uow, "alive", later)  # "alive" beats on, "dead" stopped
    async with uow() as tx:
        orphans = await tx.leases.orphaned_holds(later)
    assert [o.entry.account_id for o in orphans] == [dead.id]

    told = RecordingNotices()
    sweeper = ReservationSweeper(uow, clock=lambda: later, notices={"telegram": told})
    assert await sweeper.sweep_orphans() == 1
    assert told.chats == [("42", 300)]  # the dead worker's chat, told what was refunded
    assert await survivor.beat() == 0  # settled once, by whoever got there first
    assert await _balance(uow, dead) == 1000
    assert await _balance(uow, alive) == 700
    assert await _balance(uow, ownerless) == 700


async def test_a_released_lease_counts_as_expired(uow: UowFactory):
    now = datetime.now(UTC)
    lease = await _lease(uow, "w1", now)
    account = await _account(uow)
    await _hold(Billing(uow, worker_id="w1"), account)
    async with uow() as tx:
        assert await tx.leases.orphaned_holds(now) == []
    await lease.release()
    sweeper = ReservationSweeper(uow, clock=lambda: datetime.now(UTC) + timedelta(seconds=1))
    assert await sweeper.sweep_orphans() == 1
    assert await _balance(uow, account) == 1000


async def test_a_redelivered_event_of_a_dead_worker_is_answered_once(uow: UowFactory):
    start = datetime.now(UTC)
    await _lease(uow, "dead", start)
    account = await _account(uow)
    first = await _hold(Billing(uow, worker_id="dead"), account, event_id="update-7")
    # While the first processing may still be alive, a redelivery is refused.
    with pytest.raises(DuplicateEvent):
        await _hold(Billing(uow, worker_id="new"), account, event_id="update-7")

    async with uow() as tx:
        assert not await tx.events.is_abandoned("telegram", "update-7")
    later = start + TTL + timedelta(seconds=1)
    assert await ReservationSweeper(uow, clock=lambda: later).sweep_orphans() == 1
    async with uow() as tx:
        assert await tx.events.is_abandoned("telegram", "update-7")
    second = await _hold(Billing(uow, worker_id="new"), account, event_id="update-7")
    async with uow() as tx:
        assert not await tx.events.is_abandoned("telegram", "update-7")
    assert second.request_id != first.request_id
    with pytest.raises(DuplicateEvent):  # once: the next redelivery is refused again
        await _hold(Billing(uow, worker_id="new"), account, event_id="update-7")
    assert await _balance(uow, account) == 700  # the first refunded, the second held


async def test_an_answered_event_is_never_reclaimed(uow: UowFactory):
    async with uow() as tx:
        assert await tx.events.record("telegram", "u1", "r1")
        await tx.events.abandon("other-request")
        assert not await tx.events.reclaim("telegram", "u1", "r2")
        await tx.commit()


async def test_a_failing_notice_does_not_undo_the_refund(uow: UowFactory):
    start = datetime.now(UTC)
    await _lease(uow, "dead", start)
    account = await _account(uow)
    await _hold(Billing(uow, worker_id="dead"), account, event_id="update-9")
    later = start + TTL + timedelta(seconds=1)
    sweeper = ReservationSweeper(uow, clock=lambda: later, notices={"telegram": BrokenNotices()})
    assert await sweeper.sweep_orphans() == 1
    assert await _balance(uow, account) == 1000
    await _hold(Billing(uow, worker_id="new"), account, event_id="update-9")  # reclaimed


def test_a_lease_must_outlive_two_beats():
    from bots.settings import SettingsError, load_settings

    with pytest.raises(SettingsError, match="LEASE_TTL"):
        load_settings(lease_interval=10, lease_ttl=15)
    assert load_settings(lease_interval=0, lease_ttl=1).lease_interval == 0  # off
    assert load_settings().lease_ttl == 3 * load_settings().lease_interval
