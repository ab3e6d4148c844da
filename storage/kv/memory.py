"""In-process stand-ins for the Redis state: the embedded default with no REDIS_URL, and the
backup the fallback wrappers use while Redis is unreachable.

Each method does its check and its record without an ``await`` in between, so on one event
loop they are as atomic as the Lua script is on Redis. They hold for one process only."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from storage.kv.link_codes import check_ttl, new_code, normalize_code
from storage.kv.rate_limits import DEFAULT_LEASE_S, WINDOW_S
from storage.kv.stop_signals import DEFAULT_STOP_TTL_S

Clock = Callable[[], float]
# Accounts nobody calls again would otherwise keep their (expired) entries forever.
_SWEEP_EVERY = 1000


@dataclass
class _AccountUse:
    # request id -> admission time; insertion order is time order (entries are never moved).
    admitted: dict[str, float] = field(default_factory=dict)
    # request id -> time the lease runs out.
    in_flight: dict[str, float] = field(default_factory=dict)


class MemoryRateLimiter:
    """``RateLimiter`` in process memory, with the semantics of ``RedisRateLimiter``."""

    def __init__(self, *, lease_s: float = DEFAULT_LEASE_S, clock: Clock = time.monotonic) -> None:
        if lease_s <= 0:
            raise ValueError("lease_s must be positive")
        self._lease_s = lease_s
        self._clock = clock
        self._accounts: dict[int, _AccountUse] = {}
        self._calls = 0

    async def acquire(
        self, account_id: int, request_id: str, per_minute: int, concurrent: int
    ) -> float | None:
        if per_minute <= 0 and concurrent <= 0:
            return None
        now = self._clock()
        self._calls += 1
        if self._calls % _SWEEP_EVERY == 0:
            self._sweep(now)
        use = self._accounts.setdefault(account_id, _AccountUse())
        self._purge(use, now)
        counted = request_id in use.admitted
        if per_minute > 0 and not counted and len(use.admitted) >= per_minute:
            # After a limit was lowered more than `per_minute` may be recorded: the wait is
            # until enough of them have left the window.
            times = list(use.admitted.values())
            return max(0.001, times[len(times) - per_minute] + WINDOW_S - now)
        if concurrent > 0:
            held = request_id in use.in_flight
            if not held and len(use.in_flight) >= concurrent:
                return 0.0
            use.in_flight[request_id] = now + self._lease_s
        if per_minute > 0 and not counted:
            use.admitted[request_id] = now
        return None

    async def release(self, account_id: int, request_id: str) -> None:
        use = self._accounts.get(account_id)
        if use is None:
            return
        use.in_flight.pop(request_id, None)
        self._purge(use, self._clock())
        if not use.admitted and not use.in_flight:
            del self._accounts[account_id]

    def _sweep(self, now: float) -> None:
        for account_id, use in list(self._accounts.items()):
            self._purge(use, now)
            if not use.admitted and not use.in_flight:
                del self._accounts[account_id]

    def _purge(self, use: _AccountUse, now: float) -> None:
        while use.admitted:
            oldest_id, admitted_at = next(iter(use.admitted.items()))
            if admitted_at > now - WINDOW_S:
                break
            del use.admitted[oldest_id]
        for request_id in [rid for rid, until in use.in_flight.items() if until <= now]:
            del use.in_flight[request_id]


class MemoryLinkCodes:
    """``LinkCodes`` in process memory."""

    def __init__(self, *, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._codes: dict[str, tuple[int, float]] = {}

    async def create(self, account_id: int, ttl_s: int) -> str:
        check_ttl(ttl_s)
        now = self._clock()
        for code in [c for c, (_, until) in self._codes.items() if until <= now]:
            del self._codes[code]
        code = new_code()
        while code in self._codes:
            code = new_code()
        self._codes[code] = (account_id, now + ttl_s)
        return code

    async def consume(self, code: str) -> int | None:
        canonical = normalize_code(code)
        if canonical is None:
            return None
        entry = self._codes.pop(canonical, None)
        if entry is None or entry[1] <= self._clock():
            return None
        return entry[0]


class MemoryStopSignals:
    """``StopSignals`` in process memory."""

    def __init__(self, *, ttl_s: float = DEFAULT_STOP_TTL_S, clock: Clock = time.monotonic) -> None:
        self._ttl_s = ttl_s
        self._clock = clock
        self._until: dict[str, float] = {}

    async def request_stop(self, request_id: str) -> None:
        now = self._clock()
        for stale in [rid for rid, until in self._until.items() if until <= now]:
            del self._until[stale]
        self._until[request_id] = now + self._ttl_s

    async def is_stopped(self, request_id: str) -> bool:
        until = self._until.get(request_id)
        return until is not None and until > self._clock()
