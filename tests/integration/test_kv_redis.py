"""storage.kv on a real Redis, and its fallback when Redis is dead or stops mid-run."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from storage.kv import (
    FallbackLinkCodes,
    FallbackRateLimiter,
    FallbackStopSignals,
    KvConfigError,
    MemoryLinkCodes,
    MemoryRateLimiter,
    MemoryStopSignals,
    RedisBreaker,
    RedisLinkCodes,
    RedisRateLimiter,
    RedisStopSignals,
    open_kv,
)
from tests.fakes.tcp_proxy import TcpProxy


def _client(url: str) -> Redis:
    return Redis.from_url(
        url, socket_connect_timeout=0.5, socket_timeout=1.0, retry=Retry(NoBackoff(), 1)
    )


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[Redis]:
    redis = _client(redis_url)
    yield redis
    await redis.aclose()


@pytest.mark.redis
async def test_rate_limit_admits_n_per_minute(client: Redis, redis_prefix: str) -> None:
    limiter = RedisRateLimiter(client, redis_prefix)
    for i in range(3):
        assert await limiter.acquire(1, f"r{i}", per_minute=3, concurrent=0) is None
    wait = await limiter.acquire(1, "r3", per_minute=3, concurrent=0)
    assert wait is not None and 59.0 < wait <= 60.0
    assert await limiter.acquire(2, "r3", per_minute=3, concurrent=0) is None
    assert await limiter.acquire(1, "r0", per_minute=3, concurrent=0) is None  # counted once


@pytest.mark.redis
async def test_concurrency_limit_and_release(client: Redis, redis_prefix: str) -> None:
    limiter = RedisRateLimiter(client, redis_prefix)
    for i in range(2):
        assert await limiter.acquire(1, f"r{i}", per_minute=10, concurrent=2) is None
    assert await limiter.acquire(1, "r2", per_minute=10, concurrent=2) == 0.0
    await limiter.release(1, "r1")
    assert await limiter.acquire(1, "r2", per_minute=10, concurrent=2) is None
    assert await limiter.acquire(1, "r3", per_minute=10, concurrent=2) == 0.0


@pytest.mark.redis
async def test_fifty_concurrent_acquires_admit_exactly_five(
    client: Redis, redis_prefix: str
) -> None:
    limiter = RedisRateLimiter(client, redis_prefix)
    results = await asyncio.gather(
        *(limiter.acquire(7, f"r{i}", per_minute=0, concurrent=5) for i in range(50))
    )
    assert sum(result is None for result in results) == 5
    assert all(result in (None, 0.0) for result in results)


@pytest.mark.redis
async def test_stale_in_flight_slots_expire(client: Redis, redis_prefix: str) -> None:
    limiter = RedisRateLimiter(client, redis_prefix, lease_s=0.3)
    assert await limiter.acquire(1, "crashed", per_minute=0, concurrent=1) is None
    assert await limiter.acquire(1, "next", per_minute=0, concurrent=1) == 0.0
    await asyncio.sleep(0.4)
    assert await limiter.acquire(1, "next", per_minute=0, concurrent=1) is None


@pytest.mark.redis
async def test_link_codes(client: Redis, redis_prefix: str) -> None:
    codes = RedisLinkCodes(client, redis_prefix)
    code = await codes.create(42, ttl_s=60)
    assert await codes.consume(f" {code.lower()} ") == 42
    assert await codes.consume(code) is None
    short = await codes.create(43, ttl_s=1)
    await asyncio.sleep(1.2)
    assert await codes.consume(short) is None


@pytest.mark.redis
async def test_stop_flags(client: Redis, redis_prefix: str) -> None:
    stops = RedisStopSignals(client, redis_prefix)
    assert not await stops.is_stopped("req-1")
    await stops.request_stop("req-1")
    assert await stops.is_stopped("req-1")
    assert not await stops.is_stopped("req-2")


@pytest.mark.redis
async def test_every_key_expires(client: Redis, redis_prefix: str) -> None:
    await RedisRateLimiter(client, redis_prefix).acquire(1, "r", per_minute=5, concurrent=5)
    await RedisLinkCodes(client, redis_prefix).create(1, ttl_s=600)
    await RedisStopSignals(client, redis_prefix).request_stop("r")
    keys = [key async for key in client.scan_iter(match=f"{redis_prefix}*")]
    assert len(keys) == 4
    for key in keys:
        assert await client.pttl(key) > 0, key


async def test_dead_redis_falls_back_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    services = await open_kv("redis://:hunter2@127.0.0.1:1/0", retry_interval_s=60)
    try:
        assert services.degraded
        for i in range(10):
            assert await services.rate_limiter.acquire(1, f"r{i}", 100, 100) is None
            await services.rate_limiter.release(1, f"r{i}")
        code = await services.link_codes.create(3, ttl_s=60)
        assert await services.link_codes.consume(code) == 3
        await services.stop_signals.request_stop("s")
        assert await services.stop_signals.is_stopped("s")
    finally:
        await services.aclose()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "Redis unreachable" in warnings[0]
    assert "hunter2" not in caplog.text


@pytest.mark.redis
async def test_open_kv_on_live_redis(redis_url: str, redis_prefix: str) -> None:
    services = await open_kv(redis_url, redis_prefix)
    try:
        assert services.redis is not None and not services.degraded
        await services.stop_signals.request_stop("live")
        assert await services.redis.exists(f"{redis_prefix}stop:live") == 1
    finally:
        await services.aclose()


async def test_hung_redis_degrades_within_the_timeouts(caplog: pytest.LogCaptureFixture) -> None:
    """A Redis that accepts connections but never answers (a frozen host)."""
    accepted: list[asyncio.StreamWriter] = []

    async def swallow(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = Redis.from_url(
        f"redis://127.0.0.1:{port}/0", socket_timeout=0.2, retry=Retry(NoBackoff(), 1)
    )
    stops = FallbackStopSignals(RedisStopSignals(client), MemoryStopSignals(), retry_interval_s=60)
    try:
        started = asyncio.get_running_loop().time()
        await stops.request_stop("req")
        assert await stops.is_stopped("req")
        for _ in range(10):
            assert not await stops.is_stopped("other")
        assert asyncio.get_running_loop().time() - started < 2.0
        assert stops.degraded and accepted
    finally:
        await client.aclose()
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()
    assert "TimeoutError" in caplog.text


@pytest.mark.redis
async def test_refused_credentials_fail_the_start(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    parts = urlsplit(redis_url)
    wrong = parts._replace(netloc=f"nosuchuser:hunter2@{parts.hostname}:{parts.port or 6379}")
    with pytest.raises(KvConfigError) as raised:
        await open_kv(wrong.geturl())
    assert "hunter2" not in str(raised.value) and "hunter2" not in caplog.text


@pytest.mark.redis
async def test_redis_stopped_mid_run(
    redis_url: str, redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="storage.kv")
    parts = urlsplit(redis_url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 6379)
    await proxy.start()
    client = _client(f"redis://127.0.0.1:{proxy.port}{parts.path}")
    breaker = RedisBreaker(retry_interval_s=0.5)
    backup = MemoryRateLimiter()
    limiter = FallbackRateLimiter(RedisRateLimiter(client, redis_prefix), backup, breaker=breaker)
    codes = FallbackLinkCodes(
        RedisLinkCodes(client, redis_prefix), MemoryLinkCodes(), breaker=breaker
    )
    stops = FallbackStopSignals(
        RedisStopSignals(client, redis_prefix), MemoryStopSignals(), breaker=breaker
    )
    try:
        assert await limiter.acquire(1, "before", 10, 1) is None
        code = await codes.create(5, ttl_s=60)
        assert not limiter.degraded

        await proxy.stop()
        assert await limiter.acquire(2, "during", 10, 1) is None  # admitted by the backup
        assert limiter.degraded
        await limiter.release(1, "before")  # Redis cannot take it now: owed until it is back
        assert await limiter.acquire(2, "during-2", 10, 1) == 0.0
        await stops.request_stop("req")
        assert await stops.is_stopped("req")
        for _ in range(5):
            await codes.consume("ABCDEFGH")

        await proxy.start()
        await asyncio.sleep(0.6)
        assert await codes.consume(code) == 5  # from Redis, written before the outage
        assert not limiter.degraded and not codes.degraded
        assert await limiter.acquire(1, "after", 10, 1) is None  # the owed release went out
        assert await limiter.acquire(1, "after-2", 10, 1) == 0.0  # and Redis counts again
        await limiter.release(2, "during")  # goes to the backup that admitted it
        assert await backup.acquire(2, "during-3", 10, 1) is None
    finally:
        await client.aclose()
        await proxy.stop()
    messages = [r.getMessage() for r in caplog.records]
    assert sum("Redis unreachable" in m for m in messages) == 1
    assert sum("reachable again" in m for m in messages) == 1
