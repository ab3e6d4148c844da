"""Telling a Telegram chat that its answer was cut off by a worker that died: the lease
sweep (core.services.sweep) calls this outside any update, so it has its own ``Bot``
call rather than a sink. A Retry button under the notice asks the question again
(``handlers.retry``)."""

from __future__ import annotations

from aiogram import Bot

from bots.notices import interruption_text
from bots.telegram.render import retry_keyboard
from core.i18n import Translator
from core.ports import Interruption


class TelegramInterruptionNotices:
    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def interrupted(self, notice: Interruption) -> None:
        """``notice.chat_id`` is the core's conversation id: ``<chat>`` or ``<chat>:<topic>``."""
        chat, _, topic = notice.chat_id.partition(":")
        markup = (
            retry_keyboard(notice.request_id, Translator(notice.language))
            if notice.retryable
            else None
        )
        await self._bot.send_message(
            int(chat),
            interruption_text(notice),
            message_thread_id=int(topic) if topic else None,
            reply_markup=markup,
        )
