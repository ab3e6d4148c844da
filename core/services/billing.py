"""Reserve before the upstream call, settle after it.

The reservation is one guarded UPDATE in the same transaction as the platform event id, so
a redelivered event can neither answer twice nor charge twice. Settling writes one ledger
row per request id (a unique key), which makes it idempotent, and runs shielded so a
cancelled task cannot skip it."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from core.errors import DuplicateEvent, InsufficientCredits
from core.money import format_credits
from core.observability import NO_METRICS, MetricsSink
from core.ports import UnitOfWork, UnitOfWorkFactory
from core.services.requests import PaidRequest
from core.types import (
    Account,
    ConversationKey,
    Feature,
    LedgerEntry,
    LedgerKind,
    Outcome,
    StoredMessage,
    Usage,
    UsageEvent,
)

logger = logging.getLogger(__name__)
T = TypeVar("T")
NO_USAGE = Usage(0, 0)


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


class Billing:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Callable[[], datetime] | None = None,
        metrics: MetricsSink = NO_METRICS,
    ) -> None:
        self._uow = uow
        self._clock = clock or (lambda: datetime.now(UTC))
        self._metrics = metrics

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
    ) -> Hold:
        """Record the event, reserve ``cost`` and commit, inside the caller's unit of work
        (chat reads its context window in the same transaction)."""
        platform = request.caller.platform
        if request.event_id and not await uow.events.record(platform, request.event_id):
            raise DuplicateEvent()
        reserved = await uow.accounts.reserve(account.id, cost) if cost > 0 else 0
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
        await uow.ledger.append(
            LedgerEntry(account.id, -reserved, LedgerKind.HOLD, request.request_id)
        )
        await uow.commit()
        self._metrics.reservation_opened(feature)
        return Hold(account.id, request.request_id, reserved, platform, feature, model)

    async def settle(self, hold: Hold, settlement: Settlement) -> bool:
        """Charge ``settlement.charge`` against the hold; False if already settled."""
        try:
            settled = await uncancellable(self._settle(hold, settlement))
        finally:
            self._metrics.reservation_closed(hold.feature)
        if settled:
            latency = time.monotonic() - hold.started
            self._metrics.request_settled(
                hold.platform, hold.feature, settlement.outcome, settlement.charge, latency
            )
        return settled

    async def _settle(self, hold: Hold, s: Settlement) -> bool:
        async with self._uow() as uow:
            delta = hold.reserved - s.charge
            entry = LedgerEntry(hold.account_id, delta, LedgerKind.SETTLE, hold.request_id)
            if not await uow.ledger.append(entry):
                logger.info("request %s was settled already", hold.request_id)
                return False
            if delta:
                await uow.accounts.add_to_balance(hold.account_id, delta)
            event = self._event(
                hold.account_id,
                hold.request_id,
                hold.platform,
                hold.feature,
                s.model or hold.model,
                s.charge,
                s.outcome,
                s.usage,
                hold.started,
            )
            await uow.usage.record(event)
            if s.conversation is not None and s.question is not None and s.answer:
                now = self._clock()
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
