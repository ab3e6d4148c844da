"""In-memory repositories for signing in over HTTP (credentials, refresh tokens, API keys),
idempotent grants, security versions and the user directory, on the same ``MemoryStore``
as the other memory repositories; tests/contract runs them against SQL too."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from core.ports import (
    ApiKeyRecord,
    Credential,
    GrantRecord,
    KeyOptions,
    KeyPrincipal,
    RefreshRecord,
    SessionPrincipal,
    UserEntry,
)
from core.types import Account, Exchange, IdentityKey
from tests.fakes.memory_store import MemoryStore, Repository, put


class MemoryCredentials(Repository):
    async def get(self, username: str) -> Credential | None:
        return self._store.credentials.get(username)

    async def get_by_id(self, credential_id: int) -> Credential | None:
        return next((c for c in self._store.credentials.values() if c.id == credential_id), None)

    async def find_principal(self, username: str) -> SessionPrincipal | None:
        credential = self._store.credentials.get(username)
        account = _api_account(self._store, credential)
        if credential is None or account is None:
            return None
        version = self._store.security_versions.get(account.id, 0)
        return SessionPrincipal(credential, account, version)

    async def for_account(self, account_id: int) -> list[Credential]:
        ids = self._store.identities
        return [
            c
            for c in self._store.credentials.values()
            if (row := ids.get(IdentityKey("api", "", c.username))) is not None
            and row.identity.account_id == account_id
        ]

    async def create(self, username: str, account_id: int, password_hash: str) -> bool:
        if username in self._store.credentials:
            return False
        credential = Credential(
            self._store.next_id("api_credentials"),
            username,
            account_id,
            password_hash,
            datetime.now(UTC),
        )
        put(self._store.credentials, username, credential, self._undo)
        return True

    async def set_password(self, username: str, password_hash: str) -> None:
        found = self._store.credentials.get(username)
        if found is not None:
            put(
                self._store.credentials,
                username,
                replace(found, password_hash=password_hash),
                self._undo,
            )

    async def rename(self, old: str, new: str) -> bool:
        found = self._store.credentials.get(old)
        if new in self._store.credentials or found is None:
            return False
        put(self._store.credentials, new, replace(found, username=new), self._undo)
        self._store.credentials.pop(old)
        self._undo.append(lambda: self._store.credentials.__setitem__(old, found))
        row = self._store.identities.pop(IdentityKey("api", "", old), None)
        if row is not None:
            key = IdentityKey("api", "", new)
            row.identity = replace(row.identity, key=key, display_name=new)
            self._store.identities[key] = row
        return True


def _api_account(store: MemoryStore, credential: Credential | None) -> Account | None:
    """The account the credential's ``api`` identity points at now (it follows links)."""
    if credential is None:
        return None
    identity = store.identities.get(IdentityKey("api", "", credential.username))
    if identity is None:
        return None
    row = store.accounts.get(identity.identity.account_id)
    return row.account if row is not None else None


class MemorySecurity(Repository):
    async def version(self, account_id: int) -> int:
        return self._store.security_versions.get(account_id, 0)

    async def bump(self, account_id: int) -> int:
        version = await self.version(account_id) + 1
        put(self._store.security_versions, account_id, version, self._undo)
        return version


class MemoryRefreshTokens(Repository):
    async def add(
        self, token_hash: str, family_id: str, username: str, expires_at: datetime
    ) -> None:
        record = RefreshRecord(token_hash, family_id, username, False, False, expires_at)
        put(self._store.refresh, token_hash, record, self._undo)

    async def get(self, token_hash: str) -> RefreshRecord | None:
        return self._store.refresh.get(token_hash)

    async def mark_used(self, token_hash: str) -> bool:
        found = self._store.refresh.get(token_hash)
        if found is None or found.used or found.revoked:
            return False
        put(self._store.refresh, token_hash, replace(found, used=True), self._undo)
        return True

    async def revoke_family(self, family_id: str) -> None:
        for key, record in list(self._store.refresh.items()):
            if record.family_id == family_id:
                put(self._store.refresh, key, replace(record, revoked=True), self._undo)

    async def revoke_user(self, username: str) -> None:
        for key, record in list(self._store.refresh.items()):
            if record.username == username:
                put(self._store.refresh, key, replace(record, revoked=True), self._undo)


