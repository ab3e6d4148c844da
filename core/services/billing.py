"""Reserve before the upstream call, settle after it.

The reservation is one guarded UPDATE in the same transaction as the platform event id, so
a redelivered event can neither answer twice nor charge twice. Settling writes one ledger
row per request id (a unique key), which makes it idempotent, and runs shielded so a
cancelled task cannot skip it.

A settlement the database cannot take (``StorageUnavailable``) is not lost: it is kept in
memory and in the ``SettlementJournal`` (a local file), and a background task retries it
with backoff until the database is back. ``replay`` writes what the journal holds (at
start, and before every sweep, so the sweep never refunds a journaled hold)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TypeVar

from core.errors import (
    DuplicateEvent,
    InsufficientCredits,
    KeyBudgetExhausted,
    NothingToRetry,
    StorageUnavailable,
)
from core.money import format_credits
from core.observability import NO_METRICS, MetricsSink
from core.ports import PendingSettlement, SettlementJournal, UnitOfWork, UnitOfWorkFactory
from core.ports.holds import HoldClosing, HoldOpening, HoldOwner
from core.services.requests import PaidRequest
from core.types import (
    Account,
    ConversationKey,
    Feature,
    Outcome,
    StoredMessage,
    Usage,
    UsageEvent,
)

logger = logging.getLogger(__name__)
T = TypeVar("T")
NO_USAGE = Usage(0, 0)
RETRY_FIRST_S = 0.5
RETRY_MAX_S = 30.0


async def uncancellable(coro: Coroutine[object, object, T]) -> T:
    """Run ``coro`` to the end even if the caller is cancelled meanwhile; the caller's
    cancellation is re-raised afterwards, so nothing is swallowed."""
    task = asyncio.ensure_future(coro)
    cancelled = False
    while True:
        try:
            result = await asyncio.shield(task)
            break
        except asyncio.CancelledError:
            if task.done():
                raise
            cancelled = True
    if cancelled:
        raise asyncio.CancelledError
    return result


@dataclass(frozen=True, slots=True)
class Hold:
    account_id: int
    request_id: str
    reserved: int
    platform: str
    feature: Feature
    model: str
    started: float = field(default_factory=time.monotonic)
    # A request made with an API key also holds ``key_reserved`` of that key's budget.
    api_key_id: int | None = None
    key_reserved: int = 0
    # The balance (with the overdraft) bounded the hold below the worst case: the charge
    # is capped at ``reserved``, so the balance ends no lower than -MAX_OVERDRAFT.
    bounded: bool = False


@dataclass(frozen=True, slots=True)
class Settlement:
    """What a finished request costs, and what it leaves in the conversation."""

    charge: int
    outcome: Outcome
    usage: Usage = NO_USAGE
    model: str | None = None  # when a fallback model answered
    conversation: ConversationKey | None = None
    question: str | None = None
    answer: str | None = None
    # A regenerated answer (/retry): the earlier exchange it takes the place of.
    replaces: str | None = None


def pending_of(hold: Hold, s: Settlement) -> PendingSettlement:
    return PendingSettlement(
        account_id=hold.account_id,
        request_id=hold.request_id,
        reserved=hold.reserved,
        platform=hold.platform,
        feature=hold.feature,
        model=hold.model,
        charge=s.charge,
        outcome=s.outcome,
        prompt_tokens=s.usage.prompt_tokens,
        completion_tokens=s.usage.completion_tokens,
        answered_by=s.model,
        conversation=s.conversation,
        question=s.question,
        answer=s.answer,
        replaces=s.replaces,
        api_key_id=hold.api_key_id,
        key_reserved=hold.key_reserved,
    )


def _split(p: PendingSettlement) -> tuple[Hold, Settlement]:
    hold = Hold(
        p.account_id,
        p.request_id,
        p.reserved,
        p.platform,
        p.feature,
        p.model,
        api_key_id=p.api_key_id,
        key_reserved=p.key_reserved,
    )
    usage = Usage(p.prompt_tokens, p.completion_tokens)
    return hold, Settlement(
        p.charge,
        p.outcome,
        usage,
        p.answered_by,
        p.conversation,
        p.question,
        p.answer,
        p.replaces,
    )


class Billing:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Callable[[], datetime] | None = None,
        metrics: MetricsSink = NO_METRICS,
        worker_id: str | None = None,
        journal: SettlementJournal | None = None,
        retry_first_s: float = RETRY_FIRST_S,
        retry_max_s: float = RETRY_MAX_S,
        overdraft: int = 0,
    ) -> None:
        """Without a ``journal`` a settlement the database cannot take raises
        ``StorageUnavailable`` (the sweep's own settles work that way). ``overdraft``
        (sub-units) is how far below zero one reservation may take a balance."""
        self._uow = uow
        self.overdraft = overdraft
        self._clock = clock or (lambda: datetime.now(UTC))
        self._metrics = metrics
        # The lease this worker renews (core.services.leases); every hold records it so
        # that the holds of a worker that died are settled as soon as its lease runs out.
        self._worker_id = worker_id
        self._journal = journal
        self._retry_first_s = retry_first_s
        self._retry_max_s = retry_max_s
        self._pending: dict[str, PendingSettlement] = {}  # kept even if the file fails
        self._retrying: asyncio.Task[None] | None = None
        self._replaying = asyncio.Lock()

    async def hold(
        self, account: Account, request: PaidRequest, cost: int, feature: Feature, model: str
    ) -> Hold:
        async with self._uow() as uow:
            return await self.hold_in(uow, account, request, cost, feature, model)

    async def hold_in(
        self,
        uow: UnitOfWork,
        account: Account,
        request: PaidRequest,
        cost: int,
        feature: Feature,
        model: str,
        *,
        question: str | None = None,
        retry_of: str | None = None,
        upfront: int = 0,
        least: int = 0,
    ) -> Hold:
        """Record the event, reserve and commit, inside the caller's unit of work (chat
        reads its context window in the same transaction). ``question`` is kept with the
        hold's owner (a /retry if its worker dies); ``retry_of`` is the interrupted request
        this one asks again, taken in the same transaction.

        The hold is ``min(cost, balance + overdraft)``: refused when the balance alone
        does not cover ``upfront`` (chat: the prompt's estimated cost) or the balance with
        the overdraft does not cover ``least`` (media: the whole price, known in advance;
        chat: the prompt and one token). Chat then caps its output to what the hold
        covers, so no request takes a balance below ``-overdraft``."""
        platform = request.caller.platform
        if request.event_id and not await uow.events.record(
            platform, request.event_id, request.request_id
        ):
            # A redelivery: refused, unless the first processing died unanswered (its
            # worker's lease ran out and its hold was refunded); then this one takes it,
            # and /retry no longer offers the same question.
            await uow.leases.withdraw_retry(platform, request.event_id)
            if not await uow.events.reclaim(platform, request.event_id, request.request_id):
                raise DuplicateEvent()
        key = request.caller.api_key
        owner = None
        if self._worker_id is not None:
            owner = HoldOwner(self._worker_id, platform, request.chat_id, question)
        # The key's budget is held for the worst case, not for what the balance allowed:
        # the charge can reach ``cost``, and the key must never spend past its budget.
        opened = await uow.holds.open(
            HoldOpening(
                account.id,
                request.request_id,
                cost,
                overdraft=self.overdraft,
                upfront=upfront,
                least=least,
                api_key_id=key.key_id if key is not None else None,
                owner=owner,
            )
        )
        # Refused, nothing is committed: the account's reservation is not kept either.
        if opened.key_refused:
            raise KeyBudgetExhausted()
        reserved = opened.reserved
        if cost > 0 and reserved == 0:
            await uow.usage.record(
                self._event(
                    account.id, request.request_id, platform, feature, model, 0, Outcome.REFUSED
                )
            )
            fresh = await uow.accounts.get(account.id)
            # Commit: the event id stays recorded, so a redelivery is not refused twice.
            await uow.commit()
            self._metrics.request_settled(platform, feature, Outcome.REFUSED, 0, 0.0)
            raise InsufficientCredits(balance=format_credits(fresh.balance if fresh else 0))
        if retry_of is not None and not await uow.leases.take_retry(retry_of):
            raise NothingToRetry()  # taken by a concurrent /retry: this one rolls back
        await uow.commit()
        self._metrics.reservation_opened(feature)
        return Hold(
            account.id,
            request.request_id,
            reserved,
            platform,
            feature,
            model,
            api_key_id=key.key_id if key is not None else None,
            key_reserved=cost if key is not None else 0,
            bounded=reserved < cost,
        )

    async def settle(self, hold: Hold, settlement: Settlement) -> bool:
        """Charge ``settlement.charge`` against the hold; False if already settled.

        A hold the balance bounded charges at most what it reserved: an estimate of the
        prompt that fell short of the upstream's count must not break the overdraft bound.
        With a journal, a database outage does not raise: the settlement is journaled,
        True is returned (it will be written), and the background retry writes it."""
        if hold.bounded and settlement.charge > hold.reserved:
            settlement = replace(settlement, charge=hold.reserved)
        try:
            settled = await uncancellable(self._settle_or_journal(hold, settlement))
        finally:
            self._metrics.reservation_closed(hold.feature)
        if settled:
            latency = time.monotonic() - hold.started
            self._metrics.request_settled(
                hold.platform, hold.feature, settlement.outcome, settlement.charge, latency
            )
        return settled

    async def pending_request_ids(self) -> frozenset[str]:
        """Request ids whose settlement is journaled (or in memory) and not written yet:
        the sweep must not refund those holds."""
        ids = set(self._pending)
        if self._journal is not None:
            ids.update(p.request_id for p in await self._journal.pending())
        return frozenset(ids)

    async def _settle_or_journal(self, hold: Hold, s: Settlement) -> bool:
        if self._journal is None:
            return await self._settle(hold, s)
        try:
            return await self._settle(hold, s)
        except StorageUnavailable:
            pass
        pending = pending_of(hold, s)
        self._pending[hold.request_id] = pending
        try:
            await self._journal.add(pending)
        except OSError:
            # Kept in memory still; only a restart before the database is back loses it.
            logger.exception("could not journal the settlement of %s", hold.request_id)
        logger.warning(
            "the database is unavailable: settlement of %s journaled, retrying in the background",
            hold.request_id,
        )
        self._start_retrying()
        return True

    def _start_retrying(self) -> None:
        if self._retrying is None or self._retrying.done():
            self._retrying = asyncio.get_running_loop().create_task(self._retry_loop())

    async def _retry_loop(self) -> None:
        delay = self._retry_first_s
        while True:
            await asyncio.sleep(delay)
            try:
                left = await self.replay()
            except Exception:  # a background task's edge: keep retrying, never end it
                logger.exception("settlement replay failed")
                left = len(self._pending) or 1
            if not left:
                return
            delay = min(delay * 2, self._retry_max_s)

    async def replay(self) -> int:
        """Write every journaled or in-memory settlement the database takes now; returns
        how many are still pending (0 once the database took them all). Safe to call from
        several places at once and after a partial success (settling is idempotent)."""
        async with self._replaying:
            todo: dict[str, PendingSettlement] = {}
            if self._journal is not None:
                try:
                    todo.update((p.request_id, p) for p in await self._journal.pending())
                except OSError:
                    logger.exception("could not read the settlement journal")
            todo.update(self._pending)
            left = 0
            for index, (request_id, pending) in enumerate(todo.items()):
                hold, settlement = _split(pending)
                try:
                    written = await uncancellable(self._settle(hold, settlement))
                except StorageUnavailable:
                    # Still down: the rest would wait out the same timeouts one by one.
                    left = len(todo) - index
                    break
                if written:
                    logger.info("journaled settlement of %s written", request_id)
                    self._metrics.request_settled(
                        hold.platform, hold.feature, settlement.outcome, settlement.charge, 0.0
                    )
                self._pending.pop(request_id, None)
                if self._journal is not None:
                    try:
                        await self._journal.done(request_id)
                    except OSError:
                        # Written already: a later replay finds it settled and retries this.
                        logger.exception("could not mark %s done in the journal", request_id)
            if left:
                self._start_retrying()
            return left

    async def retried(self) -> None:
        """Return once the background retry has nothing left (at once if none runs)."""
        task = self._retrying
        if task is not None and not task.done():
            await asyncio.shield(task)

    async def aclose(self) -> None:
        """Stop the background retry (what is journaled stays for the next start)."""
        task, self._retrying = self._retrying, None
        if task is not None and not task.done():
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                if not task.cancelled():
                    raise

    async def _settle(self, hold: Hold, s: Settlement) -> bool:
        keeps_exchange = s.conversation is not None and s.question is not None and bool(s.answer)
        # Without an exchange to keep (the /v1 gateway, media) the settlement is one
        # statement where the database allows: no transaction to open and commit.
        async with self._uow(atomic=keeps_exchange) as uow:
            closing = HoldClosing(
                hold.account_id,
                hold.request_id,
                hold.reserved - s.charge,
                self._event(
                    hold.account_id,
                    hold.request_id,
                    hold.platform,
                    hold.feature,
                    s.model or hold.model,
                    s.charge,
                    s.outcome,
                    s.usage,
                    hold.started,
                ),
                self._clock(),
                api_key_id=hold.api_key_id,
                key_refund=hold.key_reserved - s.charge,
            )
            if not await uow.holds.close(closing):
                logger.info("request %s was settled already", hold.request_id)
                return False
            if keeps_exchange:
                assert s.conversation is not None and s.question is not None and s.answer
                now = closing.used_at
                if s.replaces is not None:
                    await uow.conversations.leave_out(s.conversation, s.replaces)
                await uow.conversations.append(
                    s.conversation,
                    StoredMessage("user", s.question, hold.request_id, now),
                    StoredMessage("assistant", s.answer, hold.request_id, now),
                )
            await uow.commit()
        return True

    def _event(
        self,
        account_id: int,
        request_id: str,
        platform: str,
        feature: Feature,
        model: str,
        credits: int,
        outcome: Outcome,
        usage: Usage = NO_USAGE,
        started: float | None = None,
    ) -> UsageEvent:
        latency = int((time.monotonic() - started) * 1000) if started is not None else 0
        return UsageEvent(
            request_id=request_id,
            account_id=account_id,
            platform=platform,
            feature=feature,
            model=model,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            credits=credits,
            latency_ms=latency,
            outcome=outcome,
            created_at=self._clock(),
        )
