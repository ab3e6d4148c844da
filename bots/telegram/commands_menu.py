"""The command menus (``setMyCommands``): everyone's, in each language we speak, and a
longer one in the private chats of the bot admins named in ``BOT_ADMINS``. Admins made
later in chat see the short menu; their commands work all the same."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, BotCommandScopeChat, BotCommandScopeDefault

from bots.telegram.mapping import PLATFORM
from core.i18n import Translator, available_languages
from core.types import IdentityKey

logger = logging.getLogger(__name__)

USER_COMMANDS = (
    "start", "help", "ask", "balance", "reset", "history", "model",
    "image", "tts", "transcribe", "lang", "link", "retry", "usage",
    "persona", "instructions", "voice", "cost", "settings", "export",
    "join", "mute", "unmute",
)  # fmt: skip
ADMIN_COMMANDS = (
    "grant", "setrole", "ban", "unban", "user", "stats", "allowance",
    "allow", "block", "unlist", "access", "invite", "broadcast",
)  # fmt: skip


def menu(t: Translator, names: tuple[str, ...]) -> list[BotCommand]:
    return [BotCommand(command=name, description=t(f"telegram.menu_{name}")) for name in names]


def admin_chat_ids(admins: frozenset[IdentityKey]) -> list[int]:
    """Telegram user ids among the bootstrap admins (a private chat has the user's id)."""
    return sorted(
        int(key.user_id)
        for key in admins
        if key.platform == PLATFORM and key.user_id.lstrip("-").isdigit()
    )


async def register_menus(bot: Bot, admins: frozenset[IdentityKey]) -> None:
    """Best effort: a bot without menus still works, so failures are only logged."""
    try:
        for language in available_languages():
            t = Translator(language)
            code = None if language == "en" else language
            await bot.set_my_commands(
                menu(t, USER_COMMANDS), scope=BotCommandScopeDefault(), language_code=code
            )
            for chat_id in admin_chat_ids(admins):
                await bot.set_my_commands(
                    menu(t, USER_COMMANDS + ADMIN_COMMANDS),
                    scope=BotCommandScopeChat(chat_id=chat_id),
                    language_code=code,
                )
    except TelegramAPIError as exc:
        logger.warning("could not register the command menus: %s", exc)
