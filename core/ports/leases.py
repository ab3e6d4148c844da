"""Worker leases: each worker process renews a lease every few seconds, and every hold it
opens names it. A hold whose worker's lease ran out belongs to a dead worker (SIGKILL, a
lost machine) and may be settled at once instead of after the long age-based sweep."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from core.types import LedgerEntry


class LeaseRepository(Protocol):
    async def renew(self, worker_id: str, expires_at: datetime) -> None:
        """Create or extend the worker's lease (an upsert)."""
        ...

    async def release(self, worker_id: str) -> None:
        """Expire the lease at once at a clean exit (the worker's holds are settled by
        then; any left over are swept at once instead of waiting for the long sweep)."""
        ...

    async def own(self, request_id: str, worker_id: str, platform: str, chat_id: str) -> None:
        """Record which worker holds the reservation of ``request_id`` and where its
        answer was going (for the notice to the person if the worker dies)."""
        ...

    async def target_of(self, request_id: str) -> tuple[str, str] | None:
        """The (platform, chat id) the hold's answer was going to, if it has an owner."""
        ...

    async def orphaned_holds(self, now: datetime) -> list[LedgerEntry]:
        """Holds with no settle row whose worker's lease expired before ``now``. Holds of
        live workers, of workers that never took a lease, and without an owner are never
        returned (the age-based sweep still covers those)."""
        ...


class InterruptionNotices(Protocol):
    """Where the sweep tells a person that their answer was cut off by a dead worker.
    Each chat adapter that can write outside a request provides one for its platform."""

    async def interrupted(self, chat_id: str, refunded: int) -> None:
        """Tell the chat ``chat_id`` its answer was interrupted and ``refunded``
        micro-credits were given back. Best effort: raising only logs a warning."""
        ...
