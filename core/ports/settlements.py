"""Settlements the database could not take yet: kept in a local journal until it can."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from core.types import ConversationKey, Feature, Outcome


@dataclass(frozen=True, slots=True)
class PendingSettlement:
    """Everything needed to write one settlement later: the hold and what it costs."""

    account_id: int
    request_id: str
    reserved: int
    platform: str
    feature: Feature
    model: str
    charge: int
    outcome: Outcome
    prompt_tokens: int = 0
    completion_tokens: int = 0
    answered_by: str | None = None  # a fallback model that answered
    conversation: ConversationKey | None = None
    question: str | None = None
    answer: str | None = None
    replaces: str | None = None  # the exchange a regenerated answer takes the place of
    api_key_id: int | None = None  # the key whose budget the hold also reserved
    key_reserved: int = 0


class SettlementJournal(Protocol):
    """Durable enough that a restart does not lose a settlement: ``add`` returns once the
    record is on disk. Replaying a record twice is harmless because settling is idempotent
    (the ledger's unique key per request and kind)."""

    async def add(self, pending: PendingSettlement) -> None: ...

    async def done(self, request_id: str) -> None:
        """The settlement of ``request_id`` is in the database (or was already)."""
        ...

    async def pending(self) -> list[PendingSettlement]:
        """Added and not done yet, oldest first, one per request id."""
        ...
