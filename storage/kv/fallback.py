"""Keep the bot answering when Redis goes away: every call goes to Redis, and while Redis is
unreachable (see ``RedisBreaker``) it goes to the in-process stand-in instead."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Generic, TypeVar

from core.ports import LinkCodes, LoginLimiter, RateLimiter, SharedFlags, StopSignals
from storage.kv.breaker import RedisBreaker
from storage.kv.pace_budgets import Budgets, MemoryBudgets
from storage.kv.rate_limits import DEFAULT_LEASE_S

__all__ = [
    "FallbackBudgets",
    "FallbackLoginLimiter",
    "FallbackLinkCodes",
    "FallbackRateLimiter",
    "FallbackSharedFlags",
    "FallbackStopSignals",
    "RedisBreaker",
]

P = TypeVar("P")


class _Fallback(Generic[P]):
    """A port on ``primary`` (Redis) with ``backup`` (memory) while Redis is unreachable."""

    def __init__(
        self,
        primary: P,
        backup: P,
        *,
        breaker: RedisBreaker | None = None,
        retry_interval_s: float = 5.0,
    ) -> None:
        self._primary = primary
        self._backup = backup
        self._breaker = breaker if breaker is not None else RedisBreaker(retry_interval_s)

    @property
    def degraded(self) -> bool:
        return self._breaker.degraded


class _Remembered:
    """Pairs of (account, request) kept for at most ``lease_s``: a caller that never
    releases must not grow this without bound."""

    def __init__(self, lease_s: float) -> None:
        self._lease_s = lease_s
        # Insertion order is expiry order, since every entry lives equally long.
        self._until: dict[tuple[int, str], float] = {}

    def add(self, item: tuple[int, str]) -> None:
        now = time.monotonic()
        while self._until:
            oldest, until = next(iter(self._until.items()))
            if until > now:
                break
            del self._until[oldest]
        self._until.pop(item, None)
        self._until[item] = now + self._lease_s

    def discard(self, item: tuple[int, str]) -> bool:
        return self._until.pop(item, None) is not None

    def items(self) -> list[tuple[int, str]]:
        return list(self._until)


class FallbackRateLimiter(_Fallback[RateLimiter]):
    """A ``RateLimiter`` on ``primary`` (Redis) that falls back to ``backup`` (memory).

    A request admitted by the backup is released on the backup, even if Redis is back by
    then. A release Redis could not take is kept and sent once Redis answers again, so an
    outage does not leave an account's slots taken until their lease runs out."""

    def __init__(
        self,
        primary: RateLimiter,
        backup: RateLimiter,
        *,
        breaker: RedisBreaker | None = None,
        retry_interval_s: float = 5.0,
        lease_s: float = DEFAULT_LEASE_S,
    ) -> None:
        super().__init__(primary, backup, breaker=breaker, retry_interval_s=retry_interval_s)
        self._on_backup = _Remembered(lease_s)
        self._unreleased = _Remembered(lease_s)

    async def acquire(
        self, account_id: int, request_id: str, per_minute: int, concurrent: int
    ) -> float | None:
        async def on_primary() -> float | None:
            await self._release_owed()
            return await self._primary.acquire(account_id, request_id, per_minute, concurrent)

        async def on_backup() -> float | None:
            wait = await self._backup.acquire(account_id, request_id, per_minute, concurrent)
            if wait is None:
                self._on_backup.add((account_id, request_id))
            return wait

        return await self._breaker.call(on_primary, on_backup)

    async def release(self, account_id: int, request_id: str) -> None:
        held = (account_id, request_id)
        if self._on_backup.discard(held):
            await self._backup.release(account_id, request_id)
            return

        async def on_primary() -> None:
            await self._release_owed()
            await self._primary.release(account_id, request_id)

        async def owe() -> None:
            self._unreleased.add(held)

        await self._breaker.call(on_primary, owe)

    async def _release_owed(self) -> None:
        for account_id, request_id in self._unreleased.items():
            await self._primary.release(account_id, request_id)
            self._unreleased.discard((account_id, request_id))


class FallbackLinkCodes(_Fallback[LinkCodes]):
    """``LinkCodes`` on ``primary`` with ``backup`` while it is unreachable.

    A code made during an outage lives in this process only; ``consume`` tries the backup
    too when Redis does not know the code, so such a code still works here."""

    async def create(self, account_id: int, ttl_s: int) -> str:
        return await self._breaker.call(
            lambda: self._primary.create(account_id, ttl_s),
            lambda: self._backup.create(account_id, ttl_s),
        )

    async def consume(self, code: str) -> int | None:
        found = await self._breaker.call(
            lambda: self._primary.consume(code), lambda: self._backup.consume(code)
        )
        if found is None:
            found = await self._backup.consume(code)
        return found


