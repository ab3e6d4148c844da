"""The words of the notice a dead worker's cut answer gets (``core.ports.Interruption``),
the same on every chat platform: what happened, what it cost, and how to ask again. Each
adapter's ``notices.py`` only delivers it (Telegram adds a Retry button)."""

from __future__ import annotations

from core.i18n import Translator
from core.money import format_credits
from core.ports import Interruption


def interruption_text(notice: Interruption) -> str:
    """In the account's language (the bot's default when it has none)."""
    t = Translator(notice.language)
    text = t(
        "error.interrupted",
        charged=format_credits(notice.charged),
        refunded=format_credits(notice.refunded),
    )
    return f"{text} {t('error.interrupted_retry')}" if notice.retryable else text
