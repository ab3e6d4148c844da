"""Password hashing: round trip, refusals, and the decoy hash that hides which usernames
exist (made on the first verify, off the event loop, never at construction)."""

from __future__ import annotations

import pytest

from core.services import passwords
from core.services.passwords import ScryptHasher


async def test_hash_and_verify() -> None:
    hasher = ScryptHasher(n=2**10)
    stored = await hasher.hash("correct horse")
    assert stored.startswith("scrypt$1024$8$1$")
    assert await hasher.verify("correct horse", stored)
    assert not await hasher.verify("wrong horse", stored)
    assert not await hasher.verify("correct horse", None)  # no such user
    assert not await hasher.verify("correct horse", "bcrypt$whatever")
    assert not await hasher.verify("correct horse", "scrypt$not$numbers$at$all$x")
    with pytest.raises(ValueError):
        ScryptHasher(n=1000)


async def test_the_decoy_costs_nothing_until_the_first_verify(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[int] = []
    derive = passwords._derive

    def counting(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
        calls.append(n)
        return derive(password, salt, n, r, p)

    monkeypatch.setattr(passwords, "_derive", counting)
    hasher = ScryptHasher(n=2**10)
    assert calls == []  # building an app's hasher blocks nothing
    stored = await hasher.hash("secret words")
    calls.clear()
    assert await hasher.verify("secret words", stored)
    assert len(calls) == 2  # the first verify makes the decoy too, whoever asks
    calls.clear()
    assert not await hasher.verify("secret words", None)
    assert len(calls) == 1  # an unknown user costs one hash, like a known one
