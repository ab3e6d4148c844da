"""Signing in over HTTP: username/password credentials, refresh tokens, API keys, the token
codec (JWT in ``bots/api/tokens.py``) and the login limiter."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from core.types import Account, KeyLimits


@dataclass(frozen=True, slots=True)
class Credential:
    id: int
    username: str
    account_id: int  # the account at registration; the identity follows links
    password_hash: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class RefreshRecord:
    token_hash: str
    family_id: str
    username: str
    used: bool
    revoked: bool
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class KeyOptions:
    """The limits an owner sets on a key; None is "no limit". On an update only the
    fields named in ``given`` change (so a limit can be removed by giving None)."""

    budget: int | None = None
    expires_at: datetime | None = None
    models: frozenset[str] | None = None
    per_minute: int | None = None
    given: frozenset[str] = frozenset({"budget", "expires_at", "models", "per_minute"})


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    id: int
    credential_id: int
    prefix: str
    name: str | None
    revoked: bool
    created_at: datetime
    budget: int | None = None
    expires_at: datetime | None = None
    models: frozenset[str] | None = None
    per_minute: int | None = None
    spent: int = 0  # settled charges plus what open requests hold, in micro-credits
    requests: int = 0  # settled requests
    last_used_at: datetime | None = None

    @property
    def limits(self) -> KeyLimits:
        return KeyLimits(self.id, self.budget, self.expires_at, self.models, self.per_minute)


@dataclass(frozen=True, slots=True)
class KeyPrincipal:
    """What a live API key signs in as: the key, its owner's credential, and the account
    the owner's ``api`` identity points at now (it follows links)."""

    key: ApiKeyRecord
    credential: Credential
    account: Account


@dataclass(frozen=True, slots=True)
class SessionPrincipal:
    """What a username in a session token signs in as, and the account's security
    version now (0 while it was never bumped), to compare with the token's."""

    credential: Credential
    account: Account
    security_version: int


class CredentialRepository(Protocol):
    async def get(self, username: str) -> Credential | None: ...

    async def get_by_id(self, credential_id: int) -> Credential | None: ...

    async def find_principal(self, username: str) -> SessionPrincipal | None:
        """One statement (authentication's hot path): the credential, the account of its
        ``api`` identity and the security version; None without credential or account."""
        ...

    async def for_account(self, account_id: int) -> list[Credential]:
        """Credentials whose ``api`` identity points at the account now."""
        ...

    async def create(self, username: str, account_id: int, password_hash: str) -> bool:
        """False (no change) when the username is taken."""
        ...

    async def set_password(self, username: str, password_hash: str) -> None: ...

    async def rename(self, old: str, new: str) -> bool:
        """Rename the credential and its identity; False when ``new`` is taken."""
        ...


class RefreshTokenRepository(Protocol):
    async def add(
        self, token_hash: str, family_id: str, username: str, expires_at: datetime
    ) -> None: ...

    async def get(self, token_hash: str) -> RefreshRecord | None: ...

    async def mark_used(self, token_hash: str) -> bool:
        """One conditional UPDATE: True only for the first caller."""
        ...

    async def revoke_family(self, family_id: str) -> None: ...

    async def revoke_user(self, username: str) -> None: ...


class ApiKeyRepository(Protocol):
    async def add(
        self,
        credential_id: int,
        key_hash: str,
        prefix: str,
        name: str | None,
        options: KeyOptions,
    ) -> int: ...

    async def find(self, key_hash: str) -> ApiKeyRecord | None:
        """A key that is not revoked."""
        ...

    async def find_principal(self, key_hash: str) -> KeyPrincipal | None:
        """One statement (authentication's hot path): a key that is not revoked, its
        credential and the account of the credential's ``api`` identity; None when any
        of them is missing. Expiry is the caller's to check."""
        ...

    async def get(self, credential_id: int, key_id: int) -> ApiKeyRecord | None:
        """The credential's key, when not revoked."""
        ...

    async def list(self, credential_id: int) -> list[ApiKeyRecord]: ...

    async def update(self, credential_id: int, key_id: int, options: KeyOptions) -> bool:
        """Change the fields ``options.given`` names; False when no such live key."""
        ...

    async def revoke(self, credential_id: int, key_id: int) -> bool: ...

    async def reserve(self, key_id: int, amount: int) -> bool:
        """One guarded conditional UPDATE: add ``amount`` to the key's spending only if
        that stays within its budget (always, without one) and the key is live. The row
        lock serialises concurrent reservations, so a key never holds past its budget."""
        ...

    async def settle(self, key_id: int, refund: int, used_at: datetime) -> None:
        """Give back ``refund`` (reserved minus charged; negative charges more), count one
        request and record its time. Runs in the settlement's transaction."""
        ...


class TokenType(StrEnum):
    ACCESS = "access"
    REFRESH = "refresh"


@dataclass(frozen=True, slots=True)
class TokenClaims:
    subject: str  # the username
    token_type: TokenType
    version: int  # the account's security version at issue
    token_id: str
    family_id: str | None = None


class InvalidToken(Exception):
    """Any token that must be refused; the reason is for logs, never for the client."""


class TokenCodec(Protocol):
    def encode(self, claims: TokenClaims, ttl_s: int) -> str: ...

    def decode(self, token: str, expected: TokenType) -> TokenClaims:
        """Raises ``InvalidToken``."""
        ...


class LoginLimiter(Protocol):
    async def retry_after(self, keys: Sequence[str]) -> float | None:
        """Seconds until a login may be tried again, when any key is over its limit."""
        ...

    async def failed(self, keys: Sequence[str]) -> None: ...
