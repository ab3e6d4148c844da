"""What every slash command does: defer first, know who is asking and in which language,
run a shared text command, and show its reply or error to the person only."""

from __future__ import annotations

import io
import logging

import discord

from bots.commands import CommandContext, run_command
from bots.discord import mapping
from bots.discord.deps import Deps
from bots.discord.errors import message_for, tell_interaction
from bots.discord.render import MAX_TEXT, NO_PINGS, broadcast_view
from bots.language import translator
from bots.streaming import split_text
from core.errors import CoreError, DuplicateEvent
from core.i18n import Translator
from core.services.requests import Caller

logger = logging.getLogger(__name__)

ALREADY_ACKNOWLEDGED, UNKNOWN_INTERACTION = 40060, 10062


async def acknowledge(interaction: discord.Interaction, *, ephemeral: bool) -> bool:
    """Defer within Discord's 3 s, before any other work. False when this interaction is
    already acknowledged (a redelivery another handler or process took) or gone."""
    try:
        await interaction.response.defer(ephemeral=ephemeral, thinking=True)
    except discord.HTTPException as error:
        if error.code in (ALREADY_ACKNOWLEDGED, UNKNOWN_INTERACTION):
            logger.info("interaction %s not ours to answer (%s)", interaction.id, error.code)
            return False
        raise
    return True


async def refuse_now(interaction: discord.Interaction, text: str) -> None:
    """Answer a refusal known before deferring: one ephemeral response, nothing public.
    A redelivered interaction another process already answered is left alone."""
    try:
        await interaction.response.send_message(text, ephemeral=True)
    except discord.HTTPException as error:
        if error.code in (ALREADY_ACKNOWLEDGED, UNKNOWN_INTERACTION):
            logger.info("interaction %s not ours to answer (%s)", interaction.id, error.code)
            return
        raise


def caller_of(interaction: discord.Interaction) -> Caller:
    return mapping.caller(
        interaction.user, interaction.locale, interaction.channel_id, interaction.guild_id
    )


async def asker(deps: Deps, interaction: discord.Interaction) -> tuple[Caller, Translator]:
    caller = caller_of(interaction)
    return caller, await translator(deps.core, caller)


async def show_private(interaction: discord.Interaction, text: str) -> None:
    """Replace the ephemeral "thinking" response; a long text continues in follow-ups."""
    pieces = split_text(text, MAX_TEXT) or [text]
    await interaction.edit_original_response(content=pieces[0], allowed_mentions=NO_PINGS)
    for piece in pieces[1:]:
        await interaction.followup.send(piece, ephemeral=True, allowed_mentions=NO_PINGS)


async def text_command(
    deps: Deps, interaction: discord.Interaction, name: str, args: str = ""
) -> None:
    """A shared command (bots.commands) answered to the person only."""
    if not await acknowledge(interaction, ephemeral=True):
        return
    caller = caller_of(interaction)
    event = mapping.interaction_event(interaction.id)
    ctx = CommandContext(deps.core, caller, mapping.chat_id(interaction.channel_id), event_id=event)
    try:
        reply = await run_command(ctx, name, args)
    except DuplicateEvent:
        logger.info("interaction %s already answered", interaction.id)
        return
    except CoreError as exc:
        t = await translator(deps.core, caller)
        await tell_interaction(
            interaction, message_for(t, exc, f"/{name}", str(caller.identity)), public_defer=False
        )
        return
    if reply is not None:
        await show_private(interaction, reply.text)
        if reply.confirm_broadcast is not None:
            t = await translator(deps.core, caller)
            view = broadcast_view(reply.confirm_broadcast, t("cmd.broadcast_send"))
            await interaction.followup.send(t("cmd.broadcast_send"), view=view, ephemeral=True)
        if reply.image is not None:
            chart = discord.File(io.BytesIO(reply.image), filename="usage.png")
            await interaction.followup.send(file=chart, ephemeral=True)
        if reply.file is not None:
            attached = discord.File(io.BytesIO(reply.file.data), filename=reply.file.filename)
            await interaction.followup.send(file=attached, ephemeral=True)


async def internal_error(deps: Deps, interaction: discord.Interaction) -> None:
    t = await translator(deps.core, caller_of(interaction))
    try:
        await tell_interaction(interaction, t("error.internal"), public_defer=False)
    except discord.HTTPException as error:
        logger.warning("could not report the failure: %s", error.status)
