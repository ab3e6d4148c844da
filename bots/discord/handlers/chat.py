"""/ask and /retry (the interrupted question asked again): defer publicly, admit the request, then stream the answer into the deferred
response, with a Stop button while it streams. A refusal, or an answer that fails before
any text, is shown to the person only and nothing is charged. The optional ``file`` (a
picture or document) is refused before deferring when its kind or size says so."""

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
from bots.files import refusal_before_download
from core.i18n import Translator
from core.observability import bind_request_id
from core.services.requests import Attachment, ChatRequest


class Chat(commands.Cog):
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    @app_commands.command(name="ask", description="Ask the assistant; the answer streams in")
    @app_commands.describe(
        prompt="Your question or request", file="A picture or document to ask about"
    )
    async def ask(
        self, interaction: discord.Interaction, prompt: str, file: discord.Attachment | None = None
    ) -> None:
        config = self.deps.core.config
        refusal = (
            refusal_before_download(file.filename, file.content_type, file.size, config)
            if file is not None
            else None
        )
        if refusal is not None:
            caller, t = await asker(self.deps, interaction)
            await refuse_now(interaction, message_for(t, refusal, "/ask", str(caller.identity)))
            return
        if not await acknowledge(interaction, ephemeral=False):
            return
        caller, t = await asker(self.deps, interaction)
        files = (Attachment(file.filename, await file.read(), file.content_type),) if file else ()
        request = ChatRequest(
            caller=caller,
            chat_id=mapping.chat_id(interaction.channel_id),
            event_id=mapping.interaction_event(interaction.id),
            text=prompt,
            attachments=files,
        )
        await self._answer(interaction, request, t)

    @app_commands.command(
        name="retry", description="Ask again the question whose answer was interrupted"
    )
    async def retry(self, interaction: discord.Interaction) -> None:
        if not await acknowledge(interaction, ephemeral=False):
            return
        caller, t = await asker(self.deps, interaction)
        request = ChatRequest(
            caller=caller,
            chat_id=mapping.chat_id(interaction.channel_id),
            event_id=mapping.interaction_event(interaction.id),
            retry=True,
        )
        await self._answer(interaction, request, t)

    async def _answer(
        self, interaction: discord.Interaction, request: ChatRequest, t: Translator
    ) -> None:
        """Stream the answer into the deferred response (a refusal to the person only)."""
        bind_request_id(request.request_id)
        sink = InteractionSink(
            interaction,
            request_id=request.request_id,
            stop_label=t("reply.stop_button"),
            interval_s=self.deps.edit_interval_s,
            private_notices=True,
        )
        report = partial(tell_interaction, interaction, public_defer=True)
        await answer.chat(self.deps, request, sink, report, t)
