"""What a person chose for how the bot talks to them: persona and own instructions per
chat (a group can differ from a DM), voice replies and the cost line for the person."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from core.types import ConversationKey


class VoiceMode(StrEnum):
    OFF = "off"
    ON = "on"  # every answer also spoken
    AUTO = "auto"  # voice notes answered with voice, text with text


@dataclass(frozen=True, slots=True)
class ChatSettings:
    """One row: ``persona`` and ``instructions`` matter in a chat's row, ``voice`` and
    ``show_cost`` in the person's row (``core.services.chat_settings.PERSON_WIDE``)."""

    persona: str | None = None
    instructions: str | None = None
    voice: VoiceMode = VoiceMode.OFF
    show_cost: bool = False


class ChatSettingsRepository(Protocol):
    async def get(self, key: ConversationKey) -> ChatSettings:
        """The settings stored under ``key``; the defaults when nothing is stored."""
        ...

    async def get_many(self, keys: Sequence[ConversationKey]) -> list[ChatSettings]:
        """``get`` for several keys of one account in one statement, in the keys' order
        (the chat's row and the person's row are read on every chat request)."""
        ...

    async def put(self, key: ConversationKey, settings: ChatSettings) -> None:
        """Store ``settings`` under ``key``, replacing what was there (an upsert)."""
        ...

    async def move_account(self, from_account: int, to_account: int) -> None:
        """Give the rows of a linked account to the account it joined; where both have a
        row for the same chat, the joined account's row is kept."""
        ...

    async def erase(self, account_id: int) -> None: ...
