"""Questions: any text in a private chat; in groups only a mention, a reply to the bot or
``/ask <text>`` — other people's chatter is not read at all."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message, Update

from bots.language import translator
from bots.telegram.deps import TelegramDeps
from bots.telegram.handlers.replies import answer, say
from bots.telegram.mapping import addressed_text, event_id, is_channel_forward
from core.services.requests import Caller

GROUPS = {"group", "supergroup"}


async def ask(
    message: Message, command: CommandObject, tg: TelegramDeps, caller: Caller, event_update: Update
) -> None:
    t = await translator(tg.core, caller)
    await answer(tg, message, caller, t, command.args or "", event_id(event_update))


async def private_text(
    message: Message, tg: TelegramDeps, caller: Caller, event_update: Update
) -> None:
    t = await translator(tg.core, caller)
    if is_channel_forward(message):
        await say(tg, message, t("telegram.forwarded_post"))
        return
    await answer(tg, message, caller, t, message.text or "", event_id(event_update))


async def group_text(
    message: Message, tg: TelegramDeps, caller: Caller, event_update: Update
) -> None:
    question = addressed_text(message, tg.bot_id, tg.username)
    if question is None or is_channel_forward(message):
        return  # chatter between members: no account, no cost, no reply
    t = await translator(tg.core, caller)
    await answer(tg, message, caller, t, question, event_id(event_update))


def build() -> Router:
    r = Router(name="telegram.chat")
    r.message.register(ask, Command("ask"))
    r.message.register(private_text, F.chat.type == "private", F.text, ~F.text.startswith("/"))
    r.message.register(group_text, F.chat.type.in_(GROUPS), F.text | F.caption)
    return r
