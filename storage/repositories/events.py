"""Processed platform events: the unique key that turns a redelivery into a no-op."""

from __future__ import annotations

from storage.repositories._base import SqlRepository
from storage.tables import ProcessedEventRow, utcnow


class SqlEventRepository(SqlRepository):
    async def record(self, platform: str, event_id: str) -> bool:
        values = {"platform": platform, "event_id": event_id, "created_at": utcnow()}
        conflict = ("platform", "event_id")
        return await self._insert_ignore(
            ProcessedEventRow, values, conflict, ProcessedEventRow.event_id
        )
