"""What the handlers reach, handed to each cog when the client registers it: the core's use
cases, the edit pacer shared by the bot's workers, and the adapter's own settings. Built by
the runner from the opened app once the bot has logged in (the pacer is keyed by the
application id); the cogs never import the client."""

from __future__ import annotations

from dataclasses import dataclass

from bots.streaming import Pacer
from core.services import Core


@dataclass(frozen=True, slots=True)
class Deps:
    core: Core
    pacer: Pacer
    edit_interval_s: float  # between two edits of one answer

    @property
    def max_audio_bytes(self) -> int:
        return self.core.config.max_audio_bytes
