"""The in-process stand-ins of storage.kv and the fallback breaker, on a hand-driven clock."""

from __future__ import annotations

import asyncio
import logging

import pytest
import redis.exceptions

from storage.kv import (
    FallbackLinkCodes,
    FallbackRateLimiter,
    FallbackStopSignals,
    KvServices,
    MemoryLinkCodes,
    MemoryRateLimiter,
    MemoryStopSignals,
    RedisBreaker,
    open_kv,
)
from storage.kv.link_codes import ALPHABET, CODE_LENGTH


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


async def test_rate_admits_n_per_minute_then_says_how_long(clock: Clock) -> None:
    limiter = MemoryRateLimiter(clock=clock)
    for i in range(3):
        assert await limiter.acquire(1, f"r{i}", per_minute=3, concurrent=0) is None
        clock.now += 10
    wait = await limiter.acquire(1, "r3", per_minute=3, concurrent=0)
    # The first admission was 30 s ago: it leaves the window in 30 s.
    assert wait == pytest.approx(30.0)
    assert await limiter.acquire(2, "other-account", per_minute=3, concurrent=0) is None
    clock.now += 30
    assert await limiter.acquire(1, "r3", per_minute=3, concurrent=0) is None
    assert await limiter.acquire(1, "r4", per_minute=3, concurrent=0) == pytest.approx(10.0)


async def test_concurrency_admits_k_and_release_frees_one(clock: Clock) -> None:
    limiter = MemoryRateLimiter(clock=clock)
    for i in range(2):
        assert await limiter.acquire(1, f"r{i}", per_minute=0, concurrent=2) is None
    assert await limiter.acquire(1, "r2", per_minute=0, concurrent=2) == 0.0
    await limiter.release(1, "r0")
    assert await limiter.acquire(1, "r2", per_minute=0, concurrent=2) is None
    assert await limiter.acquire(1, "r3", per_minute=0, concurrent=2) == 0.0


async def test_stale_in_flight_slots_free_themselves(clock: Clock) -> None:
    limiter = MemoryRateLimiter(lease_s=900, clock=clock)
    assert await limiter.acquire(1, "crashed", per_minute=0, concurrent=1) is None
    clock.now += 899
    assert await limiter.acquire(1, "next", per_minute=0, concurrent=1) == 0.0
    clock.now += 2
    assert await limiter.acquire(1, "next", per_minute=0, concurrent=1) is None


async def test_in_flight_refusal_does_not_use_up_the_rate(clock: Clock) -> None:
    limiter = MemoryRateLimiter(clock=clock)
    assert await limiter.acquire(1, "a", per_minute=2, concurrent=1) is None
    for _ in range(5):
        assert await limiter.acquire(1, "b", per_minute=2, concurrent=1) == 0.0
    await limiter.release(1, "a")
    assert await limiter.acquire(1, "b", per_minute=2, concurrent=1) is None
    await limiter.release(1, "b")
    wait = await limiter.acquire(1, "c", per_minute=2, concurrent=1)
    assert wait is not None and wait > 0


async def test_zero_means_unlimited_and_same_request_counts_once(clock: Clock) -> None:
    limiter = MemoryRateLimiter(clock=clock)
    for i in range(200):
        assert await limiter.acquire(1, f"r{i}", per_minute=0, concurrent=0) is None
    for _ in range(3):
        assert await limiter.acquire(2, "same", per_minute=1, concurrent=1) is None
    assert await limiter.acquire(2, "another", per_minute=1, concurrent=5) is not None


async def test_lowered_limit_waits_for_enough_to_leave_the_window(clock: Clock) -> None:
    limiter = MemoryRateLimiter(clock=clock)
    for i in range(4):
        assert await limiter.acquire(1, f"r{i}", per_minute=10, concurrent=0) is None
        clock.now += 1
    # Four recorded at t-4..t-1; under a limit of 2 only one may stay: t-2 leaves at t+58.
    assert await limiter.acquire(1, "x", per_minute=2, concurrent=0) == pytest.approx(58.0)


async def test_fifty_concurrent_acquires_admit_exactly_five() -> None:
    limiter = MemoryRateLimiter()
    results = await asyncio.gather(
        *(limiter.acquire(7, f"r{i}", per_minute=0, concurrent=5) for i in range(50))
    )
    assert sum(result is None for result in results) == 5
    assert all(result in (None, 0.0) for result in results)


async def test_link_code_is_consumed_once_case_insensitively(clock: Clock) -> None:
    codes = MemoryLinkCodes(clock=clock)
    code = await codes.create(42, ttl_s=600)
    assert len(code) == CODE_LENGTH and set(code) <= set(ALPHABET)
    typed = f" {code[:4].lower()}-{code[4:].lower()} "
    assert await codes.consume(typed) == 42
    assert await codes.consume(code) is None


async def test_link_code_expires_and_rejects_junk(clock: Clock) -> None:
    codes = MemoryLinkCodes(clock=clock)
    code = await codes.create(42, ttl_s=60)
    clock.now += 61
    assert await codes.consume(code) is None
    assert await codes.consume("") is None
    assert await codes.consume("O0I1L0O0") is None
    with pytest.raises(ValueError):
        await codes.create(42, ttl_s=0)


