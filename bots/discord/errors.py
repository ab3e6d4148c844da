"""Every failure a person can see, turned into words in one place, and how it is shown:
ephemeral for interactions (the deferred "thinking" response is replaced or removed),
a reply for messages. Refusals by role are logged here."""

from __future__ import annotations

import logging

import discord

from bots.views import error_text
from core.errors import CoreError, NotAllowed
from core.i18n import Translator

logger = logging.getLogger(__name__)


class UnsupportedFile(CoreError):
    """An attachment that is not audio where audio was expected."""

    key = "error.unsupported_file"


def message_for(t: Translator, exc: CoreError, what: str, who: str) -> str:
    if isinstance(exc, NotAllowed):
        logger.info("refused %s for %s: not allowed by role", what, who)
    else:
        logger.info("%s for %s failed: %s", what, who, exc.key)
    return error_text(t, exc)


async def tell_interaction(
    interaction: discord.Interaction, text: str, *, public_defer: bool
) -> None:
    """Show ``text`` to the person only. A public "thinking" response is deleted first, so
    the channel sees nothing of a refused request."""
    if not interaction.response.is_done():
        await interaction.response.send_message(text, ephemeral=True)
        return
    if public_defer:
        try:
            await interaction.delete_original_response()
        except discord.HTTPException as error:
            logger.warning("could not remove the deferred response: %s", error.status)
        await interaction.followup.send(text, ephemeral=True)
    else:
        await interaction.edit_original_response(content=text)


async def tell_message(message: discord.Message, text: str) -> None:
    await message.reply(text, mention_author=False, allowed_mentions=discord.AllowedMentions.none())
