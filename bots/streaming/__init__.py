"""The streaming relay shared by every chat platform: pacing, coalescing, splitting,
honouring 429s, and always delivering the final text. Platforms supply a ``MessageSink``."""

from bots.streaming.pacing import PaceBudgets, Pacer, Priority, ScheduledPacer
from bots.streaming.relay import RelayResult, notice_text, relay
from bots.streaming.sink import (
    DeliveryFailed,
    MessageHandle,
    MessageSink,
    PlatformRetryAfter,
    PreviewUnavailable,
    SinkLimits,
)
from bots.streaming.split import Cut, cut_first, split_text

__all__ = [
    "Cut",
    "DeliveryFailed",
    "MessageHandle",
    "MessageSink",
    "PaceBudgets",
    "Pacer",
    "PlatformRetryAfter",
    "PreviewUnavailable",
    "Priority",
    "ScheduledPacer",
    "RelayResult",
    "SinkLimits",
    "cut_first",
    "notice_text",
    "relay",
    "split_text",
]
