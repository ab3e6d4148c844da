"""What every SQL repository shares: its connection, error translation on every statement,
and the dialect's INSERT … ON CONFLICT DO NOTHING."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Executable, FromClause, Result, Row
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import InstrumentedAttribute

from storage.db import translate_errors
from storage.tables import Base


class SqlRepository:
    """Statements run on a plain connection (SQLAlchemy Core), not an ORM session: rows
    become core types at once, so an identity map would only cost time on the hot path
    (measured: about a quarter of each transaction's CPU)."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    @property
    def _dialect(self) -> str:
        return self._connection.dialect.name

    async def _execute(
        self, statement: Executable, parameters: Mapping[str, Any] | None = None
    ) -> Result[*tuple[Any, ...]]:
        """``parameters`` fill the ``bindparam``s of a statement built once, up front."""
        async with translate_errors():
            return await self._connection.execute(statement, parameters)

    async def _insert_ignore(
        self,
        model: type[Base],
        values: Mapping[str, object],
        conflict: Sequence[str],
        returning: InstrumentedAttribute[Any],
    ) -> bool:
        """Insert one row unless it clashes on ``conflict``; True when it was written."""
        if self._dialect == "postgresql":
            pg = postgresql.insert(model).values(dict(values))
            statement: Executable = pg.on_conflict_do_nothing(index_elements=conflict).returning(
                returning
            )
        else:
            lite = sqlite.insert(model).values(dict(values))
            statement = lite.on_conflict_do_nothing(index_elements=conflict).returning(returning)
        result = await self._execute(statement)
        return result.first() is not None


class ColumnsOf:
    """One table's part of a joined row, read by column name like a row of that table
    alone, so the table's own row mapper reads it (joined tables share names: ``id``)."""

    __slots__ = ("_columns", "_values")

    def __init__(self, row: Row[Any], table: FromClause) -> None:
        self._values = row._mapping
        self._columns = table.c

    def __getattr__(self, name: str) -> Any:
        return self._values[self._columns[name]]
