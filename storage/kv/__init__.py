"""Fast shared state (rate limits, link codes, Stop flags, shared flags, pacing budgets, login
limits) in Redis, with in-process stand-ins: memory-only when no Redis is configured, and an
automatic fallback while Redis is down, every service behind one ``RedisBreaker``.

``open_kv`` is the one entry point the composition root calls."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import AuthenticationError, AuthorizationError

from core.ports import LinkCodes, LoginLimiter, RateLimiter, SharedFlags, StopSignals
from storage.kv.breaker import RedisBreaker
from storage.kv.fallback import (
    FallbackBudgets,
    FallbackLinkCodes,
    FallbackLoginLimiter,
    FallbackRateLimiter,
    FallbackSharedFlags,
    FallbackStopSignals,
)
from storage.kv.flags import MemorySharedFlags, NamespacedFlags, RedisSharedFlags
from storage.kv.link_codes import RedisLinkCodes
from storage.kv.login_limits import MemoryLoginLimiter, RedisLoginLimiter
from storage.kv.memory import MemoryLinkCodes, MemoryRateLimiter, MemoryStopSignals
from storage.kv.pace_budgets import Budgets, MemoryBudgets, RedisBudgets
from storage.kv.rate_limits import RedisRateLimiter
from storage.kv.stop_signals import RedisStopSignals

logger = logging.getLogger(__name__)

# Short, so that a dead Redis costs a call half a second before the fallback takes over,
# not the operating system's connect timeout.
CONNECT_TIMEOUT_S = 0.5
READ_TIMEOUT_S = 1.0


class KvConfigError(RuntimeError):
    """Redis is there but will not have us (credentials)."""


@dataclass(frozen=True)
class KvServices:
    """What ``open_kv`` opened. ``redis`` is None when running on memory only."""

    rate_limiter: RateLimiter
    link_codes: LinkCodes
    stop_signals: StopSignals
    redis: Redis | None
    breaker: RedisBreaker | None = None
    shared_flags: SharedFlags | None = None

    def flags(self, namespace: str) -> SharedFlags:
        """Shared flags for one adapter (``namespace`` such as ``"tg:123:"``)."""
        if self.shared_flags is None:
            raise RuntimeError("KvServices built without shared flags")
        return NamespacedFlags(self.shared_flags, namespace)

    def pace_budgets(self, prefix: str) -> Budgets:
        """Pacing budgets for one bot under the Redis key ``prefix``: in Redis with the
        in-process budgets standing in while it is unreachable, or in-process only."""
        if self.redis is None:
            return MemoryBudgets()
        return FallbackBudgets(
            RedisBudgets(self.redis, prefix=prefix), MemoryBudgets(), breaker=self._breaker()
        )

    def login_limiter(self, prefix: str) -> LoginLimiter:
        """Failed-login counters under the Redis key ``prefix``, with the same fallback."""
        if self.redis is None:
            return MemoryLoginLimiter()
        return FallbackLoginLimiter(
            RedisLoginLimiter(self.redis, prefix=prefix),
            MemoryLoginLimiter(),
            breaker=self._breaker(),
        )

    def _breaker(self) -> RedisBreaker:
        if self.breaker is None:
            raise RuntimeError("KvServices with Redis but without its breaker")
        return self.breaker

    @property
    def degraded(self) -> bool:
        """True while Redis is configured but unreachable (limits are per process)."""
        return self.breaker is not None and self.breaker.degraded

    async def aclose(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()


def redacted_url(url: str) -> str:
    """The URL without its credentials (user info, and the query, which may carry a
    ``password=``), fit for a log line."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    if netloc != parts.netloc:
        netloc = f"***@{netloc}"
    return parts._replace(netloc=netloc, query="", fragment="").geturl()


async def open_kv(
    redis_url: str | None, prefix: str = "sb:", *, retry_interval_s: float = 5.0
) -> KvServices:
    """Open the shared-state services; close them with ``aclose()``.

    An unreachable Redis at start is not fatal: the services start degraded (one warning)
    and move to Redis once it answers. Credentials Redis refuses raise ``KvConfigError``."""
    if not redis_url:
        logger.info("No Redis configured: rate limits, codes, flags and pacing are per-process")
        return KvServices(
            MemoryRateLimiter(),
            MemoryLinkCodes(),
            MemoryStopSignals(),
            None,
            shared_flags=MemorySharedFlags(),
        )
    client = Redis.from_url(
        redis_url,
        socket_connect_timeout=CONNECT_TIMEOUT_S,
        socket_timeout=READ_TIMEOUT_S,
        # One quick retry covers a pooled connection that went stale when Redis restarted;
        # more would only delay the fallback.
        retry=Retry(NoBackoff(), 1),
    )
    breaker = RedisBreaker(retry_interval_s)
    services = KvServices(
        FallbackRateLimiter(RedisRateLimiter(client, prefix), MemoryRateLimiter(), breaker=breaker),
        FallbackLinkCodes(RedisLinkCodes(client, prefix), MemoryLinkCodes(), breaker=breaker),
        FallbackStopSignals(RedisStopSignals(client, prefix), MemoryStopSignals(), breaker=breaker),
        client,
        breaker,
        shared_flags=FallbackSharedFlags(
            RedisSharedFlags(client, prefix), MemorySharedFlags(), breaker=breaker
        ),
    )

    async def ping() -> None:
        try:
            await client.ping()
        except (AuthenticationError, AuthorizationError) as exc:
            # Wrong credentials will not fix themselves: fail the start, loudly.
            raise KvConfigError(f"Redis refused the credentials: {exc}") from exc

    async def stay_degraded() -> None:
        return None

    try:
        await breaker.call(ping, stay_degraded)
    except BaseException:
        await client.aclose()
        raise
    logger.info("Shared state in Redis at %s, key prefix %r", redacted_url(redis_url), prefix)
    return services


__all__ = [
    "FallbackBudgets",
    "FallbackLinkCodes",
    "FallbackLoginLimiter",
    "FallbackRateLimiter",
    "FallbackSharedFlags",
    "FallbackStopSignals",
    "KvConfigError",
    "KvServices",
    "MemoryBudgets",
    "MemoryLinkCodes",
    "MemoryLoginLimiter",
    "MemoryRateLimiter",
    "MemorySharedFlags",
    "MemoryStopSignals",
    "RedisBreaker",
    "RedisBudgets",
    "RedisLinkCodes",
    "RedisLoginLimiter",
    "RedisRateLimiter",
    "RedisSharedFlags",
    "RedisStopSignals",
    "open_kv",
    "redacted_url",
]
