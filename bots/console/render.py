"""How the bot's output looks in the terminal: the note and charge after an answer,
the line naming a saved file, file names for media."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from bots.streaming.answer import note_keys
from core.i18n import Translator
from core.money import format_credits
from core.types import AudioReady, ImageReady, TextDone


def charged(t: Translator, credits: int) -> str:
    return "  [" + t("reply.charged", credits=format_credits(credits)) + "]"


def after_answer(t: Translator, done: TextDone) -> list[str]:
    """Lines after the streamed text: "(stopped)" / "(cut)" when it ended early,
    "(shortened…)" when the balance cut it, and the charge. The text itself was already
    written delta by delta."""
    return [*(t(key) for key in note_keys(done)), charged(t, done.credits)]


def media_file_name(kind: str, media: ImageReady | AudioReady) -> str:
    suffix = ".png" if isinstance(media, ImageReady) else ".ogg"
    return f"{kind}-{datetime.now().strftime('%Y%m%d-%H%M%S-%f')}{suffix}"


def saved(t: Translator, path: Path, credits: int) -> str:
    return f"→ {path}" + charged(t, credits)
