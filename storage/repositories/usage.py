"""Usage events (one per request) and the statistics grouped from them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    FunctionElement,
    Row,
    String,
    case,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler

from core.types import Feature, Outcome, StatsDimension, StatsRow, UsageEvent
from storage.repositories._base import SqlRepository
from storage.tables import UsageRow


class UtcDay(FunctionElement[str]):
    """The UTC calendar day of a timestamp as ``YYYY-MM-DD``, on every dialect."""

    type = String()
    inherit_cache = True
    name = "utc_day"


@compiles(UtcDay, "postgresql")
def _utc_day_pg(element: UtcDay, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"to_char(({column}) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"


@compiles(UtcDay)
def _utc_day_default(element: UtcDay, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps UTC timestamps as "YYYY-MM-DD HH:MM:SS…" text.
    return f"substr({compiler.process(element.clauses, **kw)}, 1, 10)"


def _event(row: Row[Any]) -> UsageEvent:
    return UsageEvent(
        request_id=row.request_id,
        account_id=row.account_id,
        platform=row.platform,
        feature=Feature(row.feature),
        model=row.model,
        prompt_tokens=row.prompt_tokens,
        completion_tokens=row.completion_tokens,
        credits=row.credits,
        latency_ms=row.latency_ms,
        outcome=Outcome(row.outcome),
        created_at=row.created_at,
    )


def _group_key(dimension: StatsDimension) -> ColumnElement[str]:
    if dimension is StatsDimension.DAY:
        return UtcDay(UsageRow.created_at)
    if dimension is StatsDimension.DAY_PLATFORM:
        # `||` on both dialects: SQLite's concat() is too recent to rely on.
        return UtcDay(UsageRow.created_at).op("||")(" ").op("||")(UsageRow.platform)
    if dimension is StatsDimension.DAY_MODEL:
        return UtcDay(UsageRow.created_at).op("||")(" ").op("||")(UsageRow.model)
    if dimension is StatsDimension.FEATURE_MODEL:
        return UsageRow.feature.op("||")(" ").op("||")(UsageRow.model)
    columns = {
        StatsDimension.MODEL: UsageRow.model.expression,
        StatsDimension.PLATFORM: UsageRow.platform.expression,
        StatsDimension.FEATURE: UsageRow.feature.expression,
    }
    return columns[dimension]


class SqlUsageRepository(SqlRepository):
    async def record(self, event: UsageEvent) -> None:
        await self._execute(
            insert(UsageRow).values(
                request_id=event.request_id,
                account_id=event.account_id,
                platform=event.platform,
                feature=event.feature.value,
                model=event.model,
                prompt_tokens=event.prompt_tokens,
                completion_tokens=event.completion_tokens,
                credits=event.credits,
                latency_ms=event.latency_ms,
                outcome=event.outcome.value,
                created_at=event.created_at,
            )
        )

    async def recent(self, account_id: int, limit: int) -> list[UsageEvent]:
        if limit <= 0:
            return []
        statement = (
            select(UsageRow)
            .where(UsageRow.account_id == account_id)
            .order_by(UsageRow.created_at.desc(), UsageRow.id.desc())
            .limit(limit)
        )
        return [_event(row) for row in (await self._execute(statement)).all()]

    async def stats(
        self, since: datetime, dimension: StatsDimension, account_id: int | None = None
    ) -> list[StatsRow]:
        key = _group_key(dimension).label("key")
        failed = case((UsageRow.outcome == Outcome.FAILED.value, 1), else_=0)
        statement = (
            select(
                key,
                func.count(),
                func.coalesce(func.sum(UsageRow.prompt_tokens), 0),
                func.coalesce(func.sum(UsageRow.completion_tokens), 0),
                func.coalesce(func.sum(UsageRow.credits), 0),
                func.coalesce(func.sum(failed), 0),
            )
            .where(UsageRow.created_at >= since)
            .group_by(key)
        )
        if account_id is not None:
            statement = statement.where(UsageRow.account_id == account_id)
        rows = [
            StatsRow(
                key=str(k),
                requests=int(n),
                prompt_tokens=int(p),
                completion_tokens=int(c),
                credits=int(cr),
                errors=int(e),
            )
            for k, n, p, c, cr, e in (await self._execute(statement)).all()
        ]
        # Sorted here, not in SQL: a database collation would order keys differently.
        return sorted(rows, key=lambda row: row.key)

    async def last_activity(self, account_ids: Sequence[int]) -> dict[int, datetime]:
        if not account_ids:
            return {}
        statement = (
            select(UsageRow.account_id, func.max(UsageRow.created_at))
            .where(UsageRow.account_id.in_(list(account_ids)))
            .group_by(UsageRow.account_id)
        )
        return {int(a): at for a, at in (await self._execute(statement)).all() if at is not None}

    async def move_account(self, from_account: int, to_account: int) -> None:
        await self._execute(
            update(UsageRow)
            .where(UsageRow.account_id == from_account)
            .values(account_id=to_account)
        )
