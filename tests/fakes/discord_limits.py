"""Discord's rate limits as the fake enforces them: 5 edits per 5 s per message and 50
requests a second per bot, answered with Discord's 429 body and X-RateLimit-* headers."""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, field

EDITS_PER_WINDOW = 5
EDIT_WINDOW_S = 5.0
GLOBAL_PER_SECOND = 50
# Network jitter: a call paced at exactly the limit must not be refused for arriving a
# few milliseconds early by our clock.
TOLERANCE_S = 0.03


@dataclass
class Verdict:
    """What the limiter decided: headers for the answer, and a retry_after when refused."""

    headers: dict[str, str]
    retry_after: float | None = None
    is_global: bool = False


@dataclass
class RateLimits:
    edits_per_window: int = EDITS_PER_WINDOW
    edit_window_s: float = EDIT_WINDOW_S
    global_per_second: int = GLOBAL_PER_SECOND
    enabled: bool = True
    _edits: dict[str, deque[float]] = field(default_factory=dict)
    _global: deque[float] = field(default_factory=deque)

    def check(self, bucket: str | None, now: float | None = None) -> Verdict:
        """Count one request (``bucket`` names a message for edits, None otherwise)."""
        now = time.monotonic() if now is None else now
        window = 1.0 - TOLERANCE_S
        while self._global and self._global[0] <= now - window:
            self._global.popleft()
        if self.enabled and len(self._global) >= self.global_per_second:
            wait = round(self._global[0] + window - now, 3)
            return Verdict(_global_headers(wait), retry_after=max(wait, 0.001), is_global=True)
        if bucket is None:
            self._global.append(now)
            return Verdict({})
        calls = self._edits.setdefault(bucket, deque())
        edit_window = self.edit_window_s - TOLERANCE_S
        while calls and calls[0] <= now - edit_window:
            calls.popleft()
        if self.enabled and len(calls) >= self.edits_per_window:
            wait = round(calls[0] + edit_window - now, 3)
            headers = self._bucket_headers(bucket, 0, wait)
            return Verdict(headers, retry_after=max(wait, 0.001))
        self._global.append(now)
        calls.append(now)
        remaining = self.edits_per_window - len(calls)
        reset_after = calls[0] + self.edit_window_s - now
        return Verdict(self._bucket_headers(bucket, remaining, reset_after))

    def _bucket_headers(self, bucket: str, remaining: int, reset_after: float) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.edits_per_window),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{max(reset_after, 0.0):.3f}",
            "X-RateLimit-Bucket": f"edit-{abs(hash(bucket)) % 10**8:08d}",
        }


def _global_headers(wait: float) -> dict[str, str]:
    return {"X-RateLimit-Global": "true", "X-RateLimit-Scope": "global"}


def retry_after_header(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
