"""Writing to one person privately, outside any request: announcements and admin notices.

Each chat adapter that can do it registers one ``PrivateMessenger`` for its platform when
it starts (``App.messengers``); the core only sees the mapping."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from core.types import IdentityKey


class DeliveryOutcome(StrEnum):
    DELIVERED = "delivered"
    FAILED = "failed"  # try again later would not help: the platform refused it
    BLOCKED = "blocked"  # the person blocked the bot or cannot be written to


class PrivateMessenger(Protocol):
    async def send_private(self, identity: IdentityKey, text: str) -> DeliveryOutcome:
        """Deliver ``text`` to the person's private chat, waiting out the platform's rate
        limits (a 429 is waited for, not reported); never raises for a refusal."""
        ...
