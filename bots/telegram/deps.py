"""What every Telegram handler needs, built once per bot and injected by aiogram as ``tg``."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram.types import Message

from bots.streaming import Pacer
from bots.telegram.drafts import DraftRegistry, TrackedSink
from bots.telegram.mapping import is_private, topic_id
from bots.telegram.sink import GROUP_INTERVAL_S
from core.services import Core


@dataclass(frozen=True, slots=True)
class TelegramDeps:
    core: Core
    pacer: Pacer
    drafts: DraftRegistry
    bot_id: int
    username: str
    use_drafts: bool = True
    private_interval_s: float = 1.0
    group_interval_s: float = GROUP_INTERVAL_S

    def sink(
        self, message: Message, request_id: str, *, stop_label: str = "Stop", reply: bool = True
    ) -> TrackedSink:
        """A sink answering ``message`` in its chat (and forum topic)."""
        return TrackedSink(
            message.bot,
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
