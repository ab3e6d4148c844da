"""The person's translator, the same for every adapter."""

from __future__ import annotations

import logging

from core.errors import CoreError
from core.i18n import Translator
from core.services import Core
from core.services.requests import Caller

logger = logging.getLogger(__name__)


async def translator(core: Core, caller: Caller | None) -> Translator:
    """The account's language, else the platform's locale hint. When the account cannot
    be read (the database is down) the person is still answered, in their locale."""
    if caller is None:
        return Translator(None)
    try:
        account = await core.accounts.resolve(caller)
    except CoreError as exc:
        logger.info("language from the platform locale: account unreadable (%s)", exc.key)
        return Translator(caller.locale)
    return Translator(core.accounts.language_of(account, caller))
