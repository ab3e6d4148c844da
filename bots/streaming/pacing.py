"""When may the next call for a chat go: the relay's pacing policy over shared budgets.

A pacer enforces a minimum interval per chat and a global rate per bot, serves finals
and first visible text before interim edits, and shares what is left fairly among chats.
After a 429 (``penalize``) the chat gets no call before ``retry_after`` ends and is paced
more slowly for a while; a bot-wide 429 (a global limit) pauses every chat of the bot for
``retry_after``. The global budget runs ``GLOBAL_MARGIN`` (10 %) under the platform's rate,
so clock skew and calls outside the relay do not tip it over.

The policy (priorities, the order of waiters, fairness) lives here, with the relay; the
budgets themselves (when a chat or the bot is free again) sit behind ``PaceBudgets``,
implemented in storage: in this process, or in Redis so several worker processes share
them. The ordering of waiters only holds among the callers of one process.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from enum import IntEnum
from typing import Protocol

__all__ = ["GLOBAL_MARGIN", "PaceBudgets", "Pacer", "Priority", "PriorityGate", "ScheduledPacer"]

GLOBAL_MARGIN = 0.1  # the bot-wide budget runs this fraction under the configured rate


class Priority(IntEnum):
    """Lower goes first when the global budget is short."""

    FINAL = 0
    FIRST = 1
    INTERIM = 2


class Pacer(Protocol):
    async def wait_turn(self, chat_key: str, interval_s: float, priority: Priority) -> None:
        """Return when one call for ``chat_key`` may go; the budget is then taken."""
        ...

    async def penalize(
        self, chat_key: str, retry_after_s: float, *, bot_wide: bool = False
    ) -> None:
        """The platform answered 429 for this chat: block it, then pace it slower. With
        ``bot_wide`` every chat of the bot waits ``retry_after_s`` too."""
        ...


class PaceBudgets(Protocol):
    """The per-chat and global call budgets, wherever they are kept."""

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

    async def penalize(
        self, chat_key: str, retry_after_s: float, *, bot_wide: bool = False
    ) -> None:
        """Block the chat for ``retry_after_s`` and slow its interval down for a while;
        with ``bot_wide``, also push the global budget ``retry_after_s`` out."""
        ...


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
    """A ``Pacer``: this process's priority gate in front of ``budgets``.

    ``global_rate`` is the bot's calls per second over every chat (the platform's limit);
    the pacer spends only ``1 - margin`` of it."""

    def __init__(
        self, budgets: PaceBudgets, global_rate: float = 30.0, margin: float = GLOBAL_MARGIN
    ) -> None:
        if global_rate <= 0:
            raise ValueError("global_rate must be positive")
        if not 0 <= margin < 1:
            raise ValueError("margin must be in [0, 1)")
        self._budgets = budgets
        self._spacing = 1.0 / (global_rate * (1 - margin))
        self._gate = PriorityGate()

    async def wait_turn(self, chat_key: str, interval_s: float, priority: Priority) -> None:
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

    @property
    def spacing_s(self) -> float:
        """Seconds between two calls of the bot (the margin included)."""
        return self._spacing

    async def penalize(
        self, chat_key: str, retry_after_s: float, *, bot_wide: bool = False
    ) -> None:
        await self._budgets.penalize(chat_key, retry_after_s, bot_wide=bot_wide)
