"""``SharedFlags`` (Telegram drafts and update claims, Slack bot threads): one contract on
memory and on a real Redis, and the fallback while Redis is cut."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from core.ports import SharedFlags
from storage.kv import (
    FallbackSharedFlags,
    MemorySharedFlags,
    RedisBreaker,
    RedisSharedFlags,
    open_kv,
)
from tests.fakes.tcp_proxy import TcpProxy


def _client(url: str) -> Redis:
    return Redis.from_url(
        url, socket_connect_timeout=0.5, socket_timeout=1.0, retry=Retry(NoBackoff(), 1)
    )


@pytest.fixture
async def redis_flags(redis_url: str, redis_prefix: str) -> AsyncIterator[SharedFlags]:
    client = _client(redis_url)
    yield RedisSharedFlags(client, redis_prefix)
    await client.aclose()


async def put_get_and_expiry(flags: SharedFlags) -> None:
    assert await flags.get("draft:1") is None
    await flags.put("draft:1", "request-a", ttl_s=0.3)
    assert await flags.get("draft:1") == "request-a"
    await flags.put("draft:1", "request-b", ttl_s=0.3)
    assert await flags.get("draft:1") == "request-b"
    await asyncio.sleep(0.45)
    assert await flags.get("draft:1") is None


async def claim_is_won_once_until_it_expires(flags: SharedFlags) -> None:
    results = await asyncio.gather(*(flags.claim("update:7", ttl_s=0.3) for _ in range(20)))
    assert results.count(True) == 1
    await asyncio.sleep(0.45)
    assert await flags.claim("update:7", ttl_s=0.3) is True


CONTRACT = [put_get_and_expiry, claim_is_won_once_until_it_expires]


@pytest.mark.parametrize("check", CONTRACT)
async def test_memory_flags(check) -> None:
    await check(MemorySharedFlags())


@pytest.mark.redis
@pytest.mark.parametrize("check", CONTRACT)
async def test_redis_flags(check, redis_flags: SharedFlags) -> None:
    await check(redis_flags)


async def test_namespaces_keep_adapters_apart() -> None:
    kv = await open_kv(None)
    telegram, slack = kv.flags("tg:1:"), kv.flags("slack:")
    assert await telegram.claim("x", 5) is True
    assert await slack.claim("x", 5) is True
    await telegram.put("k", "v", 5)
    assert await slack.get("k") is None and await telegram.get("k") == "v"


@pytest.mark.redis
async def test_flags_fall_back_while_redis_is_cut(redis_url: str, redis_prefix: str) -> None:
    parts = urlsplit(redis_url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 6379)
    await proxy.start()
    client = _client(f"redis://127.0.0.1:{proxy.port}{parts.path}")
    breaker = RedisBreaker(retry_interval_s=0.5)
    flags = FallbackSharedFlags(
        RedisSharedFlags(client, redis_prefix), MemorySharedFlags(), breaker=breaker
    )
    try:
        await flags.put("before", "in-redis", ttl_s=60)
        assert await flags.claim("update:1", ttl_s=60) is True

        await proxy.stop()
        await flags.put("during", "in-memory", ttl_s=60)  # no error: the backup takes it
        assert flags.degraded
        assert await flags.get("during") == "in-memory"
        assert await flags.claim("update:2", ttl_s=60) is True
        assert await flags.claim("update:2", ttl_s=60) is False

        await proxy.start()
        await asyncio.sleep(0.6)
        assert await flags.get("before") == "in-redis"  # Redis kept it through the cut
        assert await flags.get("during") == "in-memory"  # found on the backup
        assert not flags.degraded
        assert await flags.claim("update:1", ttl_s=60) is False
    finally:
        await client.aclose()
        await proxy.stop()
