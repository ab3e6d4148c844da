"""The paid slash commands: /ask (streamed), /image, /tts, /transcribe.

Each handler defers first (a public "thinking" response), then calls one use case; the
answer replaces the deferred response, an error replaces it with an ephemeral message."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bots.discord import mapping
from bots.discord.errors import UnsupportedFile, message_for, tell_interaction
from bots.discord.handlers import answer
from bots.discord.handlers.common import acknowledge, caller_of, translator
from bots.discord.sink import InteractionSink
from core.errors import AudioTooLarge
from core.services.requests import ChatRequest, ImageRequest, SpeechRequest, TranscriptionRequest
from core.types import Notice

if TYPE_CHECKING:
    from bots.discord.app import SwitchboardBot


class Paid(commands.Cog):
    def __init__(self, bot: SwitchboardBot) -> None:
        self.bot = bot

    def _sink(
        self, interaction: discord.Interaction, request_id: str, stop_label: str
    ) -> InteractionSink:
        return InteractionSink(
            interaction,
            request_id=request_id,
            stop_label=stop_label,
            interval_s=self.bot.edit_interval,
        )

    @staticmethod
    def _report(interaction: discord.Interaction) -> answer.Report:
        return partial(tell_interaction, interaction, public_defer=True)

    @app_commands.command(name="ask", description="Ask the assistant; the answer streams in")
    @app_commands.describe(prompt="Your question or request")
    async def ask(self, interaction: discord.Interaction, prompt: str) -> None:
        if not await acknowledge(interaction, ephemeral=False):
            return
        caller = caller_of(interaction)
        t = await translator(self.bot, caller)
        request = ChatRequest(
            caller=caller,
            chat_id=mapping.chat_id(interaction.channel_id),
            event_id=mapping.interaction_event(interaction.id),
            text=prompt,
        )
        sink = self._sink(interaction, request.request_id, t("reply.stop_button"))
        await answer.chat(self.bot, request, sink, self._report(interaction), t)

    @app_commands.command(name="image", description="Draw a picture from a description")
    @app_commands.describe(prompt="What to draw")
    async def image(self, interaction: discord.Interaction, prompt: str) -> None:
        await self._media(
            interaction, "/image", lambda common: ImageRequest(**common, prompt=prompt)
        )

    @app_commands.command(name="tts", description="Read a text aloud")
    @app_commands.describe(text="The text to read")
    async def tts(self, interaction: discord.Interaction, text: str) -> None:
        await self._media(interaction, "/tts", lambda common: SpeechRequest(**common, text=text))

    async def _media(
        self,
        interaction: discord.Interaction,
        label: str,
        build: Callable[[dict[str, Any]], ImageRequest | SpeechRequest],
    ) -> None:
        """/image and /tts: defer, one media use case, the file as the response."""
        if not await acknowledge(interaction, ephemeral=False):
            return
        caller = caller_of(interaction)
        t = await translator(self.bot, caller)
        request = build(
            {
                "caller": caller,
                "chat_id": mapping.chat_id(interaction.channel_id),
                "event_id": mapping.interaction_event(interaction.id),
            }
        )
        media = self.bot.app.core.media
        call = (
            partial(media.image, request)
            if isinstance(request, ImageRequest)
            else partial(media.speech, request)
        )
        sink = self._sink(interaction, request.request_id, "")
        await answer.paid(
            self.bot, call, sink, self._report(interaction), t, label, str(caller.identity)
        )

    @app_commands.command(name="transcribe", description="Turn an audio file into text")
    @app_commands.describe(file="A voice message or audio file")
    async def transcribe(self, interaction: discord.Interaction, file: discord.Attachment) -> None:
        if not await acknowledge(interaction, ephemeral=False):
            return
        caller = caller_of(interaction)
        t = await translator(self.bot, caller)
        report = self._report(interaction)
        problem = audio_problem(file, self.bot.app.core.config.max_audio_bytes)
        if problem is not None:
            await report(message_for(t, problem, "/transcribe", str(caller.identity)))
            return
        request = TranscriptionRequest(
            caller=caller,
            chat_id=mapping.chat_id(interaction.channel_id),
            event_id=mapping.interaction_event(interaction.id),
            audio=await file.read(),
            filename=file.filename,
            declared_seconds=file.duration,
        )
        text = await answer.transcribe(self.bot, request, report, t)
        if text is not None:
            notice = Notice(key="reply.transcript", text=t("reply.transcript", text=text))
            sink = self._sink(interaction, request.request_id, "")
            await answer.deliver(self.bot, answer.single(notice), sink, with_stop=False)


def audio_problem(
    file: discord.Attachment, max_bytes: int
) -> UnsupportedFile | AudioTooLarge | None:
    """Refuse before downloading: not audio, or larger than the core's own limit."""
    if not mapping.is_audio(file):
        return UnsupportedFile()
    if file.size > max_bytes:
        return AudioTooLarge(size_mb=f"{file.size / 2**20:.1f}", limit_mb=max_bytes // 2**20)
    return None
