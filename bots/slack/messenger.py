"""Writing to one person's DM with the app outside any event (announcements, admin
notices): ``core.ports.PrivateMessenger`` for Slack. ``conversations.open`` gives the DM
channel, ``chat.postMessage`` posts; Slack's ``ratelimited`` is waited out in full (Tier 4
for postMessage is about one message a second per channel, so a broadcast is paced by
the 429s Slack asks for, never skipped)."""

from __future__ import annotations

import asyncio
import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack.errors import api_error, retry_after
from core.ports import DeliveryOutcome
from core.types import IdentityKey

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
UNREACHABLE = frozenset(
    {"user_not_found", "cannot_dm_bot", "user_disabled", "channel_not_found", "not_in_channel"}
)


class SlackMessenger:
    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def send_private(self, identity: IdentityKey, text: str) -> DeliveryOutcome:
        for _ in range(MAX_ATTEMPTS):
            try:
                opened = await self._client.conversations_open(users=identity.user_id)
                channel = str((opened.get("channel") or {}).get("id") or "")
                await self._client.chat_postMessage(channel=channel, text=text)
            except SlackApiError as error:
                wait = retry_after(error)
                if wait is not None:
                    await asyncio.sleep(wait)
                    continue
                code = api_error(error)
                if code in UNREACHABLE:
                    return DeliveryOutcome.BLOCKED
                logger.info("slack DM failed: %s", code)
                return DeliveryOutcome.FAILED
            return DeliveryOutcome.DELIVERED
        return DeliveryOutcome.FAILED
