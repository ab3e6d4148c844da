"""Pacers: per-chat interval, global rate, 429 penalty, priorities; Redis shared by workers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from bots.streaming.pacing import PaceBudgets, Pacer, Priority, ScheduledPacer
from storage.kv.pace_budgets import MemoryBudgets, RedisBudgets
from tests.pacing import MemoryPacer


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[object]:
    import redis.asyncio as aioredis

    client = aioredis.from_url(redis_url)
    try:
        yield client
    finally:
        await client.aclose()


async def stamps(pacer: Pacer, chat: str, n: int, interval: float, out: list[float]) -> None:
    for _ in range(n):
        await pacer.wait_turn(chat, interval, Priority.INTERIM)
        out.append(time.monotonic())


def gaps(times: list[float]) -> list[float]:
    ordered = sorted(times)
    return [b - a for a, b in zip(ordered, ordered[1:], strict=False)]


async def test_two_redis_workers_share_the_chat_interval(
    redis_client: object, redis_prefix: str
) -> None:
    workers = [ScheduledPacer(RedisBudgets(redis_client, redis_prefix), 30) for _ in range(2)]  # type: ignore[arg-type]
    times: list[float] = []
    await asyncio.gather(*(stamps(w, "tg:1", 4, 0.3, times) for w in workers))
    assert len(times) == 8
    assert min(gaps(times)) >= 0.29  # one shared budget, not one per worker


async def test_redis_global_rate_is_shared(redis_client: object, redis_prefix: str) -> None:
    workers = [ScheduledPacer(RedisBudgets(redis_client, redis_prefix), 20) for _ in range(2)]  # type: ignore[arg-type]
    times: list[float] = []
    await asyncio.gather(*(stamps(workers[i % 2], f"chat{i}", 1, 1.0, times) for i in range(30)))
    span = max(times) - min(times)
    assert span >= 29 / 20 * 0.95  # 30 calls at 20/s across both workers


async def test_redis_penalty_blocks_then_slows(redis_client: object, redis_prefix: str) -> None:
    pacer = ScheduledPacer(RedisBudgets(redis_client, redis_prefix))  # type: ignore[arg-type]
    other = ScheduledPacer(RedisBudgets(redis_client, redis_prefix))  # type: ignore[arg-type]
    await pacer.wait_turn("c", 0.2, Priority.INTERIM)
    await pacer.penalize("c", 1.0)
    start = time.monotonic()
    await other.wait_turn("c", 0.2, Priority.FINAL)  # another worker honours it too
    assert time.monotonic() - start >= 0.95
    await other.wait_turn("c", 0.2, Priority.FINAL)
    assert time.monotonic() - start >= 0.95 + 0.38  # the interval doubled after the 429
    assert await redis_client.ttl(f"{redis_prefix}pace:slow:c") > 0  # type: ignore[attr-defined]


async def test_memory_pacer_chat_interval_and_penalty() -> None:
    pacer = MemoryPacer(global_rate=100)
    times: list[float] = []
    await asyncio.gather(stamps(pacer, "a", 3, 0.2, times), stamps(pacer, "a", 3, 0.2, times))
    assert min(gaps(times)) >= 0.19
    await pacer.penalize("a", 0.5)
    start = time.monotonic()
    await pacer.wait_turn("a", 0.2, Priority.FINAL)
    assert time.monotonic() - start >= 0.49


async def test_memory_pacer_finals_and_first_text_before_interim() -> None:
    pacer = MemoryPacer(global_rate=10)
    order: list[str] = []

    async def one(chat: str, priority: Priority) -> None:
        await pacer.wait_turn(chat, 0.0, priority)
        order.append(chat)

    await pacer.wait_turn("warm", 0.0, Priority.FINAL)  # the global budget is now busy
    tasks = [asyncio.create_task(one(f"interim{i}", Priority.INTERIM)) for i in range(3)]
    await asyncio.sleep(0.01)
    tasks.append(asyncio.create_task(one("final", Priority.FINAL)))
    tasks.append(asyncio.create_task(one("first", Priority.FIRST)))
    await asyncio.gather(*tasks)
    assert order[:2] == ["final", "first"]


async def test_memory_pacer_is_fair_among_chats() -> None:
    pacer = MemoryPacer(global_rate=50)
    order: list[str] = []

    async def chat(name: str, n: int) -> None:
        for _ in range(n):
            await pacer.wait_turn(name, 0.0, Priority.INTERIM)
            order.append(name)

    await asyncio.gather(chat("busy", 10), chat("quiet", 3))
    # the quiet chat is not starved behind the busy one
    assert order.index("quiet") <= 2 and order[:8].count("quiet") == 3


def test_the_global_budget_runs_a_margin_under_the_rate() -> None:
    assert MemoryPacer(global_rate=30).spacing_s == pytest.approx(1 / 27)
    assert ScheduledPacer(MemoryBudgets(), 30, margin=0).spacing_s == pytest.approx(1 / 30)
    with pytest.raises(ValueError):
        ScheduledPacer(MemoryBudgets(), 30, margin=1)


async def _bot_wide_penalty(budgets: PaceBudgets) -> None:
    # A chat's 429 blocks that chat only ...
    assert await budgets.reserve("a", 0.0, 0.0) == (True, 0.0)
    await budgets.penalize("a", 5.0)
    assert await budgets.reserve("b", 0.0, 0.0) == (True, 0.0)
    # ... a bot-wide one blocks every chat of the bot for retry_after.
    await budgets.penalize("c", 5.0, bot_wide=True)
    for chat in ("b", "d"):
        taken, wait = await budgets.reserve(chat, 0.0, 0.0)
        assert not taken and 4.0 < wait <= 5.0


async def test_memory_bot_wide_penalty_pauses_every_chat() -> None:
    await _bot_wide_penalty(MemoryBudgets())


async def test_redis_bot_wide_penalty_pauses_every_chat_of_that_bot(
    redis_client: object, redis_prefix: str
) -> None:
    await _bot_wide_penalty(RedisBudgets(redis_client, redis_prefix + "bot1:"))  # type: ignore[arg-type]
    # Another bot's budget (another namespace) is untouched.
    other = RedisBudgets(redis_client, redis_prefix + "bot2:")  # type: ignore[arg-type]
    assert await other.reserve("b", 0.0, 0.0) == (True, 0.0)


async def test_a_bot_wide_retry_after_reaches_the_pacer() -> None:
    pacer = MemoryPacer(global_rate=1000)
    await pacer.wait_turn("x", 0.0, Priority.FINAL)
    await pacer.penalize("x", 0.3, bot_wide=True)
    start = time.monotonic()
    await pacer.wait_turn("y", 0.0, Priority.FINAL)  # another chat of the same bot waits
    assert time.monotonic() - start >= 0.29
