"""Stopping an answer: the inline Stop button under an edited message, and Telegram's own
stop control of a draft (a ``stopped_message_generation`` update). Either sets the
core's Stop flag, which the streaming worker (any worker) notices."""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message, MessageGenerationStopped

from bots.language import translator
from bots.telegram.deps import TelegramDeps
from bots.telegram.render import STOP_PREFIX
from core.services.requests import Caller

logger = logging.getLogger(__name__)


def _asked_by(query: CallbackQuery) -> bool:
    """In a group the streaming message replies to the question: only its author stops it."""
    message = query.message
    if not isinstance(message, Message) or message.reply_to_message is None:
        return True
    author = message.reply_to_message.from_user
    # A retried answer replies to the bot's own notice: anyone in the chat may stop it.
    return author is None or author.is_bot or author.id == query.from_user.id


async def stop_button(query: CallbackQuery, tg: TelegramDeps, caller: Caller) -> None:
    t = await translator(tg.core, caller)
    if not _asked_by(query):
        await query.answer(t("telegram.stop_not_yours"))
        return
    await tg.core.chat.stop((query.data or "").removeprefix(STOP_PREFIX))
    await query.answer(t("telegram.stopping"))


async def draft_stopped(event: MessageGenerationStopped, tg: TelegramDeps) -> None:
    request_id = await tg.drafts.lookup(event.chat.id, event.draft_id)
    if request_id is None:
        logger.info("stop for an unknown draft in chat %s", event.chat.id)
        return
    await tg.core.chat.stop(request_id)


def build() -> Router:
    r = Router(name="telegram.stop")
    r.callback_query.register(stop_button, F.data.startswith(STOP_PREFIX))
    r.stopped_message_generation.register(draft_stopped)
    return r
