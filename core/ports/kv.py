"""Fast shared state, in Redis when there is one (``storage/kv``): rate limits, link codes,
Stop flags and small shared flags."""

from __future__ import annotations

from typing import Protocol


class RateLimiter(Protocol):
    async def acquire(
        self, account_id: int, request_id: str, per_minute: int, concurrent: int
    ) -> float | None:
        """Admit one request atomically: None when admitted, otherwise the seconds to wait
        (0.0 when the in-flight limit, not the rate, refused it)."""
        ...

    async def release(self, account_id: int, request_id: str) -> None: ...


class LinkCodes(Protocol):
    async def create(self, account_id: int, ttl_s: int) -> str: ...

    async def consume(self, code: str) -> int | None:
        """The account that asked for the code, once; None when unknown or expired."""
        ...


class StopSignals(Protocol):
    async def request_stop(self, request_id: str) -> None: ...

    async def is_stopped(self, request_id: str) -> bool: ...


class SharedFlags(Protocol):
    """Small short-lived values every worker sees: which answer a Telegram draft belongs to,
    which update was taken, which Slack threads the bot follows. Keys are namespaced by
    whoever hands the port to an adapter; values are plain strings."""

    async def put(self, key: str, value: str, ttl_s: float) -> None: ...

    async def get(self, key: str) -> str | None: ...

    async def claim(self, key: str, ttl_s: float) -> bool:
        """Set ``key`` only if it is not set: True for the first caller within ``ttl_s``."""
        ...
