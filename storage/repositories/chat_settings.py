"""A person's chat settings (see ``core.ports.chat_settings``)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, and_, delete, exists, or_, select, update
from sqlalchemy.orm import aliased

from core.ports import ChatSettings, VoiceMode
from core.types import ConversationKey
from storage.repositories._base import SqlRepository
from storage.tables import ChatSettingRow, utcnow


def _where(key: ConversationKey) -> ColumnElement[bool]:
    return and_(
        ChatSettingRow.account_id == key.account_id,
        ChatSettingRow.platform == key.platform,
        ChatSettingRow.chat_id == key.chat_id,
    )


class SqlChatSettingsRepository(SqlRepository):
    async def get(self, key: ConversationKey) -> ChatSettings:
        return (await self.get_many([key]))[0]

    async def get_many(self, keys: Sequence[ConversationKey]) -> list[ChatSettings]:
        if not keys:
            return []
        statement = select(ChatSettingRow).where(or_(*(_where(key) for key in keys)))
        found = {
            ConversationKey(row.platform, row.chat_id, row.account_id): ChatSettings(
                persona=row.persona,
                instructions=row.instructions,
                voice=VoiceMode(row.voice),
                show_cost=row.show_cost,
            )
            for row in (await self._execute(statement)).all()
        }
        return [found.get(key, ChatSettings()) for key in keys]

    async def put(self, key: ConversationKey, settings: ChatSettings) -> None:
        values = {
            "persona": settings.persona,
            "instructions": settings.instructions,
            "voice": settings.voice.value,
            "show_cost": settings.show_cost,
            "updated_at": utcnow(),
        }
        changed = (
            update(ChatSettingRow)
            .where(_where(key))
            .values(values)
            .returning(ChatSettingRow.account_id)
        )
        if (await self._execute(changed)).first() is not None:
            return
        row = {
            "account_id": key.account_id,
            "platform": key.platform,
            "chat_id": key.chat_id,
            **values,
        }
        keys = ("account_id", "platform", "chat_id")
        if not await self._insert_ignore(ChatSettingRow, row, keys, ChatSettingRow.account_id):
            await self._execute(changed)  # inserted meanwhile by a concurrent request: update

    async def move_account(self, from_account: int, to_account: int) -> None:
        theirs = aliased(ChatSettingRow)
        clash = exists().where(
            theirs.account_id == to_account,
            theirs.platform == ChatSettingRow.platform,
            theirs.chat_id == ChatSettingRow.chat_id,
        )
        await self._execute(
            delete(ChatSettingRow).where(ChatSettingRow.account_id == from_account, clash)
        )
        await self._execute(
            update(ChatSettingRow)
            .where(ChatSettingRow.account_id == from_account)
            .values(account_id=to_account)
        )

    async def erase(self, account_id: int) -> None:
        await self._execute(delete(ChatSettingRow).where(ChatSettingRow.account_id == account_id))
