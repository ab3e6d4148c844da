"""The console's output calls: write a line, write streamed text as it comes, save a file.

The terminal needs no relay (nothing to pace, nothing to edit): deltas are written as
they arrive, and media go to files under ``media_dir``."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO


class ConsoleSink:
    def __init__(self, out: TextIO, media_dir: Path) -> None:
        self._out = out
        self._media_dir = media_dir

    def line(self, text: str) -> None:
        self._out.write(text + "\n")
        self._out.flush()

    def write(self, text: str) -> None:
        """Streamed text: no newline, shown at once."""
        self._out.write(text)
        self._out.flush()

    def save(self, name: str, data: bytes) -> Path:
        self._media_dir.mkdir(parents=True, exist_ok=True)
        path = self._media_dir / name
        path.write_bytes(data)
        return path
