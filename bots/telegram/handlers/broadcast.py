"""The "Send" button under a ``/broadcast`` preview: starts that very draft (the same as
``/broadcast confirm``). A second press finds it started and is told so."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message, Update

from bots.language import translator
from bots.telegram.deps import TelegramDeps
from bots.telegram.errors import describe
from bots.telegram.handlers.replies import say
from bots.telegram.mapping import event_id
from bots.telegram.render import BROADCAST_PREFIX
from core.errors import CoreError
from core.services.requests import Caller


async def send_button(
    query: CallbackQuery, tg: TelegramDeps, caller: Caller, event_update: Update
) -> None:
    await query.answer()
    t = await translator(tg.core, caller)
    draft = (query.data or "").removeprefix(BROADCAST_PREFIX)
    preview = query.message
    try:
        if not draft.isdigit():
            raise CoreError()
        started = await tg.core.announcements.confirm(caller, int(draft), event_id(event_update))
        text: str | None = t("cmd.broadcast_started", id=started.id, people=started.people)
    except CoreError as exc:
        text = describe(t, exc)
    if text is not None and isinstance(preview, Message):
        await say(tg, preview, text)


def build() -> Router:
    r = Router(name="telegram.broadcast")
    r.callback_query.register(send_button, F.data.startswith(BROADCAST_PREFIX))
    return r
