"""Settle reservations that nobody will settle: a worker killed mid-request (SIGKILL, a
lost machine) leaves a ``hold`` ledger row without its ``settle`` row, and the credits
stay taken.

Charge policy: what the dead request produced is unknown (its text and the upstream's
usage died with it), so the whole reservation is refunded and the request is recorded
with outcome ``failed`` and model/platform ``unknown``. Erring towards the person is the
only choice that never charges for an answer nobody received.

The sweep uses the ordinary settle path, whose ledger row is unique per (request id,
kind): two sweepers (or a sweeper racing a slow but alive worker) settle each hold once.
``older_than`` must stay well above the longest possible request (the upstream's total
timeout), or a live request would be refunded under its feet.

Holds whose worker's lease expired (``sweep_orphans``, run by the lease heartbeat of every
worker, see ``core.services.leases``) are settled the same way without waiting: that
worker is gone. Either way the event that started the request is marked abandoned, so
one redelivery of it is answered.

Given the use cases' ``Billing`` (the one with the settlement journal), the sweep first
replays the journal and then skips every hold whose settlement is still journaled: a
settlement that waited out a database outage is charged as it was, never refunded."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from core.observability import NO_METRICS, MetricsSink
from core.ports import InterruptionNotices, UnitOfWorkFactory
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
        """Refund every open hold whose worker's lease has expired (the worker died),
        whatever its age; holds of live workers are never touched."""
        async with self._uow() as uow:
            holds = await uow.leases.orphaned_holds(self._clock())
        return await self._refund(holds)

    async def _refund(self, holds: list[LedgerEntry]) -> int:
        # A settlement waiting in this worker's journal (a database outage) is charged as
        # it was, never refunded: replay it first and leave the still-pending ones alone.
        skip: frozenset[str] = frozenset()
        if self._journaled is not None:
            await self._journaled.replay()
            skip = await self._journaled.pending_request_ids()
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
                assert entry.request_id is not None  # both queries return such holds only
                # The event that started it was never answered: one redelivery may retry.
                async with self._uow() as uow:
                    await uow.events.abandon(entry.request_id)
                    target = await uow.leases.target_of(entry.request_id)
                    await uow.commit()
                if target is not None:
                    await self._notify(*target, -entry.amount)
        return settled

    async def _notify(self, platform: str, chat_id: str, refunded: int) -> None:
        notices = self._notices.get(platform)
        if notices is None:
            return
        try:
            await notices.interrupted(chat_id, refunded)
        except Exception:  # best effort: the refund stands whatever the platform says
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
    """Forget the platform event ids (the redelivery dedupe) older than ``retention``;
    returns how many. Platforms redeliver within minutes, never days later."""
    now = (clock or (lambda: datetime.now(UTC)))()
    async with uow_factory() as uow:
        removed = await uow.events.prune(now - retention)
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
