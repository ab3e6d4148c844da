"""Call budgets for streaming into chats: when may the next platform call for a chat go.

Two budgets are enforced: a minimum interval per chat (slowed down after a 429) and a
global rate per bot. ``MemoryPacer`` keeps them in this process; ``RedisPacer`` keeps them
in Redis (one Lua script, Redis's own clock) so several worker processes share them.

Priorities (finals and first visible text before interim edits) and fairness between
chats are decided by a gate local to each process: with Redis, the budgets are shared
but the ordering of waiters only holds among the callers of one process.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from enum import IntEnum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from redis.asyncio import Redis

PENALTY_MAX = 4.0  # a chat that got 429s is paced at most this many times slower
PENALTY_TTL_S = 600.0  # and recovers its normal pace after this long without a 429


class Priority(IntEnum):
    """Lower goes first when the global budget is short."""

    FINAL = 0
    FIRST = 1
    INTERIM = 2


class _Budgets(Protocol):
    async def chat_free_in(self, chat_key: str) -> float:
        """Seconds until the chat may be called again (0 when it may now)."""
        ...

    async def reserve(
        self, chat_key: str, interval_s: float, spacing_s: float
    ) -> tuple[bool, float]:
        """Take the chat's and the global budget when both are free now.

        ``(True, 0)`` when taken; ``(False, wait)`` when the chat was taken meanwhile
        (wait < 0, its magnitude the time until the chat is free) or the global
        budget is short (wait > 0)."""
        ...

    async def penalize(self, chat_key: str, retry_after_s: float) -> None: ...


class PriorityGate:
    """An asyncio lock granted by (priority, least recently served chat, arrival).

    The holder may ``yield_if_outranked`` while it waits for the global budget, so a
    final that arrives later still goes before an interim edit that is already waiting."""

    def __init__(self) -> None:
        self._busy = False
        self._waiters: list[tuple[int, float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._served: dict[str, float] = {}

    def served(self, chat_key: str) -> None:
        if len(self._served) > 10_000:
            self._served.clear()
        self._served[chat_key] = time.monotonic()

    @asynccontextmanager
    async def turn(self, chat_key: str, priority: int) -> AsyncIterator[_Turn]:
        held = _Turn(self, (priority, self._served.get(chat_key, 0.0), next(self._seq)))
        if self._busy or self._waiters:
            await self._queue(held.key)
        self._busy = True
        try:
            yield held
        finally:
            if held.holding:
                self._release()

    async def _queue(self, key: tuple[int, float, int]) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (*key, future))
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self._release()  # granted just as we were cancelled: pass it on
            raise

    def _outranked(self, key: tuple[int, float, int]) -> bool:
        while self._waiters and self._waiters[0][3].done():
            heapq.heappop(self._waiters)
        return bool(self._waiters) and self._waiters[0][:3] < key

    def _release(self) -> None:
        while self._waiters:
            future = heapq.heappop(self._waiters)[3]
            if not future.done():
                future.set_result(None)
                return
        self._busy = False


class _Turn:
    def __init__(self, gate: PriorityGate, key: tuple[int, float, int]) -> None:
        self._gate = gate
        self.key = key
        self.holding = True

    async def yield_if_outranked(self) -> None:
        """Hand the gate to a better waiter, if any, and queue again with our old rank."""
        if self._gate._outranked(self.key):
            self.holding = False
            self._gate._release()
            await self._gate._queue(self.key)
            self.holding = True


class ScheduledPacer:
    """The waiting logic shared by both pacers; subclasses supply the budgets."""

    def __init__(self, budgets: _Budgets, global_rate: float) -> None:
        if global_rate <= 0:
            raise ValueError("global_rate must be positive")
        self._budgets = budgets
        self._spacing = 1.0 / global_rate
        self._gate = PriorityGate()

    async def wait_turn(self, chat_key: str, interval_s: float, priority: int) -> None:
        while True:
            free_in = await self._budgets.chat_free_in(chat_key)
            if free_in > 0:
                await asyncio.sleep(free_in)
                continue
            async with self._gate.turn(chat_key, priority) as held:
                taken, wait = await self._budgets.reserve(chat_key, interval_s, self._spacing)
                while not taken and wait > 0:
                    await asyncio.sleep(wait)
                    await held.yield_if_outranked()
                    taken, wait = await self._budgets.reserve(chat_key, interval_s, self._spacing)
                if taken:
                    self._gate.served(chat_key)
                    return

    async def penalize(self, chat_key: str, retry_after_s: float) -> None:
        await self._budgets.penalize(chat_key, retry_after_s)


class _MemoryBudgets:
    def __init__(self) -> None:
        self._chat_next: dict[str, float] = {}
        self._factor: dict[str, tuple[float, float]] = {}  # chat -> (factor, expires)
        self._global_next = 0.0

    async def chat_free_in(self, chat_key: str) -> float:
        return max(0.0, self._chat_next.get(chat_key, 0.0) - time.monotonic())

    async def reserve(
        self, chat_key: str, interval_s: float, spacing_s: float
    ) -> tuple[bool, float]:
        now = time.monotonic()
        chat_wait = self._chat_next.get(chat_key, 0.0) - now
        if chat_wait > 0:
            return False, -chat_wait
        if self._global_next > now:
            return False, self._global_next - now
        factor, expires = self._factor.get(chat_key, (1.0, 0.0))
        if expires <= now:
            factor = 1.0
            self._factor.pop(chat_key, None)
        self._chat_next[chat_key] = now + interval_s * factor
        self._global_next = now + spacing_s
        if len(self._chat_next) > 10_000:
            self._chat_next = {k: v for k, v in self._chat_next.items() if v > now}
        return True, 0.0

    async def penalize(self, chat_key: str, retry_after_s: float) -> None:
        now = time.monotonic()
        self._chat_next[chat_key] = max(self._chat_next.get(chat_key, 0.0), now + retry_after_s)
        factor, expires = self._factor.get(chat_key, (1.0, 0.0))
        factor = min(PENALTY_MAX, factor * 2 if expires > now else 2.0)
        self._factor[chat_key] = (factor, now + PENALTY_TTL_S)


class MemoryPacer(ScheduledPacer):
    """Budgets in this process: for the embedded single-process set-up and tests."""

    def __init__(self, global_rate: float = 30.0) -> None:
        super().__init__(_MemoryBudgets(), global_rate)


_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
"""

