"""``python -m bots run discord``: log in with DISCORD_BOT_TOKEN and serve until cancelled."""

from __future__ import annotations

import logging

from bots.bootstrap import App
from bots.discord.app import SwitchboardBot, point_at
from bots.settings import SettingsError

logger = logging.getLogger(__name__)


async def run(app: App) -> None:
    settings = app.settings
    if settings.discord_bot_token is None:
        raise SettingsError("bad setting DISCORD_BOT_TOKEN: not set")
    point_at(settings)
    bot = SwitchboardBot(app)
    async with bot:  # closes the HTTP session and the gateway whatever happens
        logger.info("discord: connecting (shards %s)", settings.discord_shards or "all")
        await bot.start(settings.discord_bot_token.get_secret_value())
