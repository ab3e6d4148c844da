"""A press of Send under a ``/admin broadcast`` preview (``render.broadcast_view``): starts
that draft, the same as ``/admin broadcast text:confirm``. A dynamic item, so any worker
answers it; the core checks the presser is an admin, and a second press starts nothing."""

from __future__ import annotations

import re
from typing import Any, Self

import discord

from bots.discord.deps import Deps
from bots.discord.errors import message_for, tell_interaction
from bots.discord.handlers.common import acknowledge, asker, show_private
from bots.discord.render import BROADCAST_TEMPLATE
from core.errors import CoreError

SendItem = type[discord.ui.DynamicItem[discord.ui.Button[Any]]]


def send_button(deps: Deps) -> SendItem:
    """The dynamic item for the client to register, bound to ``deps``."""

    class SendButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=BROADCAST_TEMPLATE):
        def __init__(self, draft_id: int) -> None:
            super().__init__(discord.ui.Button(custom_id=f"bc:{draft_id}"))
            self.draft_id = draft_id

        @classmethod
        async def from_custom_id(
            cls,
            interaction: discord.Interaction,
            item: discord.ui.Item[Any],
            match: re.Match[str],
            /,
        ) -> Self:
            return cls(int(match["draft"]))

        async def callback(self, interaction: discord.Interaction) -> None:
            if not await acknowledge(interaction, ephemeral=True):
                return
            caller, t = await asker(deps, interaction)
            try:
                started = await deps.core.announcements.confirm(caller, self.draft_id)
            except CoreError as exc:
                text = message_for(t, exc, "broadcast", str(caller.identity))
                await tell_interaction(interaction, text, public_defer=False)
                return
            text = t("cmd.broadcast_started", id=started.id, people=started.people)
            await show_private(interaction, text)

    return SendButton
