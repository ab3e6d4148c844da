"""Telegram's flood control as the fake enforces it: about one message a second per
private chat, 20 a minute per group (edits count), 30 a second per bot, and after a 429
nothing for that chat until ``retry_after`` has passed."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field


@dataclass
class FloodLimits:
    private_interval_s: float = 1.0
    group_per_minute: int = 20
    global_per_second: int = 30
    # Network jitter between a client's clock and ours: calls paced at exactly the limit
    # must not be refused because a packet arrived a few milliseconds early.
    tolerance_s: float = 0.05


@dataclass
class FloodControl:
    limits: FloodLimits = field(default_factory=FloodLimits)
    _chat_calls: dict[int, deque[float]] = field(default_factory=dict)
    _global_calls: deque[float] = field(default_factory=deque)
    _blocked_until: dict[int, float] = field(default_factory=dict)

    def check(self, chat_id: int, group: bool, now: float) -> int | None:
        """``retry_after`` seconds when the call must be refused, else None."""
        limits = self.limits
        blocked = self._blocked_until.get(chat_id, 0.0)
        if now < blocked:
            return max(1, math.ceil(blocked - now))
        calls = self._chat_calls.get(chat_id, deque())
        if group:
            window = 60.0 - limits.tolerance_s
            recent = [t for t in calls if t > now - window]
            if len(recent) >= limits.group_per_minute:
                return self.block(chat_id, now, recent[0] + window - now)
        elif calls and now - calls[-1] < limits.private_interval_s - limits.tolerance_s:
            return self.block(chat_id, now, limits.private_interval_s - (now - calls[-1]))
        window = 1.0 - limits.tolerance_s
        while self._global_calls and self._global_calls[0] <= now - window:
            self._global_calls.popleft()
        if len(self._global_calls) >= limits.global_per_second:
            return max(1, math.ceil(self._global_calls[0] + window - now))
        return None

    def block(self, chat_id: int, now: float, seconds: float) -> int:
        retry_after = max(1, math.ceil(seconds))
        self._blocked_until[chat_id] = max(self._blocked_until.get(chat_id, 0.0), now + retry_after)
        return retry_after

    def record(self, chat_id: int, now: float) -> None:
        calls = self._chat_calls.setdefault(chat_id, deque())
        calls.append(now)
        while calls and calls[0] <= now - 60.0:
            calls.popleft()
        self._global_calls.append(now)
