"""One-time codes that join a platform identity to an existing account, kept in Redis.

A code is said on one platform and typed on another, so it is short, avoids look-alike
characters and is read back case-insensitively; GETDEL makes it usable exactly once."""

from __future__ import annotations

import secrets

from redis.asyncio import Redis

# No 0/O, 1/I/L: people copy these codes by eye from one app into another.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
_CREATE_ATTEMPTS = 5


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(typed: str) -> str | None:
    """The canonical form of what a person typed, or None when it cannot be a code."""
    code = "".join(typed.split()).replace("-", "").upper()
    if len(code) != CODE_LENGTH or any(char not in ALPHABET for char in code):
        return None
    return code


def check_ttl(ttl_s: int) -> None:
    if ttl_s <= 0:
        raise ValueError("ttl_s must be positive")


class RedisLinkCodes:
    """``LinkCodes`` on Redis: ``{prefix}link:{code}`` holds the account id until it expires."""

    def __init__(self, client: Redis, prefix: str = "sb:") -> None:
        self._client = client
        self._prefix = prefix

    def _key(self, code: str) -> str:
        return f"{self._prefix}link:{code}"

    async def create(self, account_id: int, ttl_s: int) -> str:
        check_ttl(ttl_s)
        # NX so a (very unlikely) collision never hands someone else's code a new owner.
        for _ in range(_CREATE_ATTEMPTS):
            code = new_code()
            if await self._client.set(self._key(code), str(account_id), nx=True, ex=ttl_s):
                return code
        raise RuntimeError("could not find a free link code")

    async def consume(self, code: str) -> int | None:
        canonical = normalize_code(code)
        if canonical is None:
            return None
        value = await self._client.getdel(self._key(canonical))
        if value is None:
            return None
        return int(value)
