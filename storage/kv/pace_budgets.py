"""Call budgets for streaming into chats: when may the next platform call for a chat go.

Two budgets are kept: a minimum interval per chat (slowed down after a 429) and a global
rate per bot. ``MemoryBudgets`` keeps them in this process; ``RedisBudgets`` keeps them in
Redis (one Lua script per operation, Redis's own clock) so several worker processes share
them. Both implement ``bots.streaming.pacing.PaceBudgets``; the scheduling policy
(priorities, fairness) is the relay's, not storage's.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["PENALTY_MAX", "PENALTY_TTL_S", "Budgets", "MemoryBudgets", "RedisBudgets"]

PENALTY_MAX = 4.0  # a chat that got 429s is paced at most this many times slower
PENALTY_TTL_S = 600.0  # and recovers its normal pace after this long without a 429


class Budgets(Protocol):
    """What storage offers the pacer (structurally ``bots.streaming.pacing.PaceBudgets``,
    restated here because storage does not import the adapters' side)."""

    async def chat_free_in(self, chat_key: str) -> float: ...

    async def reserve(
        self, chat_key: str, interval_s: float, spacing_s: float
    ) -> tuple[bool, float]: ...

    async def penalize(
        self, chat_key: str, retry_after_s: float, *, bot_wide: bool = False
    ) -> None: ...


class MemoryBudgets:
    """Budgets in this process: for the embedded single-process set-up and tests."""

    def __init__(self) -> None:
        self._chat_next: dict[str, float] = {}
        self._factor: dict[str, tuple[float, float]] = {}  # chat -> (factor, expires)
        self._global_next = 0.0

    async def chat_free_in(self, chat_key: str) -> float:
        return max(0.0, self._chat_next.get(chat_key, 0.0) - time.monotonic())

    async def reserve(
        self, chat_key: str, interval_s: float, spacing_s: float
    ) -> tuple[bool, float]:
        busy = self.busy(chat_key)
        if busy is not None:
            return busy
        self.record(chat_key, interval_s, spacing_s)
        return True, 0.0

    def busy(self, chat_key: str) -> tuple[bool, float] | None:
        """``reserve``'s refusal when the chat or the global budget is taken now, else None."""
        now = time.monotonic()
        chat_wait = self._chat_next.get(chat_key, 0.0) - now
        if chat_wait > 0:
            return False, -chat_wait
        if self._global_next > now:
            return False, self._global_next - now
        return None

    def record(self, chat_key: str, interval_s: float, spacing_s: float) -> None:
        """Take both budgets without asking: a call that went out on another budget keeper
        (Redis) is noted here too, so these budgets can take over at any moment."""
        now = time.monotonic()
        factor, expires = self._factor.get(chat_key, (1.0, 0.0))
        if expires <= now:
            factor = 1.0
            self._factor.pop(chat_key, None)
        self._chat_next[chat_key] = now + interval_s * factor
        self._global_next = now + spacing_s
        if len(self._chat_next) > 10_000:
            self._chat_next = {k: v for k, v in self._chat_next.items() if v > now}

    async def penalize(
        self, chat_key: str, retry_after_s: float, *, bot_wide: bool = False
    ) -> None:
        now = time.monotonic()
        if bot_wide:
            self._global_next = max(self._global_next, now + retry_after_s)
        self._chat_next[chat_key] = max(self._chat_next.get(chat_key, 0.0), now + retry_after_s)
        factor, expires = self._factor.get(chat_key, (1.0, 0.0))
        factor = min(PENALTY_MAX, factor * 2 if expires > now else 2.0)
        self._factor[chat_key] = (factor, now + PENALTY_TTL_S)


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

# KEYS: chat, penalty factor, global.  ARGV: retry_after ms, max factor, penalty ttl ms,
# bot-wide (1 or 0).
_PENALIZE = (
    _NOW
    + """
local blocked = now + tonumber(ARGV[1])
if ARGV[4] == '1' and blocked > tonumber(redis.call('GET', KEYS[3]) or '0') then
  redis.call('SET', KEYS[3], tostring(blocked), 'PX', math.ceil(tonumber(ARGV[1])) + 1000)
end
if blocked > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], tostring(blocked), 'PX', math.ceil(tonumber(ARGV[1])) + 1000)
end
local factor = math.min(tonumber(ARGV[2]), tonumber(redis.call('GET', KEYS[2]) or '1') * 2)
redis.call('SET', KEYS[2], tostring(factor), 'PX', ARGV[3])
return 1
"""
)


class RedisBudgets:
    """Budgets in Redis (one Lua script each, on Redis's own clock), shared by every worker
    process using the same ``prefix``. The client is owned by the caller (the composition
    root closes it)."""

    def __init__(self, client: Redis, prefix: str = "sb:") -> None:
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

    async def penalize(
        self, chat_key: str, retry_after_s: float, *, bot_wide: bool = False
    ) -> None:
        args = [retry_after_s * 1000, PENALTY_MAX, int(PENALTY_TTL_S * 1000), int(bot_wide)]
        keys = [*self._keys(chat_key), f"{self._prefix}pace:global"]
        await self._penalize(keys=keys, args=args)
