"""Money: the append-only ledger and the idempotency records of credit grants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from core.types import LedgerEntry


@dataclass(frozen=True, slots=True)
class GrantRecord:
    """An idempotent grant as first answered; replayed for a repeat of its key."""

    request_hash: str
    account_id: int
    amount: int
    balance: int
    reason: str | None
    created_at: datetime


class LedgerRepository(Protocol):
    async def append(self, entry: LedgerEntry) -> bool:
        """Append a row. Rows with a request id are unique per (request id, kind): a second
        one is not written and False is returned, which makes settle idempotent."""
        ...

    async def sum_for(self, account_id: int) -> int: ...

    async def entries(self, account_id: int, limit: int) -> list[LedgerEntry]:
        """Newest first."""
        ...

    async def open_holds(self, older_than: datetime) -> list[LedgerEntry]:
        """Holds with no settle row yet, created before ``older_than`` (for the sweep)."""
        ...

    async def count_open_holds(self) -> int:
        """How many holds have no settle row yet, of any age (the reservations gauge)."""
        ...


class IdempotencyRepository(Protocol):
    async def get(self, actor_account_id: int, key: str) -> GrantRecord | None: ...

    async def put(self, actor_account_id: int, key: str, record: GrantRecord) -> bool:
        """False when the key was stored meanwhile (unique key)."""
        ...
