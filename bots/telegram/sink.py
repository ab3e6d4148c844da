"""Telegram's side of the streaming relay: ``TelegramSink`` makes the Bot API calls.

Private chats stream through ``sendMessageDraft`` (when drafts are on) and finish with
``sendMessage``; groups, and private chats whose drafts are refused, get a message that
is edited. Interim text is plain; the final text is Telegram HTML rendered from the
model's Markdown, sent again as plain text if Telegram cannot parse it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
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
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    ReplyParameters,
)

from bots.files import extension_for
from bots.streaming import (
    DeliveryFailed,
    MessageHandle,
    MessageSink,
    PlatformRetryAfter,
    PreviewUnavailable,
    SinkLimits,
)
from bots.telegram.drafts import DraftRegistry
from bots.telegram.errors import as_relay_errors, cant_parse
from bots.telegram.markdown import markdown_to_html, utf16_len
from bots.telegram.render import caption, stop_keyboard
from core.types import AudioReady, ImageReady

logger = logging.getLogger(__name__)

MAX_TEXT = 4096
PRIVATE_INTERVAL_S = 1.0
GROUP_INTERVAL_S = 3.0


def _draft_id(request_id: str, piece: int) -> int:
    """A stable non-zero 31-bit id per answer piece (drafts with one id animate)."""
    digest = hashlib.blake2b(f"{request_id}:{piece}".encode(), digest_size=4).digest()
    return (int.from_bytes(digest, "big") & 0x7FFFFFFF) or 1


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
        registry: DraftRegistry | None = None,
    ) -> None:
        self._bot = bot
        self._chat_id = chat_id
        self._request_id = request_id
        self._reply_to = reply_to
        self._thread_id = thread_id
        self._stop_label = stop_label
        self._draft_stop = draft_stop
        self._pieces = 0
        # Each draft streamed is recorded, so a stop from any worker finds this answer.
        self._registry = registry
        self._recorded: int | None = None
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
        async with as_relay_errors("sendMessage"):
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
        async with as_relay_errors("editMessageText"):
            await self._formatted(self._bot.edit_message_text, text, final, params)

    async def _formatted(self, call: Any, text: str, final: bool, params: dict[str, Any]) -> Any:
        if not final:
            return await call(text=text, parse_mode=None, **params)
        try:
            return await call(text=markdown_to_html(text), parse_mode="HTML", **params)
        except TelegramBadRequest as error:
            if not cant_parse(error):
                raise
            logger.warning("chat %s: formatting refused, sending plain text", self._chat_id)
        return await call(text=text, parse_mode=None, **params)

    async def preview(self, text: str, *, with_stop: bool) -> None:
        draft = self.draft_id
        if self._registry is not None and draft != self._recorded:
            await self._registry.remember(self._chat_id, draft, self._request_id)
            self._recorded = draft
        try:
            await self._bot.send_message_draft(
                chat_id=self._chat_id,
                draft_id=draft,
                message_thread_id=self._thread_id,
                text=text,
                parse_mode=None,
                # Drafts take no inline keyboard: Telegram's own stop button reports a
                # stopped_message_generation update naming ``draft_id``.
                can_stop=(with_stop and self._draft_stop) or None,
                keep_on_stop=(with_stop and self._draft_stop) or None,
            )
        except TelegramRetryAfter as error:
            # Telegram's flood control is per bot as much as per chat: pause every chat.
            raise PlatformRetryAfter(float(error.retry_after), bot_wide=True) from error
        except (TelegramBadRequest, TelegramNotFound) as error:
            raise PreviewUnavailable(error.message) from error
        except TelegramAPIError as error:
            raise DeliveryFailed(f"sendMessageDraft: {error.message}") from error

    async def commit_preview(self, text: str) -> MessageHandle:
        return await self.send(text, final=True, with_stop=False)

    async def send_media(self, item: ImageReady | AudioReady) -> None:
        params = self._common()
        extension = extension_for(item.mime)
        async with as_relay_errors("sendMedia"):
            if isinstance(item, ImageReady):
                text = caption(item.prompt)
                photo = BufferedInputFile(item.data, filename=f"image.{extension}")
                await self._bot.send_photo(photo=photo, caption=text, parse_mode=None, **params)
            else:
                voice = BufferedInputFile(item.data, filename=f"voice.{extension}")
                await self._bot.send_voice(voice=voice, **params)
            self._pieces += 1

    async def notice(self, text: str) -> None:
        async with as_relay_errors("sendMessage"):
            await self._bot.send_message(text=text, parse_mode=None, **self._common())
            self._pieces += 1


class UntilShown:
    """A sink that ends a chat action ("typing…") at its first call: the person sees the
    bot at work from the question (admission included) until the answer shows.
    ``end_action`` must not wait: the call it precedes already has its pacing turn."""

    def __init__(self, sink: MessageSink, end_action: Callable[[], None]) -> None:
        self._sink = sink
        self._end_action = end_action

    @property
    def limits(self) -> SinkLimits:
        return self._sink.limits

    async def send(self, text: str, *, final: bool, with_stop: bool) -> MessageHandle:
        self._end_action()
        return await self._sink.send(text, final=final, with_stop=with_stop)

    async def edit(self, handle: MessageHandle, text: str, *, final: bool, with_stop: bool) -> None:
        self._end_action()
        await self._sink.edit(handle, text, final=final, with_stop=with_stop)

    async def preview(self, text: str, *, with_stop: bool) -> None:
        self._end_action()
        await self._sink.preview(text, with_stop=with_stop)

    async def commit_preview(self, text: str) -> MessageHandle:
        self._end_action()
        return await self._sink.commit_preview(text)

    async def send_media(self, item: ImageReady | AudioReady) -> None:
        self._end_action()
        await self._sink.send_media(item)

    async def notice(self, text: str) -> None:
        self._end_action()
        await self._sink.notice(text)
