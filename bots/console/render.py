"""Writing reply events to the terminal: deltas as they come, media saved to files."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from core.i18n import Translator
from core.money import format_credits
from core.types import AudioReady, ImageReady, Outcome, ReplyEvent, TextDelta, TextDone


class ConsoleRenderer:
    def __init__(self, out: TextIO, media_dir: Path) -> None:
        self._out = out
        self._media_dir = media_dir

    def line(self, text: str) -> None:
        self._out.write(text + "\n")
        self._out.flush()

    def event(self, t: Translator, event: ReplyEvent) -> None:
        if isinstance(event, TextDelta):
            self._out.write(event.text)
            self._out.flush()
        elif isinstance(event, TextDone):
            self._out.write("\n")
            if event.outcome is Outcome.STOPPED:
                self.line(t("reply.stopped"))
            elif event.outcome is Outcome.CUT:
                self.line(t("reply.cut"))
            self.line("  [" + t("reply.charged", credits=format_credits(event.credits)) + "]")

    def save(self, t: Translator, media: ImageReady | AudioReady, name: str) -> Path:
        suffix = ".png" if isinstance(media, ImageReady) else ".ogg"
        self._media_dir.mkdir(parents=True, exist_ok=True)
        path = self._media_dir / f"{name}{suffix}"
        path.write_bytes(media.data)
        self.line(f"→ {path}  [" + t("reply.charged", credits=format_credits(media.credits)) + "]")
        return path