class MemoryApiKeys(Repository):
    async def add(
        self,
        credential_id: int,
        key_hash: str,
        prefix: str,
        name: str | None,
        options: KeyOptions,
    ) -> int:
        key_id = self._store.next_id("api_keys")
        record = ApiKeyRecord(key_id, credential_id, prefix, name, False, datetime.now(UTC))
        put(self._store.keys, key_hash, _with_options(record, options), self._undo)
        return key_id

    async def find(self, key_hash: str) -> ApiKeyRecord | None:
        found = self._store.keys.get(key_hash)
        return found if found is not None and not found.revoked else None

    async def find_principal(self, key_hash: str) -> KeyPrincipal | None:
        key = await self.find(key_hash)
        if key is None:
            return None
        credential = next(
            (c for c in self._store.credentials.values() if c.id == key.credential_id), None
        )
        account = _api_account(self._store, credential)
        if credential is None or account is None:
            return None
        return KeyPrincipal(key, credential, account)

    async def get(self, credential_id: int, key_id: int) -> ApiKeyRecord | None:
        found = self._live(credential_id, key_id)
        return found[1] if found is not None else None

    async def list(self, credential_id: int) -> list[ApiKeyRecord]:
        return [
            k
            for k in self._store.keys.values()
            if k.credential_id == credential_id and not k.revoked
        ]

    async def update(self, credential_id: int, key_id: int, options: KeyOptions) -> bool:
        found = self._live(credential_id, key_id)
        if found is None:
            return False
        put(self._store.keys, found[0], _with_options(found[1], options), self._undo)
        return True

    async def revoke(self, credential_id: int, key_id: int) -> bool:
        found = self._live(credential_id, key_id)
        if found is None:
            return False
        put(self._store.keys, found[0], replace(found[1], revoked=True), self._undo)
        return True

    async def reserve(self, key_id: int, amount: int) -> bool:
        if amount < 0:
            raise ValueError("a reservation cannot be negative")
        found = self._by_id(key_id)
        if found is None or found[1].revoked:
            return False
        key_hash, record = found
        if record.budget is not None and record.spent + amount > record.budget:
            return False
        put(self._store.keys, key_hash, replace(record, spent=record.spent + amount), self._undo)
        return True

    async def settle(self, key_id: int, refund: int, used_at: datetime) -> None:
        found = self._by_id(key_id)
        if found is None:
            return
        key_hash, record = found
        used = replace(
            record,
            spent=record.spent - refund,
            requests=record.requests + 1,
            last_used_at=used_at,
        )
        put(self._store.keys, key_hash, used, self._undo)

    def _by_id(self, key_id: int) -> tuple[str, ApiKeyRecord] | None:
        return next(((h, k) for h, k in self._store.keys.items() if k.id == key_id), None)

    def _live(self, credential_id: int, key_id: int) -> tuple[str, ApiKeyRecord] | None:
        found = self._by_id(key_id)
        if found is None or found[1].credential_id != credential_id or found[1].revoked:
            return None
        return found


def _with_options(record: ApiKeyRecord, options: KeyOptions) -> ApiKeyRecord:
    values = {
        "budget": options.budget,
        "expires_at": options.expires_at,
        "models": options.models,
        "per_minute": options.per_minute,
    }
    return replace(record, **{k: v for k, v in values.items() if k in options.given})


class MemoryIdempotency(Repository):
    async def get(self, actor_account_id: int, key: str) -> GrantRecord | None:
        return self._store.idempotency.get((actor_account_id, key))

    async def put(self, actor_account_id: int, key: str, record: GrantRecord) -> bool:
        if (actor_account_id, key) in self._store.idempotency:
            return False
        put(self._store.idempotency, (actor_account_id, key), record, self._undo)
        return True


class MemoryDirectory(Repository):
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
            names = [
                f"{i.key.user_id.casefold()} {(i.display_name or '').casefold()}"
                for i in identities
            ]
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
        """What the SQL repository deletes, undoable like every other write."""
        store = self._store
        snapshot = (
            dict(store.accounts),
            dict(store.identities),
            list(store.ledger),
            list(store.messages),
            list(store.usage),
            dict(store.credentials),
            dict(store.refresh),
            dict(store.keys),
            dict(store.idempotency),
            dict(store.security_versions),
        )
        usernames = {
            k.user_id
            for k, r in store.identities.items()
            if k.platform == "api" and r.identity.account_id == account_id
        }
        credentials = {
            c.id
            for c in store.credentials.values()
            if c.account_id == account_id or c.username in usernames
        }
        store.keys = {h: k for h, k in store.keys.items() if k.credential_id not in credentials}
        store.refresh = {h: r for h, r in store.refresh.items() if r.username not in usernames}
        store.credentials = {n: c for n, c in store.credentials.items() if c.id not in credentials}
        store.idempotency = {k: v for k, v in store.idempotency.items() if k[0] != account_id}
        store.security_versions.pop(account_id, None)
        store.messages = [m for m in store.messages if m.conversation.account_id != account_id]
        store.usage = [(i, e) for i, e in store.usage if e.account_id != account_id]
        store.ledger = [
            (i, replace(e, actor_account_id=None) if e.actor_account_id == account_id else e)
            for i, e in store.ledger
            if e.account_id != account_id
        ]
        store.identities = {
            k: r for k, r in store.identities.items() if r.identity.account_id != account_id
        }
        merged = [row for row in store.accounts.values() if row.merged_into == account_id]
        for row in merged:
            row.merged_into = None
        store.accounts.pop(account_id, None)

        def undo() -> None:
            _restore(store, snapshot)
            for row in merged:
                row.merged_into = account_id

        self._undo.append(undo)


def _restore(store: MemoryStore, snapshot: tuple[Any, ...]) -> None:
    (
        store.accounts,
        store.identities,
        store.ledger,
        store.messages,
        store.usage,
        store.credentials,
        store.refresh,
        store.keys,
        store.idempotency,
        store.security_versions,
    ) = snapshot
