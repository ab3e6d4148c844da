"""Who the console user is, and how a typed line splits into a command."""

from __future__ import annotations

import getpass
import os

from core.services.requests import Caller
from core.types import IdentityKey

CHAT_ID = "console"


def console_caller() -> Caller:
    user = os.environ.get("SWITCHBOARD_CONSOLE_USER") or getpass.getuser()
    locale = (os.environ.get("LC_ALL") or os.environ.get("LANG") or "").split(".")[0] or None
    return Caller(IdentityKey("console", "", user), display_name=user, locale=locale)


def split_command(line: str) -> tuple[str, str] | None:
    """``/model gpt-4o`` → ("model", "gpt-4o"); None for a plain message."""
    if not line.startswith("/"):
        return None
    name, _, args = line[1:].partition(" ")
    return name.lower(), args.strip()
