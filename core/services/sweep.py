"""Settle reservations that nobody will settle: a worker killed mid-request (SIGKILL, a
lost machine) leaves a ``hold`` ledger row without its ``settle`` row, and the credits
stay taken.

Charge policy of the age-based sweep (``sweep_once``): what the request produced is unknown (its text and the upstream's
usage died with it), so the whole reservation is refunded and the request is recorded
with outcome ``failed`` and model/platform ``unknown``. Erring towards the person is the
only choice that never charges for an answer nobody received.

The sweep uses the ordinary settle path, whose ledger row is unique per (request id,
kind): two sweepers (or a sweeper racing a slow but alive worker) settle each hold once.
``older_than`` must stay well above the longest possible request (the upstream's total
timeout), or a live request would be refunded under its feet.

Holds whose worker's lease expired (``sweep_orphans``, run by the lease heartbeat of every
worker, see ``core.services.leases``) are settled without waiting: that worker is gone,
but its heartbeat recorded what each answer had produced (``HoldProgress``), so the hold
is charged that (never more than the hold; outcome ``cut``) and the rest refunded, or
refunded in full when nothing was produced. The person is told (``InterruptionNotices``,
in the account's language) and the question is offered to /retry. Either way the event
that started the request is marked abandoned, so one redelivery of it is answered.

Given the use cases' ``Billing`` (the one with the settlement journal), the sweep first
replays the journal and then skips every hold whose settlement is still journaled: a
settlement that waited out a database outage is charged as it was, never refunded."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from core.observability import NO_METRICS, MetricsSink
from core.ports import Interruption, InterruptionNotices, OrphanedHold, UnitOfWorkFactory
from core.services.billing import Billing, Hold, Settlement
from core.services.periodic import every
from core.types import Feature, LedgerEntry, Outcome

logger = logging.getLogger(__name__)

DEFAULT_OLDER_THAN = timedelta(minutes=20)
UNKNOWN = "unknown"


class _SweptMetrics:
    """Counts swept requests like any other, but does not close a reservation gauge that
    this process never opened (the hold belonged to a dead one)."""

    def __init__(self, sink: MetricsSink) -> None:
        self._sink = sink

    def reservation_opened(self, feature: Feature) -> None:
        return None

    def reservation_closed(self, feature: Feature) -> None:
        return None

    def request_settled(
        self, platform: str, feature: Feature, outcome: Outcome, credits: int, latency_s: float
    ) -> None:
        self._sink.request_settled(platform, feature, outcome, credits, latency_s)


class ReservationSweeper:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        older_than: timedelta = DEFAULT_OLDER_THAN,
        *,
        metrics: MetricsSink = NO_METRICS,
        clock: Callable[[], datetime] | None = None,
        notices: Mapping[str, InterruptionNotices] | None = None,
        journaled: Billing | None = None,
    ) -> None:
        self._uow = uow_factory
        # Per platform; read at each sweep (adapters register theirs once they run).
        self._notices: Mapping[str, InterruptionNotices] = notices if notices is not None else {}
        self._journaled = journaled
        self._older_than = older_than
        self._clock = clock or (lambda: datetime.now(UTC))
        self._billing = Billing(uow_factory, clock=self._clock, metrics=_SweptMetrics(metrics))

    async def sweep_once(self) -> int:
        """Refund every hold older than the limit that has no settle row; returns how
        many this call settled (holds another sweeper got first are not counted)."""
        async with self._uow() as uow:
            holds = await uow.ledger.open_holds(self._clock() - self._older_than)
        return await self._refund(holds)

    async def sweep_orphans(self) -> int:
        """Settle every open hold whose worker's lease has expired (the worker died),
        whatever its age, for what it produced; holds of live workers are never touched."""
        async with self._uow() as uow:
            orphans = await uow.leases.orphaned_holds(self._clock())
        skip = await self._journaled_ids()
        settled = 0
        for orphan in orphans:
            if orphan.entry.request_id not in skip and await self._settle_orphan(orphan):
                settled += 1
        return settled

    async def _settle_orphan(self, orphan: OrphanedHold) -> bool:
        hold = _hold_of(orphan.entry)
        charge = min(max(orphan.produced, 0), hold.reserved)
        outcome = Outcome.CUT if charge else Outcome.FAILED
        if not await self._billing.settle(hold, Settlement(charge, outcome)):
            return False  # another worker's sweep got there first
        logger.warning(
            "settled the reservation %s of a dead worker: charged %d, refunded %d micro-credits",
            hold.request_id,
            charge,
            hold.reserved - charge,
        )
        async with self._uow() as uow:
            await uow.events.abandon(hold.request_id)
            if orphan.retryable:
                await uow.leases.offer_retry(hold.request_id)
            account = await uow.accounts.get(hold.account_id)
            await uow.commit()
        notice = Interruption(
            chat_id=orphan.chat_id,
            request_id=hold.request_id,
            charged=charge,
            refunded=hold.reserved - charge,
            language=account.language if account is not None else None,
            retryable=orphan.retryable,
        )
        await self._notify(orphan.platform, notice)
        return True

    async def _journaled_ids(self) -> frozenset[str]:
        # A settlement waiting in this worker's journal (a database outage) is charged as
        # it was, never refunded: replay it first and leave the still-pending ones alone.
        if self._journaled is None:
            return frozenset()
        await self._journaled.replay()
        return await self._journaled.pending_request_ids()

    async def _refund(self, holds: list[LedgerEntry]) -> int:
        skip = await self._journaled_ids()
        settled = 0
        for entry in holds:
            if entry.request_id in skip:
                continue
            if await self._billing.settle(_hold_of(entry), Settlement(0, Outcome.FAILED)):
                settled += 1
                logger.warning(
                    "refunded abandoned reservation %s of account %s (%d micro-credits)",
                    entry.request_id,
                    entry.account_id,
                    -entry.amount,
                )
                assert entry.request_id is not None  # open_holds returns such holds only
                # The event that started it was never answered: one redelivery may retry.
                async with self._uow() as uow:
                    await uow.events.abandon(entry.request_id)
                    await uow.commit()
        return settled

    async def _notify(self, platform: str, notice: Interruption) -> None:
        notices = self._notices.get(platform)
        if notices is None:
            logger.info("no %s adapter runs here to tell a chat about its answer", platform)
            return
        try:
            await notices.interrupted(notice)
        except Exception:  # best effort: the settlement stands whatever the platform says
            logger.exception("could not tell a %s chat about its interrupted answer", platform)


def _hold_of(entry: LedgerEntry) -> Hold:
    assert entry.request_id is not None  # open_holds only returns holds with one
    # The ledger does not say which feature the hold was for; chat is the only feature
    # that streams for long, so it is by far the likeliest one to be cut off by a kill.
    return Hold(
        account_id=entry.account_id,
        request_id=entry.request_id,
        reserved=-entry.amount,
        platform=UNKNOWN,
        feature=Feature.CHAT,
        model=UNKNOWN,
        # Latency is unknown: report 0 rather than the hold's age, which would skew the
        # latency histogram by tens of minutes.
        started=time.monotonic(),
        # The key held the worst case; the ledger keeps what the account held, which is
        # the same unless the balance was below the worst case. Then the key keeps the
        # difference as spent: an error on the safe side of its budget.
        api_key_id=entry.api_key_id,
        key_reserved=-entry.amount if entry.api_key_id is not None else 0,
    )


async def run_sweeper(
    uow_factory: UnitOfWorkFactory,
    interval_s: float = 60.0,
    *,
    older_than: timedelta = DEFAULT_OLDER_THAN,
    metrics: MetricsSink = NO_METRICS,
    journaled: Billing | None = None,
) -> None:
    """Sweep every ``interval_s`` seconds until cancelled. Any worker may run it, and
    several at once are safe. ``journaled``: see ``ReservationSweeper``."""
    sweeper = ReservationSweeper(uow_factory, older_than, metrics=metrics, journaled=journaled)

    def done(count: int) -> None:
        if count:
            logger.info("reservation sweep refunded %d abandoned reservation(s)", count)

    await every(interval_s, "reservation sweep", sweeper.sweep_once, done)


async def prune_processed_events(
    uow_factory: UnitOfWorkFactory,
    retention: timedelta,
    *,
    clock: Callable[[], datetime] | None = None,
) -> int:
    """Forget the platform event ids (the redelivery dedupe) and the owners of holds
    (progress, questions kept for /retry) older than ``retention``; returns how many
    event ids. Platforms redeliver within minutes, never days later."""
    now = (clock or (lambda: datetime.now(UTC)))()
    async with uow_factory() as uow:
        removed = await uow.events.prune(now - retention)
        # The owners of holds go with them: a /retry is offered for days, not forever.
        await uow.leases.prune(now - retention)
        await uow.commit()
    return removed


async def run_event_pruner(
    uow_factory: UnitOfWorkFactory, retention: timedelta, interval_s: float = 3600.0
) -> None:
    """Prune the dedupe records every ``interval_s`` seconds until cancelled (the first
    round right away). Any worker may run it, and several at once are safe."""

    def done(removed: int) -> None:
        if removed:
            logger.info("pruned %d processed event record(s)", removed)

    await every(
        interval_s,
        "event pruning",
        lambda: prune_processed_events(uow_factory, retention),
        done,
        first_now=True,
    )
