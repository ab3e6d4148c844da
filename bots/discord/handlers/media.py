"""/image, /tts and /transcribe: defer publicly, one awaited media use case (which raises
every refusal), then the result replaces the deferred response. A refusal replaces it with
an ephemeral message and nothing is charged. A /transcribe attachment that is not audio or
too large is refused before deferring: only the person sees it."""

from __future__ import annotations

from functools import partial

import discord
from discord import app_commands
from discord.ext import commands

from bots.discord import mapping
from bots.discord.deps import Deps
from bots.discord.errors import message_for, tell_interaction
from bots.discord.handlers import answer
from bots.discord.handlers.common import acknowledge, asker, refuse_now
from bots.discord.sink import InteractionSink
from bots.streaming.answer import one
from core.i18n import Translator
from core.observability import bind_request_id
from core.services.requests import ImageRequest, SpeechRequest, TranscriptionRequest
from core.types import Notice


def _report(interaction: discord.Interaction) -> answer.Report:
    return partial(tell_interaction, interaction, public_defer=True)


class Media(commands.Cog):
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    @app_commands.command(name="image", description="Draw a picture from a description")
    @app_commands.describe(prompt="What to draw")
    async def image(self, interaction: discord.Interaction, prompt: str) -> None:
        if not await acknowledge(interaction, ephemeral=False):
            return
        caller, t = await asker(self.deps, interaction)
        request = ImageRequest(
            caller=caller,
            chat_id=mapping.chat_id(interaction.channel_id),
            event_id=mapping.interaction_event(interaction.id),
            prompt=prompt,
        )
        bind_request_id(request.request_id)
        await self._render(interaction, t, "/image", request)

    @app_commands.command(name="tts", description="Read a text aloud")
    @app_commands.describe(text="The text to read")
    async def tts(self, interaction: discord.Interaction, text: str) -> None:
        if not await acknowledge(interaction, ephemeral=False):
            return
        caller, t = await asker(self.deps, interaction)
        request = SpeechRequest(
            caller=caller,
            chat_id=mapping.chat_id(interaction.channel_id),
            event_id=mapping.interaction_event(interaction.id),
            text=text,
        )
        bind_request_id(request.request_id)
        await self._render(interaction, t, "/tts", request)

    async def _render(
        self,
        interaction: discord.Interaction,
        t: Translator,
        what: str,
        request: ImageRequest | SpeechRequest,
    ) -> None:
        media = self.deps.core.media
        call = (
            partial(media.image, request)
            if isinstance(request, ImageRequest)
            else partial(media.speech, request)
        )
        who = str(request.caller.identity)
        item = await answer.media(call, _report(interaction), t, what, who)
        if item is not None:
            sink = self._sink(interaction, request.request_id)
            await answer.deliver(self.deps, one(item), sink)

    def _sink(self, interaction: discord.Interaction, request_id: str) -> InteractionSink:
        return InteractionSink(
            interaction, request_id=request_id, interval_s=self.deps.edit_interval_s
        )

    @app_commands.command(name="transcribe", description="Turn an audio file into text")
    @app_commands.describe(file="A voice message or audio file")
    async def transcribe(self, interaction: discord.Interaction, file: discord.Attachment) -> None:
        # The attachment's type and size are known from the interaction itself: a refused
        # file is answered ephemerally at once, so the channel never sees "thinking".
        refusal = mapping.audio_refusal(file, self.deps.max_audio_bytes)
        if refusal is not None:
            caller, t = await asker(self.deps, interaction)
            await refuse_now(
                interaction, message_for(t, refusal, "/transcribe", str(caller.identity))
            )
            return
        if not await acknowledge(interaction, ephemeral=False):
            return
        caller, t = await asker(self.deps, interaction)
        report = _report(interaction)
        request = TranscriptionRequest(
            caller=caller,
            chat_id=mapping.chat_id(interaction.channel_id),
            event_id=mapping.interaction_event(interaction.id),
            audio=await file.read(),
            filename=file.filename,
            declared_seconds=file.duration,
        )
        bind_request_id(request.request_id)
        text = await answer.transcribe(self.deps, request, report, t)
        if text is not None:
            notice = Notice(key="reply.transcript", text=t("reply.transcript", text=text))
            sink = self._sink(interaction, request.request_id)
            await answer.deliver(self.deps, one(notice), sink)
