"""Worker leases and the owners of holds (see ``core.ports.leases``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select, update
from sqlalchemy.orm import aliased

from core.types import LedgerEntry, LedgerKind
from storage.repositories._base import SqlRepository
from storage.repositories.ledger import _entry
from storage.tables import HoldOwnerRow, LedgerRow, WorkerLeaseRow, utcnow


class SqlLeaseRepository(SqlRepository):
    async def renew(self, worker_id: str, expires_at: datetime) -> None:
        statement = (
            update(WorkerLeaseRow)
            .where(WorkerLeaseRow.worker_id == worker_id)
            .values(expires_at=expires_at)
            .returning(WorkerLeaseRow.worker_id)
        )
        if (await self._execute(statement)).first() is not None:
            return
        values = {"worker_id": worker_id, "expires_at": expires_at}
        if not await self._insert_ignore(
            WorkerLeaseRow, values, ("worker_id",), WorkerLeaseRow.worker_id
        ):
            await self._execute(statement)  # inserted meanwhile by the same worker: extend

    async def release(self, worker_id: str) -> None:
        # Kept, expired: a hold the worker could not settle before exiting is swept at once.
        statement = (
            update(WorkerLeaseRow)
            .where(WorkerLeaseRow.worker_id == worker_id)
            .values(expires_at=utcnow())
        )
        await self._execute(statement)

    async def own(self, request_id: str, worker_id: str, platform: str, chat_id: str) -> None:
        values = {
            "request_id": request_id,
            "worker_id": worker_id,
            "platform": platform,
            "chat_id": chat_id,
            "created_at": utcnow(),
        }
        await self._insert_ignore(HoldOwnerRow, values, ("request_id",), HoldOwnerRow.request_id)

    async def target_of(self, request_id: str) -> tuple[str, str] | None:
        statement = select(HoldOwnerRow.platform, HoldOwnerRow.chat_id).where(
            HoldOwnerRow.request_id == request_id
        )
        row = (await self._execute(statement)).first()
        return None if row is None else (row.platform, row.chat_id)

    async def orphaned_holds(self, now: datetime) -> list[LedgerEntry]:
        settle = aliased(LedgerRow)
        settled = exists().where(
            settle.request_id == LedgerRow.request_id, settle.kind == LedgerKind.SETTLE.value
        )
        statement = (
            select(LedgerRow)
            .join(HoldOwnerRow, HoldOwnerRow.request_id == LedgerRow.request_id)
            .join(WorkerLeaseRow, WorkerLeaseRow.worker_id == HoldOwnerRow.worker_id)
            .where(
                LedgerRow.kind == LedgerKind.HOLD.value,
                WorkerLeaseRow.expires_at < now,
                ~settled,
            )
            .order_by(LedgerRow.id)
        )
        return [_entry(row) for row in (await self._execute(statement)).all()]
