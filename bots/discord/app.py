"""The discord.py client: the handlers registered explicitly in its setup hook (cogs, the
Stop button), command sync, and where it connects.

``DISCORD_API_URL`` sets ``discord.http.Route.BASE`` (REST and webhooks both build their
URLs from it). ``DISCORD_GATEWAY_URL`` sets ``DiscordWebSocket.DEFAULT_GATEWAY`` (used for
a fixed shard count and for reconnects) and replaces the URL ``GET /gateway/bot`` answers
(which discord.py uses when it asks Discord for the shard count): those are the two places
discord.py takes a gateway address from. Both are process-wide class attributes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import discord
import yarl
from discord import app_commands
from discord.ext import commands
from discord.gateway import DiscordWebSocket

from bots.discord.deps import Deps
from bots.discord.handlers.account import Account
from bots.discord.handlers.admin import Admin
from bots.discord.handlers.broadcast import send_button
from bots.discord.handlers.chat import Chat
from bots.discord.handlers.common import internal_error
from bots.discord.handlers.conversation import Conversation
from bots.discord.handlers.media import Media
from bots.discord.handlers.settings import Personal
from bots.discord.handlers.stop import stop_button
from bots.discord.json_tolerance import tolerate_lone_surrogates
from bots.settings import Settings

logger = logging.getLogger(__name__)

MakeDeps = Callable[[int], Deps]
"""The handlers' deps, from the application id (known once logged in)."""


def point_at(settings: Settings) -> None:
    if settings.discord_api_url:
        discord.http.Route.BASE = settings.discord_api_url.rstrip("/")
    if settings.discord_gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


class SwitchboardBot(commands.AutoShardedBot):
    def __init__(self, settings: Settings, make_deps: MakeDeps) -> None:
        tolerate_lone_surrogates()
        intents = discord.Intents.default()
        intents.message_content = True  # privileged: enable it in the developer portal
        # Only when set: discord.py reads a given shard_ids (even None's absence) as "these".
        shards: dict[str, Any] = {}
        if settings.discord_shard_ids is not None:
            shards["shard_ids"] = settings.discord_shard_ids
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=intents,
            shard_count=settings.discord_shard_count,
            allowed_mentions=discord.AllowedMentions.none(),
            **shards,
        )
        self._make_deps = make_deps
        self._deps: Deps | None = None
        self._gateway = settings.discord_gateway_url
        self._guilds = settings.discord_guilds

    @property
    def deps(self) -> Deps:
        if self._deps is None:
            raise RuntimeError("the bot has not logged in yet")
        return self._deps

    async def setup_hook(self) -> None:
        self._override_gateway()
        if self.application_id is None:
            raise RuntimeError("logged in without an application id")
        self._deps = deps = self._make_deps(self.application_id)
        self.add_dynamic_items(stop_button(deps), send_button(deps))
        cogs = (Chat(deps), Media(deps), Account(deps), Personal(deps), Admin(deps))
        for cog in (*cogs, Conversation(deps, self)):
            await self.add_cog(cog)
        self.tree.error(self._on_tree_error)
        await self._sync()

    def _override_gateway(self) -> None:
        if not self._gateway:
            return
        gateway = self._gateway
        original = self.http.get_bot_gateway

        async def get_bot_gateway() -> tuple[int, str, Any]:
            shards, _discords_url, limits = await original()
            return shards, gateway, limits

        self.http.get_bot_gateway = get_bot_gateway  # type: ignore[method-assign]

    async def _sync(self) -> None:
        if not self._guilds:
            synced = await self.tree.sync()
            logger.info("synced %d global commands", len(synced))
            return
        for guild_id in self._guilds:
            guild = discord.Object(guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            logger.info("synced %d commands to guild %s", len(synced), guild_id)

    async def on_message(self, message: discord.Message, /) -> None:
        """No prefix commands: conversation is handled by the conversation cog."""

    async def _on_tree_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        logger.error(
            "command %s failed",
            interaction.command.name if interaction.command else "?",
            exc_info=error,
        )
        await internal_error(self.deps, interaction)
