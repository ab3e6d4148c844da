"""In-memory implementations of the API's ports (``core.ports_api``), on the same
``MemoryStore`` as tests/fakes/memory.py, for unit tests of the API use cases.

Like the core's fakes, writes go straight into the store and are undone when the unit of
work ends without ``commit()``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Self

from core.ports_api import ApiKeyRecord, Credential, GrantRecord, RefreshRecord, UserEntry
from core.types import Exchange, IdentityKey
from tests.fakes.memory import MemoryStore, MemoryUnitOfWork, Undo


@dataclass
class ApiTables:
    credentials: dict[str, Credential] = field(default_factory=dict)
    refresh: dict[str, RefreshRecord] = field(default_factory=dict)
    keys: dict[str, ApiKeyRecord] = field(default_factory=dict)
    idempotency: dict[tuple[int, str], GrantRecord] = field(default_factory=dict)


def _put(table: dict, key: object, value: object, undo: list[Undo]) -> None:  # type: ignore[type-arg]
    had, before = key in table, table.get(key)
    table[key] = value
    undo.append(lambda: table.__setitem__(key, before) if had else table.pop(key, None))


class _Repo:
    def __init__(self, store: MemoryStore, tables: ApiTables, undo: list[Undo]) -> None:
        self._store, self._t, self._undo = store, tables, undo


class MemoryCredentials(_Repo):
    async def get(self, username: str) -> Credential | None:
        return self._t.credentials.get(username)

    async def get_by_id(self, credential_id: int) -> Credential | None:
        return next((c for c in self._t.credentials.values() if c.id == credential_id), None)

    async def for_account(self, account_id: int) -> list[Credential]:
        ids = self._store.identities
        return [
            c
            for c in self._t.credentials.values()
            if (row := ids.get(IdentityKey("api", "", c.username))) is not None
            and row.identity.account_id == account_id
        ]

    async def create(self, username: str, account_id: int, password_hash: str) -> bool:
        if username in self._t.credentials:
            return False
        credential = Credential(
            self._store.next_id("api_credentials"),
            username,
            account_id,
            password_hash,
            datetime.now(UTC),
        )
        _put(self._t.credentials, username, credential, self._undo)
        return True

    async def set_password(self, username: str, password_hash: str) -> None:
        found = self._t.credentials.get(username)
        if found is not None:
            _put(
                self._t.credentials,
                username,
                replace(found, password_hash=password_hash),
                self._undo,
            )

    async def rename(self, old: str, new: str) -> bool:
        found = self._t.credentials.get(old)
        if new in self._t.credentials or found is None:
            return False
        _put(self._t.credentials, new, replace(found, username=new), self._undo)
        self._t.credentials.pop(old)
        self._undo.append(lambda: self._t.credentials.__setitem__(old, found))
        row = self._store.identities.pop(IdentityKey("api", "", old), None)
        if row is not None:
            key = IdentityKey("api", "", new)
            row.identity = replace(row.identity, key=key, display_name=new)
            self._store.identities[key] = row
        return True


class MemorySecurity(_Repo):
    async def version(self, account_id: int) -> int:
        return self._store.security_versions.get(account_id, 0)

    async def bump(self, account_id: int) -> int:
        version = await self.version(account_id) + 1
        _put(self._store.security_versions, account_id, version, self._undo)
        return version


class MemoryRefreshTokens(_Repo):
    async def add(
        self, token_hash: str, family_id: str, username: str, expires_at: datetime
    ) -> None:
        record = RefreshRecord(token_hash, family_id, username, False, False, expires_at)
        _put(self._t.refresh, token_hash, record, self._undo)

    async def get(self, token_hash: str) -> RefreshRecord | None:
        return self._t.refresh.get(token_hash)

    async def mark_used(self, token_hash: str) -> bool:
        found = self._t.refresh.get(token_hash)
        if found is None or found.used or found.revoked:
            return False
        _put(self._t.refresh, token_hash, replace(found, used=True), self._undo)
        return True

    async def revoke_family(self, family_id: str) -> None:
        for key, record in list(self._t.refresh.items()):
            if record.family_id == family_id:
                _put(self._t.refresh, key, replace(record, revoked=True), self._undo)

    async def revoke_user(self, username: str) -> None:
        for key, record in list(self._t.refresh.items()):
            if record.username == username:
                _put(self._t.refresh, key, replace(record, revoked=True), self._undo)


class MemoryApiKeys(_Repo):
    async def add(self, credential_id: int, key_hash: str, prefix: str, name: str | None) -> int:
        key_id = self._store.next_id("api_keys")
        record = ApiKeyRecord(key_id, credential_id, prefix, name, False, datetime.now(UTC))
        _put(self._t.keys, key_hash, record, self._undo)
        return key_id

    async def find(self, key_hash: str) -> ApiKeyRecord | None:
        found = self._t.keys.get(key_hash)
        return found if found is not None and not found.revoked else None

    async def list(self, credential_id: int) -> list[ApiKeyRecord]:
        return [
            k for k in self._t.keys.values() if k.credential_id == credential_id and not k.revoked
        ]

    async def revoke(self, credential_id: int, key_id: int) -> bool:
        for key_hash, record in self._t.keys.items():
            if record.id == key_id and record.credential_id == credential_id and not record.revoked:
                _put(self._t.keys, key_hash, replace(record, revoked=True), self._undo)
                return True
        return False


class MemoryIdempotency(_Repo):
    async def get(self, actor_account_id: int, key: str) -> GrantRecord | None:
        return self._t.idempotency.get((actor_account_id, key))

    async def put(self, actor_account_id: int, key: str, record: GrantRecord) -> bool:
        if (actor_account_id, key) in self._t.idempotency:
            return False
        _put(self._t.idempotency, (actor_account_id, key), record, self._undo)
        return True


class MemoryDirectory(_Repo):
    async def search(
        self, query: str | None, offset: int, limit: int
    ) -> tuple[list[UserEntry], int]:
        needle = (query or "").strip().lstrip("@#").casefold()
        found = []
        for account_id, row in sorted(self._store.accounts.items()):
            identities = [
                r.identity
                for r in self._store.identities.values()
                if r.identity.account_id == account_id
            ]
            names = [f"{i.key.user_id} {(i.display_name or '').casefold()}" for i in identities]
            if row.merged_into is None and (
                not needle or str(account_id) == needle or any(needle in n for n in names)
            ):
                found.append(UserEntry(row.account, sorted(identities, key=str)))
        return found[offset : offset + limit], len(found)

    async def exchange(self, request_id: str) -> tuple[int, Exchange] | None:
        rows = [r for r in self._store.messages if r.message.request_id == request_id]
        question = next((r for r in rows if r.message.role == "user"), None)
        answer = next((r for r in rows if r.message.role == "assistant"), None)
        if question is None or answer is None:
            return None
        exchange = Exchange(
            request_id,
            question.message.content,
            answer.message.content,
            question.message.created_at,
        )
        return question.conversation.account_id, exchange

    async def erase(self, account_id: int) -> None:
        # Tests of erasure run on SQL (tests/e2e); here it only has to forget the account.
        store = self._store
        store.accounts.pop(account_id, None)
        for key in [k for k, r in store.identities.items() if r.identity.account_id == account_id]:
            store.identities.pop(key)
            self._t.credentials.pop(key.user_id, None)


class MemoryApiUnitOfWork(MemoryUnitOfWork):
    def __init__(self, store: MemoryStore, tables: ApiTables) -> None:
        super().__init__(store)
        self._tables = tables

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        assert self._undo is not None
        args = (self._store, self._tables, self._undo)
        self.credentials = MemoryCredentials(*args)
        self.security = MemorySecurity(*args)
        self.refresh_tokens = MemoryRefreshTokens(*args)
        self.api_keys = MemoryApiKeys(*args)
        self.idempotency = MemoryIdempotency(*args)
        self.directory = MemoryDirectory(*args)
        return self


def memory_api_uow_factory(
    store: MemoryStore, tables: ApiTables
) -> Callable[[], MemoryApiUnitOfWork]:
    def new_unit_of_work() -> MemoryApiUnitOfWork:
        return MemoryApiUnitOfWork(store, tables)

    return new_unit_of_work
