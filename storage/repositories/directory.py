"""Admin views across accounts (listing, search, one message) and erasing an account."""

from __future__ import annotations

from sqlalchemy import ColumnElement, delete, exists, func, or_, select, update

from core.ports import UserEntry
from core.types import Exchange
from storage.repositories._base import SqlRepository
from storage.repositories.accounts import _account, _identity, name_key
from storage.tables import (
    AccountRow,
    AccountSecurityRow,
    AnnouncementMuteRow,
    ApiCredentialRow,
    ApiKeyRow,
    IdempotencyRow,
    IdentityRow,
    LedgerRow,
    MessageRow,
    RefreshTokenRow,
    UsageRow,
)


def _matches(query: str | None) -> ColumnElement[bool]:
    live = AccountRow.merged_into.is_(None)
    if not query:
        return live
    needle = name_key(query.strip().lstrip("@#")) or ""
    by_identity = exists().where(
        IdentityRow.account_id == AccountRow.id,
        or_(
            IdentityRow.name_key.contains(needle, autoescape=True),
            # lower(): Postgres' LIKE is case-sensitive, SQLite's is not (for ASCII), and
            # platform user ids can be upper case (Slack's U02ABC).
            func.lower(IdentityRow.user_id).contains(needle, autoescape=True),
        ),
    )
    by_id = AccountRow.id == int(needle) if needle.isdigit() and len(needle) < 18 else None
    return live & (or_(by_identity, by_id) if by_id is not None else by_identity)


class SqlDirectoryRepository(SqlRepository):
    async def search(
        self, query: str | None, offset: int, limit: int
    ) -> tuple[list[UserEntry], int]:
        where = _matches(query)
        total = (await self._execute(select(func.count()).where(where))).scalar_one()
        statement = select(AccountRow).where(where).order_by(AccountRow.id)
        rows = (await self._execute(statement.offset(offset).limit(limit))).all()
        accounts = [_account(row) for row in rows]
        ids = [a.id for a in accounts]
        found = (
            await self._execute(select(IdentityRow).where(IdentityRow.account_id.in_(ids)))
        ).all()
        identities = [_identity(row) for row in found]
        entries = [
            UserEntry(a, sorted((i for i in identities if i.account_id == a.id), key=str))
            for a in accounts
        ]
        return entries, int(total)

    async def exchange(self, request_id: str) -> tuple[int, Exchange] | None:
        statement = (
            select(MessageRow).where(MessageRow.request_id == request_id).order_by(MessageRow.id)
        )
        rows = (await self._execute(statement)).all()
        question = next((r for r in rows if r.role == "user"), None)
        answer = next((r for r in rows if r.role == "assistant"), None)
        if question is None or answer is None:
            return None
        exchange = Exchange(request_id, question.content, answer.content, question.created_at)
        return question.account_id, exchange

    async def erase(self, account_id: int) -> None:
        usernames = select(IdentityRow.user_id).where(
            IdentityRow.platform == "api", IdentityRow.account_id == account_id
        )
        credentials = select(ApiCredentialRow.id).where(
            or_(ApiCredentialRow.account_id == account_id, ApiCredentialRow.username.in_(usernames))
        )
        await self._execute(delete(ApiKeyRow).where(ApiKeyRow.credential_id.in_(credentials)))
        await self._execute(delete(RefreshTokenRow).where(RefreshTokenRow.username.in_(usernames)))
        await self._execute(delete(ApiCredentialRow).where(ApiCredentialRow.id.in_(credentials)))
        await self._execute(
            delete(IdempotencyRow).where(IdempotencyRow.actor_account_id == account_id)
        )
        await self._execute(
            delete(AccountSecurityRow).where(AccountSecurityRow.account_id == account_id)
        )
        await self._execute(
            delete(AnnouncementMuteRow).where(AnnouncementMuteRow.account_id == account_id)
        )
        for table in (MessageRow, UsageRow, LedgerRow, IdentityRow):
            await self._execute(delete(table).where(table.account_id == account_id))
        # Other people's rows keep their history, without a pointer to this account.
        await self._execute(
            update(LedgerRow)
            .where(LedgerRow.actor_account_id == account_id)
            .values(actor_account_id=None)
        )
        await self._execute(
            update(AccountRow).where(AccountRow.merged_into == account_id).values(merged_into=None)
        )
        await self._execute(delete(AccountRow).where(AccountRow.id == account_id))
