"""Ports of the HTTP API's use cases (accounts with passwords, tokens, API keys, idempotent
grants, the user directory). ``storage.repositories_api`` implements them for SQL and
``tests/fakes/memory_api.py`` in memory; ``bots/api/tokens.py`` implements ``TokenCodec``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from core.ports import UnitOfWork
from core.types import Account, Exchange, Identity


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
class ApiKeyRecord:
    id: int
    credential_id: int
    prefix: str
    name: str | None
    revoked: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class GrantRecord:
    """An idempotent grant as first answered; replayed for a repeat of its key."""

    request_hash: str
    account_id: int
    amount: int
    balance: int
    reason: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class UserEntry:
    account: Account
    identities: list[Identity]


class CredentialRepository(Protocol):
    async def get(self, username: str) -> Credential | None: ...

    async def get_by_id(self, credential_id: int) -> Credential | None: ...

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


class SecurityRepository(Protocol):
    async def version(self, account_id: int) -> int: ...

    async def bump(self, account_id: int) -> int:
        """Refuse every token issued so far for the account; returns the new version."""
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
        self, credential_id: int, key_hash: str, prefix: str, name: str | None
    ) -> int: ...

    async def find(self, key_hash: str) -> ApiKeyRecord | None:
        """A key that is not revoked."""
        ...

    async def list(self, credential_id: int) -> list[ApiKeyRecord]: ...

    async def revoke(self, credential_id: int, key_id: int) -> bool: ...


class IdempotencyRepository(Protocol):
    async def get(self, actor_account_id: int, key: str) -> GrantRecord | None: ...

    async def put(self, actor_account_id: int, key: str, record: GrantRecord) -> bool:
        """False when the key was stored meanwhile (unique key)."""
        ...


class DirectoryRepository(Protocol):
    async def search(
        self, query: str | None, offset: int, limit: int
    ) -> tuple[list[UserEntry], int]:
        """Accounts (not merged away) matching ``query`` in a name or user id, oldest
        first, and how many match in all."""
        ...

    async def exchange(self, request_id: str) -> tuple[int, Exchange] | None:
        """One request and its answer, with the account it belongs to."""
        ...

    async def erase(self, account_id: int) -> None:
        """Delete the account and everything that is its data."""
        ...


class ApiUnitOfWork(UnitOfWork, Protocol):
    credentials: CredentialRepository
    security: SecurityRepository
    refresh_tokens: RefreshTokenRepository
    api_keys: ApiKeyRepository
    idempotency: IdempotencyRepository
    directory: DirectoryRepository


ApiUnitOfWorkFactory = Callable[[], ApiUnitOfWork]


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
