"""Idempotency keys of admin calls, with the first answer stored to be replayed."""

from __future__ import annotations

from sqlalchemy import select

from core.ports import GrantRecord
from storage.repositories._base import SqlRepository
from storage.tables import IdempotencyRow


class SqlIdempotencyRepository(SqlRepository):
    async def get(self, actor_account_id: int, key: str) -> GrantRecord | None:
        statement = select(IdempotencyRow).where(
            IdempotencyRow.actor_account_id == actor_account_id, IdempotencyRow.key == key
        )
        row = (await self._execute(statement)).one_or_none()
        if row is None:
            return None
        return GrantRecord(
            request_hash=row.request_hash,
            account_id=row.account_id,
            amount=row.amount,
            balance=row.balance,
            reason=row.reason,
            created_at=row.created_at,
        )

    async def put(self, actor_account_id: int, key: str, record: GrantRecord) -> bool:
        values = {
            "actor_account_id": actor_account_id,
            "key": key,
            "request_hash": record.request_hash,
            "account_id": record.account_id,
            "amount": record.amount,
            "balance": record.balance,
            "reason": record.reason,
            "created_at": record.created_at,
        }
        return await self._insert_ignore(
            IdempotencyRow, values, ("actor_account_id", "key"), IdempotencyRow.id
        )
