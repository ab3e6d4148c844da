"""What a dead worker's holds leave behind, on every backend: the progress its heartbeat
wrote (charged, never above the hold), the question (offered to /retry once), and the
housekeeping (erased with the account, pruned with the processed events)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.errors import NothingToRetry
from core.ports import Interruption
from core.services.billing import Billing, Hold
from core.services.leases import WorkerLease
from core.services.progress import HoldProgress
from core.services.requests import ChatRequest
from core.services.sweep import ReservationSweeper, prune_processed_events
from core.types import Account, Feature, LedgerEntry, LedgerKind, Outcome, Role
from tests.contract.conftest import UowFactory
from tests.harness import caller

TTL = timedelta(seconds=30)


class RecordingNotices:
    def __init__(self) -> None:
        self.notices: list[Interruption] = []

    async def interrupted(self, notice: Interruption) -> None:
        self.notices.append(notice)


async def _account(uow: UowFactory, balance: int = 1000, language: str | None = None) -> Account:
    async with uow() as tx:
        account = await tx.accounts.create(Role.USER)
        await tx.ledger.append(LedgerEntry(account.id, balance, LedgerKind.WELCOME))
        await tx.accounts.add_to_balance(account.id, balance)
        if language:
            await tx.accounts.set_language(account.id, language)
        await tx.commit()
        fresh = await tx.accounts.get(account.id)
    assert fresh is not None
    return fresh


async def _hold(
    uow: UowFactory,
    billing: Billing,
    account: Account,
    question: str | None = "why is the sky blue?",
    event_id: str | None = None,
    chat_id: str = "42",
) -> Hold:
    request = ChatRequest(
        caller=caller(str(account.id)), chat_id=chat_id, event_id=event_id, text=question or ""
    )
    async with uow() as tx:
        return await billing.hold_in(
            tx, account, request, 300, Feature.CHAT, "chat-a", question=question
        )


async def _balance(uow: UowFactory, account: Account) -> int:
    async with uow() as tx:
        fresh = await tx.accounts.get(account.id)
        assert fresh is not None
        assert fresh.balance == await tx.ledger.sum_for(account.id)
        return fresh.balance


async def _dead_worker(uow: UowFactory, now: datetime, progress: HoldProgress) -> WorkerLease:
    sweeper = ReservationSweeper(uow, clock=lambda: now)
    lease = WorkerLease(uow, "dead", TTL, sweeper, clock=lambda: now, progress=progress)
    await lease.renew()
    return lease


async def _sweep(uow: UowFactory, start: datetime, notices: RecordingNotices) -> int:
    later = start + TTL + timedelta(seconds=1)
    sweeper = ReservationSweeper(uow, clock=lambda: later, notices={"telegram": notices})
    return await sweeper.sweep_orphans()


async def test_a_dead_workers_hold_is_charged_for_the_progress_its_heartbeat_wrote(
    uow: UowFactory,
):
    start = datetime.now(UTC)
    progress = HoldProgress()
    lease = await _dead_worker(uow, start, progress)
    produced, silent, greedy = [await _account(uow, language="ru") for _ in range(3)]
    billing = Billing(uow, worker_id="dead")
    holds = [await _hold(uow, billing, a) for a in (produced, silent, greedy)]
    made = {holds[0].request_id: 120, holds[1].request_id: 0, holds[2].request_id: 900}
    for request_id, value in made.items():
        progress.track(request_id, lambda v=value: v)
    await lease.renew()  # the last beat before the kill writes the estimates
    assert progress.changed() == {}  # written: the next beat writes nothing

    async with uow() as tx:
        orphans = await tx.leases.orphaned_holds(start + TTL + timedelta(seconds=1))
    assert {o.entry.request_id: o.produced for o in orphans} == made
    assert all(o.retryable and o.chat_id == "42" for o in orphans)

    told = RecordingNotices()
    assert await _sweep(uow, start, told) == 3
    assert await _balance(uow, produced) == 1000 - 120
    assert await _balance(uow, silent) == 1000  # nothing produced: refunded in full
    assert await _balance(uow, greedy) == 1000 - 300  # never more than the hold
    assert [(n.charged, n.refunded) for n in told.notices] == [(120, 180), (0, 300), (300, 0)]
    assert {n.language for n in told.notices} == {"ru"}
    assert all(n.retryable for n in told.notices)
    async with uow() as tx:
        outcomes = [e.outcome for e in await tx.usage.recent(produced.id, 5)]
    assert outcomes == [Outcome.CUT]


async def test_an_interrupted_question_is_offered_once_to_its_owner_in_its_chat(uow: UowFactory):
    start = datetime.now(UTC)
    await _dead_worker(uow, start, HoldProgress())
    person, other = await _account(uow), await _account(uow)
    billing = Billing(uow, worker_id="dead")
    older = await _hold(uow, billing, person, "first question", chat_id="7:3")
    newer = await _hold(uow, billing, person, "second question", chat_id="7")
    await _hold(uow, billing, other, "not yours", chat_id="7")
    media = await _hold(uow, billing, person, None, chat_id="7")  # no question: nothing to offer

    async with uow() as tx:  # not offered before the sweep
        assert await tx.leases.retry_question("telegram", "7", person.id) is None
    told = RecordingNotices()
    assert await _sweep(uow, start, told) == 4
    assert [n.retryable for n in told.notices] == [True, True, True, False]

    async with uow() as tx:
        latest = await tx.leases.retry_question("telegram", "7", person.id)
        assert latest == (newer.request_id, "second question")
        # The thread (topic) "7:3" belongs to chat "7"; asked from inside it, only it.
        assert await tx.leases.retry_question("telegram", "7:3", person.id) == (
            older.request_id,
            "first question",
        )
        assert await tx.leases.retry_question("telegram", "8", person.id) is None
        assert await tx.leases.retry_question("discord", "7", person.id) is None
        named = await tx.leases.retry_question("telegram", "7", person.id, older.request_id)
        assert named == (older.request_id, "first question")
        assert await tx.leases.retry_question("telegram", "7", person.id, media.request_id) is None
        assert await tx.leases.take_retry(newer.request_id)
        assert not await tx.leases.take_retry(newer.request_id)  # once
        await tx.commit()
    async with uow() as tx:
        assert await tx.leases.retry_question("telegram", "7", person.id) == (
            older.request_id,
            "first question",
        )
    async with uow() as tx:  # a rolled-back take leaves the offer standing
        assert await tx.leases.take_retry(older.request_id)
    async with uow() as tx:
        assert await tx.leases.take_retry(older.request_id)
        await tx.commit()
        assert await tx.leases.retry_question("telegram", "7", person.id) is None


async def test_a_retry_and_a_redelivery_answer_the_question_once_between_them(uow: UowFactory):
    start = datetime.now(UTC)
    await _dead_worker(uow, start, HoldProgress())
    account = await _account(uow)
    billing = Billing(uow, worker_id="dead")
    retried = await _hold(uow, billing, account, event_id="update-1")
    redelivered = await _hold(uow, billing, account, event_id="update-2")
    assert await _sweep(uow, start, RecordingNotices()) == 2

    # /retry takes the first: its event is no longer answered when redelivered.
    retry = ChatRequest(caller=caller(str(account.id)), chat_id="42", retry=True)
    async with uow() as tx:
        await billing.hold_in(
            tx, account, retry, 300, Feature.CHAT, "chat-a", retry_of=retried.request_id
        )
    async with uow() as tx:
        assert not await tx.events.is_abandoned("telegram", "update-1")
    # The second is redelivered first: /retry no longer offers it.
    await _hold(uow, Billing(uow, worker_id="new"), account, event_id="update-2")
    async with uow() as tx:
        assert await tx.leases.retry_question("telegram", "42", account.id) is None
    again = ChatRequest(caller=caller(str(account.id)), chat_id="42", retry=True)
    with pytest.raises(NothingToRetry):
        async with uow() as tx:
            await billing.hold_in(
                tx, account, again, 300, Feature.CHAT, "chat-a", retry_of=redelivered.request_id
            )
    assert await _balance(uow, account) == 1000 - 300 - 300  # the two new holds, no third


async def test_owner_rows_are_erased_with_the_account_and_pruned_with_the_events(uow: UowFactory):
    start = datetime.now(UTC)
    await _dead_worker(uow, start, HoldProgress())
    kept, erased = await _account(uow), await _account(uow)
    billing = Billing(uow, worker_id="dead")
    await _hold(uow, billing, kept, "keep me", event_id="e-kept")
    await _hold(uow, billing, erased, "forget me", event_id="e-erased")
    assert await _sweep(uow, start, RecordingNotices()) == 2
    async with uow() as tx:
        await tx.leases.erase(erased.id)
        await tx.commit()
    async with uow() as tx:
        assert await tx.leases.retry_question("telegram", "42", erased.id) is None
        assert await tx.leases.retry_question("telegram", "42", kept.id) is not None

    assert await prune_processed_events(uow, timedelta(days=7)) == 0
    async with uow() as tx:
        assert await tx.leases.retry_question("telegram", "42", kept.id) is not None
    future = lambda: datetime.now(UTC) + timedelta(days=8)  # noqa: E731
    assert await prune_processed_events(uow, timedelta(days=7), clock=future) >= 1
    async with uow() as tx:
        assert await tx.leases.retry_question("telegram", "42", kept.id) is None
        assert await tx.leases.prune(future()) == 0
