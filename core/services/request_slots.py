"""The rate and in-flight limits of one request: the API key's requests per minute (under
the key's negative id), then the account's (its role's) requests per minute and
in-flight slots, on the one ``RateLimiter``.

The gate takes a paid request's slots here; a call that passes no gate because it
costs nothing (the free /v1/files routes) takes them with ``held``, for as long as it
runs."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from core.errors import RateLimited, TooManyInFlight
from core.ports import RateLimiter
from core.services.billing import uncancellable
from core.services.config import CoreConfig
from core.services.requests import new_request_id
from core.types import Account, KeyLimits


class RequestSlots:
    def __init__(self, limiter: RateLimiter, config: CoreConfig) -> None:
        self._limiter = limiter
        self._config = config

    async def acquire(self, account: Account, key: KeyLimits | None, request_id: str) -> None:
        """Count ``request_id`` against the key's and the account's limits, and take one
        of the account's in-flight slots; raises ``RateLimited`` (with the seconds to
        wait) or ``TooManyInFlight``. ``release`` gives the in-flight slot back."""
        if key is not None and key.per_minute:
            # First, as the gate does: a refusal here leaves no account slot to release.
            wait = await self._limiter.acquire(-key.key_id, request_id, key.per_minute, 0)
            if wait is not None:
                raise RateLimited(retry_after=max(1, math.ceil(wait)))
        limits = self._config.role_limits[account.role]
        wait = await self._limiter.acquire(
            account.id, request_id, limits.per_minute, limits.concurrent
        )
        if wait is not None:
            if wait > 0:
                raise RateLimited(retry_after=max(1, math.ceil(wait)))
            raise TooManyInFlight(limit=limits.concurrent)

    async def release(self, account_id: int, request_id: str) -> None:
        await self._limiter.release(account_id, request_id)

    @asynccontextmanager
    async def held(self, account: Account, key: KeyLimits | None) -> AsyncIterator[str]:
        """A slot for the block (refused before it starts); yields the request id."""
        request_id = new_request_id()
        await self.acquire(account, key, request_id)
        try:
            yield request_id
        finally:
            await uncancellable(self.release(account.id, request_id))
