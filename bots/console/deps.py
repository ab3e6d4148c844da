"""What the console's handlers reach: the core, who is typing, and where output goes."""

from __future__ import annotations

from dataclasses import dataclass

from bots.console.sink import ConsoleSink
from core.services import Core
from core.services.requests import Caller


@dataclass(frozen=True, slots=True)
class ConsoleDeps:
    core: Core
    caller: Caller
    sink: ConsoleSink
