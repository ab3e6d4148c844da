"""The relay's ``MessageSink`` on Discord: the calls that send, edit and attach.

``ChannelSink``: an answer as the bot's own messages in a channel, the first one a reply
to the question. ``InteractionSink``: an answer to a slash command, in the deferred
original response (edited in place) and follow-ups; once the interaction token has expired
(answers running past 15 minutes) every further call goes to the channel through a
``ChannelSink``, so nothing is lost. While streaming, the Stop button sits under the
message and goes with the final edit."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import discord

from bots.discord.errors import TokenExpired, platform_call
from bots.discord.render import MAX_TEXT, NO_PINGS, caption, media_file, stop_view
from bots.streaming import DeliveryFailed, MessageHandle, SinkLimits
from core.types import AudioReady, ImageReady

logger = logging.getLogger(__name__)

INTERVAL_S = 1.0
TOKEN_TTL_S = 15 * 60 - 30  # Discord's 15 minutes, less a margin for a slow call


@dataclass
class _Message:
    """A message of an answer: the original response, a follow-up, or a channel message."""

    webhook: discord.WebhookMessage | None = None
    channel: discord.Message | None = None
    original: bool = False


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
        owner: int | None = None,
    ) -> None:
        self._channel = channel
        self._reply_to = reply_to
        self._request_id = request_id
        # Who may press Stop: the asker (the author of the question replied to).
        self._owner = owner if owner is not None or reply_to is None else reply_to.author.id
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
        self._views[key] = view = stop_view(self._request_id, self._stop_label, self._owner)
        return {"view": view}

    async def post(
        self, text: str, *, with_stop: bool = False, file: discord.File | None = None
    ) -> discord.Message:
        kwargs: dict[str, Any] = {"allowed_mentions": NO_PINGS}
        if with_stop:
            kwargs["view"] = stop_view(self._request_id, self._stop_label, self._owner)
        if file is not None:
            kwargs["file"] = file
        if self._reply_to is not None:
            kwargs["reference"] = self._reply_to.to_reference(fail_if_not_exists=False)
            kwargs["mention_author"] = False
        async with platform_call("channel message"):
            message = await self._channel.send(text or None, **kwargs)
            self._reply_to = None  # only the first message is a reply
            if "view" in kwargs:
                self._views[message.id] = kwargs["view"]
            return message
        raise DeliveryFailed("channel message: nothing returned")

    async def update(self, message: discord.Message, text: str, *, with_stop: bool) -> None:
        async with platform_call("channel edit"):
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


class InteractionSink:
    """With ``private_notices`` a notice (for /ask only ever the bot saying the answer
    failed) is shown to the person alone, the public "thinking" response removed first,
    like every other refusal of a slash command."""

    def __init__(
        self,
        interaction: discord.Interaction,
        *,
        request_id: str,
        stop_label: str = "Stop",
        interval_s: float = INTERVAL_S,
        token_ttl_s: float = TOKEN_TTL_S,
        private_notices: bool = False,
    ) -> None:
        self._i = interaction
        self._private_notices = private_notices
        self._request_id = request_id
        self._owner = interaction.user.id  # who may press Stop
        self._stop_label = stop_label
        self._token_ttl = timedelta(seconds=token_ttl_s)
        self._original_used = False
        self._expired = False
        self._views: dict[object, discord.ui.View] = {}
        channel: discord.abc.Messageable
        if isinstance(interaction.channel, discord.abc.Messageable):
            channel = interaction.channel
        else:  # not in the cache (a DM, a thread), or not a channel one can post in
            channel = interaction.client.get_partial_messageable(interaction.channel_id or 0)
        self.fallback = ChannelSink(
            channel,
            interaction.channel_id or 0,
            request_id=request_id,
            stop_label=stop_label,
            interval_s=interval_s,
            owner=interaction.user.id,
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
        self._views[key] = view = stop_view(self._request_id, self._stop_label, self._owner)
        return {"view": view}

    async def send(self, text: str, *, final: bool, with_stop: bool) -> MessageHandle:
        if not self.expired:
            try:
                if not self._original_used:
                    async with platform_call("edit original"):
                        await self._i.edit_original_response(
                            content=text,
                            allowed_mentions=NO_PINGS,
                            **self._view("original", with_stop),
                        )
                    self._original_used = True
                    return _Message(original=True)
                kwargs = self._view("next", with_stop) if with_stop else {}
                async with platform_call("follow-up"):
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
            async with platform_call("edit original"):
                await self._i.edit_original_response(
                    content=text, allowed_mentions=NO_PINGS, **self._view("original", with_stop)
                )
        elif handle.webhook is not None:
            key = handle.webhook.id
            async with platform_call("edit follow-up"):
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
                async with platform_call("media"):
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
        if self._private_notices and not self.expired:
            try:
                await self._tell_privately(text)
                return
            except TokenExpired as error:
                self._expire(f"{error} refused")
        await self.send(text, final=True, with_stop=False)

    async def _tell_privately(self, text: str) -> None:
        if not self._original_used:
            self._original_used = True  # removed: whatever follows is a follow-up
            try:
                await self._i.delete_original_response()
            except discord.HTTPException as error:
                logger.warning("could not remove the deferred response: %s", error.status)
        async with platform_call("private notice"):
            await self._i.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS)

    def close(self) -> None:
        for view in self._views.values():
            view.stop()
        self._views.clear()
        self.fallback.close()
