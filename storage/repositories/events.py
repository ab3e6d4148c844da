"""Processed platform events: the unique key that turns a redelivery into a no-op."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete

from storage.repositories._base import SqlRepository
from storage.tables import ProcessedEventRow, utcnow


class SqlEventRepository(SqlRepository):
    async def record(self, platform: str, event_id: str) -> bool:
        values = {"platform": platform, "event_id": event_id, "created_at": utcnow()}
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
