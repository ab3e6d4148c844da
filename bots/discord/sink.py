"""``InteractionSink``: an answer to a slash command, in the deferred original response and
follow-ups, continuing as channel messages once the interaction token has expired."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import discord

from bots.discord.render import (
    INTERVAL_S,
    MAX_TEXT,
    NO_PINGS,
    ChannelSink,
    TokenExpired,
    _mapped,
    _Message,
    caption,
    media_file,
)
from bots.discord.stop import stop_view
from bots.streaming import MessageHandle, SinkLimits
from core.types import AudioReady, ImageReady

logger = logging.getLogger(__name__)

TOKEN_TTL_S = 15 * 60 - 30  # Discord's 15 minutes, less a margin for a slow call


class InteractionSink:
    def __init__(
        self,
        interaction: discord.Interaction,
        *,
        request_id: str,
        stop_label: str = "Stop",
        interval_s: float = INTERVAL_S,
        token_ttl_s: float = TOKEN_TTL_S,
    ) -> None:
        self._i = interaction
        self._request_id = request_id
        self._stop_label = stop_label
        self._token_ttl = timedelta(seconds=token_ttl_s)
        self._original_used = False
        self._expired = False
        self._views: dict[object, discord.ui.View] = {}
        channel = interaction.channel
        if channel is None or not hasattr(channel, "send"):
            channel = interaction.client.get_partial_messageable(interaction.channel_id or 0)
        self.fallback = ChannelSink(
            channel,  # type: ignore[arg-type]
            interaction.channel_id or 0,
            request_id=request_id,
            stop_label=stop_label,
            interval_s=interval_s,
        )
        self._limits = SinkLimits(
            chat_key=f"dc:i:{interaction.id}", max_length=MAX_TEXT, interval_s=interval_s
        )

    @property
    def limits(self) -> SinkLimits:
        return self._limits

    @property
    def expired(self) -> bool:
        if not self._expired and discord.utils.utcnow() - self._i.created_at > self._token_ttl:
            self._expire("token lifetime reached")
        return self._expired

    def _expire(self, why: str) -> None:
        if not self._expired:
            logger.info("interaction %s: %s, continuing in the channel", self._i.id, why)
        self._expired = True

    def _view(self, key: object, with_stop: bool) -> dict[str, Any]:
        old = self._views.pop(key, None)
        if old is not None:
            old.stop()
        if not with_stop:
            return {"view": None}
        self._views[key] = view = stop_view(self._request_id, self._stop_label)
        return {"view": view}

    async def send(self, text: str, *, final: bool, with_stop: bool) -> MessageHandle:
        if not self.expired:
            try:
                if not self._original_used:
                    async with _mapped("edit original"):
                        await self._i.edit_original_response(
                            content=text,
                            allowed_mentions=NO_PINGS,
                            **self._view("original", with_stop),
                        )
                    self._original_used = True
                    return _Message(original=True)
                kwargs = self._view("next", with_stop) if with_stop else {}
                async with _mapped("follow-up"):
                    message = await self._i.followup.send(
                        text, wait=True, allowed_mentions=NO_PINGS, **kwargs
                    )
                if with_stop:
                    self._views[message.id] = self._views.pop("next")
                return _Message(webhook=message)
            except TokenExpired as error:
                self._expire(f"{error} refused")
        return _Message(channel=await self.fallback.post(text, with_stop=with_stop))

    async def edit(self, handle: MessageHandle, text: str, *, final: bool, with_stop: bool) -> None:
        assert isinstance(handle, _Message)
        if handle.channel is not None:
            await self.fallback.update(handle.channel, text, with_stop=with_stop)
            return
        if not self.expired:
            try:
                await self._edit_webhook(handle, text, with_stop)
                return
            except TokenExpired as error:
                self._expire(f"{error} refused")
        # The old message keeps its partial text; the whole piece follows in the channel.
        handle.channel = await self.fallback.post(text, with_stop=with_stop)

    async def _edit_webhook(self, handle: _Message, text: str, with_stop: bool) -> None:
        if handle.original:
            async with _mapped("edit original"):
                await self._i.edit_original_response(
                    content=text, allowed_mentions=NO_PINGS, **self._view("original", with_stop)
                )
        elif handle.webhook is not None:
            key = handle.webhook.id
            async with _mapped("edit follow-up"):
                await handle.webhook.edit(
                    content=text, allowed_mentions=NO_PINGS, **self._view(key, with_stop)
                )

    async def preview(self, text: str, *, with_stop: bool) -> None:
        raise NotImplementedError("Discord has no native streaming")

    async def commit_preview(self, text: str) -> MessageHandle:
        raise NotImplementedError("Discord has no native streaming")

    async def send_media(self, item: ImageReady | AudioReady) -> None:
        if not self.expired:
            try:
                async with _mapped("media"):
                    if not self._original_used:
                        await self._i.edit_original_response(
                            content=caption(item) or None, attachments=[media_file(item)]
                        )
                        self._original_used = True
                    else:
                        await self._i.followup.send(caption(item) or None, file=media_file(item))  # type: ignore[arg-type]
                return
            except TokenExpired as error:
                self._expire(f"{error} refused")
        await self.fallback.send_media(item)

    async def notice(self, text: str) -> None:
        await self.send(text, final=True, with_stop=False)

    def close(self) -> None:
        for view in self._views.values():
            view.stop()
        self._views.clear()
        self.fallback.close()
