"""What every Telegram handler reaches, built once per bot by the runner from the ``App``
and injected by aiogram as ``tg``: the core, the pacer, the shared flags (drafts, update
dedupe) and the adapter's settings. No module-level state."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram import Bot
from aiogram.types import Message

from bots.streaming import Pacer
from bots.telegram.drafts import DraftRegistry
from bots.telegram.mapping import is_private, topic_id
from bots.telegram.sink import GROUP_INTERVAL_S, PRIVATE_INTERVAL_S, TelegramSink
from core.ports import SharedFlags
from core.services import Core


@dataclass(frozen=True, slots=True)
class TelegramDeps:
    core: Core
    pacer: Pacer
    flags: SharedFlags
    bot_id: int
    username: str
    use_drafts: bool = True
    private_interval_s: float = PRIVATE_INTERVAL_S
    group_interval_s: float = GROUP_INTERVAL_S

    @property
    def drafts(self) -> DraftRegistry:
        return DraftRegistry(self.flags)

    def sink(
        self, message: Message, request_id: str, *, stop_label: str = "Stop", reply: bool = True
    ) -> TelegramSink:
        """A sink answering ``message`` in its chat (and forum topic)."""
        return TelegramSink(
            bot_of(message),
            message.chat.id,
            registry=self.drafts,
            request_id=request_id,
            private=is_private(message),
            reply_to=message.message_id if reply else None,
            thread_id=topic_id(message),
            drafts=self.use_drafts,
            stop_label=stop_label,
            private_interval_s=self.private_interval_s,
            group_interval_s=self.group_interval_s,
        )

    def direct_sink(self, bot: Bot, user_id: int, request_id: str) -> TelegramSink:
        """A sink writing to a person's private chat with the bot (no drafts)."""
        return TelegramSink(bot, user_id, request_id=request_id, private=True, drafts=False)


def bot_of(message: Message) -> Bot:
    """The bot a message arrived through (aiogram binds it to every update it feeds)."""
    bot = message.bot
    if bot is None:
        raise RuntimeError("a message not bound to a bot")
    return bot
