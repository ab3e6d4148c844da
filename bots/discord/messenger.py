"""Writing to one person's DMs outside any interaction (announcements, admin notices):
``core.ports.PrivateMessenger`` for Discord. discord.py waits out Discord's rate limits
(429 with ``retry_after``) itself, per route and globally; a person who closed their DMs
to the bot or left every shared server answers 403, which counts as blocked."""

from __future__ import annotations

import logging

import discord

from bots.discord.render import NO_PINGS
from bots.streaming.split import split_text
from core.ports import DeliveryOutcome
from core.types import IdentityKey

logger = logging.getLogger(__name__)

MAX_TEXT = 2000


class DiscordMessenger:
    def __init__(self, client: discord.Client) -> None:
        self._client = client

    async def send_private(self, identity: IdentityKey, text: str) -> DeliveryOutcome:
        try:
            user = self._client.get_user(int(identity.user_id)) or await self._client.fetch_user(
                int(identity.user_id)
            )
            for piece in split_text(text, MAX_TEXT) or [text]:
                await user.send(piece, allowed_mentions=NO_PINGS)
        except (discord.Forbidden, discord.NotFound):
            return DeliveryOutcome.BLOCKED
        except discord.HTTPException as error:
            logger.info("discord DM failed: %s", error.status)
            return DeliveryOutcome.FAILED
        return DeliveryOutcome.DELIVERED
