"""A press of the Stop button under a streaming answer (``render.stop_view`` draws it).

Registered as a dynamic item matching ``stop:<request_id>``, so any worker process answers
a press, whoever sent the message: the press is acknowledged, then sets the core's Stop
flag, and the stream ends with outcome STOPPED."""

from __future__ import annotations

import logging
import re
from typing import Any, Self

import discord

from bots.discord.deps import Deps
from bots.discord.render import STOP_TEMPLATE

logger = logging.getLogger(__name__)

StopItem = type[discord.ui.DynamicItem[discord.ui.Button[Any]]]


def stop_button(deps: Deps) -> StopItem:
    """The dynamic item for the client to register, bound to ``deps``."""

    class StopButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=STOP_TEMPLATE):
        def __init__(self, request_id: str) -> None:
            super().__init__(discord.ui.Button(custom_id=f"stop:{request_id}"))
            self.request_id = request_id

        @classmethod
        async def from_custom_id(
            cls,
            interaction: discord.Interaction,
            item: discord.ui.Item[Any],
            match: re.Match[str],
            /,
        ) -> Self:
            return cls(match["request_id"])

        async def callback(self, interaction: discord.Interaction) -> None:
            await interaction.response.defer()  # the deadline first; the final edit shows it
            await deps.core.chat.stop(self.request_id)
            logger.info("stop pressed for request %s by %s", self.request_id, interaction.user.id)

    return StopButton
