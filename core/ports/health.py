"""Whether the stores the core depends on answer, for ``/health`` and operators."""

from __future__ import annotations

from typing import Protocol


class HealthProbe(Protocol):
    async def database(self) -> str:
        """``"ok"`` when it can take a write now; ``"unavailable"`` (not reached),
        ``"locked"`` (another writer holds the write lock) or ``"read_only"``."""
        ...

    def shared_state(self) -> str:
        """``"off"`` (no Redis configured), ``"ok"``, or ``"degraded"`` (Redis unreachable,
        limits per process until it answers)."""
        ...
