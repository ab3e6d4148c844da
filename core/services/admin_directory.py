"""The account directory admins read (and people, for their own data): accounts with
their identities, ledgers and messages. Admin rights come from our own roles
(``require_admin``), which also logs every refusal."""

from __future__ import annotations

import logging

from core.errors import NotAllowed, NotFound, UnknownUser
from core.ports import UnitOfWorkFactory, UserEntry
from core.services.accounts import AccountService
from core.services.auth import Principal
from core.services.requests import Caller
from core.types import Account, Exchange, LedgerEntry, Role

logger = logging.getLogger(__name__)


class AdminDirectory:
    def __init__(self, uow: UnitOfWorkFactory, accounts: AccountService) -> None:
        self._uow = uow
        self._accounts = accounts

    async def require_admin(self, caller: Caller, action: str) -> Account:
        account = await self._accounts.resolve(caller)
        if account.role is not Role.ADMIN or account.banned:
            logger.warning(
                "refused admin action %s for %s (account %s)", action, caller.identity, account.id
            )
            raise NotAllowed()
        return account

    async def users(
        self, principal: Principal, query: str | None, offset: int, limit: int
    ) -> tuple[list[UserEntry], int]:
        await self.require_admin(principal.caller, "users")
        async with self._uow() as uow:
            return await uow.directory.search(query, offset, limit)

    async def user(self, principal: Principal, account_id: int) -> UserEntry:
        await self.require_admin(principal.caller, "user")
        return await self._entry(account_id)

    async def ledger(self, principal: Principal, account_id: int, limit: int) -> list[LedgerEntry]:
        await self.require_admin(principal.caller, "ledger")
        await self._entry(account_id)
        async with self._uow() as uow:
            return await uow.ledger.entries(account_id, limit)

    async def messages(
        self, principal: Principal, account_id: int | None, limit: int
    ) -> list[Exchange]:
        if account_id is not None and account_id != principal.account.id:
            await self.require_admin(principal.caller, "messages")
            await self._entry(account_id)
        async with self._uow() as uow:
            return await uow.conversations.history(account_id or principal.account.id, limit)

    async def message(self, principal: Principal, request_id: str) -> tuple[int, Exchange]:
        async with self._uow() as uow:
            found = await uow.directory.exchange(request_id)
        if found is None:
            raise NotFound()
        if found[0] != principal.account.id:
            await self.require_admin(principal.caller, "message")
        return found

    async def _entry(self, account_id: int) -> UserEntry:
        async with self._uow() as uow:
            account = await uow.accounts.get(account_id)
            if account is None:
                raise UnknownUser(user=f"#{account_id}")
            return UserEntry(account, await uow.accounts.identities(account_id))

    async def _fresh(self, account_id: int) -> Account:
        async with self._uow() as uow:
            account = await uow.accounts.get(account_id)
        if account is None:
            raise UnknownUser(user=f"#{account_id}")
        return account
