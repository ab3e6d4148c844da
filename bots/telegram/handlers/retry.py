"""Asking an interrupted question again: ``/retry`` (the person's most recent one in this
chat) and the Retry button under the notice a dead worker's cut answer got (that very
question). Either is a normal paid request under its own update id; the core answers
each interrupted question once and says when there is nothing to retry. With nothing
interrupted, ``/retry`` regenerates the last answer of this chat (the core decides)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message, Update

from bots.language import translator
from bots.telegram.deps import TelegramDeps
from bots.telegram.errors import describe
from bots.telegram.handlers.replies import answer, say
from bots.telegram.mapping import event_id
from bots.telegram.render import RETRY_PREFIX
from core.errors import CoreError
from core.services.requests import Caller


async def retry_command(
    message: Message, tg: TelegramDeps, caller: Caller, event_update: Update
) -> None:
    t = await translator(tg.core, caller)
    await answer(tg, message, caller, t, "", event_id(event_update), retry=True)


async def retry_button(
    query: CallbackQuery, tg: TelegramDeps, caller: Caller, event_update: Update
) -> None:
    notice = query.message
    if not isinstance(notice, Message):  # too old for Telegram to show: nowhere to answer
        await query.answer()
        return
    await query.answer()  # first: the answer streams for longer than a button may spin
    t = await translator(tg.core, caller)
    interrupted = (query.data or "").removeprefix(RETRY_PREFIX)
    try:
        await answer(
            tg, notice, caller, t, "", event_id(event_update), retry=True, retry_of=interrupted
        )
    except CoreError as exc:  # the query is answered already: say it in the chat
        text = describe(t, exc)
        if text is not None:
            await say(tg, notice, text)


def build() -> Router:
    r = Router(name="telegram.retry")
    r.message.register(retry_command, Command("retry"))
    r.callback_query.register(retry_button, F.data.startswith(RETRY_PREFIX))
    return r
