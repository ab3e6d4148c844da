"""Announcements (``/broadcast``): who can be written to, and each broadcast's delivery
list, kept in the database so that a restarted worker carries on where a dead one
stopped. Admin notices read the admins from here too."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from core.types import IdentityKey, Role


@dataclass(frozen=True, slots=True)
class Reachable:
    """An account that may be written to: its identities, newest first, and the platform
    of its latest request (None when it never made one)."""

    account_id: int
    language: str | None
    identities: tuple[IdentityKey, ...]
    last_platform: str | None


@dataclass(frozen=True, slots=True)
class Recipient:
    account_id: int
    identity: IdentityKey
    language: str | None


@dataclass(frozen=True, slots=True)
class Broadcast:
    id: int
    actor_id: int
    text: str
    audience: str  # "" (everyone), a role or a platform
    state: str  # draft | sending | done


class AnnouncementRepository(Protocol):
    async def reachable(self, role: Role | None, admins_only: bool = False) -> list[Reachable]:
        """Accounts neither banned, merged away nor muted (``/mute announcements``; admins
        with ``admins_only`` are listed muted or not), with ``role`` when given."""
        ...

    async def create(self, actor_id: int, text: str, audience: str) -> int:
        """A new broadcast in the ``draft`` state."""
        ...

    async def get(self, broadcast_id: int) -> Broadcast | None: ...

    async def latest_draft(self, actor_id: int) -> Broadcast | None: ...

    async def start(self, broadcast_id: int, recipients: Sequence[Recipient]) -> bool:
        """``draft`` → ``sending`` with its delivery list, by one guarded UPDATE: False
        (and nothing written) when it was started already (a second "Send" press)."""
        ...

    async def claim(
        self, worker_id: str, now: datetime, until: datetime, skip: Sequence[int] = ()
    ) -> Broadcast | None:
        """Take the lease of one ``sending`` broadcast (not in ``skip``) whose lease is
        free (never taken, expired, released, or this worker's), by a guarded UPDATE;
        None when there is none."""
        ...

    async def release(self, broadcast_id: int, worker_id: str) -> None:
        """Give the lease up (this worker cannot deliver what is left)."""
        ...

    async def pending(
        self, broadcast_id: int, limit: int, platforms: Sequence[str]
    ) -> list[Recipient]:
        """Deliveries not yet done on ``platforms``, in the order they were listed."""
        ...

    async def mark(self, broadcast_id: int, account_id: int, outcome: str) -> None: ...

    async def finish(self, broadcast_id: int) -> None: ...

    async def counts(self, broadcast_id: int) -> dict[str, int]:
        """Deliveries by state: pending, delivered, failed, blocked."""
        ...
