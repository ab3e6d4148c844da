"""Accounts and the platform identities that point at them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Row, and_, bindparam, case, insert, or_, select, update

from core.types import Account, Identity, IdentityKey, Role
from storage.repositories._base import ColumnsOf, SqlRepository
from storage.tables import AccountRow, IdentityRow, utcnow


def _account(row: Row[Any] | ColumnsOf) -> Account:
    return Account(
        id=row.id,
        role=Role(row.role),
        banned=row.banned,
        balance=row.balance,
        language=row.language,
        chat_model=row.chat_model,
        created_at=row.created_at,
        allowance_period=row.allowance_period,
        allowance_override=row.allowance_override,
    )


def _identity(row: Row[Any]) -> Identity:
    key = IdentityKey(platform=row.platform, workspace=row.workspace, user_id=row.user_id)
    return Identity(key=key, account_id=row.account_id, display_name=row.display_name)


def name_key(display_name: str | None) -> str | None:
    """How display names are compared: case-insensitively, Unicode included."""
    return display_name.casefold() if display_name is not None else None


def _key_matches(key: IdentityKey) -> ColumnElement[bool]:
    return and_(
        IdentityRow.platform == key.platform,
        IdentityRow.workspace == key.workspace,
        IdentityRow.user_id == key.user_id,
    )


# Every chat message looks its account up: built once, bound per call.
BY_IDENTITY = (
    select(AccountRow)
    .join(IdentityRow, IdentityRow.account_id == AccountRow.id)
    .where(
        IdentityRow.platform == bindparam("platform"),
        IdentityRow.workspace == bindparam("workspace"),
        IdentityRow.user_id == bindparam("user"),
    )
)


class SqlAccountRepository(SqlRepository):
    async def get(self, account_id: int) -> Account | None:
        result = await self._execute(select(AccountRow).where(AccountRow.id == account_id))
        row = result.one_or_none()
        return _account(row) if row is not None else None

    async def find_by_identity(self, key: IdentityKey) -> Account | None:
        parameters = {"platform": key.platform, "workspace": key.workspace, "user": key.user_id}
        row = (await self._execute(BY_IDENTITY, parameters)).one_or_none()
        return _account(row) if row is not None else None

    async def create(self, role: Role) -> Account:
        statement = (
            insert(AccountRow)
            .values(role=role.value, banned=False, balance=0, last_hold=0, created_at=utcnow())
            .returning(AccountRow.id)
        )
        account_id = (await self._execute(statement)).scalar_one()
        account = await self.get(account_id)
        assert account is not None  # just inserted in this transaction
        return account

    async def add_identity(
        self, key: IdentityKey, account_id: int, display_name: str | None
    ) -> bool:
        values = {
            "platform": key.platform,
            "workspace": key.workspace,
            "user_id": key.user_id,
            "account_id": account_id,
            "display_name": display_name,
            "name_key": name_key(display_name),
        }
        conflict = ("platform", "workspace", "user_id")
        return await self._insert_ignore(IdentityRow, values, conflict, IdentityRow.id)

    async def identities(self, account_id: int) -> list[Identity]:
        statement = select(IdentityRow).where(IdentityRow.account_id == account_id)
        found = [_identity(row) for row in (await self._execute(statement)).all()]
        # Sorted here, not in SQL, so that no database collation changes the order.
        return sorted(found, key=lambda i: (i.key.platform, i.key.workspace, i.key.user_id))

    async def find_identity_by_name(self, platform: str, display_name: str) -> Identity | None:
        statement = (
            select(IdentityRow)
            .where(IdentityRow.platform == platform, IdentityRow.name_key == name_key(display_name))
            .order_by(IdentityRow.id.desc())  # the most recently seen person wins a tie
            .limit(1)
        )
        row = (await self._execute(statement)).one_or_none()
        return _identity(row) if row is not None else None

    async def update_display_name(self, key: IdentityKey, display_name: str) -> None:
        await self._execute(
            update(IdentityRow)
            .where(_key_matches(key))
            .values(display_name=display_name, name_key=name_key(display_name))
        )

    async def move_identities(self, from_account: int, to_account: int) -> None:
        await self._execute(
            update(IdentityRow)
            .where(IdentityRow.account_id == from_account)
            .values(account_id=to_account)
        )
        if from_account != to_account:
            await self._set(from_account, merged_into=to_account)

    async def set_role(self, account_id: int, role: Role) -> None:
        await self._set(account_id, role=role.value)

    async def set_banned(self, account_id: int, banned: bool) -> None:
        await self._set(account_id, banned=banned)

    async def set_language(self, account_id: int, language: str | None) -> None:
        await self._set(account_id, language=language)

    async def set_chat_model(self, account_id: int, model: str | None) -> None:
        await self._set(account_id, chat_model=model)

    async def reserve(
        self,
        account_id: int,
        cost: int,
        *,
        overdraft: int = 0,
        upfront: int = 0,
        least: int = 0,
    ) -> int:
        if min(cost, overdraft, upfront, least) < 0:
            raise ValueError("a reservation cannot be negative")
        # Every SET expression sees the row as it was before this UPDATE, so both columns
        # get the same min(cost, balance + overdraft); the row lock serialises reserves, so
        # fifty at once on a nearly empty balance take it below zero by the overdraft at most.
        reach = AccountRow.balance + overdraft
        taken = case((reach < cost, reach), else_=cost)
        statement = (
            update(AccountRow)
            .where(
                AccountRow.id == account_id,
                AccountRow.balance > 0,
                AccountRow.balance >= upfront,
                reach >= least,
                AccountRow.banned.is_(False),
            )
            .values(balance=AccountRow.balance - taken, last_hold=taken)
            .returning(AccountRow.last_hold)
        )
        held = (await self._execute(statement)).scalar_one_or_none()
        return int(held) if held is not None else 0

    async def claim_allowance(self, account_id: int, period: str) -> int | None:
        # The guard of "once per period": of several workers (or a retried request) only
        # one UPDATE matches; the row lock it takes holds until commit, so the balance
        # returned stays true while the caller adds the allowance.
        statement = (
            update(AccountRow)
            .where(
                AccountRow.id == account_id,
                or_(AccountRow.allowance_period.is_(None), AccountRow.allowance_period != period),
            )
            .values(allowance_period=period)
            .returning(AccountRow.balance)
        )
        balance = (await self._execute(statement)).scalar_one_or_none()
        return int(balance) if balance is not None else None

    async def set_allowance_override(self, account_id: int, override: str | None) -> None:
        await self._set(account_id, allowance_override=override)

    async def add_to_balance(self, account_id: int, amount: int) -> int:
        statement = (
            update(AccountRow)
            .where(AccountRow.id == account_id)
            .values(balance=AccountRow.balance + amount)
            .returning(AccountRow.balance)
        )
        balance = (await self._execute(statement)).scalar_one_or_none()
        if balance is None:
            raise LookupError(f"account {account_id} does not exist")
        return int(balance)

    async def _set(self, account_id: int, **values: object) -> None:
        await self._execute(update(AccountRow).where(AccountRow.id == account_id).values(**values))
