"""The discord.py bot: cogs, the Stop button, command sync, and where it connects.

``DISCORD_API_URL`` sets ``discord.http.Route.BASE`` (REST and webhooks both build their
URLs from it). ``DISCORD_GATEWAY_URL`` sets ``DiscordWebSocket.DEFAULT_GATEWAY`` (used for
a fixed shard count and for reconnects) and replaces the URL ``GET /gateway/bot`` answers
(which discord.py uses when it asks Discord for the shard count): those are the two places
discord.py takes a gateway address from. Both are process-wide class attributes.
"""

from __future__ import annotations

import logging
from typing import Any

import discord
import yarl
from discord import app_commands
from discord.ext import commands
from discord.gateway import DiscordWebSocket

from bots.bootstrap import App
from bots.discord.stop import StopButton
from bots.settings import Settings
from bots.streaming import Pacer

logger = logging.getLogger(__name__)


def point_at(settings: Settings) -> None:
    if settings.discord_api_url:
        discord.http.Route.BASE = settings.discord_api_url.rstrip("/")
    if settings.discord_gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


class SwitchboardBot(commands.AutoShardedBot):
    def __init__(self, app: App) -> None:
        settings = app.settings
        intents = discord.Intents.default()
        intents.message_content = True  # privileged: enable it in the developer portal
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=intents,
            shard_ids=settings.discord_shard_ids,
            shard_count=settings.discord_shard_count,
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self.app = app
        self.edit_interval = settings.discord_edit_interval
        self._pacer: Pacer | None = None
        self._gateway = settings.discord_gateway_url

    @property
    def pacer(self) -> Pacer:
        if self._pacer is None:
            raise RuntimeError("the bot has not logged in yet")
        return self._pacer

    async def setup_hook(self) -> None:
        from bots.discord.handlers import COGS

        self._override_gateway()
        self._pacer = self.app.pacer(
            f"dc:{self.application_id}", self.app.settings.discord_global_rate
        )
        self.add_dynamic_items(StopButton)
        for cog in COGS:
            await self.add_cog(cog(self))
        self.tree.on_error = self._on_tree_error
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
        guilds = self.app.settings.discord_guilds
        if not guilds:
            synced = await self.tree.sync()
            logger.info("synced %d global commands", len(synced))
            return
        for guild_id in guilds:
            guild = discord.Object(guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            logger.info("synced %d commands to guild %s", len(synced), guild_id)

    async def on_message(self, message: discord.Message, /) -> None:
        """No prefix commands: conversation is handled by the conversation cog."""

    async def _on_tree_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        from bots.discord.handlers.common import internal_error

        logger.error(
            "command %s failed",
            interaction.command.name if interaction.command else "?",
            exc_info=error,
        )
        await internal_error(self, interaction)
