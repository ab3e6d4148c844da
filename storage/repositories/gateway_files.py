"""Who owns each file uploaded through /v1/files (see ``core.ports.gateway``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, delete, insert, select, update

from core.ports import GatewayFile
from storage.repositories._base import SqlRepository
from storage.tables import GatewayFileRow


def _file(row: Row[Any]) -> GatewayFile:
    return GatewayFile(row.file_id, row.account_id, row.provider, row.created_at)


class SqlGatewayFileRepository(SqlRepository):
    async def add(self, file: GatewayFile) -> None:
        await self._execute(
            insert(GatewayFileRow).values(
                provider=file.provider,
                file_id=file.file_id,
                account_id=file.account_id,
                created_at=file.created_at,
            )
        )

    async def get(self, file_id: str, provider: str) -> GatewayFile | None:
        statement = select(GatewayFileRow).where(
            GatewayFileRow.provider == provider, GatewayFileRow.file_id == file_id
        )
        row = (await self._execute(statement)).one_or_none()
        return _file(row) if row is not None else None

    async def owned(self, account_id: int) -> list[GatewayFile]:
        statement = (
            select(GatewayFileRow)
            .where(GatewayFileRow.account_id == account_id)
            .order_by(GatewayFileRow.created_at.desc(), GatewayFileRow.file_id)
        )
        return [_file(row) for row in (await self._execute(statement)).all()]

    async def remove(self, file_id: str, provider: str) -> bool:
        statement = (
            delete(GatewayFileRow)
            .where(GatewayFileRow.provider == provider, GatewayFileRow.file_id == file_id)
            .returning(GatewayFileRow.file_id)
        )
        return (await self._execute(statement)).first() is not None

    async def move_account(self, from_account: int, to_account: int) -> None:
        statement = (
            update(GatewayFileRow)
            .where(GatewayFileRow.account_id == from_account)
            .values(account_id=to_account)
        )
        await self._execute(statement)
