"""Core errors as console lines, in the person's language (the one place they are mapped)."""

from __future__ import annotations

from bots.views import error_text
from core.errors import CoreError
from core.i18n import Translator


def describe(t: Translator, exc: CoreError) -> str:
    return "! " + error_text(t, exc)
