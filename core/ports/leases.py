"""Worker leases: each worker process renews a lease every few seconds, and every hold it
opens names it. A hold whose worker's lease ran out belongs to a dead worker (SIGKILL, a
lost machine) and may be settled at once instead of after the long age-based sweep.

Each owner row also carries what the worker knew that dies with it: the produced-so-far
cost estimate (written by the lease heartbeat, so the sweep charges for what was made)
and the question (so the person can ``/retry`` it once)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from core.types import LedgerEntry


@dataclass(frozen=True, slots=True)
class OrphanedHold:
    """An open hold of a dead worker, with where its answer was going."""

    entry: LedgerEntry
    platform: str
    chat_id: str
    produced: int  # micro-credits, the last heartbeat's estimate (0: nothing produced)
    retryable: bool  # its question was kept


@dataclass(frozen=True, slots=True)
class Interruption:
    """What the person whose answer a dead worker cut is told."""

    chat_id: str
    request_id: str  # the interrupted request (what a Retry button re-asks)
    charged: int
    refunded: int
    language: str | None  # the account's; None: the bot's default
    retryable: bool


class LeaseRepository(Protocol):
    async def renew(self, worker_id: str, expires_at: datetime) -> None:
        """Create or extend the worker's lease (an upsert)."""
        ...

    async def release(self, worker_id: str) -> None:
        """Expire the lease at once at a clean exit (the worker's holds are settled by
        then; any left over are swept at once instead of waiting for the long sweep)."""
        ...

    async def own(
        self,
        request_id: str,
        worker_id: str,
        platform: str,
        chat_id: str,
        account_id: int,
        question: str | None = None,
    ) -> None:
        """Record which worker holds the reservation of ``request_id``, where its answer
        was going (for the notice if the worker dies) and the question (for /retry)."""
        ...

    async def record_progress(self, produced: Mapping[str, int]) -> None:
        """Store each hold's produced-so-far estimate (micro-credits), in one statement."""
        ...

    async def orphaned_holds(self, now: datetime) -> list[OrphanedHold]:
        """Holds with no settle row whose worker's lease expired before ``now``. Holds of
        live workers, of workers that never took a lease, and without an owner are never
        returned (the age-based sweep still covers those)."""
        ...

    async def offer_retry(self, request_id: str) -> None:
        """Mark the interrupted request's question as one ``/retry`` may ask again."""
        ...

    async def retry_question(
        self, platform: str, chat_id: str, account_id: int, request_id: str | None = None
    ) -> tuple[str, str] | None:
        """(request id, question) of the account's most recent interrupted question on
        offer in that chat or a thread of it (``<chat_id>:…``), or of ``request_id`` when
        given; None if there is none."""
        ...

    async def take_retry(self, request_id: str) -> bool:
        """Take the offer (False if it was taken or withdrawn meanwhile); the event that
        started the interrupted request is no longer answered on redelivery."""
        ...

    async def withdraw_retry(self, platform: str, event_id: str) -> None:
        """A redelivery of the event answers the interrupted request: no /retry for it."""
        ...

    async def erase(self, account_id: int) -> None:
        """Forget the account's owner rows (their questions are its data)."""
        ...

    async def prune(self, before: datetime) -> int:
        """Forget owner rows created before ``before``; returns how many."""
        ...


class InterruptionNotices(Protocol):
    """Where the sweep tells a person that their answer was cut off by a dead worker.
    Each chat adapter that can write outside a request provides one for its platform."""

    async def interrupted(self, notice: Interruption) -> None:
        """Tell the chat ``notice.chat_id`` its answer was interrupted, what it cost and
        (when ``retryable``) how to ask again. Best effort: raising only logs a warning."""
        ...