class FallbackStopSignals(_Fallback[StopSignals]):
    """``StopSignals`` on ``primary`` with ``backup`` while it is unreachable.

    ``is_stopped`` asks the backup too, so a Stop recorded during an outage still counts."""

    async def request_stop(self, request_id: str) -> None:
        await self._breaker.call(
            lambda: self._primary.request_stop(request_id),
            lambda: self._backup.request_stop(request_id),
        )

    async def is_stopped(self, request_id: str) -> bool:
        stopped = await self._breaker.call(
            lambda: self._primary.is_stopped(request_id),
            lambda: self._backup.is_stopped(request_id),
        )
        return stopped or await self._backup.is_stopped(request_id)


class FallbackSharedFlags(_Fallback[SharedFlags]):
    """``SharedFlags`` on ``primary`` with ``backup`` while it is unreachable.

    ``get`` asks the backup when Redis has nothing, so a value put during an outage is
    still found here. A claim taken on the backup is local to this process: during an
    outage two workers may both claim one key, which is the best that can be done."""

    async def put(self, key: str, value: str, ttl_s: float) -> None:
        await self._breaker.call(
            lambda: self._primary.put(key, value, ttl_s),
            lambda: self._backup.put(key, value, ttl_s),
        )

    async def get(self, key: str) -> str | None:
        found = await self._breaker.call(
            lambda: self._primary.get(key), lambda: self._backup.get(key)
        )
        if found is None:
            found = await self._backup.get(key)
        return found

    async def claim(self, key: str, ttl_s: float) -> bool:
        return await self._breaker.call(
            lambda: self._primary.claim(key, ttl_s), lambda: self._backup.claim(key, ttl_s)
        )


class FallbackBudgets(_Fallback[Budgets]):
    """Pacing budgets on ``primary`` (Redis) with ``backup`` (memory) while it is unreachable.

    The backup is kept warm: every call taken on Redis and every 429 penalty is noted in
    it too, so at the moment Redis goes away the backup already knows when this process
    last called each chat, and when Redis comes back a chat or the global budget the
    backup saw taken during the outage is still waited for. Either way no chat is called
    faster than its interval across the switch. Only the other workers' calls are unseen
    while Redis is away: the global rate then holds per process."""

    def __init__(
        self,
        primary: Budgets,
        backup: MemoryBudgets,
        *,
        breaker: RedisBreaker | None = None,
        retry_interval_s: float = 5.0,
    ) -> None:
        super().__init__(primary, backup, breaker=breaker, retry_interval_s=retry_interval_s)
        self._memory = backup

    async def chat_free_in(self, chat_key: str) -> float:
        local = await self._memory.chat_free_in(chat_key)

        async def on_primary() -> float:
            return max(local, await self._primary.chat_free_in(chat_key))

        async def on_backup() -> float:
            return local

        return await self._breaker.call(on_primary, on_backup)

    async def reserve(
        self, chat_key: str, interval_s: float, spacing_s: float
    ) -> tuple[bool, float]:
        # What this process took is waited for first, without asking Redis (and so without
        # counting as a probe: only a Redis answer may say Redis is back).
        busy = self._memory.busy(chat_key)
        if busy is not None:
            return busy

        async def on_primary() -> tuple[bool, float]:
            taken, wait = await self._primary.reserve(chat_key, interval_s, spacing_s)
            if taken:
                self._memory.record(chat_key, interval_s, spacing_s)
            return taken, wait

        return await self._breaker.call(
            on_primary, lambda: self._memory.reserve(chat_key, interval_s, spacing_s)
        )

    async def penalize(
        self, chat_key: str, retry_after_s: float, *, bot_wide: bool = False
    ) -> None:
        await self._memory.penalize(chat_key, retry_after_s, bot_wide=bot_wide)

        async def nothing_more() -> None:
            return None

        await self._breaker.call(
            lambda: self._primary.penalize(chat_key, retry_after_s, bot_wide=bot_wide),
            nothing_more,
        )


class FallbackLoginLimiter(_Fallback[LoginLimiter]):
    """Login limits on ``primary`` (Redis) with ``backup`` (memory) while it is unreachable.

    ``retry_after`` asks the backup too, so failures counted during an outage still
    count in this process after Redis is back."""

    async def retry_after(self, keys: Sequence[str]) -> float | None:
        shared = await self._breaker.call(
            lambda: self._primary.retry_after(keys), lambda: self._backup.retry_after(keys)
        )
        local = await self._backup.retry_after(keys)
        waits = [wait for wait in (shared, local) if wait is not None]
        return max(waits) if waits else None

    async def failed(self, keys: Sequence[str]) -> None:
        await self._breaker.call(
            lambda: self._primary.failed(keys), lambda: self._backup.failed(keys)
        )
