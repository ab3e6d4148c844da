"""The Stop button under a streaming answer: ``stop:<request_id>``.

A ``DynamicItem`` so that any worker process handles a press, whoever sent the message;
the press sets the core's Stop flag and the stream ends with outcome STOPPED."""

from __future__ import annotations

import logging
import re
from typing import Any

import discord

logger = logging.getLogger(__name__)


class StopButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"stop:(?P<request_id>[0-9a-f]{8,64})"
):
    def __init__(self, request_id: str, label: str = "Stop") -> None:
        super().__init__(
            discord.ui.Button(
                label=label, style=discord.ButtonStyle.danger, custom_id=f"stop:{request_id}"
            )
        )
        self.request_id = request_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> StopButton:
        return cls(match["request_id"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer()  # the deadline first; the edit that follows shows it
        core = interaction.client.app.core  # type: ignore[attr-defined]
        await core.chat.stop(self.request_id)
        logger.info("stop pressed for request %s by %s", self.request_id, interaction.user.id)


def stop_view(request_id: str, label: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(StopButton(request_id, label))
    return view
