"""The append-only credit ledger: every balance change is one row here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, exists, func, select
from sqlalchemy.orm import aliased

from core.types import LedgerEntry, LedgerKind
from storage.repositories._base import SqlRepository
from storage.tables import LedgerRow, utcnow


def _entry(row: Row[Any]) -> LedgerEntry:
    return LedgerEntry(
        account_id=row.account_id,
        amount=row.amount,
        kind=LedgerKind(row.kind),
        request_id=row.request_id,
        actor_account_id=row.actor_account_id,
        reason=row.reason,
        created_at=row.created_at,
        api_key_id=row.api_key_id,
    )


def _settled() -> Any:
    """A settle row exists for the outer hold row's request id."""
    settle = aliased(LedgerRow)
    return exists().where(
        settle.request_id == LedgerRow.request_id, settle.kind == LedgerKind.SETTLE.value
    )


class SqlLedgerRepository(SqlRepository):
    async def append(self, entry: LedgerEntry) -> bool:
        values = {
            "account_id": entry.account_id,
            "amount": entry.amount,
            "kind": entry.kind.value,
            "request_id": entry.request_id,
            "actor_account_id": entry.actor_account_id,
            "reason": entry.reason,
            "created_at": entry.created_at or utcnow(),
            "api_key_id": entry.api_key_id,
        }
        # Rows without a request id never clash: NULLs are distinct in a unique key.
        return await self._insert_ignore(LedgerRow, values, ("request_id", "kind"), LedgerRow.id)

    async def sum_for(self, account_id: int) -> int:
        statement = select(func.coalesce(func.sum(LedgerRow.amount), 0)).where(
            LedgerRow.account_id == account_id
        )
        # Postgres sums BIGINT into NUMERIC: bring it back to an exact int.
        return int((await self._execute(statement)).scalar_one())

    async def entries(self, account_id: int, limit: int) -> list[LedgerEntry]:
        if limit <= 0:
            return []
        statement = (
            select(LedgerRow)
            .where(LedgerRow.account_id == account_id)
            .order_by(LedgerRow.id.desc())
            .limit(limit)
        )
        return [_entry(row) for row in (await self._execute(statement)).all()]

    async def count_open_holds(self) -> int:
        statement = select(func.count()).where(
            LedgerRow.kind == LedgerKind.HOLD.value,
            LedgerRow.request_id.is_not(None),
            ~_settled(),
        )
        return int((await self._execute(statement)).scalar_one())

    async def open_holds(self, older_than: datetime) -> list[LedgerEntry]:
        settled = _settled()
        statement = (
            select(LedgerRow)
            .where(
                LedgerRow.kind == LedgerKind.HOLD.value,
                LedgerRow.request_id.is_not(None),
                LedgerRow.created_at < older_than,
                ~settled,
            )
            .order_by(LedgerRow.id)
        )
        return [_entry(row) for row in (await self._execute(statement)).all()]
