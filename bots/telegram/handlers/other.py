"""Whatever else arrives: stickers, edited messages, unknown commands, animations and
other files no handler took (pictures and documents go to ``files``). A private chat gets a short hint; a group is left alone."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import Message

from bots.language import translator
from bots.telegram.deps import TelegramDeps
from bots.telegram.handlers.replies import say
from bots.telegram.mapping import is_private, replied_to_bot
from core.services.requests import Caller


def _hint_key(message: Message) -> str:
    if message.sticker is not None:
        return "telegram.sticker"
    if message.text and message.text.startswith("/"):
        return "cmd.help"
    return "error.unsupported_file"


async def edited(message: Message, tg: TelegramDeps, caller: Caller) -> None:
    # Answering edits would answer (and charge) the same question twice.
    t = await translator(tg.core, caller)
    await say(tg, message, t("telegram.edited"))


async def anything_else(message: Message, tg: TelegramDeps, caller: Caller) -> None:
    if not is_private(message) and not replied_to_bot(message, tg.bot_id):
        return
    if message.new_chat_members or message.left_chat_member or message.pinned_message:
        return  # service messages
    t = await translator(tg.core, caller)
    await say(tg, message, t(_hint_key(message)))


def build() -> Router:
    r = Router(name="telegram.other")
    r.edited_message.register(edited, F.chat.type == "private")
    r.message.register(anything_else)
    return r
