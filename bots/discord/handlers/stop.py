"""A press of the Stop button under a streaming answer (``render.stop_view`` draws it).

Registered as a dynamic item matching ``stop:<request_id>:<owner>``, so any worker process
answers a press, whoever sent the message. Only the owner (the person who asked) or an admin
may stop: anyone else gets an ephemeral "only the person who asked can stop this" and the
answer goes on. An allowed press is acknowledged, then sets the core's Stop flag, and the
stream ends with outcome STOPPED."""

from __future__ import annotations

import logging
import re
from typing import Any, Self

import discord

from bots.discord.deps import Deps
from bots.discord.handlers.common import asker
from bots.discord.render import STOP_TEMPLATE, stop_custom_id
from core.types import Role

logger = logging.getLogger(__name__)

StopItem = type[discord.ui.DynamicItem[discord.ui.Button[Any]]]


def stop_button(deps: Deps) -> StopItem:
    """The dynamic item for the client to register, bound to ``deps``."""

    class StopButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=STOP_TEMPLATE):
        def __init__(self, request_id: str, owner: int | None = None) -> None:
            super().__init__(discord.ui.Button(custom_id=stop_custom_id(request_id, owner)))
            self.request_id = request_id
            self.owner = owner

        @classmethod
        async def from_custom_id(
            cls,
            interaction: discord.Interaction,
            item: discord.ui.Item[Any],
            match: re.Match[str],
            /,
        ) -> Self:
            owner = match["owner"]
            return cls(match["request_id"], int(owner) if owner else None)

        async def callback(self, interaction: discord.Interaction) -> None:
            if self.owner is not None and interaction.user.id != self.owner:
                caller, t = await asker(deps, interaction)
                account = await deps.core.accounts.resolve(caller)
                if account.role is not Role.ADMIN or account.banned:
                    logger.info(
                        "stop for request %s refused to %s (not the asker)",
                        self.request_id,
                        interaction.user.id,
                    )
                    await interaction.response.send_message(
                        t("reply.stop_not_yours"), ephemeral=True
                    )
                    return
            await interaction.response.defer()  # the deadline first; the final edit shows it
            await deps.core.chat.stop(self.request_id)
            logger.info("stop pressed for request %s by %s", self.request_id, interaction.user.id)

    return StopButton
