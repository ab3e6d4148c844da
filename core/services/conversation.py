"""Reading and clearing a person's context, and their balance: the free requests."""

from __future__ import annotations

from core.errors import Banned
from core.ports import UnitOfWorkFactory
from core.services.accounts import AccountService
from core.services.events import record_event
from core.services.requests import Caller
from core.types import Account, ConversationKey, Exchange, StoredMessage

HISTORY_SIZE = 3
EXPORT_SIZE = 1_000  # messages: a long conversation's export stays a readable file


class ConversationService:
    def __init__(self, uow: UnitOfWorkFactory, accounts: AccountService) -> None:
        self._uow = uow
        self._accounts = accounts

    async def _usable_account(self, caller: Caller) -> Account:
        account = await self._accounts.resolve(caller)
        if account.banned:
            raise Banned()
        return account

    async def balance(self, caller: Caller) -> Account:
        return await self._usable_account(caller)

    async def reset(self, caller: Caller, chat_id: str, event_id: str | None = None) -> None:
        account = await self._usable_account(caller)
        async with self._uow() as uow:
            await record_event(uow, caller.platform, event_id)
            await uow.conversations.reset(ConversationKey(caller.platform, chat_id, account.id))
            await uow.commit()

    async def history(self, caller: Caller, limit: int = HISTORY_SIZE) -> list[Exchange]:
        account = await self._usable_account(caller)
        async with self._uow() as uow:
            return await uow.conversations.history(account.id, limit)

    async def export(
        self, caller: Caller, chat_id: str, event_id: str | None = None
    ) -> list[StoredMessage]:
        """The person's messages in this chat (before resets too), oldest first."""
        account = await self._usable_account(caller)
        async with self._uow() as uow:
            await record_event(uow, caller.platform, event_id)
            key = ConversationKey(caller.platform, chat_id, account.id)
            messages = await uow.conversations.transcript(key, EXPORT_SIZE)
            await uow.commit()
        return messages
