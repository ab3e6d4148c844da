"""Refresh tokens (rotating, in families) and API keys; only their hashes are stored."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, bindparam, insert, or_, select, update

from core.ports import ApiKeyRecord, KeyOptions, KeyPrincipal, RefreshRecord
from storage.repositories._base import ColumnsOf, SqlRepository
from storage.repositories.accounts import _account
from storage.repositories.credentials import OWN_API_IDENTITY, _credential
from storage.tables import (
    AccountRow,
    ApiCredentialRow,
    ApiKeyRow,
    IdentityRow,
    RefreshTokenRow,
    utcnow,
)

# Every request made with an API key runs this, so it is built once: building a joined
# statement costs about as much as running it.
_KEY_PRINCIPAL = (
    select(ApiKeyRow.__table__, ApiCredentialRow.__table__, AccountRow.__table__)
    .join_from(ApiKeyRow, ApiCredentialRow, ApiCredentialRow.id == ApiKeyRow.credential_id)
    .join(IdentityRow, OWN_API_IDENTITY)
    .join(AccountRow, AccountRow.id == IdentityRow.account_id)
    .where(ApiKeyRow.key_hash == bindparam("key_hash"), ApiKeyRow.revoked.is_(False))
)


def _refresh(row: Row[Any]) -> RefreshRecord:
    return RefreshRecord(
        token_hash=row.token_hash,
        family_id=row.family_id,
        username=row.username,
        used=row.used,
        revoked=row.revoked,
        expires_at=row.expires_at,
    )


def _key(row: Row[Any] | ColumnsOf) -> ApiKeyRecord:
    return ApiKeyRecord(
        id=row.id,
        credential_id=row.credential_id,
        prefix=row.prefix,
        name=row.name,
        revoked=row.revoked,
        created_at=row.created_at,
        budget=row.budget,
        expires_at=row.expires_at,
        models=None if row.models is None else frozenset(json.loads(row.models)),
        per_minute=row.per_minute,
        spent=row.spent,
        requests=row.requests,
        last_used_at=row.last_used_at,
    )


def _option_values(options: KeyOptions) -> dict[str, object]:
    values: dict[str, object] = {
        "budget": options.budget,
        "expires_at": options.expires_at,
        "models": None if options.models is None else json.dumps(sorted(options.models)),
        "per_minute": options.per_minute,
    }
    return {name: value for name, value in values.items() if name in options.given}


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
    async def add(
        self,
        credential_id: int,
        key_hash: str,
        prefix: str,
        name: str | None,
        options: KeyOptions,
    ) -> int:
        statement = (
            insert(ApiKeyRow)
            .values(
                credential_id=credential_id,
                key_hash=key_hash,
                prefix=prefix,
                name=name,
                revoked=False,
                created_at=utcnow(),
                spent=0,
                requests=0,
                **_option_values(options),
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

    async def find_principal(self, key_hash: str) -> KeyPrincipal | None:
        row = (await self._execute(_KEY_PRINCIPAL, {"key_hash": key_hash})).one_or_none()
        if row is None:
            return None
        return KeyPrincipal(
            _key(ColumnsOf(row, ApiKeyRow.__table__)),
            _credential(ColumnsOf(row, ApiCredentialRow.__table__)),
            _account(ColumnsOf(row, AccountRow.__table__)),
        )

    async def get(self, credential_id: int, key_id: int) -> ApiKeyRecord | None:
        statement = select(ApiKeyRow).where(*_live(credential_id, key_id))
        row = (await self._execute(statement)).one_or_none()
        return _key(row) if row is not None else None

    async def list(self, credential_id: int) -> list[ApiKeyRecord]:
        statement = (
            select(ApiKeyRow)
            .where(ApiKeyRow.credential_id == credential_id, ApiKeyRow.revoked.is_(False))
            .order_by(ApiKeyRow.id)
        )
        return [_key(row) for row in (await self._execute(statement)).all()]

    async def update(self, credential_id: int, key_id: int, options: KeyOptions) -> bool:
        values = _option_values(options)
        if not values:
            return await self.get(credential_id, key_id) is not None
        statement = (
            update(ApiKeyRow)
            .where(*_live(credential_id, key_id))
            .values(**values)
            .returning(ApiKeyRow.id)
        )
        return (await self._execute(statement)).first() is not None

    async def revoke(self, credential_id: int, key_id: int) -> bool:
        statement = (
            update(ApiKeyRow)
            .where(*_live(credential_id, key_id))
            .values(revoked=True)
            .returning(ApiKeyRow.id)
        )
        return (await self._execute(statement)).first() is not None

    async def reserve(self, key_id: int, amount: int) -> bool:
        if amount < 0:
            raise ValueError("a reservation cannot be negative")
        # The WHERE is evaluated on the row as locked by this UPDATE: a concurrent
        # reservation waits for ours to commit and then sees our spending.
        statement = (
            update(ApiKeyRow)
            .where(
                ApiKeyRow.id == key_id,
                ApiKeyRow.revoked.is_(False),
                or_(ApiKeyRow.budget.is_(None), ApiKeyRow.spent + amount <= ApiKeyRow.budget),
            )
            .values(spent=ApiKeyRow.spent + amount)
            .returning(ApiKeyRow.id)
        )
        return (await self._execute(statement)).first() is not None

    async def settle(self, key_id: int, refund: int, used_at: datetime) -> None:
        # No revoked filter: a key revoked mid-request still gets its use recorded.
        await self._execute(
            update(ApiKeyRow)
            .where(ApiKeyRow.id == key_id)
            .values(
                spent=ApiKeyRow.spent - refund,
                requests=ApiKeyRow.requests + 1,
                last_used_at=used_at,
            )
        )


def _live(credential_id: int, key_id: int) -> tuple[ColumnElement[bool], ...]:
    return (
        ApiKeyRow.id == key_id,
        ApiKeyRow.credential_id == credential_id,
        ApiKeyRow.revoked.is_(False),
    )
