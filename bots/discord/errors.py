"""Every failure, mapped in one place. Core errors become words a person sees, and how:
ephemeral for interactions (the deferred "thinking" response is replaced or removed), a
reply for messages; refusals by role are logged here. discord.py's errors become the
relay's (``platform_call``): a 429 to wait out, an expired interaction token, or a call
that failed for good."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import discord

from bots.discord.render import NO_PINGS
from bots.streaming import DeliveryFailed, PlatformRetryAfter
from bots.views import error_text
from core.errors import CoreError, NotAllowed
from core.i18n import Translator

logger = logging.getLogger(__name__)

_EXPIRED_CODES = {50027, 10015}  # Invalid Webhook Token, Unknown Webhook


class TokenExpired(Exception):
    """The interaction token no longer works: continue in the channel."""


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
    await message.reply(text, mention_author=False, allowed_mentions=NO_PINGS)


def _retry_after(error: discord.HTTPException) -> float:
    header = error.response.headers.get("Retry-After") if error.response is not None else None
    try:
        return float(header) if header else 1.0
    except ValueError:
        return 1.0


def _is_global(error: discord.HTTPException) -> bool:
    """Discord marks a bot-wide limit with ``X-RateLimit-Global``."""
    headers = error.response.headers if error.response is not None else {}
    return str(headers.get("X-RateLimit-Global", "")).lower() == "true"


@asynccontextmanager
async def platform_call(what: str) -> AsyncIterator[None]:
    """discord.py's errors as the relay's (discord.py already waited out ordinary 429s)."""
    try:
        yield
    except discord.RateLimited as error:
        raise PlatformRetryAfter(error.retry_after) from error
    except discord.HTTPException as error:
        if error.status == 429:
            raise PlatformRetryAfter(_retry_after(error), bot_wide=_is_global(error)) from error
        if error.code in _EXPIRED_CODES or error.status == 401:
            raise TokenExpired(what) from error
        raise DeliveryFailed(f"{what}: {error.status} {error.code}") from error
    except (aiohttp.ClientError, OSError) as error:
        raise DeliveryFailed(f"{what}: {type(error).__name__}") from error
