"""Worker leases and the owners of holds (see ``core.ports.leases``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import case, delete, exists, or_, select, update
from sqlalchemy.orm import aliased

from core.ports import OrphanedHold
from core.types import LedgerKind
from storage.repositories._base import SqlRepository
from storage.repositories.ledger import _entry
from storage.tables import HoldOwnerRow, LedgerRow, ProcessedEventRow, WorkerLeaseRow, utcnow


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

    async def own(
        self,
        request_id: str,
        worker_id: str,
        platform: str,
        chat_id: str,
        account_id: int,
        question: str | None = None,
    ) -> None:
        values = {
            "request_id": request_id,
            "worker_id": worker_id,
            "platform": platform,
            "chat_id": chat_id,
            "account_id": account_id,
            "question": question,
            "created_at": utcnow(),
        }
        await self._insert_ignore(HoldOwnerRow, values, ("request_id",), HoldOwnerRow.request_id)

    async def record_progress(self, produced: Mapping[str, int]) -> None:
        if not produced:
            return
        # One UPDATE for every open answer of the worker: CASE picks each row's value.
        statement = (
            update(HoldOwnerRow)
            .where(HoldOwnerRow.request_id.in_(list(produced)))
            .values(produced=case(dict(produced), value=HoldOwnerRow.request_id))
        )
        await self._execute(statement)

    async def orphaned_holds(self, now: datetime) -> list[OrphanedHold]:
        settle = aliased(LedgerRow)
        settled = exists().where(
            settle.request_id == LedgerRow.request_id, settle.kind == LedgerKind.SETTLE.value
        )
        statement = (
            select(
                LedgerRow,
                HoldOwnerRow.platform,
                HoldOwnerRow.chat_id,
                HoldOwnerRow.produced,
                HoldOwnerRow.question.is_not(None).label("retryable"),
            )
            .join(HoldOwnerRow, HoldOwnerRow.request_id == LedgerRow.request_id)
            .join(WorkerLeaseRow, WorkerLeaseRow.worker_id == HoldOwnerRow.worker_id)
            .where(
                LedgerRow.kind == LedgerKind.HOLD.value,
                WorkerLeaseRow.expires_at < now,
                ~settled,
            )
            .order_by(LedgerRow.id)
        )
        return [
            OrphanedHold(_entry(row), row.platform, row.chat_id, row.produced, bool(row.retryable))
            for row in (await self._execute(statement)).all()
        ]

    async def offer_retry(self, request_id: str) -> None:
        statement = (
            update(HoldOwnerRow)
            .where(HoldOwnerRow.request_id == request_id, HoldOwnerRow.question.is_not(None))
            .values(retry_offered=True)
        )
        await self._execute(statement)

    async def retry_question(
        self, platform: str, chat_id: str, account_id: int, request_id: str | None = None
    ) -> tuple[str, str] | None:
        statement = (
            select(HoldOwnerRow.request_id, HoldOwnerRow.question)
            .where(
                HoldOwnerRow.platform == platform,
                or_(
                    HoldOwnerRow.chat_id == chat_id,
                    HoldOwnerRow.chat_id.startswith(f"{chat_id}:", autoescape=True),
                ),
                HoldOwnerRow.account_id == account_id,
                HoldOwnerRow.retry_offered,
            )
            .order_by(HoldOwnerRow.created_at.desc(), HoldOwnerRow.request_id.desc())
            .limit(1)
        )
        if request_id is not None:
            statement = statement.where(HoldOwnerRow.request_id == request_id)
        row = (await self._execute(statement)).first()
        return None if row is None or row.question is None else (row.request_id, row.question)

    async def take_retry(self, request_id: str) -> bool:
        taken = (
            update(HoldOwnerRow)
            .where(HoldOwnerRow.request_id == request_id, HoldOwnerRow.retry_offered)
            .values(retry_offered=False)
            .returning(HoldOwnerRow.request_id)
        )
        if (await self._execute(taken)).first() is None:
            return False
        # Asked again by /retry: a late redelivery of its event must not answer it twice.
        await self._execute(
            update(ProcessedEventRow)
            .where(ProcessedEventRow.request_id == request_id)
            .values(abandoned=False)
        )
        return True

    async def withdraw_retry(self, platform: str, event_id: str) -> None:
        requests = select(ProcessedEventRow.request_id).where(
            ProcessedEventRow.platform == platform,
            ProcessedEventRow.event_id == event_id,
            ProcessedEventRow.abandoned,
        )
        await self._execute(
            update(HoldOwnerRow)
            .where(
                HoldOwnerRow.request_id.in_(requests.scalar_subquery()), HoldOwnerRow.retry_offered
            )
            .values(retry_offered=False)
        )

    async def erase(self, account_id: int) -> None:
        await self._execute(delete(HoldOwnerRow).where(HoldOwnerRow.account_id == account_id))

    async def prune(self, before: datetime) -> int:
        statement = (
            delete(HoldOwnerRow)
            .where(HoldOwnerRow.created_at < before)
            .returning(HoldOwnerRow.request_id)
        )
        return len((await self._execute(statement)).fetchall())
