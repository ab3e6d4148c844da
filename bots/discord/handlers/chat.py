"""/ask and /retry (the interrupted question asked again): defer publicly, admit the request, then stream the answer into the deferred
response, with a Stop button while it streams. A refusal, or an answer that fails before
any text, is shown to the person only and nothing is charged."""

from __future__ import annotations

from functools import partial

import discord
from discord import app_commands
from discord.ext import commands

from bots.discord import mapping
from bots.discord.deps import Deps
from bots.discord.errors import tell_interaction
from bots.discord.handlers import answer
from bots.discord.handlers.common import acknowledge, asker
from bots.discord.sink import InteractionSink
from core.i18n import Translator
from core.observability import bind_request_id
from core.services.requests import ChatRequest


class Chat(commands.Cog):
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    @app_commands.command(name="ask", description="Ask the assistant; the answer streams in")
    @app_commands.describe(prompt="Your question or request")
    async def ask(self, interaction: discord.Interaction, prompt: str) -> None:
        if not await acknowledge(interaction, ephemeral=False):
            return
        caller, t = await asker(self.deps, interaction)
        request = ChatRequest(
            caller=caller,
            chat_id=mapping.chat_id(interaction.channel_id),
            event_id=mapping.interaction_event(interaction.id),
            text=prompt,
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
