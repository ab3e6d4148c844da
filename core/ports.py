"""The protocols the use cases depend on. ``storage`` implements them for SQL and Redis;
the tests implement them in memory (tests/fakes/memory.py), and one contract suite runs
against both so the fakes stay honest."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from core.types import (
    Account,
    ChatChunk,
    ChatMessage,
    ConversationKey,
    Exchange,
    Identity,
    IdentityKey,
    LedgerEntry,
    Role,
    StatsDimension,
    StatsRow,
    StoredMessage,
    Transcript,
    UsageEvent,
)


class AccountRepository(Protocol):
    async def get(self, account_id: int) -> Account | None: ...

    async def find_by_identity(self, key: IdentityKey) -> Account | None: ...

    async def create(self, role: Role) -> Account:
        """A new account with balance 0 (credits arrive through the ledger)."""
        ...

    async def add_identity(
        self, key: IdentityKey, account_id: int, display_name: str | None
    ) -> bool:
        """Attach an identity; False (and no change) when the identity already exists."""
        ...

    async def identities(self, account_id: int) -> list[Identity]: ...

    async def find_identity_by_name(self, platform: str, display_name: str) -> Identity | None:
        """Look a person up by the name the bot has seen them under (e.g. a @username)."""
        ...

    async def update_display_name(self, key: IdentityKey, display_name: str) -> None: ...

    async def move_identities(self, from_account: int, to_account: int) -> None: ...

    async def set_role(self, account_id: int, role: Role) -> None: ...

    async def set_banned(self, account_id: int, banned: bool) -> None: ...

    async def set_language(self, account_id: int, language: str | None) -> None: ...

    async def set_chat_model(self, account_id: int, model: str | None) -> None: ...

    async def reserve(self, account_id: int, cost: int) -> int:
        """One guarded conditional UPDATE: take ``min(cost, balance)`` when the balance is
        positive. Returns what was taken (0 when the balance was at or below zero)."""
        ...

    async def add_to_balance(self, account_id: int, amount: int) -> int:
        """Add (or, negative, subtract) and return the new balance."""
        ...


class LedgerRepository(Protocol):
    async def append(self, entry: LedgerEntry) -> bool:
        """Append a row. Rows with a request id are unique per (request id, kind): a second
        one is not written and False is returned, which makes settle idempotent."""
        ...

    async def sum_for(self, account_id: int) -> int: ...

    async def entries(self, account_id: int, limit: int) -> list[LedgerEntry]:
        """Newest first."""
        ...

    async def open_holds(self, older_than: datetime) -> list[LedgerEntry]:
        """Holds with no settle row yet, created before ``older_than`` (for the sweep)."""
        ...


class ConversationRepository(Protocol):
    async def append(self, conversation: ConversationKey, *messages: StoredMessage) -> None:
        """Add messages in order (one statement for all of them)."""
        ...

    async def window(self, conversation: ConversationKey, limit: int) -> list[StoredMessage]:
        """The last ``limit`` messages since the last reset, oldest first."""
        ...

    async def reset(self, conversation: ConversationKey) -> None: ...

    async def history(self, account_id: int, limit: int) -> list[Exchange]:
        """The last ``limit`` question/answer pairs of the account, newest first."""
        ...

    async def move_account(self, from_account: int, to_account: int) -> None: ...


class UsageRepository(Protocol):
    async def record(self, event: UsageEvent) -> None: ...

    async def recent(self, account_id: int, limit: int) -> list[UsageEvent]: ...

    async def stats(
        self, since: datetime, dimension: StatsDimension, account_id: int | None = None
    ) -> list[StatsRow]: ...

    async def move_account(self, from_account: int, to_account: int) -> None: ...


class EventRepository(Protocol):
    async def record(self, platform: str, event_id: str) -> bool:
        """Record a platform event id; False when it was recorded before (unique key)."""
        ...


class UnitOfWork(Protocol):
    """One short transaction. Leaving the block without ``commit()`` rolls back."""

    accounts: AccountRepository
    ledger: LedgerRepository
    conversations: ConversationRepository
    usage: UsageRepository
    events: EventRepository

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]


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


class ModelProvider(Protocol):
    """An OpenAI-compatible server. ``model`` is the upstream id."""

    def stream_chat(
        self, model: str, messages: Sequence[ChatMessage], max_tokens: int
    ) -> AsyncGenerator[ChatChunk, None]: ...

    async def generate_image(self, model: str, prompt: str, size: str) -> bytes: ...

    async def speak(self, model: str, text: str, voice: str) -> bytes:
        """Speech as OGG/Opus bytes."""
        ...

    async def transcribe(self, model: str, audio: bytes, filename: str) -> Transcript: ...
