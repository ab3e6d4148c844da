"""Telling a Slack conversation that its answer was cut off by a worker that died: the
lease sweep calls this outside any event, so it posts with the bot's Web API client
(``chat.postMessage``) into the thread the answer was streaming to, or the DM."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bots.notices import interruption_text
from bots.slack.errors import mapped
from core.ports import Interruption


class SlackInterruptionNotices:
    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def interrupted(self, notice: Interruption) -> None:
        """``notice.chat_id`` is ``<team>:<channel>`` or ``<team>:<channel>:<thread ts>``
        (``bots.slack.mapping.chat_id``)."""
        _team, channel, thread = (notice.chat_id.split(":", 2) + [""])[:3]
        async with mapped("chat.postMessage"):
            await self._client.chat_postMessage(
                channel=channel, text=interruption_text(notice), thread_ts=thread or None
            )
