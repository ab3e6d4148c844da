"""Refresh tokens (rotating, in families) and API keys; only their hashes are stored."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, select, update

from core.ports import ApiKeyRecord, RefreshRecord
from storage.repositories._base import SqlRepository
from storage.tables import ApiKeyRow, RefreshTokenRow, utcnow


def _refresh(row: Row[Any]) -> RefreshRecord:
    return RefreshRecord(
        token_hash=row.token_hash,
        family_id=row.family_id,
        username=row.username,
        used=row.used,
        revoked=row.revoked,
        expires_at=row.expires_at,
    )


def _key(row: Row[Any]) -> ApiKeyRecord:
    return ApiKeyRecord(
        id=row.id,
        credential_id=row.credential_id,
        prefix=row.prefix,
        name=row.name,
        revoked=row.revoked,
        created_at=row.created_at,
    )


class SqlRefreshTokenRepository(SqlRepository):
    async def add(
        self, token_hash: str, family_id: str, username: str, expires_at: datetime
    ) -> None:
        await self._execute(
            insert(RefreshTokenRow).values(
                token_hash=token_hash,
                family_id=family_id,
                username=username,
                used=False,
                revoked=False,
                expires_at=expires_at,
                created_at=utcnow(),
            )
        )

    async def get(self, token_hash: str) -> RefreshRecord | None:
        statement = select(RefreshTokenRow).where(RefreshTokenRow.token_hash == token_hash)
        row = (await self._execute(statement)).one_or_none()
        return _refresh(row) if row is not None else None

    async def mark_used(self, token_hash: str) -> bool:
        statement = (
            update(RefreshTokenRow)
            .where(
                RefreshTokenRow.token_hash == token_hash,
                RefreshTokenRow.used.is_(False),
                RefreshTokenRow.revoked.is_(False),
            )
            .values(used=True)
            .returning(RefreshTokenRow.id)
        )
        return (await self._execute(statement)).first() is not None

    async def revoke_family(self, family_id: str) -> None:
        await self._execute(
            update(RefreshTokenRow)
            .where(RefreshTokenRow.family_id == family_id)
            .values(revoked=True)
        )

    async def revoke_user(self, username: str) -> None:
        await self._execute(
            update(RefreshTokenRow).where(RefreshTokenRow.username == username).values(revoked=True)
        )


class SqlApiKeyRepository(SqlRepository):
    async def add(self, credential_id: int, key_hash: str, prefix: str, name: str | None) -> int:
        statement = (
            insert(ApiKeyRow)
            .values(
                credential_id=credential_id,
                key_hash=key_hash,
                prefix=prefix,
                name=name,
                revoked=False,
                created_at=utcnow(),
            )
            .returning(ApiKeyRow.id)
        )
        return int((await self._execute(statement)).scalar_one())

    async def find(self, key_hash: str) -> ApiKeyRecord | None:
        statement = select(ApiKeyRow).where(
            ApiKeyRow.key_hash == key_hash, ApiKeyRow.revoked.is_(False)
        )
        row = (await self._execute(statement)).one_or_none()
        return _key(row) if row is not None else None

    async def list(self, credential_id: int) -> list[ApiKeyRecord]:
        statement = (
            select(ApiKeyRow)
            .where(ApiKeyRow.credential_id == credential_id, ApiKeyRow.revoked.is_(False))
            .order_by(ApiKeyRow.id)
        )
        return [_key(row) for row in (await self._execute(statement)).all()]

    async def revoke(self, credential_id: int, key_id: int) -> bool:
        statement = (
            update(ApiKeyRow)
            .where(
                ApiKeyRow.id == key_id,
                ApiKeyRow.credential_id == credential_id,
                ApiKeyRow.revoked.is_(False),
            )
            .values(revoked=True)
            .returning(ApiKeyRow.id)
        )
        return (await self._execute(statement)).first() is not None
