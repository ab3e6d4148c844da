"""Stopping a worker without losing anything: admit nothing new, ask every running answer
to stop (it then ends like a Stop press: what was produced is delivered and charged), and
wait for them to settle."""

from __future__ import annotations

import logging

from core.ports import StopSignals
from core.services.gate import Gate

logger = logging.getLogger(__name__)


class Lifecycle:
    def __init__(self, gate: Gate, stops: StopSignals) -> None:
        self._gate = gate
        self._stops = stops

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
