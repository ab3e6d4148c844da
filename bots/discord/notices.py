"""Telling a Discord channel (a DM, a thread and a server channel are all channels) that
its answer was cut off by a worker that died. The lease sweep calls this outside any
interaction, so it posts through the bot's REST client, not an interaction token (which
may have expired with the dead worker's answer)."""

from __future__ import annotations

import discord

from bots.discord.render import NO_PINGS
from bots.notices import interruption_text
from core.ports import Interruption


class DiscordInterruptionNotices:
    def __init__(self, client: discord.Client) -> None:
        self._client = client

    async def interrupted(self, notice: Interruption) -> None:
        """``notice.chat_id`` is the channel id (``bots.discord.mapping.chat_id``)."""
        channel = self._client.get_partial_messageable(int(notice.chat_id))
        await channel.send(interruption_text(notice), allowed_mentions=NO_PINGS)
