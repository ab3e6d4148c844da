"""The person's own commands: /balance, /usage, /reset, /history, /model (autocomplete), /lang,
/link. All answered to the person only."""

from __future__ import annotations

from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bots.discord.deps import Deps
from bots.discord.handlers.common import caller_of, text_command
from core.errors import CoreError
from core.money import format_credits

MAX_CHOICES = 25  # Discord shows at most 25 autocomplete choices


class Account(commands.Cog):
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    @app_commands.command(name="balance", description="Your credits, role and model")
    async def balance(self, interaction: discord.Interaction) -> None:
        await text_command(self.deps, interaction, "balance")

    @app_commands.command(name="usage", description="What you spent today, this week, this month")
    @app_commands.describe(chart="Add a chart of the last 30 days")
    async def usage(self, interaction: discord.Interaction, chart: bool = False) -> None:
        await text_command(self.deps, interaction, "usage", "chart" if chart else "")

    @app_commands.command(name="reset", description="Forget this conversation")
    async def reset(self, interaction: discord.Interaction) -> None:
        await text_command(self.deps, interaction, "reset")

    @app_commands.command(name="history", description="Your last requests")
    async def history(self, interaction: discord.Interaction) -> None:
        await text_command(self.deps, interaction, "history")

    @app_commands.command(name="model", description="List the models, or switch to one")
    @app_commands.describe(name="The model to use from now on")
    async def model(self, interaction: discord.Interaction, name: str | None = None) -> None:
        await text_command(self.deps, interaction, "model", name or "")

    @app_commands.command(name="join", description="Enter with an invitation code")
    async def join(self, interaction: discord.Interaction, code: str) -> None:
        await text_command(self.deps, interaction, "join", code)

    @app_commands.command(name="mute", description="Turn announcements off")
    async def mute(
        self, interaction: discord.Interaction, what: Literal["announcements"] = "announcements"
    ) -> None:
        await text_command(self.deps, interaction, "mute", what)

    @app_commands.command(name="unmute", description="Turn announcements back on")
    async def unmute(
        self, interaction: discord.Interaction, what: Literal["announcements"] = "announcements"
    ) -> None:
        await text_command(self.deps, interaction, "unmute", what)

    @model.autocomplete("name")
    async def model_names(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        accounts = self.deps.core.accounts
        try:
            account = await accounts.resolve(caller_of(interaction))
        except CoreError:
            return []
        typed = current.lower()
        return [
            app_commands.Choice(
                name=f"{m.name} — {format_credits(m.input_per_1k)} / "
                f"{format_credits(m.output_per_1k)} per 1k tokens",
                value=m.name,
            )
            for m in accounts.chat_models(account)
            if typed in m.name.lower()
        ][:MAX_CHOICES]

    @app_commands.command(name="lang", description="The language of the bot's messages")
    @app_commands.describe(code="A language, or auto to follow Discord's")
    async def lang(
        self, interaction: discord.Interaction, code: Literal["en", "ru", "auto"] | None = None
    ) -> None:
        await text_command(self.deps, interaction, "lang", code or "")

    @app_commands.command(name="link", description="Link your accounts on other apps")
    @app_commands.describe(code="A code from /link on your other app")
    async def link(self, interaction: discord.Interaction, code: str | None = None) -> None:
        await text_command(self.deps, interaction, "link", code or "")
