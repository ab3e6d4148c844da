"""Errors in one place: core refusals as replies in the person's language, and the Bot
API's errors as the relay's (wait out a 429, failed delivery, "not modified" is fine)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramRetryAfter

from bots.streaming import DeliveryFailed, PlatformRetryAfter
from bots.views import error_text
from core.errors import AccessBlocked, CoreError, DuplicateEvent, NotAllowed
from core.i18n import Translator

logger = logging.getLogger(__name__)


def describe(t: Translator, exc: CoreError) -> str | None:
    """The reply to a refused request; None when nothing must be said (a redelivery)."""
    if isinstance(exc, DuplicateEvent):
        logger.info("telegram update seen before: not answered again")
        return None
    if isinstance(exc, AccessBlocked) and exc.quiet:
        return None  # a blocked person in a group: the group hears nothing
    if isinstance(exc, NotAllowed):
        logger.info("refused: %s", exc)
    return error_text(t, exc)


@asynccontextmanager
async def as_relay_errors(what: str) -> AsyncIterator[None]:
    """Telegram's errors as the relay's: 429, success for "not modified", the rest failed."""
    try:
        yield
    except TelegramRetryAfter as error:
        # Telegram's flood control is per bot as much as per chat: pause every chat.
        raise PlatformRetryAfter(float(error.retry_after), bot_wide=True) from error
    except TelegramBadRequest as error:
        if "message is not modified" not in error.message:
            raise DeliveryFailed(f"{what}: {error.message}") from error
    except TelegramAPIError as error:
        raise DeliveryFailed(f"{what}: {error.message}") from error


def cant_parse(error: TelegramBadRequest) -> bool:
    """Telegram refused the HTML of a final text (send it again as plain text)."""
    # An answer that is only markup (an empty code block) formats to nothing at all.
    message = error.message.lower()
    return "can't parse entities" in message or "text is empty" in message
