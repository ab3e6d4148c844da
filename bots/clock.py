"""CLOCK_FILE, for tests only: "now" read from a file at every use, so a test moves the
clock of every worker process at once (restarts included) by rewriting one file.

The read is a few bytes from a local file, done inline rather than in a thread: it is
never configured in production, and a thread hop per use would only slow the tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path


def file_clock(path: Path) -> Callable[[], datetime]:
    def now() -> datetime:
        moment = datetime.fromisoformat(path.read_text(encoding="utf-8").strip())
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)

    return now
