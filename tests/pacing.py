"""Pacers for tests: the relay's real scheduling policy over in-process budgets."""

from __future__ import annotations

from bots.streaming.pacing import ScheduledPacer
from storage.kv.pace_budgets import MemoryBudgets


class MemoryPacer(ScheduledPacer):
    """What ``App.pacer`` builds when no Redis is configured."""

    def __init__(self, global_rate: float = 30.0) -> None:
        super().__init__(MemoryBudgets(), global_rate)
