"""What the core tells the outside about itself without knowing who listens: a metrics
sink (no-op unless the composition root hands one in) and the id of the request being
served, carried by a context variable so every log line on its way can name it."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Protocol

from core.types import Feature, Outcome

# "-" rather than None: a log formatter can always print it.
request_id_var: ContextVar[str] = ContextVar("switchboard_request_id", default="-")


def bind_request_id(request_id: str) -> None:
    """Name ``request_id`` in every log line of the current task from here on (and of the
    tasks it starts, which copy the context). Adapters call it where they build a request;
    the use cases call it again on entry, so core and upstream lines carry it regardless."""
    request_id_var.set(request_id)


class MetricsSink(Protocol):
    def reservation_opened(self, feature: Feature) -> None:
        """This process reserved credits for a request (see ``reservation_closed``)."""
        ...

    def reservation_closed(self, feature: Feature) -> None:
        """This process is done with a reservation it opened (settled, or found settled)."""
        ...

    def request_settled(
        self, platform: str, feature: Feature, outcome: Outcome, credits: int, latency_s: float
    ) -> None:
        """One paid request finished (or was refused): ``credits`` is what it cost."""
        ...


class NoMetrics:
    """The default sink: records nothing."""

    def reservation_opened(self, feature: Feature) -> None:
        return None

    def reservation_closed(self, feature: Feature) -> None:
        return None

    def request_settled(
        self, platform: str, feature: Feature, outcome: Outcome, credits: int, latency_s: float
    ) -> None:
        return None


NO_METRICS: MetricsSink = NoMetrics()
