"""How the bot talks to the person: /persona (autocomplete from the personas they may
choose), /instructions, /voice and /cost (choices), /settings and /export. Answered to the
person only; /export's file comes as an ephemeral attachment."""

from __future__ import annotations

from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bots.discord import mapping
from bots.discord.deps import Deps
from bots.discord.handlers.common import caller_of, text_command
from core.errors import CoreError

MAX_CHOICES = 25  # Discord shows at most 25 autocomplete choices
MAX_CHOICE_NAME = 100


class Personal(commands.Cog):
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    @app_commands.command(name="persona", description="List personas, or choose one here")
    @app_commands.describe(name="A persona, or default for none")
    async def persona(self, interaction: discord.Interaction, name: str | None = None) -> None:
        await text_command(self.deps, interaction, "persona", name or "")

    @persona.autocomplete("name")
    async def persona_names(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        settings = self.deps.core.chat_settings
        try:
            view = await settings.view(
                caller_of(interaction), mapping.chat_id(interaction.channel_id)
            )
        except CoreError:
            return []
        typed = current.casefold()
        choices = [
            app_commands.Choice(
                name=f"{p.name} — {p.description}"[:MAX_CHOICE_NAME].rstrip(" —"), value=p.name
            )
            for p in view.personas
            if typed in p.name
        ]
        return [*choices, app_commands.Choice(name="default", value="default")][:MAX_CHOICES]

    @app_commands.command(name="instructions", description="Your own instructions here")
    @app_commands.describe(text="What the bot should keep in mind; clear removes them")
    async def instructions(self, interaction: discord.Interaction, text: str | None = None) -> None:
        await text_command(self.deps, interaction, "instructions", text or "")

    @app_commands.command(name="voice", description="Answer with voice messages too")
    @app_commands.describe(mode="on: every answer, auto: voice messages only, off")
    async def voice(
        self, interaction: discord.Interaction, mode: Literal["on", "off", "auto"] | None = None
    ) -> None:
        await text_command(self.deps, interaction, "voice", mode or "")

    @app_commands.command(name="cost", description="Show the cost after each answer")
    async def cost(
        self, interaction: discord.Interaction, state: Literal["on", "off"] | None = None
    ) -> None:
        await text_command(self.deps, interaction, "cost", state or "")

    @app_commands.command(name="settings", description="Your settings here")
    async def settings(self, interaction: discord.Interaction) -> None:
        await text_command(self.deps, interaction, "settings")

    @app_commands.command(name="export", description="This conversation as a Markdown file")
    async def export(self, interaction: discord.Interaction) -> None:
        await text_command(self.deps, interaction, "export")
