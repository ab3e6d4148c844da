"""discord.py parses every gateway event and REST answer with orjson when orjson is
installed (``discord.py[speed]``, or pulled in by another package). orjson refuses JSON
that holds a lone surrogate escape (``"\\ud83d"`` without its pair), which the standard
library's parser takes; one such message in an event would drop the gateway connection
instead of reaching the core, which cleans it (``core.text_input``). So orjson stays the
fast path and the standard parser is the fallback for what it refuses."""

from __future__ import annotations

import json
from typing import Any

import discord.utils


def tolerate_lone_surrogates() -> None:
    """Make discord.py fall back to ``json.loads`` for what orjson refuses (idempotent;
    nothing to do without orjson)."""
    fast = discord.utils._from_json
    if fast is json.loads or getattr(fast, "_tolerant", False):
        return

    def parse(text: Any) -> Any:
        try:
            return fast(text)
        except ValueError:  # orjson.JSONDecodeError is a ValueError
            return json.loads(text)

    parse._tolerant = True  # type: ignore[attr-defined]
    discord.utils._from_json = parse