async def test_link_codes_differ() -> None:
    codes = MemoryLinkCodes()
    made = {await codes.create(i, ttl_s=60) for i in range(50)}
    assert len(made) == 50


async def test_stop_flags(clock: Clock) -> None:
    stops = MemoryStopSignals(ttl_s=3600, clock=clock)
    assert not await stops.is_stopped("req-1")
    await stops.request_stop("req-1")
    assert await stops.is_stopped("req-1")
    assert not await stops.is_stopped("req-2")
    clock.now += 3601
    assert not await stops.is_stopped("req-1")


class FlakyLimiter:
    """A primary that fails like an unreachable Redis while ``down`` is set."""

    def __init__(self) -> None:
        self.down = False
        self.calls = 0
        self.inner = MemoryRateLimiter()

    def _check(self) -> None:
        self.calls += 1
        if self.down:
            raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:1.")

    async def acquire(
        self, account_id: int, request_id: str, per_minute: int, concurrent: int
    ) -> float | None:
        self._check()
        return await self.inner.acquire(account_id, request_id, per_minute, concurrent)

    async def release(self, account_id: int, request_id: str) -> None:
        self._check()
        await self.inner.release(account_id, request_id)


async def test_breaker_falls_back_probes_sparingly_and_recovers(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="storage.kv")
    primary, backup = FlakyLimiter(), MemoryRateLimiter()
    limiter = FallbackRateLimiter(primary, backup, breaker=RedisBreaker(5.0, clock=clock))
    assert await limiter.acquire(1, "up", 0, 1) is None
    assert not limiter.degraded
    await limiter.release(1, "up")

    primary.down = True
    primary.calls = 0
    assert await limiter.acquire(1, "b1", 0, 1) is None  # on the backup
    assert limiter.degraded
    assert await limiter.acquire(1, "b2", 0, 1) == 0.0  # the backup enforces the limit too
    for _ in range(20):
        await limiter.acquire(2, "x", 0, 0)
    assert primary.calls == 1, "Redis is not retried before retry_interval_s"
    clock.now += 5
    await limiter.acquire(3, "probe", 0, 1)
    assert primary.calls == 2 and limiter.degraded

    primary.down = False
    clock.now += 5
    assert await limiter.acquire(1, "back", 0, 1) is None
    assert not limiter.degraded
    await limiter.release(1, "b1")  # admitted by the backup: released there
    assert await backup.acquire(1, "b3", 0, 1) is None

    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    infos = [r for r in caplog.records if "reachable again" in r.getMessage()]
    assert len(warnings) == 1 and "Redis unreachable" in warnings[0].getMessage()
    assert len(infos) == 1


async def test_other_errors_are_not_swallowed() -> None:
    class Broken(FlakyLimiter):
        async def acquire(
            self, account_id: int, request_id: str, per_minute: int, concurrent: int
        ) -> float | None:
            raise redis.exceptions.ResponseError("ERR script bug")

    limiter = FallbackRateLimiter(Broken(), MemoryRateLimiter())
    with pytest.raises(redis.exceptions.ResponseError):
        await limiter.acquire(1, "r", 1, 1)
    assert not limiter.degraded


class FlakyCodes(MemoryLinkCodes):
    def __init__(self, primary: FlakyLimiter) -> None:
        super().__init__()
        self.switch = primary

    async def create(self, account_id: int, ttl_s: int) -> str:
        self.switch._check()
        return await super().create(account_id, ttl_s)

    async def consume(self, code: str) -> int | None:
        self.switch._check()
        return await super().consume(code)


class FlakyStops(MemoryStopSignals):
    def __init__(self, primary: FlakyLimiter) -> None:
        super().__init__()
        self.switch = primary

    async def request_stop(self, request_id: str) -> None:
        self.switch._check()
        await super().request_stop(request_id)

    async def is_stopped(self, request_id: str) -> bool:
        self.switch._check()
        return await super().is_stopped(request_id)


async def test_codes_and_stops_made_during_an_outage_still_work(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    switch = FlakyLimiter()
    breaker = RedisBreaker(5.0, clock=clock)
    primary_stops = FlakyStops(switch)
    codes = FallbackLinkCodes(FlakyCodes(switch), MemoryLinkCodes(), breaker=breaker)
    stops = FallbackStopSignals(primary_stops, MemoryStopSignals(), breaker=breaker)
    limiter = FallbackRateLimiter(switch, MemoryRateLimiter(), breaker=breaker)
    switch.down = True
    code = await codes.create(9, ttl_s=60)
    await stops.request_stop("req")
    await limiter.acquire(1, "r", 1, 1)
    assert codes.degraded and stops.degraded and limiter.degraded
    switch.down = False
    clock.now += 5
    assert await codes.consume(code) == 9
    assert not stops.degraded
    assert await stops.is_stopped("req")
    assert not await primary_stops.is_stopped("req")
    # One breaker for the three: one warning for the outage, not one per service.
    assert sum(r.levelno == logging.WARNING for r in caplog.records) == 1


async def test_open_kv_without_redis_is_memory_only() -> None:
    services = await open_kv(None)
    assert isinstance(services, KvServices)
    assert services.redis is None and not services.degraded
    assert isinstance(services.rate_limiter, MemoryRateLimiter)
    code = await services.link_codes.create(5, ttl_s=60)
    assert await services.link_codes.consume(code) == 5
    await services.aclose()
