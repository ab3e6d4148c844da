"""Processed platform events: the unique key that turns a redelivery into a no-op, unless
the request the event started died unanswered (then one redelivery is processed again)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update

from storage.repositories._base import SqlRepository
from storage.tables import ProcessedEventRow, utcnow


class SqlEventRepository(SqlRepository):
    async def record(self, platform: str, event_id: str, request_id: str | None = None) -> bool:
        values = {
            "platform": platform,
            "event_id": event_id,
            "created_at": utcnow(),
            "request_id": request_id,
            "abandoned": False,
        }
        conflict = ("platform", "event_id")
        return await self._insert_ignore(
            ProcessedEventRow, values, conflict, ProcessedEventRow.event_id
        )

    async def prune(self, before: datetime) -> int:
        statement = (
            delete(ProcessedEventRow)
            .where(ProcessedEventRow.created_at < before)
            .returning(ProcessedEventRow.event_id)
        )
        return len((await self._execute(statement)).fetchall())

    async def abandon(self, request_id: str) -> None:
        statement = (
            update(ProcessedEventRow)
            .where(ProcessedEventRow.request_id == request_id)
            .values(abandoned=True)
        )
        await self._execute(statement)

    async def is_abandoned(self, platform: str, event_id: str) -> bool:
        statement = select(ProcessedEventRow.abandoned).where(
            ProcessedEventRow.platform == platform, ProcessedEventRow.event_id == event_id
        )
        return bool((await self._execute(statement)).scalar())

    async def reclaim(self, platform: str, event_id: str, request_id: str) -> bool:
        statement = (
            update(ProcessedEventRow)
            .where(
                ProcessedEventRow.platform == platform,
                ProcessedEventRow.event_id == event_id,
                ProcessedEventRow.abandoned.is_(True),
            )
            .values(abandoned=False, request_id=request_id)
            .returning(ProcessedEventRow.event_id)
        )
        return (await self._execute(statement)).first() is not None
