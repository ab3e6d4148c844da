"""Conversation outside slash commands: every message in a DM, and in a server channel
the messages that mention the bot or reply to it. Voice messages and audio attachments are
transcribed, the transcript shown, and then answered. Each person has their own context
per channel."""

from __future__ import annotations

import logging
from functools import partial

import discord
from discord.ext import commands

from bots.discord import mapping
from bots.discord.deps import Deps
from bots.discord.errors import message_for, tell_message
from bots.discord.handlers import answer
from bots.discord.sink import ChannelSink
from bots.language import translator
from core.errors import UnsupportedFile
from core.i18n import Translator
from core.observability import bind_request_id
from core.services.requests import Caller, ChatRequest, TranscriptionRequest
from core.types import Notice

logger = logging.getLogger(__name__)


class Conversation(commands.Cog):
    def __init__(self, deps: Deps, client: discord.Client) -> None:
        self.deps = deps
        self.client = client  # for the bot's own user, known once logged in

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        me = self.client.user
        if me is None or message.author.bot or not mapping.addressed_to(message, me):
            return
        text = mapping.strip_mention(message.content, me.id)
        audio = mapping.audio_attachment(message)
        if not text and audio is None and not message.attachments:
            return  # a bare mention: nothing to answer
        await message.channel.typing()  # the nearest thing to a deadline a message has
        guild_id = message.guild.id if message.guild is not None else None
        caller = mapping.caller(message.author, None, message.channel.id, guild_id)
        t = await translator(self.deps.core, caller)
        before: tuple[Notice, ...] = ()
        if audio is not None or (not text and message.attachments):
            spoken = await self._transcribe(message, audio, caller, t)
            if spoken is None:
                return
            before = (Notice(key="reply.transcript", text=t("reply.transcript", text=spoken)),)
            text = f"{text}\n\n{spoken}".strip()
        request = ChatRequest(
            caller=caller,
            chat_id=mapping.chat_id(message.channel.id),
            event_id=mapping.message_event(message.id),
            text=text,
        )
        bind_request_id(request.request_id)
        sink = ChannelSink(
            message.channel,
            message.channel.id,
            request_id=request.request_id,
            reply_to=message,
            stop_label=t("reply.stop_button"),
            interval_s=self.deps.edit_interval_s,
        )
        report = partial(tell_message, message)
        await answer.chat(self.deps, request, sink, report, t, before=before)

    async def _transcribe(
        self,
        message: discord.Message,
        audio: discord.Attachment | None,
        caller: Caller,
        t: Translator,
    ) -> str | None:
        report = partial(tell_message, message)
        refusal = (
            UnsupportedFile()
            if audio is None
            else mapping.audio_refusal(audio, self.deps.max_audio_bytes)
        )
        if refusal is not None:
            await report(message_for(t, refusal, "voice", str(caller.identity)))
            return None
        assert audio is not None
        request = TranscriptionRequest(
            caller=caller,
            chat_id=mapping.chat_id(message.channel.id),
            event_id=mapping.message_event(message.id, "stt"),
            audio=await audio.read(),
            filename=audio.filename,
            declared_seconds=audio.duration,
        )
        bind_request_id(request.request_id)
        return await answer.transcribe(self.deps, request, report, t)
