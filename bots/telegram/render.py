"""How the bot's output looks on Telegram: the Stop and Retry buttons, photo captions
within Telegram's limit, and a command's reply as the events the relay shows."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bots.commands import Reply
from bots.telegram.markdown import utf16_len
from core.i18n import Translator
from core.types import ImageReady, Notice, ReplyEvent

MAX_CAPTION = 1024
STOP_PREFIX = "stop:"
BROADCAST_PREFIX = "bc:"
RETRY_PREFIX = "retry:"  # + a request id (32 hex digits): within the 64-byte callback data


def stop_label(t: Translator) -> str:
    return "⏹ " + t("reply.stop_button")


def stop_keyboard(request_id: str, label: str) -> InlineKeyboardMarkup:
    button = InlineKeyboardButton(text=label, callback_data=f"{STOP_PREFIX}{request_id}")
    return InlineKeyboardMarkup(inline_keyboard=[[button]])


def broadcast_keyboard(draft_id: int, t: Translator) -> InlineKeyboardMarkup:
    """Under a /broadcast preview: sends that draft."""
    button = InlineKeyboardButton(
        text="📣 " + t("cmd.broadcast_send"), callback_data=f"{BROADCAST_PREFIX}{draft_id}"
    )
    return InlineKeyboardMarkup(inline_keyboard=[[button]])


def retry_keyboard(request_id: str, t: Translator) -> InlineKeyboardMarkup:
    """Under the notice of an interrupted answer: asks that very question again."""
    button = InlineKeyboardButton(
        text="🔁 " + t("telegram.retry_button"), callback_data=f"{RETRY_PREFIX}{request_id}"
    )
    return InlineKeyboardMarkup(inline_keyboard=[[button]])


def caption(prompt: str) -> str | None:
    """An image's prompt as its caption, cut with an ellipsis past Telegram's limit."""
    if not prompt:
        return None
    if utf16_len(prompt) <= MAX_CAPTION:
        return prompt
    cut = prompt[: MAX_CAPTION - 1]
    while utf16_len(cut) > MAX_CAPTION - 1:
        cut = cut[:-1]
    return cut + "…"


async def command_events(reply: Reply) -> AsyncIterator[ReplyEvent]:
    """A command's reply as events: its text, then its chart if it has one."""
    yield Notice("", text=reply.text)
    if reply.image is not None:
        yield ImageReady(data=reply.image, mime="image/png", prompt="", credits=0)