# KEYS: chat, penalty factor, global.  ARGV: interval ms, global spacing ms.
_RESERVE = (
    _NOW
    + """
local chat_next = tonumber(redis.call('GET', KEYS[1]) or '0')
if chat_next > now then return {0, tostring(chat_next - now)} end
local global_next = tonumber(redis.call('GET', KEYS[3]) or '0')
if global_next > now then return {2, tostring(global_next - now)} end
local interval = tonumber(ARGV[1]) * tonumber(redis.call('GET', KEYS[2]) or '1')
local spacing = tonumber(ARGV[2])
redis.call('SET', KEYS[1], tostring(now + interval), 'PX', math.ceil(interval) + 1000)
redis.call('SET', KEYS[3], tostring(now + spacing), 'PX', math.ceil(spacing) + 1000)
return {1, '0'}
"""
)

# KEYS: chat.
_PEEK = (
    _NOW
    + """
local chat_next = tonumber(redis.call('GET', KEYS[1]) or '0')
return tostring(math.max(0, chat_next - now))
"""
)

# KEYS: chat, penalty factor.  ARGV: retry_after ms, max factor, penalty ttl ms.
_PENALIZE = (
    _NOW
    + """
local blocked = now + tonumber(ARGV[1])
if blocked > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], tostring(blocked), 'PX', math.ceil(tonumber(ARGV[1])) + 1000)
end
local factor = math.min(tonumber(ARGV[2]), tonumber(redis.call('GET', KEYS[2]) or '1') * 2)
redis.call('SET', KEYS[2], tostring(factor), 'PX', ARGV[3])
return 1
"""
)


class _RedisBudgets:
    def __init__(self, client: Redis, prefix: str) -> None:
        self._prefix = prefix
        self._reserve = client.register_script(_RESERVE)
        self._peek = client.register_script(_PEEK)
        self._penalize = client.register_script(_PENALIZE)

    def _keys(self, chat_key: str) -> list[str]:
        return [f"{self._prefix}pace:chat:{chat_key}", f"{self._prefix}pace:slow:{chat_key}"]

    async def chat_free_in(self, chat_key: str) -> float:
        waited = await self._peek(keys=self._keys(chat_key)[:1])
        return float(waited) / 1000

    async def reserve(
        self, chat_key: str, interval_s: float, spacing_s: float
    ) -> tuple[bool, float]:
        keys = [*self._keys(chat_key), f"{self._prefix}pace:global"]
        code, wait = await self._reserve(keys=keys, args=[interval_s * 1000, spacing_s * 1000])
        seconds = float(wait) / 1000
        if int(code) == 1:
            return True, 0.0
        return False, -seconds if int(code) == 0 else seconds

    async def penalize(self, chat_key: str, retry_after_s: float) -> None:
        args = [retry_after_s * 1000, PENALTY_MAX, int(PENALTY_TTL_S * 1000)]
        await self._penalize(keys=self._keys(chat_key), args=args)


class RedisPacer(ScheduledPacer):
    """Budgets in Redis, shared by every worker process using the same ``prefix``.

    The client is owned by the caller (the composition root closes it)."""

    def __init__(self, client: Redis, prefix: str = "sb:", global_rate: float = 30.0) -> None:
        super().__init__(_RedisBudgets(client, prefix), global_rate)
