"""The worker lease: each worker process renews a lease every ``interval`` seconds that
expires after ``ttl`` seconds, and every hold it opens names it (``Billing``). On the same
beat it writes what each of its open answers has produced so far (``HoldProgress``, one
statement in the renewal's transaction) and settles the holds of workers whose lease
expired: a worker killed with SIGKILL stops renewing, and within ``ttl + interval``
seconds a live worker charges its holds for what they produced by the dead worker's last
beat (refunding the rest), tells the people, offers /retry and marks their events
abandoned so that one redelivery is answered.

``ttl`` must stay well above ``interval`` (a missed beat or two under load must not look
like death); a worker that cannot reach the database cannot renew, but then no other
worker sharing that database can sweep it either."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from core.errors import StorageUnavailable
from core.ports import UnitOfWorkFactory
from core.services.billing import uncancellable
from core.services.periodic import every
from core.services.progress import HoldProgress
from core.services.sweep import ReservationSweeper

logger = logging.getLogger(__name__)


class WorkerLease:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        worker_id: str,
        ttl: timedelta,
        sweeper: ReservationSweeper,
        *,
        clock: Callable[[], datetime] | None = None,
        progress: HoldProgress | None = None,
    ) -> None:
        self._uow = uow_factory
        self.worker_id = worker_id
        self._ttl = ttl
        self._sweeper = sweeper
        self._clock = clock or (lambda: datetime.now(UTC))
        self._progress = progress or HoldProgress()

    async def renew(self) -> None:
        """Extend the lease and record the open answers' progress, in one transaction:
        the estimates the sweep would charge are at most one beat old."""
        changed = self._progress.changed()
        async with self._uow() as uow:
            await uow.leases.renew(self.worker_id, self._clock() + self._ttl)
            if changed:
                await uow.leases.record_progress(changed)
            await uow.commit()
        self._progress.written(changed)

    async def release(self) -> None:
        async with self._uow() as uow:
            await uow.leases.release(self.worker_id)
            await uow.commit()

    async def beat(self) -> int:
        """Renew this worker's lease, then settle the holds of dead workers; returns how
        many holds were settled."""
        await self.renew()
        return await self._sweeper.sweep_orphans()


async def run_lease(lease: WorkerLease, interval_s: float) -> None:
    """Beat every ``interval_s`` seconds until cancelled; the lease is released (expired
    at once) on the way out. The first beat is awaited by the caller's start-up."""

    def done(count: int) -> None:
        if count:
            logger.warning("settled %d reservation(s) of dead worker(s)", count)

    try:
        await every(interval_s, "lease heartbeat", lease.beat, done)
    finally:
        try:
            await uncancellable(lease.release())
        except StorageUnavailable:
            logger.warning("could not release the worker lease: the database is unavailable")
