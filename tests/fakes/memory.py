"""In-memory implementations of the storage ports, for unit tests of the use cases.

They follow the SQL repositories exactly (tests/contract runs one suite against both).
One ``MemoryUnitOfWork`` holds every repository, like ``storage.uow.SqlUnitOfWork``."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from types import TracebackType
from typing import Any, Self

from core.ports import (
    AccessRepository,
    AccountRepository,
    AnnouncementRepository,
    ApiKeyRepository,
    ChatSettingsRepository,
    ConversationRepository,
    CredentialRepository,
    DirectoryRepository,
    EventRepository,
    GatewayFile,
    GatewayFileRepository,
    IdempotencyRepository,
    LeaseRepository,
    LedgerRepository,
    OrphanedHold,
    PendingSettlement,
    RefreshTokenRepository,
    SecurityRepository,
    UnitOfWorkFactory,
    UsageRepository,
)
from core.ports.holds import HoldRepository, StepwiseHolds
from core.types import (
    Account,
    ConversationKey,
    Exchange,
    Identity,
    IdentityKey,
    LedgerEntry,
    LedgerKind,
    Outcome,
    Role,
    StatsDimension,
    StatsRow,
    StoredMessage,
    UsageEvent,
)
from tests.fakes.memory_access import MemoryAccess
from tests.fakes.memory_announcements import MemoryAnnouncements
from tests.fakes.memory_auth import (
    MemoryApiKeys,
    MemoryCredentials,
    MemoryDirectory,
    MemoryIdempotency,
    MemoryRefreshTokens,
    MemorySecurity,
)
from tests.fakes.memory_chat_settings import MemoryChatSettings
from tests.fakes.memory_store import (
    HoldOwner,
    MemoryStore,
    Repository,
    Undo,
    _AccountRow,
    _IdentityRow,
    _MessageRow,
    _name_key,
    _setter,
    _utc,
    put,
)

__all__ = ["MemoryStore", "MemoryUnitOfWork", "Undo", "memory_uow_factory"]


class MemoryAccountRepository(Repository):
    async def get(self, account_id: int) -> Account | None:
        row = self._store.accounts.get(account_id)
        return row.account if row is not None else None

    async def find_by_identity(self, key: IdentityKey) -> Account | None:
        found = self._store.identities.get(key)
        return await self.get(found.identity.account_id) if found is not None else None

    async def create(self, role: Role) -> Account:
        account_id = self._store.next_id("accounts")
        account = Account(account_id, role, False, 0, None, None, datetime.now(UTC))
        self._store.accounts[account_id] = _AccountRow(account)
        self._undo.append(lambda: self._store.accounts.pop(account_id, None))
        return account

    async def add_identity(
        self, key: IdentityKey, account_id: int, display_name: str | None
    ) -> bool:
        if key in self._store.identities:
            return False
        self._store.require_account(account_id)
        identity = Identity(key=key, account_id=account_id, display_name=display_name)
        self._store.identities[key] = _IdentityRow(self._store.next_id("identities"), identity)
        self._undo.append(lambda: self._store.identities.pop(key, None))
        return True

    async def identities(self, account_id: int) -> list[Identity]:
        found = [r.identity for r in self._store.identities.values()]
        mine = [i for i in found if i.account_id == account_id]
        return sorted(mine, key=lambda i: (i.key.platform, i.key.workspace, i.key.user_id))

    async def find_identity_by_name(self, platform: str, display_name: str) -> Identity | None:
        wanted = _name_key(display_name)
        matches = [
            row
            for row in self._store.identities.values()
            if row.identity.key.platform == platform
            and _name_key(row.identity.display_name) == wanted
        ]
        return max(matches, key=lambda row: row.id).identity if matches else None

    async def update_display_name(self, key: IdentityKey, display_name: str) -> None:
        row = self._store.identities.get(key)
        if row is not None:
            self._swap_identity(row, replace(row.identity, display_name=display_name))

    async def move_identities(self, from_account: int, to_account: int) -> None:
        for row in list(self._store.identities.values()):
            if row.identity.account_id == from_account:
                self._swap_identity(row, replace(row.identity, account_id=to_account))
        source = self._store.accounts.get(from_account)
        if source is not None and from_account != to_account:
            before = source.merged_into
            source.merged_into = to_account
            self._undo.append(lambda: setattr(source, "merged_into", before))

    async def set_role(self, account_id: int, role: Role) -> None:
        self._set(account_id, "role", role)

    async def set_banned(self, account_id: int, banned: bool) -> None:
        self._set(account_id, "banned", banned)

    async def set_language(self, account_id: int, language: str | None) -> None:
        self._set(account_id, "language", language)

    async def set_chat_model(self, account_id: int, model: str | None) -> None:
        self._set(account_id, "chat_model", model)

    async def reserve(
        self,
        account_id: int,
        cost: int,
        *,
        overdraft: int = 0,
        upfront: int = 0,
        least: int = 0,
    ) -> int:
        if min(cost, overdraft, upfront, least) < 0:
            raise ValueError("a reservation cannot be negative")
        row = self._store.accounts.get(account_id)
        if row is None or row.account.banned:
            return 0
        balance = row.account.balance
        if balance <= 0 or balance < upfront or balance + overdraft < least:
            return 0
        taken = min(cost, balance + overdraft)
        self._add(row, -taken)
        return taken

    async def claim_allowance(self, account_id: int, period: str) -> int | None:
        row = self._store.accounts.get(account_id)
        if row is None or row.account.allowance_period == period:
            return None
        self._set(account_id, "allowance_period", period)
        return row.account.balance

    async def set_allowance_override(self, account_id: int, override: str | None) -> None:
        self._set(account_id, "allowance_override", override)

    async def add_to_balance(self, account_id: int, amount: int) -> int:
        row = self._store.accounts.get(account_id)
        if row is None:
            raise LookupError(f"account {account_id} does not exist")
        self._add(row, amount)
        return row.account.balance

    def _add(self, row: _AccountRow, amount: int) -> None:
        # Undone as a delta, so a rollback keeps what other units of work changed since.
        row.account = replace(row.account, balance=row.account.balance + amount)
        self._undo.append(
            lambda: setattr(
                row, "account", replace(row.account, balance=row.account.balance - amount)
            )
        )

    def _set(self, account_id: int, field: str, value: Any) -> None:
        row = self._store.accounts.get(account_id)
        if row is None:
            return
        before: Any = getattr(row.account, field)
        row.account = replace(row.account, **{field: value})
        self._undo.append(lambda: setattr(row, "account", replace(row.account, **{field: before})))

    def _swap_identity(self, row: _IdentityRow, identity: Identity) -> None:
        before = row.identity
        row.identity = identity
        self._undo.append(lambda: setattr(row, "identity", before))


class MemoryLedgerRepository(Repository):
    async def append(self, entry: LedgerEntry) -> bool:
        if entry.request_id is not None and any(
            e.request_id == entry.request_id and e.kind == entry.kind for _, e in self._store.ledger
        ):
            return False
        self._store.require_account(entry.account_id)
        if entry.actor_account_id is not None:
            self._store.require_account(entry.actor_account_id)
        row = (self._store.next_id("ledger"), replace(entry, created_at=_utc(entry.created_at)))
        self._store.ledger.append(row)
        self._undo.append(lambda: self._store.ledger.remove(row))
        return True

    async def sum_for(self, account_id: int) -> int:
        return sum(e.amount for _, e in self._store.ledger if e.account_id == account_id)

    async def entries(self, account_id: int, limit: int) -> list[LedgerEntry]:
        mine = [e for _, e in reversed(self._store.ledger) if e.account_id == account_id]
        return mine[: max(limit, 0)]

    async def count_open_holds(self) -> int:
        settled = {e.request_id for _, e in self._store.ledger if e.kind is LedgerKind.SETTLE}
        return sum(
            1
            for _, e in self._store.ledger
            if e.kind is LedgerKind.HOLD
            and e.request_id is not None
            and e.request_id not in settled
        )

    async def open_holds(self, older_than: datetime) -> list[LedgerEntry]:
        cutoff = _utc(older_than)
        settled = {e.request_id for _, e in self._store.ledger if e.kind is LedgerKind.SETTLE}
        return [
            e
            for _, e in self._store.ledger
            if e.kind is LedgerKind.HOLD
            and e.request_id is not None
            and e.request_id not in settled
            and e.created_at is not None
            and e.created_at < cutoff
        ]


class MemoryConversationRepository(Repository):
    async def append(self, conversation: ConversationKey, *messages: StoredMessage) -> None:
        self._store.require_account(conversation.account_id)
        for message in messages:
            stored = replace(message, created_at=_utc(message.created_at))
            row = _MessageRow(self._store.next_id("messages"), conversation, stored)
            self._store.messages.append(row)
            self._undo.append(partial(self._store.messages.remove, row))

    async def window(self, conversation: ConversationKey, limit: int) -> list[StoredMessage]:
        if limit <= 0:
            return []
        rows = [r for r in self._store.messages if r.conversation == conversation and r.in_window]
        return [r.message for r in rows[-limit:]]

    async def latest_chat(self, conversation: ConversationKey) -> str | None:
        for row in reversed(self._store.messages):
            key = row.conversation
            same = (key.platform, key.account_id) == (
                conversation.platform,
                conversation.account_id,
            )
            chat = key.chat_id
            inside = chat == conversation.chat_id or chat.startswith(f"{conversation.chat_id}:")
            if same and inside and row.in_window:
                return chat
        return None

    async def transcript(self, conversation: ConversationKey, limit: int) -> list[StoredMessage]:
        if limit <= 0:
            return []

        def inside(key: ConversationKey) -> bool:
            same = (key.platform, key.account_id) == (
                conversation.platform,
                conversation.account_id,
            )
            chat = key.chat_id
            return same and (
                chat == conversation.chat_id or chat.startswith(f"{conversation.chat_id}:")
            )

        rows = [r for r in self._store.messages if inside(r.conversation)]
        return [r.message for r in rows[-limit:]]

    async def reset(self, conversation: ConversationKey) -> None:
        for row in self._store.messages:
            if row.conversation == conversation and row.in_window:
                row.in_window = False
                self._undo.append(_setter(row, "in_window", True))

    async def leave_out(self, conversation: ConversationKey, request_id: str) -> None:
        for row in self._store.messages:
            mine = row.conversation == conversation and row.message.request_id == request_id
            if mine and row.in_window:
                row.in_window = False
                self._undo.append(_setter(row, "in_window", True))

    async def history(self, account_id: int, limit: int) -> list[Exchange]:
        mine = [
            r for r in reversed(self._store.messages) if r.conversation.account_id == account_id
        ]
        pairs = [
            Exchange(
                q.message.request_id, q.message.content, a.message.content, q.message.created_at
            )
            for q in mine
            if q.message.role == "user"
            for a in mine
            if a.message.role == "assistant" and a.message.request_id == q.message.request_id
        ]
        return pairs[: max(limit, 0)]

    async def move_account(self, from_account: int, to_account: int) -> None:
        for row in self._store.messages:
            if row.conversation.account_id == from_account:
                before = row.conversation
                row.conversation = replace(before, account_id=to_account)
                self._undo.append(_setter(row, "conversation", before))

    async def questions_since(self, since: datetime, limit: int) -> list[str]:
        cutoff = _utc(since)
        asked = [
            r.message.content
            for r in reversed(self._store.messages)
            if r.message.role == "user" and _utc(r.message.created_at) >= cutoff
        ]
        return asked[: max(limit, 0)]


def _stats_key(event: UsageEvent, dimension: StatsDimension) -> str:
    if dimension is StatsDimension.DAY:
        return event.created_at.astimezone(UTC).strftime("%Y-%m-%d")
    if dimension is StatsDimension.DAY_PLATFORM:
        return f"{event.created_at.astimezone(UTC):%Y-%m-%d} {event.platform}"
    if dimension is StatsDimension.DAY_MODEL:
        return f"{event.created_at.astimezone(UTC):%Y-%m-%d} {event.model}"
    if dimension is StatsDimension.MODEL:
        return event.model
    if dimension is StatsDimension.PLATFORM:
        return event.platform
    if dimension is StatsDimension.FEATURE_MODEL:
        return f"{event.feature.value} {event.model}"
    return event.feature.value


class MemoryUsageRepository(Repository):
    async def record(self, event: UsageEvent) -> None:
        self._store.require_account(event.account_id)
        row = (self._store.next_id("usage"), replace(event, created_at=_utc(event.created_at)))
        self._store.usage.append(row)
        self._undo.append(lambda: self._store.usage.remove(row))

    async def recent(self, account_id: int, limit: int) -> list[UsageEvent]:
        mine = [(e.created_at, i, e) for i, e in self._store.usage if e.account_id == account_id]
        mine.sort(key=lambda item: (item[0], item[1]), reverse=True)
        return [e for _, _, e in mine[: max(limit, 0)]]

    async def stats(
        self, since: datetime, dimension: StatsDimension, account_id: int | None = None
    ) -> list[StatsRow]:
        cutoff = _utc(since)
        groups: dict[str, list[UsageEvent]] = {}
        for _, event in self._store.usage:
            if event.created_at >= cutoff and account_id in (None, event.account_id):
                groups.setdefault(_stats_key(event, dimension), []).append(event)
        return [
            StatsRow(
                key=key,
                requests=len(events),
                prompt_tokens=sum(e.prompt_tokens for e in events),
                completion_tokens=sum(e.completion_tokens for e in events),
                credits=sum(e.credits for e in events),
                errors=sum(1 for e in events if e.outcome is Outcome.FAILED),
            )
            for key, events in sorted(groups.items())
        ]

    async def last_activity(self, account_ids: Sequence[int]) -> dict[int, datetime]:
        latest: dict[int, datetime] = {}
        for _, event in self._store.usage:
            if event.account_id in account_ids:
                latest[event.account_id] = max(
                    event.created_at, latest.get(event.account_id, event.created_at)
                )
        return latest

    async def move_account(self, from_account: int, to_account: int) -> None:
        for index, (row_id, event) in enumerate(self._store.usage):
            if event.account_id == from_account:
                self._store.usage[index] = (row_id, replace(event, account_id=to_account))
                self._undo.append(self._restore_usage(row_id, event))

    def _restore_usage(self, row_id: int, event: UsageEvent) -> Undo:
        def undo() -> None:
            usage = self._store.usage
            usage[:] = [(i, event if i == row_id else e) for i, e in usage]

        return undo


class MemoryEventRepository(Repository):
    async def record(self, platform: str, event_id: str, request_id: str | None = None) -> bool:
        key = (platform, event_id)
        if key in self._store.events:
            return False
        self._store.events.add(key)
        self._store.event_times[key] = datetime.now(UTC)
        self._undo.append(lambda: self._store.events.discard(key))
        put(self._store.event_requests, key, request_id, self._undo)
        return True

    async def prune(self, before: datetime) -> int:
        store = self._store
        old = {k: t for k, t in store.event_times.items() if t < before}
        owners = {k: store.event_requests[k] for k in old if k in store.event_requests}
        abandoned = {k for k in old if k in store.abandoned_events}
        for key in old:
            store.events.discard(key)
            del store.event_times[key]
            store.event_requests.pop(key, None)
            store.abandoned_events.discard(key)

        def undo() -> None:
            store.events.update(old)
            store.event_times.update(old)
            store.event_requests.update(owners)
            store.abandoned_events.update(abandoned)

        self._undo.append(undo)
        return len(old)

    async def abandon(self, request_id: str) -> None:
        for key, owner in list(self._store.event_requests.items()):
            if owner == request_id and key not in self._store.abandoned_events:
                self._store.abandoned_events.add(key)
                self._undo.append(partial(self._store.abandoned_events.discard, key))

    async def is_abandoned(self, platform: str, event_id: str) -> bool:
        return (platform, event_id) in self._store.abandoned_events

    async def reclaim(self, platform: str, event_id: str, request_id: str) -> bool:
        key = (platform, event_id)
        if key not in self._store.abandoned_events:
            return False
        self._store.abandoned_events.discard(key)
        self._undo.append(partial(self._store.abandoned_events.add, key))
        put(self._store.event_requests, key, request_id, self._undo)
        return True


class MemoryLeaseRepository(Repository):
    async def renew(self, worker_id: str, expires_at: datetime) -> None:
        put(self._store.leases, worker_id, _utc(expires_at), self._undo)

    async def release(self, worker_id: str) -> None:
        if worker_id in self._store.leases:
            put(self._store.leases, worker_id, datetime.now(UTC), self._undo)

    async def own(
        self,
        request_id: str,
        worker_id: str,
        platform: str,
        chat_id: str,
        account_id: int,
        question: str | None = None,
    ) -> None:
        if request_id not in self._store.hold_owners:
            owner = HoldOwner(worker_id, platform, chat_id, account_id, question, datetime.now(UTC))
            put(self._store.hold_owners, request_id, owner, self._undo)

    def _change(self, request_id: str, **values: object) -> None:
        owner = self._store.hold_owners[request_id]
        put(self._store.hold_owners, request_id, replace(owner, **values), self._undo)

    async def record_progress(self, produced: Mapping[str, int]) -> None:
        for request_id, value in produced.items():
            if request_id in self._store.hold_owners:
                self._change(request_id, produced=value)

    async def orphaned_holds(self, now: datetime) -> list[OrphanedHold]:
        now = _utc(now)
        settled = {e.request_id for _, e in self._store.ledger if e.kind is LedgerKind.SETTLE}
        dead = {w for w, expires in self._store.leases.items() if expires < now}
        orphans = []
        for _, e in self._store.ledger:
            owner = self._store.hold_owners.get(e.request_id or "")
            if (
                e.kind is LedgerKind.HOLD
                and e.request_id not in settled
                and owner is not None
                and owner.worker_id in dead
            ):
                retryable = owner.question is not None
                orphans.append(
                    OrphanedHold(e, owner.platform, owner.chat_id, owner.produced, retryable)
                )
        return orphans

    async def offer_retry(self, request_id: str) -> None:
        owner = self._store.hold_owners.get(request_id)
        if owner is not None and owner.question is not None:
            self._change(request_id, retry_offered=True)

    async def retry_question(
        self, platform: str, chat_id: str, account_id: int, request_id: str | None = None
    ) -> tuple[str, str] | None:
        offered = [
            (owner.created_at, rid, owner.question)
            for rid, owner in self._store.hold_owners.items()
            if (owner.platform, owner.account_id) == (platform, account_id)
            and (owner.chat_id == chat_id or owner.chat_id.startswith(f"{chat_id}:"))
            and owner.retry_offered
            and owner.question is not None
            and request_id in (None, rid)
        ]
        if not offered:
            return None
        _, rid, question = max(offered, key=lambda o: (o[0], o[1]))
        assert question is not None
        return rid, question

    async def take_retry(self, request_id: str) -> bool:
        owner = self._store.hold_owners.get(request_id)
        if owner is None or not owner.retry_offered:
            return False
        self._change(request_id, retry_offered=False)
        for key, requested in list(self._store.event_requests.items()):
            if requested == request_id and key in self._store.abandoned_events:
                self._store.abandoned_events.discard(key)
                self._undo.append(partial(self._store.abandoned_events.add, key))
        return True

    async def withdraw_retry(self, platform: str, event_id: str) -> None:
        key = (platform, event_id)
        request_id = self._store.event_requests.get(key)
        owner = self._store.hold_owners.get(request_id or "")
        if key in self._store.abandoned_events and owner is not None and owner.retry_offered:
            self._change(request_id or "", retry_offered=False)

    async def erase(self, account_id: int) -> None:
        for request_id, owner in list(self._store.hold_owners.items()):
            if owner.account_id == account_id:
                del self._store.hold_owners[request_id]
                self._undo.append(partial(self._store.hold_owners.__setitem__, request_id, owner))

    async def prune(self, before: datetime) -> int:
        before = _utc(before)
        old = {r: o for r, o in self._store.hold_owners.items() if o.created_at < before}
        for request_id in old:
            del self._store.hold_owners[request_id]
        self._undo.append(lambda: self._store.hold_owners.update(old))
        return len(old)


class MemoryGatewayFileRepository(Repository):
    async def add(self, file: GatewayFile) -> None:
        self._store.require_account(file.account_id)
        key = (file.provider, file.file_id)
        if key in self._store.gateway_files:
            raise ValueError(f"duplicate gateway file {key}")  # the SQL primary key
        put(
            self._store.gateway_files,
            key,
            replace(file, created_at=_utc(file.created_at)),
            self._undo,
        )

    async def get(self, file_id: str, provider: str) -> GatewayFile | None:
        return self._store.gateway_files.get((provider, file_id))

    async def owned(self, account_id: int) -> list[GatewayFile]:
        mine = [f for f in self._store.gateway_files.values() if f.account_id == account_id]
        mine.sort(key=lambda f: f.file_id)
        mine.sort(key=lambda f: f.created_at, reverse=True)
        return mine

    async def remove(self, file_id: str, provider: str) -> bool:
        key = (provider, file_id)
        if key not in self._store.gateway_files:
            return False
        old = self._store.gateway_files.pop(key)
        self._undo.append(partial(self._store.gateway_files.__setitem__, key, old))
        return True

    async def move_account(self, from_account: int, to_account: int) -> None:
        for key, file in list(self._store.gateway_files.items()):
            if file.account_id == from_account:
                put(
                    self._store.gateway_files, key, replace(file, account_id=to_account), self._undo
                )


class MemoryUnitOfWork:
    """Same contract as ``storage.uow.SqlUnitOfWork``: no ``commit()``, no change."""

    # Typed as the ports so that this class satisfies ``core.ports.UnitOfWork``.
    accounts: AccountRepository
    ledger: LedgerRepository
    conversations: ConversationRepository
    usage: UsageRepository
    events: EventRepository
    credentials: CredentialRepository
    security: SecurityRepository
    refresh_tokens: RefreshTokenRepository
    api_keys: ApiKeyRepository
    idempotency: IdempotencyRepository
    directory: DirectoryRepository
    leases: LeaseRepository
    access: AccessRepository
    announcements: AnnouncementRepository
    chat_settings: ChatSettingsRepository
    gateway_files: GatewayFileRepository
    holds: HoldRepository

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._undo: list[Undo] | None = None

    async def __aenter__(self) -> Self:
        if self._undo is not None:
            raise RuntimeError("this unit of work is already open")
        self._undo = []
        self.accounts = MemoryAccountRepository(self._store, self._undo)
        self.ledger = MemoryLedgerRepository(self._store, self._undo)
        self.conversations = MemoryConversationRepository(self._store, self._undo)
        self.usage = MemoryUsageRepository(self._store, self._undo)
        self.events = MemoryEventRepository(self._store, self._undo)
        self.credentials = MemoryCredentials(self._store, self._undo)
        self.security = MemorySecurity(self._store, self._undo)
        self.refresh_tokens = MemoryRefreshTokens(self._store, self._undo)
        self.api_keys = MemoryApiKeys(self._store, self._undo)
        self.idempotency = MemoryIdempotency(self._store, self._undo)
        self.directory = MemoryDirectory(self._store, self._undo)
        self.leases = MemoryLeaseRepository(self._store, self._undo)
        self.access = MemoryAccess(self._store, self._undo)
        self.announcements = MemoryAnnouncements(self._store, self._undo)
        self.chat_settings = MemoryChatSettings(self._store, self._undo)
        self.gateway_files = MemoryGatewayFileRepository(self._store, self._undo)
        self.holds = StepwiseHolds(
            self.accounts, self.api_keys, self.ledger, self.leases, self.usage
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        undo, self._undo = self._undo, None
        for step in reversed(undo or []):
            step()

    async def commit(self) -> None:
        if self._undo is None:
            raise RuntimeError("commit() outside the unit of work")
        self._undo.clear()
        self._store.commits += 1


def memory_uow_factory(store: MemoryStore) -> UnitOfWorkFactory:
    def new_unit_of_work(*, atomic: bool = True) -> MemoryUnitOfWork:
        # Memory is all-or-nothing either way: atomic changes nothing here.
        return MemoryUnitOfWork(store)

    return new_unit_of_work


class MemorySettlementJournal:
    """``SettlementJournal`` in memory: what a restart of the same store would replay."""

    def __init__(self) -> None:
        self.entries: dict[str, PendingSettlement] = {}
        self.added: list[str] = []
        self.emptied = asyncio.Event()  # set when the last pending one is done

    async def add(self, pending: PendingSettlement) -> None:
        self.entries[pending.request_id] = pending
        self.added.append(pending.request_id)
        self.emptied.clear()

    async def done(self, request_id: str) -> None:
        self.entries.pop(request_id, None)
        if not self.entries:
            self.emptied.set()

    async def pending(self) -> list[PendingSettlement]:
        return list(self.entries.values())
