"""Conversation outside slash commands: every message in a DM, and in a server channel
the messages that mention the bot or reply to it. Voice messages and audio attachments are
transcribed, the transcript shown, and then answered. Each person has their own context
per channel."""

from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from bots.commands import translator_for
from bots.discord import mapping
from bots.discord.errors import UnsupportedFile, message_for, tell_message
from bots.discord.handlers import answer
from bots.discord.handlers.paid import audio_problem
from bots.discord.render import ChannelSink
from core.errors import CoreError
from core.i18n import Translator
from core.services.requests import Caller, ChatRequest, TranscriptionRequest
from core.types import Notice

if TYPE_CHECKING:
    from bots.discord.app import SwitchboardBot

logger = logging.getLogger(__name__)


class Conversation(commands.Cog):
    def __init__(self, bot: SwitchboardBot) -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        me = self.bot.user
        if me is None or message.author.bot or not mapping.addressed_to(message, me):
            return
        text = mapping.strip_mention(message.content, me.id)
        audio = mapping.audio_attachment(message)
        if not text and audio is None and not message.attachments:
            return  # a bare mention: nothing to answer
        await message.channel.typing()  # the nearest thing to a deadline a message has
        caller = mapping.caller(message.author)
        t = await self._translator(caller)
        report = partial(tell_message, message)
        before: list[Notice] = []
        if audio is not None or (not text and message.attachments):
            spoken = await self._transcribe(message, audio, caller, t)
            if spoken is None:
                return
            before.append(Notice(key="reply.transcript", text=t("reply.transcript", text=spoken)))
            text = f"{text}\n\n{spoken}".strip()
        request = ChatRequest(
            caller=caller,
            chat_id=mapping.chat_id(message.channel.id),
            event_id=mapping.message_event(message.id),
            text=text,
        )
        sink = ChannelSink(
            message.channel,
            message.channel.id,
            request_id=request.request_id,
            reply_to=message,
            stop_label=t("reply.stop_button"),
            interval_s=self.bot.edit_interval,
        )
        await answer.chat(self.bot, request, sink, report, t, before=before)

    async def _translator(self, caller: Caller) -> Translator:
        try:
            return await translator_for(self.bot.app.core, caller)
        except CoreError:
            return Translator(None)

    async def _transcribe(
        self,
        message: discord.Message,
        audio: discord.Attachment | None,
        caller: Caller,
        t: Translator,
    ) -> str | None:
        report = partial(tell_message, message)
        if audio is None:
            await report(message_for(t, UnsupportedFile(), "voice", str(caller.identity)))
            return None
        problem = audio_problem(audio, self.bot.app.core.config.max_audio_bytes)
        if problem is not None:
            await report(message_for(t, problem, "voice", str(caller.identity)))
            return None
        request = TranscriptionRequest(
            caller=caller,
            chat_id=mapping.chat_id(message.channel.id),
            event_id=mapping.message_event(message.id, "stt"),
            audio=await audio.read(),
            filename=audio.filename,
            declared_seconds=audio.duration,
        )
        return await answer.transcribe(self.bot, request, report, t)
