"""What a worker exposes on ``GET /metrics``: requests, latency, credits and open
reservations (recorded by the core through ``core.observability.MetricsSink``), and the
platform side (429s, edits, time to first visible text), which the streaming relay and the
adapters record by calling the ``platform_*`` methods of ``process_metrics()``."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bots.prometheus import Counter, Gauge, Histogram, Registry
from core.errors import StorageUnavailable
from core.money import MICRO
from core.types import Feature, Outcome

logger = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)
FIRST_TEXT_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 60.0)


class SwitchboardMetrics:
    """The registry of one process; satisfies ``core.observability.MetricsSink``."""

    def __init__(self) -> None:
        self.registry = Registry()
        add = self.registry.add
        self.requests = add(
            Counter(
                "switchboard_requests_total",
                "Paid requests finished, by platform, feature and outcome.",
                ("platform", "feature", "outcome"),
            )
        )
        self.latency = add(
            Histogram(
                "switchboard_upstream_latency_seconds",
                "From reservation to settlement: the upstream call and its stream.",
                ("feature",),
                LATENCY_BUCKETS,
            )
        )
        self.credits = add(
            Counter(
                "switchboard_credits_charged_total",
                "Credits charged for finished requests.",
                ("platform", "feature"),
            )
        )
        self.in_progress = add(
            Gauge(
                "switchboard_requests_in_progress",
                "Paid requests this worker has reserved and not settled yet.",
                ("feature",),
            )
        )
        self.open_reservations = add(
            Gauge(
                "switchboard_open_reservations",
                "Holds without a settle row in the database (every worker's), read at scrape.",
            )
        )
        self._count_open_holds: Callable[[], Awaitable[int]] | None = None
        self.redis_fallback = add(
            Gauge(
                "switchboard_redis_fallback",
                "1 while Redis is configured but unreachable (limits are per process).",
            )
        )
        self.platform_429 = add(
            Counter(
                "switchboard_platform_429_total",
                "Rate-limit answers (429) from a messaging platform.",
                ("platform",),
            )
        )
        self.edits = add(
            Counter(
                "switchboard_edits_sent_total",
                "Message edits (or stream appends) sent to a platform.",
                ("platform",),
            )
        )
        self.first_text = add(
            Histogram(
                "switchboard_first_text_seconds",
                "From the platform event to the first visible text of the answer.",
                ("platform",),
                FIRST_TEXT_BUCKETS,
            )
        )

    # ---- core.observability.MetricsSink ------------------------------------------------
    def reservation_opened(self, feature: Feature) -> None:
        self.in_progress.add(feature.value, amount=1)

    def reservation_closed(self, feature: Feature) -> None:
        self.in_progress.add(feature.value, amount=-1)

    def request_settled(
        self, platform: str, feature: Feature, outcome: Outcome, credits: int, latency_s: float
    ) -> None:
        self.requests.inc(platform, feature.value, outcome.value)
        if credits:
            self.credits.inc(platform, feature.value, amount=credits / MICRO)
        if outcome is not Outcome.REFUSED:
            self.latency.observe(feature.value, value=latency_s)

    # ---- the platform side ----------------------------------------------------------------
    def platform_rate_limited(self, platform: str, count: int = 1) -> None:
        self.platform_429.inc(platform, amount=count)

    def platform_edit_sent(self, platform: str, count: int = 1) -> None:
        self.edits.inc(platform, amount=count)

    def platform_first_text(self, platform: str, seconds: float) -> None:
        self.first_text.observe(platform, value=seconds)

    def watch_redis(self, degraded: Callable[[], bool]) -> None:
        """Read the Redis fallback state at every scrape."""
        self.redis_fallback.read = lambda: 1.0 if degraded() else 0.0

    def watch_open_holds(self, count: Callable[[], Awaitable[int]]) -> None:
        """Read the database's count of open holds at every scrape (``refresh``)."""
        self._count_open_holds = count

    async def refresh(self) -> None:
        """Update the gauges read from the database; while it is unavailable the last
        value stays (the scrape itself still answers)."""
        if self._count_open_holds is None:
            return
        try:
            self.open_reservations.set(value=await self._count_open_holds())
        except StorageUnavailable:
            logger.warning("open reservations not counted: the database is unavailable")

    def render(self) -> str:
        return self.registry.render()


_process: SwitchboardMetrics | None = None


def process_metrics() -> SwitchboardMetrics:
    """This process's metrics, made on first use (not at import)."""
    global _process
    if _process is None:
        _process = SwitchboardMetrics()
    return _process
