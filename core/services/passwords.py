"""Password hashing with scrypt (stdlib, memory-hard), run off the event loop.

Stored as ``scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>`` so that raising the cost later
still verifies old hashes. Defaults: n=2**15, r=8, p=1 (32 MiB and ~0.1 s a hash on one
core), 16-byte random salt, 32-byte key."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets

DEFAULT_N = 2**15
DEFAULT_R = 8
DEFAULT_P = 1
_KEY_BYTES = 32


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    # maxmem must exceed 128 * r * n * p or OpenSSL refuses the parameters.
    return hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        maxmem=256 * r * n * p + 2**20,
        dklen=_KEY_BYTES,
    )


class ScryptHasher:
    def __init__(self, n: int = DEFAULT_N, r: int = DEFAULT_R, p: int = DEFAULT_P) -> None:
        if n < 2 or n & (n - 1):
            raise ValueError("scrypt n must be a power of two")
        self._params = (n, r, p)
        # Verifying against this when the user does not exist costs the same time, so
        # response times do not tell which usernames exist. Made off the event loop on the
        # first verify, not here: every app builds a hasher (about 0.2 s of blocked loop
        # at n=2**15 on this machine), and messenger-only deployments never verify.
        self._dummy: str | None = None

    def _hash_sync(self, password: str) -> str:
        n, r, p = self._params
        salt = secrets.token_bytes(16)
        key = _derive(password, salt, n, r, p)
        return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(key)}"

    @staticmethod
    def _verify_sync(password: str, stored: str) -> bool:
        try:
            name, n, r, p, salt, key = stored.split("$")
            if name != "scrypt":
                return False
            expected = base64.b64decode(key)
            actual = _derive(password, base64.b64decode(salt), int(n), int(r), int(p))
        except ValueError:
            return False
        return hmac.compare_digest(actual, expected)

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hash_sync, password)

    async def verify(self, password: str, stored: str | None) -> bool:
        """``stored`` None (no such user) still costs one hash."""
        dummy = self._dummy
        if dummy is None:
            # On the first verify whatever the user, so this first one's extra time says
            # nothing about whether the user exists.
            dummy = self._dummy = await asyncio.to_thread(self._hash_sync, secrets.token_hex(8))
        ok = await asyncio.to_thread(self._verify_sync, password, stored or dummy)
        return ok and stored is not None
