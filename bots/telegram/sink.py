"""Telegram's side of the streaming relay: ``TelegramSink`` makes the Bot API calls.

Private chats stream through ``sendMessageDraft`` (when drafts are on) and finish with
``sendMessage``; groups, and private chats whose drafts are refused, get a message that
is edited. Interim text is plain; the final text is Telegram HTML rendered from the
model's Markdown, sent again as plain text if Telegram cannot parse it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramNotFound,
    TelegramRetryAfter,
)
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    ReplyParameters,
)

from bots.streaming import (
    DeliveryFailed,
    MessageHandle,
    PlatformRetryAfter,
    PreviewUnavailable,
    SinkLimits,
)
from bots.telegram.markdown import markdown_to_html, utf16_len
from core.types import AudioReady, ImageReady

logger = logging.getLogger(__name__)

MAX_TEXT = 4096
MAX_CAPTION = 1024
PRIVATE_INTERVAL_S = 1.0
GROUP_INTERVAL_S = 3.0
_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "audio/ogg": "ogg"}


def stop_keyboard(request_id: str, label: str) -> InlineKeyboardMarkup:
    button = InlineKeyboardButton(text=label, callback_data=f"stop:{request_id}")
    return InlineKeyboardMarkup(inline_keyboard=[[button]])


def _draft_id(request_id: str, piece: int) -> int:
    """A stable non-zero 31-bit id per answer piece (drafts with one id animate)."""
    digest = hashlib.blake2b(f"{request_id}:{piece}".encode(), digest_size=4).digest()
    return (int.from_bytes(digest, "big") & 0x7FFFFFFF) or 1


@asynccontextmanager
async def _mapped(what: str) -> AsyncIterator[None]:
    """Telegram's errors as the relay's: 429, success for "not modified", the rest failed."""
    try:
        yield
    except TelegramRetryAfter as error:
        raise PlatformRetryAfter(float(error.retry_after)) from error
    except TelegramBadRequest as error:
        if "message is not modified" not in error.message:
            raise DeliveryFailed(f"{what}: {error.message}") from error
    except TelegramAPIError as error:
        raise DeliveryFailed(f"{what}: {error.message}") from error


def _cant_parse(error: TelegramBadRequest) -> bool:
    # An answer that is only markup (an empty code block) formats to nothing at all.
    message = error.message.lower()
    return "can't parse entities" in message or "text is empty" in message


class TelegramSink:
    """One answer in one Telegram chat (optionally a forum topic), replying to a message."""

    def __init__(
        self,
        bot: Bot,
        chat_id: int,
        *,
        request_id: str,
        private: bool,
        reply_to: int | None = None,
        thread_id: int | None = None,
        drafts: bool = True,
        draft_stop: bool = True,
        stop_label: str = "⏹ Stop",
        private_interval_s: float = PRIVATE_INTERVAL_S,
        group_interval_s: float = GROUP_INTERVAL_S,
    ) -> None:
        self._bot = bot
        self._chat_id = chat_id
        self._request_id = request_id
        self._reply_to = reply_to
        self._thread_id = thread_id
        self._stop_label = stop_label
        self._draft_stop = draft_stop
        self._pieces = 0
        self._limits = SinkLimits(
            chat_key=f"tg:{chat_id}",
            max_length=MAX_TEXT,
            interval_s=private_interval_s if private else group_interval_s,
            length=utf16_len,
            is_group=not private,
            native_preview=private and drafts,
        )

    @property
    def limits(self) -> SinkLimits:
        return self._limits

    @property
    def draft_id(self) -> int:
        """The draft now streaming (a ``stopped_message_generation`` update names it)."""
        return _draft_id(self._request_id, self._pieces)

    def _common(self) -> dict[str, Any]:
        """Where a new message goes: the topic, and a reply to the question (first only)."""
        params: dict[str, Any] = {"chat_id": self._chat_id}
        if self._thread_id is not None:
            params["message_thread_id"] = self._thread_id
        if self._reply_to is not None and not self._pieces:
            params["reply_parameters"] = ReplyParameters(
                message_id=self._reply_to, allow_sending_without_reply=True
            )
        return params

    def _markup(self, with_stop: bool) -> InlineKeyboardMarkup | None:
        return stop_keyboard(self._request_id, self._stop_label) if with_stop else None

    async def send(self, text: str, *, final: bool, with_stop: bool) -> MessageHandle:
        params = self._common()
        params["reply_markup"] = self._markup(with_stop)
        params["link_preview_options"] = LinkPreviewOptions(is_disabled=True)
        async with _mapped("sendMessage"):
            message = await self._formatted(self._bot.send_message, text, final, params)
            self._pieces += 1
            return message.message_id
        raise DeliveryFailed("sendMessage: no message returned")

    async def edit(self, handle: MessageHandle, text: str, *, final: bool, with_stop: bool) -> None:
        params: dict[str, Any] = {
            "chat_id": self._chat_id,
            "message_id": handle,
            "reply_markup": self._markup(with_stop),
            "link_preview_options": LinkPreviewOptions(is_disabled=True),
        }
        async with _mapped("editMessageText"):
            await self._formatted(self._bot.edit_message_text, text, final, params)

    async def _formatted(self, call: Any, text: str, final: bool, params: dict[str, Any]) -> Any:
        if not final:
            return await call(text=text, parse_mode=None, **params)
        try:
            return await call(text=markdown_to_html(text), parse_mode="HTML", **params)
        except TelegramBadRequest as error:
            if not _cant_parse(error):
                raise
            logger.warning("chat %s: formatting refused, sending plain text", self._chat_id)
        return await call(text=text, parse_mode=None, **params)

    async def preview(self, text: str, *, with_stop: bool) -> None:
        try:
            await self._bot.send_message_draft(
                chat_id=self._chat_id,
                draft_id=self.draft_id,
                message_thread_id=self._thread_id,
                text=text,
                parse_mode=None,
                # Drafts take no inline keyboard: Telegram's own stop button reports a
                # stopped_message_generation update naming ``draft_id``.
                can_stop=(with_stop and self._draft_stop) or None,
                keep_on_stop=(with_stop and self._draft_stop) or None,
            )
        except TelegramRetryAfter as error:
            raise PlatformRetryAfter(float(error.retry_after)) from error
        except (TelegramBadRequest, TelegramNotFound) as error:
            raise PreviewUnavailable(error.message) from error
        except TelegramAPIError as error:
            raise DeliveryFailed(f"sendMessageDraft: {error.message}") from error

    async def commit_preview(self, text: str) -> MessageHandle:
        return await self.send(text, final=True, with_stop=False)

    async def send_media(self, item: ImageReady | AudioReady) -> None:
        params = self._common()
        extension = _EXTENSIONS.get(item.mime, "bin")
        async with _mapped("sendMedia"):
            if isinstance(item, ImageReady):
                caption = _caption(item.prompt)
                photo = BufferedInputFile(item.data, filename=f"image.{extension}")
                await self._bot.send_photo(photo=photo, caption=caption, parse_mode=None, **params)
            else:
                voice = BufferedInputFile(item.data, filename=f"voice.{extension}")
                await self._bot.send_voice(voice=voice, **params)
            self._pieces += 1

    async def notice(self, text: str) -> None:
        async with _mapped("sendMessage"):
            await self._bot.send_message(text=text, parse_mode=None, **self._common())
            self._pieces += 1


def _caption(prompt: str) -> str | None:
    if not prompt:
        return None
    if utf16_len(prompt) <= MAX_CAPTION:
        return prompt
    cut = prompt[: MAX_CAPTION - 1]
    while utf16_len(cut) > MAX_CAPTION - 1:
        cut = cut[:-1]
    return cut + "…"
