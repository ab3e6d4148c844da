"""Core errors as Telegram replies, in the person's language: the one place they are mapped."""

from __future__ import annotations

import logging

from bots.commands import translator_for
from bots.views import error_text
from core.errors import CoreError, DuplicateEvent, NotAllowed
from core.i18n import Translator
from core.services import Core
from core.services.requests import Caller

logger = logging.getLogger(__name__)


class DownloadFailed(CoreError):
    """Telegram would not hand over a file the person sent (nothing was charged)."""

    key = "telegram.download_failed"


def describe(t: Translator, exc: CoreError) -> str | None:
    """The reply to a refused request; None when nothing must be said (a redelivery)."""
    if isinstance(exc, DuplicateEvent):
        logger.info("telegram update seen before: not answered again")
        return None
    if isinstance(exc, NotAllowed):
        logger.info("refused: %s", exc)
    return error_text(t, exc)


async def translator(core: Core, caller: Caller | None) -> Translator:
    """The person's translator; their platform locale when the account cannot be read."""
    if caller is None:
        return Translator(None)
    try:
        return await translator_for(core, caller)
    except CoreError:
        return Translator(caller.locale)
