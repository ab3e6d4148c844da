"""Telling a Telegram chat that its answer was cut off by a worker that died: the lease
sweep (core.services.sweep) calls this outside any update, so it has its own ``Bot``
call rather than a sink."""

from __future__ import annotations

from aiogram import Bot

from core.i18n import Translator
from core.money import format_credits


class TelegramInterruptionNotices:
    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def interrupted(self, chat_id: str, refunded: int) -> None:
        """``chat_id`` is the core's conversation id: ``<chat>`` or ``<chat>:<topic>``."""
        chat, _, topic = chat_id.partition(":")
        text = Translator(None)("error.interrupted", credits=format_credits(refunded))
        await self._bot.send_message(
            int(chat), text, message_thread_id=int(topic) if topic else None
        )
