"""Discord's side of the streaming relay.

``InteractionSink``: the first message of an answer is the deferred original response
(edited in place), later pieces are follow-ups. When the interaction token has expired
(answers running past 15 minutes) every further call goes to the channel as the bot's own
messages, so nothing is lost. ``ChannelSink``: messages in a channel, the first one a
reply to the question. Discord renders the model's Markdown, so the final text is the
model's own; mentions are never pinged. While streaming a Stop button
(``stop:<request_id>``) sits under the message and goes with the final edit.
"""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import discord

from bots.discord.stop import stop_view
from bots.streaming import DeliveryFailed, MessageHandle, PlatformRetryAfter, SinkLimits
from core.types import AudioReady, ImageReady

logger = logging.getLogger(__name__)

MAX_TEXT = 2000
INTERVAL_S = 1.0
NO_PINGS = discord.AllowedMentions.none()
_EXPIRED_CODES = {50027, 10015}  # Invalid Webhook Token, Unknown Webhook
_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "audio/ogg": "ogg"}


class TokenExpired(Exception):
    """The interaction token no longer works: continue in the channel."""


@dataclass
class _Message:
    """A message of an answer: the original response, a follow-up, or a channel message."""

    webhook: discord.WebhookMessage | None = None
    channel: discord.Message | None = None
    original: bool = False


def _retry_after(error: discord.HTTPException) -> float:
    header = error.response.headers.get("Retry-After") if error.response is not None else None
    try:
        return float(header) if header else 1.0
    except ValueError:
        return 1.0


@asynccontextmanager
async def _mapped(what: str) -> AsyncIterator[None]:
    """discord.py's errors as the relay's (discord.py already waited out ordinary 429s)."""
    try:
        yield
    except discord.RateLimited as error:
        raise PlatformRetryAfter(error.retry_after) from error
    except discord.HTTPException as error:
        if error.status == 429:
            raise PlatformRetryAfter(_retry_after(error)) from error
        if error.code in _EXPIRED_CODES or error.status == 401:
            raise TokenExpired(what) from error
        raise DeliveryFailed(f"{what}: {error.status} {error.code}") from error
    except (aiohttp.ClientError, OSError) as error:
        raise DeliveryFailed(f"{what}: {type(error).__name__}") from error


def media_file(item: ImageReady | AudioReady) -> discord.File:
    extension = _EXTENSIONS.get(item.mime, "bin")
    name = f"image.{extension}" if isinstance(item, ImageReady) else f"speech.{extension}"
    return discord.File(io.BytesIO(item.data), filename=name)


def caption(item: ImageReady | AudioReady) -> str:
    if isinstance(item, ImageReady) and item.prompt:
        return item.prompt if len(item.prompt) <= MAX_TEXT else item.prompt[: MAX_TEXT - 1] + "…"
    return ""


class ChannelSink:
    """An answer as the bot's own messages in a channel, the first replying to ``reply_to``."""

    def __init__(
        self,
        channel: discord.abc.Messageable,
        channel_id: int,
        *,
        request_id: str,
        reply_to: discord.Message | None = None,
        stop_label: str = "Stop",
        interval_s: float = INTERVAL_S,
    ) -> None:
        self._channel = channel
        self._reply_to = reply_to
        self._request_id = request_id
        self._stop_label = stop_label
        self._views: dict[int, discord.ui.View] = {}
        self._limits = SinkLimits(
            chat_key=f"dc:c:{channel_id}", max_length=MAX_TEXT, interval_s=interval_s
        )

    @property
    def limits(self) -> SinkLimits:
        return self._limits

    def _view(self, key: int, with_stop: bool) -> dict[str, Any]:
        old = self._views.pop(key, None)
        if old is not None:
            old.stop()  # forget it in discord.py's view store
        if not with_stop:
            return {"view": None}
        self._views[key] = view = stop_view(self._request_id, self._stop_label)
        return {"view": view}

    async def post(
        self, text: str, *, with_stop: bool = False, file: discord.File | None = None
    ) -> discord.Message:
        kwargs: dict[str, Any] = {"allowed_mentions": NO_PINGS}
        if with_stop:
            kwargs["view"] = stop_view(self._request_id, self._stop_label)
        if file is not None:
            kwargs["file"] = file
        if self._reply_to is not None:
            kwargs["reference"] = self._reply_to.to_reference(fail_if_not_exists=False)
            kwargs["mention_author"] = False
        async with _mapped("channel message"):
            message = await self._channel.send(text or None, **kwargs)
            self._reply_to = None  # only the first message is a reply
            if "view" in kwargs:
                self._views[message.id] = kwargs["view"]
            return message
        raise DeliveryFailed("channel message: nothing returned")

    async def update(self, message: discord.Message, text: str, *, with_stop: bool) -> None:
        async with _mapped("channel edit"):
            await message.edit(
                content=text, allowed_mentions=NO_PINGS, **self._view(message.id, with_stop)
            )

    async def send(self, text: str, *, final: bool, with_stop: bool) -> MessageHandle:
        return _Message(channel=await self.post(text, with_stop=with_stop))

    async def edit(self, handle: MessageHandle, text: str, *, final: bool, with_stop: bool) -> None:
        assert isinstance(handle, _Message) and handle.channel is not None
        await self.update(handle.channel, text, with_stop=with_stop)

    async def preview(self, text: str, *, with_stop: bool) -> None:
        raise NotImplementedError("Discord has no native streaming")

    async def commit_preview(self, text: str) -> MessageHandle:
        raise NotImplementedError("Discord has no native streaming")

    async def send_media(self, item: ImageReady | AudioReady) -> None:
        await self.post(caption(item), file=media_file(item))

    async def notice(self, text: str) -> None:
        await self.post(text)

    def close(self) -> None:
        for view in self._views.values():
            view.stop()
        self._views.clear()
