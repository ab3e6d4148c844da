"""``ChatSettingsRepository`` in memory; follows storage/repositories/chat_settings.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from core.ports import ChatSettings
from core.types import ConversationKey
from tests.fakes.memory_store import Repository, put


class MemoryChatSettings(Repository):
    async def get(self, key: ConversationKey) -> ChatSettings:
        return self._store.chat_settings.get(key, ChatSettings())

    async def get_many(self, keys: Sequence[ConversationKey]) -> list[ChatSettings]:
        return [await self.get(key) for key in keys]

    async def put(self, key: ConversationKey, settings: ChatSettings) -> None:
        self._store.require_account(key.account_id)
        put(self._store.chat_settings, key, settings, self._undo)

    async def move_account(self, from_account: int, to_account: int) -> None:
        table = self._store.chat_settings
        for key in [k for k in table if k.account_id == from_account]:
            settings = table[key]
            self._forget(key)
            moved = replace(key, account_id=to_account)
            if moved not in table:
                put(table, moved, settings, self._undo)

    async def erase(self, account_id: int) -> None:
        for key in [k for k in self._store.chat_settings if k.account_id == account_id]:
            self._forget(key)

    def _forget(self, key: ConversationKey) -> None:
        settings = self._store.chat_settings.pop(key)
        self._undo.append(lambda: self._store.chat_settings.__setitem__(key, settings))
