"""``python -m bots run discord``: log in with DISCORD_BOT_TOKEN and serve until cancelled.
The handlers' deps are built here from the opened app."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bots.discord.app import SwitchboardBot, point_at
from bots.discord.deps import Deps
from bots.discord.messenger import DiscordMessenger
from bots.discord.notices import DiscordInterruptionNotices
from bots.settings import SettingsError

if TYPE_CHECKING:
    from bots.bootstrap import App

logger = logging.getLogger(__name__)


async def run(app: App) -> None:
    settings = app.settings
    if settings.discord_bot_token is None:
        raise SettingsError("bad setting DISCORD_BOT_TOKEN: not set")
    point_at(settings)

    def make_deps(application_id: int) -> Deps:
        # One pacer namespace per bot: every worker of this bot shares its global budget.
        pacer = app.pacer(f"dc:{application_id}", settings.discord_global_rate)
        return Deps(app.core, pacer, edit_interval_s=settings.discord_edit_interval)

    bot = SwitchboardBot(settings, make_deps)
    async with bot:  # closes the HTTP session and the gateway whatever happens
        logger.info("discord: connecting (shards %s)", settings.discord_shards or "all")
        app.notices["discord"] = DiscordInterruptionNotices(bot)
        app.messengers["discord"] = DiscordMessenger(bot)
        try:
            await bot.start(settings.discord_bot_token.get_secret_value())
        finally:
            app.notices.pop("discord", None)
            app.messengers.pop("discord", None)
