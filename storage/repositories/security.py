"""Each account's security version: tokens issued under an older version are refused."""

from __future__ import annotations

from sqlalchemy import Executable, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import translate_errors
from storage.tables import AccountSecurityRow, utcnow


async def _bump(connection: AsyncConnection, account_id: int) -> int:
    """One upsert; the row lock serialises concurrent bumps."""
    now = utcnow()
    values = {"account_id": account_id, "version": 1, "changed_at": now}
    update = {"version": AccountSecurityRow.version + 1, "changed_at": now}
    statement: Executable
    if connection.dialect.name == "postgresql":
        pg = postgresql.insert(AccountSecurityRow).values(values)
        statement = pg.on_conflict_do_update(index_elements=["account_id"], set_=update).returning(
            AccountSecurityRow.version
        )
    else:
        lite = sqlite.insert(AccountSecurityRow).values(values)
        statement = lite.on_conflict_do_update(
            index_elements=["account_id"], set_=update
        ).returning(AccountSecurityRow.version)
    async with translate_errors():
        result = await connection.execute(statement)
    return int(result.scalar_one())


class SqlSecurityRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def version(self, account_id: int) -> int:
        statement = select(AccountSecurityRow.version).where(
            AccountSecurityRow.account_id == account_id
        )
        async with translate_errors():
            found = (await self._connection.execute(statement)).scalar_one_or_none()
        return int(found) if found is not None else 0

    async def bump(self, account_id: int) -> int:
        return await _bump(self._connection, account_id)
