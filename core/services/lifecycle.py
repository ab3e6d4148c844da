"""A worker's life: whether its stores answer (``health``), and stopping it without losing
anything: admit nothing new, ask every running answer to stop (it then ends like a Stop
press: what was produced is delivered and charged), and wait for them to settle."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from core.ports import HealthProbe, StopSignals
from core.services.gate import Gate

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Health:
    database: str  # "ok" | "unavailable" | "locked" | "read_only"
    redis: str  # "off" | "ok" | "degraded"

    @property
    def ok(self) -> bool:
        return self.database == "ok" and self.redis != "degraded"


class Lifecycle:
    def __init__(self, gate: Gate, stops: StopSignals, probe: HealthProbe) -> None:
        self._gate = gate
        self._stops = stops
        self._probe = probe

    async def health(self) -> Health:
        return Health(await self._probe.database(), self._probe.shared_state())

    async def drain(self, grace_s: float = 30.0) -> int:
        """Returns how many requests were still running when ``grace_s`` ran out."""
        self._gate.close()
        running = sorted(self._gate.in_flight)
        logger.info("shutting down: stopping %d running request(s)", len(running))
        for request_id in running:
            await self._stops.request_stop(request_id)
        if await self._gate.wait_idle(grace_s):
            return 0
        left = len(self._gate.in_flight)
        logger.warning("shutdown: %d request(s) still running after %.0f s", left, grace_s)
        return left
