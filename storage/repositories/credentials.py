"""Usernames and password hashes of API users."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, and_, bindparam, func, select, update

from core.ports import Credential, SessionPrincipal
from storage.repositories._base import ColumnsOf, SqlRepository
from storage.repositories.accounts import _account, name_key
from storage.tables import AccountRow, AccountSecurityRow, ApiCredentialRow, IdentityRow, utcnow

API = "api"

# The credential's ``api`` identity: the one that follows links to the account of now.
OWN_API_IDENTITY = and_(
    IdentityRow.platform == API,
    IdentityRow.workspace == "",
    IdentityRow.user_id == ApiCredentialRow.username,
)

# Every request made with a session token runs this, so it is built once: building a
# joined statement costs about as much as running it. An account without a security
# row is at version 0, as ``security.version`` says.
_SESSION_PRINCIPAL = (
    select(
        ApiCredentialRow.__table__,
        AccountRow.__table__,
        func.coalesce(AccountSecurityRow.version, 0).label("security_version"),
    )
    .join_from(ApiCredentialRow, IdentityRow, OWN_API_IDENTITY)
    .join(AccountRow, AccountRow.id == IdentityRow.account_id)
    .outerjoin(AccountSecurityRow, AccountSecurityRow.account_id == AccountRow.id)
    .where(ApiCredentialRow.username == bindparam("username"))
)


def _credential(row: Row[Any] | ColumnsOf) -> Credential:
    return Credential(
        id=row.id,
        username=row.username,
        account_id=row.account_id,
        password_hash=row.password_hash,
        created_at=row.created_at,
    )


class SqlCredentialRepository(SqlRepository):
    async def get(self, username: str) -> Credential | None:
        statement = select(ApiCredentialRow).where(ApiCredentialRow.username == username)
        row = (await self._execute(statement)).one_or_none()
        return _credential(row) if row is not None else None

    async def get_by_id(self, credential_id: int) -> Credential | None:
        statement = select(ApiCredentialRow).where(ApiCredentialRow.id == credential_id)
        row = (await self._execute(statement)).one_or_none()
        return _credential(row) if row is not None else None

    async def find_principal(self, username: str) -> SessionPrincipal | None:
        result = await self._execute(_SESSION_PRINCIPAL, {"username": username})
        row = result.one_or_none()
        if row is None:
            return None
        credential = _credential(ColumnsOf(row, ApiCredentialRow.__table__))
        account = _account(ColumnsOf(row, AccountRow.__table__))
        return SessionPrincipal(credential, account, int(row.security_version))

    async def for_account(self, account_id: int) -> list[Credential]:
        statement = (
            select(ApiCredentialRow)
            .join(IdentityRow, OWN_API_IDENTITY)
            .where(IdentityRow.account_id == account_id)
            .order_by(ApiCredentialRow.id)
        )
        return [_credential(row) for row in (await self._execute(statement)).all()]

    async def create(self, username: str, account_id: int, password_hash: str) -> bool:
        values = {
            "username": username,
            "account_id": account_id,
            "password_hash": password_hash,
            "created_at": utcnow(),
        }
        return await self._insert_ignore(
            ApiCredentialRow, values, ("username",), ApiCredentialRow.id
        )

    async def set_password(self, username: str, password_hash: str) -> None:
        await self._execute(
            update(ApiCredentialRow)
            .where(ApiCredentialRow.username == username)
            .values(password_hash=password_hash)
        )

    async def rename(self, old: str, new: str) -> bool:
        if await self.get(new) is not None:
            return False
        await self._execute(
            update(ApiCredentialRow).where(ApiCredentialRow.username == old).values(username=new)
        )
        await self._execute(
            update(IdentityRow)
            .where(IdentityRow.platform == API, IdentityRow.workspace == "")
            .where(IdentityRow.user_id == old)
            .values(user_id=new, display_name=new, name_key=name_key(new))
        )
        return True
