"""The pacing budgets and the login limits fall back to memory through the same breaker as
the other Redis services (storage.kv.fallback), on a hand-driven breaker clock. Intervals
are long (60 s) so the real clock of the memory budgets never frees a chat mid-test."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pytest
import redis.exceptions

from storage.kv import (
    FallbackBudgets,
    FallbackLoginLimiter,
    FallbackRateLimiter,
    KvServices,
    MemoryBudgets,
    MemoryLoginLimiter,
    MemoryRateLimiter,
    RedisBreaker,
    open_kv,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Outage:
    """Raises like an unreachable Redis while ``down`` is set; counts the calls made."""

    def __init__(self) -> None:
        self.down = False
        self.calls = 0

    def check(self) -> None:
        self.calls += 1
        if self.down:
            raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:1.")


class FlakyBudgets(MemoryBudgets):
    """Stands for ``RedisBudgets``: its own budgets (the "shared" ones), failing on demand."""

    def __init__(self, outage: Outage) -> None:
        super().__init__()
        self.outage = outage

    async def chat_free_in(self, chat_key: str) -> float:
        self.outage.check()
        return await super().chat_free_in(chat_key)

    async def reserve(
        self, chat_key: str, interval_s: float, spacing_s: float
    ) -> tuple[bool, float]:
        self.outage.check()
        return await super().reserve(chat_key, interval_s, spacing_s)

    async def penalize(
        self, chat_key: str, retry_after_s: float, *, bot_wide: bool = False
    ) -> None:
        self.outage.check()
        await super().penalize(chat_key, retry_after_s, bot_wide=bot_wide)


class FlakyLogins(MemoryLoginLimiter):
    def __init__(self, outage: Outage) -> None:
        super().__init__(limit=3)
        self.outage = outage

    async def retry_after(self, keys: Sequence[str]) -> float | None:
        self.outage.check()
        return await super().retry_after(keys)

    async def failed(self, keys: Sequence[str]) -> None:
        self.outage.check()
        await super().failed(keys)


async def test_budgets_fall_back_warm_and_outage_calls_still_count_after(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="storage.kv")
    clock, outage = Clock(), Outage()
    shared = FlakyBudgets(outage)
    budgets = FallbackBudgets(shared, MemoryBudgets(), breaker=RedisBreaker(5.0, clock=clock))

    assert await budgets.reserve("a", 60, 0) == (True, 0.0)
    assert await shared.chat_free_in("a") > 59  # taken in "Redis"

    outage.down = True
    taken, wait = await budgets.reserve("a", 60, 0)
    assert not taken and wait < -59, "the backup knew chat a was just called"
    assert outage.calls == 2, "a chat known taken here is refused without asking Redis"
    assert await budgets.reserve("b", 60, 0) == (True, 0.0)  # Redis failed: the backup took it
    assert budgets.degraded and outage.calls == 3
    await budgets.penalize("c", 30)
    assert await budgets.chat_free_in("c") > 29
    assert outage.calls == 3, "no Redis call before retry_interval_s"

    outage.down = False
    clock.now += 5
    taken, wait = await budgets.reserve("b", 60, 0)
    assert not taken and wait < -59, "chat b, called during the outage, is still waited for"
    assert budgets.degraded, "a refusal from memory is no probe"
    assert await shared.chat_free_in("b") == 0.0  # Redis itself never saw chat b
    assert await budgets.reserve("d", 60, 0) == (True, 0.0)  # the probe, on Redis
    assert not budgets.degraded
    assert await shared.chat_free_in("d") > 59
    assert await budgets.chat_free_in("c") > 29  # the outage's penalty is still kept

    messages = [r.getMessage() for r in caplog.records]
    assert sum("Redis unreachable" in m for m in messages) == 1
    assert sum("reachable again" in m for m in messages) == 1


async def test_budgets_global_spacing_kept_across_the_switch() -> None:
    clock, outage = Clock(), Outage()
    budgets = FallbackBudgets(
        FlakyBudgets(outage), MemoryBudgets(), breaker=RedisBreaker(5.0, clock=clock)
    )
    assert await budgets.reserve("a", 0.0, 60) == (True, 0.0)
    outage.down = True
    taken, wait = await budgets.reserve("b", 0.0, 60)
    assert not taken and wait > 59, "the global budget taken on Redis holds on the backup"


async def test_budgets_penalty_recorded_in_both() -> None:
    outage = Outage()
    shared, local = FlakyBudgets(outage), MemoryBudgets()
    budgets = FallbackBudgets(shared, local, breaker=RedisBreaker(5.0, clock=Clock()))
    await budgets.penalize("a", 30)
    assert await shared.chat_free_in("a") > 29 and await local.chat_free_in("a") > 29
    assert await budgets.chat_free_in("a") > 29


async def test_login_limits_fall_back_and_outage_failures_still_count() -> None:
    clock, outage = Clock(), Outage()
    shared = FlakyLogins(outage)
    limits = FallbackLoginLimiter(
        shared, MemoryLoginLimiter(limit=3), breaker=RedisBreaker(5.0, clock=clock)
    )
    await limits.failed(["user:x"])
    assert await limits.retry_after(["user:x"]) is None

    outage.down = True
    for _ in range(3):
        await limits.failed(["user:y"])
    assert limits.degraded
    wait = await limits.retry_after(["user:y"])
    assert wait is not None and wait > 0

    outage.down = False
    clock.now += 5
    assert await shared.retry_after(["user:y"]) is None  # Redis never saw them
    wait = await limits.retry_after(["user:y"])
    assert wait is not None and wait > 0, "the failures counted during the outage still count"
    assert not limits.degraded


async def test_one_breaker_for_every_service_of_open_kv(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="storage.kv")
    services = await open_kv("redis://127.0.0.1:1/0", retry_interval_s=60)
    try:
        assert services.degraded
        budgets = services.pace_budgets("sb:pace:tg:")
        logins = services.login_limiter("sb:login:")
        assert isinstance(budgets, FallbackBudgets) and isinstance(logins, FallbackLoginLimiter)
        assert isinstance(services.rate_limiter, FallbackRateLimiter)
        assert budgets.degraded and logins.degraded  # the same breaker, already tripped
        assert await budgets.reserve("a", 60, 0) == (True, 0.0)
        await logins.failed(["user:z"])
        assert await services.rate_limiter.acquire(1, "r", 10, 1) is None
    finally:
        await services.aclose()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "Redis unreachable" in warnings[0].getMessage()


async def test_memory_only_services_without_redis() -> None:
    services = await open_kv(None)
    assert isinstance(services, KvServices)
    assert type(services.pace_budgets("sb:pace:tg:")) is MemoryBudgets
    assert type(services.login_limiter("sb:login:")) is MemoryLoginLimiter
    assert isinstance(services.rate_limiter, MemoryRateLimiter)
    await services.aclose()
