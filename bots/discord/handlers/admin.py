"""The /admin group: grant, setrole, ban, unban, user, stats, allowance, and access control
(allow, block, unlist, access, invite) and broadcast.

Authorised in the core from the bot's own roles (a guild administrator is not a bot admin):
a refusal comes back as ``NotAllowed``, shown ephemerally and logged."""

from __future__ import annotations

from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bots.discord.deps import Deps
from bots.discord.handlers.common import text_command


class Admin(commands.GroupCog, group_name="admin", group_description="Run the bot"):
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        super().__init__()

    @app_commands.command(name="grant", description="Add (or, negative, deduct) credits")
    @app_commands.describe(
        user="Who", credits="How many credits", reason="Why (kept in the ledger)"
    )
    async def grant(
        self,
        interaction: discord.Interaction,
        user: discord.User,
        credits: str,
        reason: str | None = None,
    ) -> None:
        await text_command(self.deps, interaction, "grant", f"{user.id} {credits} {reason or ''}")

    @app_commands.command(name="setrole", description="Set someone's role")
    async def setrole(
        self,
        interaction: discord.Interaction,
        user: discord.User,
        role: Literal["guest", "user", "admin"],
    ) -> None:
        await text_command(self.deps, interaction, "setrole", f"{user.id} {role}")

    @app_commands.command(name="ban", description="Block someone from the bot")
    async def ban(self, interaction: discord.Interaction, user: discord.User) -> None:
        await text_command(self.deps, interaction, "ban", str(user.id))

    @app_commands.command(name="unban", description="Lift a block")
    async def unban(self, interaction: discord.Interaction, user: discord.User) -> None:
        await text_command(self.deps, interaction, "unban", str(user.id))

    @app_commands.command(name="user", description="Someone's account")
    async def user(self, interaction: discord.Interaction, user: discord.User) -> None:
        await text_command(self.deps, interaction, "user", str(user.id))

    @app_commands.command(name="stats", description="Usage statistics")
    async def stats(self, interaction: discord.Interaction) -> None:
        await text_command(self.deps, interaction, "stats")

    @app_commands.command(name="allowance", description="Someone's own allowance")
    @app_commands.describe(value="daily:N, weekly:N, monthly:N, none, or default (the role's)")
    async def allowance(
        self, interaction: discord.Interaction, user: discord.User, value: str
    ) -> None:
        await text_command(self.deps, interaction, "allowance", f"{user.id} {value}")

    @app_commands.command(name="allow", description="Allow a person, or this channel")
    @app_commands.describe(user="Who (empty: this channel)", subject="Or a rule subject")
    async def allow(
        self,
        interaction: discord.Interaction,
        user: discord.User | None = None,
        subject: str | None = None,
    ) -> None:
        await text_command(self.deps, interaction, "allow", _who(user, subject))

    @app_commands.command(name="block", description="Block a person, or this channel")
    @app_commands.describe(user="Who (empty: this channel)", subject="Or a rule subject")
    async def block(
        self,
        interaction: discord.Interaction,
        user: discord.User | None = None,
        subject: str | None = None,
    ) -> None:
        await text_command(self.deps, interaction, "block", _who(user, subject))

    @app_commands.command(name="unlist", description="Remove an allow or block rule")
    async def unlist(
        self,
        interaction: discord.Interaction,
        user: discord.User | None = None,
        subject: str | None = None,
    ) -> None:
        await text_command(self.deps, interaction, "unlist", _who(user, subject))

    @app_commands.command(name="access", description="Access mode and rules")
    async def access(
        self, interaction: discord.Interaction, mode: Literal["open", "closed"] | None = None
    ) -> None:
        await text_command(self.deps, interaction, "access", mode or "")

    @app_commands.command(name="invite", description="Make an invitation code")
    @app_commands.describe(uses="How many people may use it (default 1)")
    async def invite(self, interaction: discord.Interaction, uses: int = 1) -> None:
        await text_command(self.deps, interaction, "invite", str(uses))

    @app_commands.command(name="broadcast", description="Announce privately to everyone")
    @app_commands.describe(
        text='The announcement ("confirm" sends your latest preview)',
        audience="Only one role or platform",
    )
    async def broadcast(
        self,
        interaction: discord.Interaction,
        text: str,
        audience: Literal["guest", "user", "admin", "telegram", "discord", "slack"] | None = None,
    ) -> None:
        await text_command(self.deps, interaction, "broadcast", f"{audience or ''} {text}")


def _who(user: discord.User | None, subject: str | None) -> str:
    """A picked user, a typed subject (``discord:server:…``), or "" for this channel."""
    if user is not None:
        return f"discord:{user.id}"
    return (subject or "").strip()
