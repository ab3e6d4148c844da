"""The data every memory unit of work of one test shares, and the undo log helpers.

Writes go straight into the store and are undone when a unit of work ends without
``commit()``; reads see every write at once, including other open units of work (SQL
would hide those until commit; unit tests rarely interleave transactions)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from core.ports import (
    ApiKeyRecord,
    ChatSettings,
    Credential,
    GatewayFile,
    GrantRecord,
    RefreshRecord,
)
from core.types import (
    Account,
    ConversationKey,
    Identity,
    IdentityKey,
    LedgerEntry,
    StoredMessage,
    UsageEvent,
)

Undo = Callable[[], object]


def _utc(value: datetime | None) -> datetime:
    """What the SQL layer does with timestamps: aware UTC, naive taken as UTC."""
    if value is None:
        return datetime.now(UTC)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _setter(target: object, name: str, value: object) -> Undo:
    return lambda: setattr(target, name, value)


def _name_key(display_name: str | None) -> str | None:
    return display_name.casefold() if display_name is not None else None


@dataclass
class _AccountRow:
    account: Account
    merged_into: int | None = None


@dataclass
class _IdentityRow:
    id: int
    identity: Identity


@dataclass
class _MessageRow:
    id: int
    conversation: ConversationKey
    message: StoredMessage
    in_window: bool = True


@dataclass
class HoldOwner:
    worker_id: str
    platform: str
    chat_id: str
    account_id: int
    question: str | None
    created_at: datetime
    produced: int = 0
    retry_offered: bool = False


@dataclass
class MemoryBroadcast:
    actor_id: int
    text: str
    audience: str
    state: str = "draft"
    worker_id: str | None = None
    lease_until: datetime | None = None
    # account id -> [recipient, state], in the order they were listed
    deliveries: dict[int, list[object]] = field(default_factory=dict)


class MemoryStore:
    """The data every ``MemoryUnitOfWork`` of one test shares."""

    def __init__(self) -> None:
        self.accounts: dict[int, _AccountRow] = {}
        self.identities: dict[IdentityKey, _IdentityRow] = {}
        self.ledger: list[tuple[int, LedgerEntry]] = []
        self.messages: list[_MessageRow] = []
        self.usage: list[tuple[int, UsageEvent]] = []
        self.events: set[tuple[str, str]] = set()
        self.event_times: dict[tuple[str, str], datetime] = {}

        self.event_requests: dict[tuple[str, str], str | None] = {}
        self.abandoned_events: set[tuple[str, str]] = set()
        self.leases: dict[str, datetime] = {}
        self.hold_owners: dict[str, HoldOwner] = {}  # request id -> its owner row
        self.security_versions: dict[int, int] = {}
        self.chat_settings: dict[ConversationKey, ChatSettings] = {}
        # Files uploaded through /v1/files: (provider, file id) -> owner.
        self.gateway_files: dict[tuple[str, str], GatewayFile] = {}
        # Signing in over HTTP (tests/fakes/memory_auth.py).
        self.credentials: dict[str, Credential] = {}
        self.refresh: dict[str, RefreshRecord] = {}
        self.keys: dict[str, ApiKeyRecord] = {}
        self.idempotency: dict[tuple[int, str], GrantRecord] = {}
        # One sequence per table, like SQL: never reused, even after a rollback.
        self._sequences: dict[str, itertools.count[int]] = {}
        self.commits = 0
        # Access control (core.ports.AccessRepository).
        self.access_rules: dict[str, str] = {}
        self.invites: dict[str, int] = {}
        self.muted: set[int] = set()
        # Announcements: broadcasts by id, and each one's deliveries in order.
        self.broadcasts: dict[int, MemoryBroadcast] = {}

    def next_id(self, table: str) -> int:
        return next(self._sequences.setdefault(table, itertools.count(1)))

    def require_account(self, account_id: int) -> None:
        if account_id not in self.accounts:  # the SQL foreign key would refuse it too
            raise LookupError(f"account {account_id} does not exist")


def put(table: dict, key: object, value: object, undo: list[Undo]) -> None:  # type: ignore[type-arg]
    had, before = key in table, table.get(key)
    table[key] = value
    undo.append(lambda: table.__setitem__(key, before) if had else table.pop(key, None))


class Repository:
    def __init__(self, store: MemoryStore, undo: list[Undo]) -> None:
        self._store = store
        self._undo = undo
