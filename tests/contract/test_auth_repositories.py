"""The contract of the sign-in repositories (credentials, security versions, refresh tokens,
API keys), idempotent grants and the directory, on memory, SQLite and Postgres alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.ports import GrantRecord, KeyOptions
from core.types import (
    ConversationKey,
    Feature,
    IdentityKey,
    LedgerEntry,
    LedgerKind,
    Outcome,
    Role,
    StoredMessage,
    UsageEvent,
)
from tests.contract.conftest import UowFactory

LATER = datetime.now(UTC) + timedelta(days=1)


async def api_account(uow: UowFactory, username: str) -> int:
    """An account with an ``api`` identity and a credential, as registration makes them."""
    async with uow() as tx:
        account = await tx.accounts.create(Role.USER)
        assert await tx.accounts.add_identity(
            IdentityKey("api", "", username), account.id, username
        )
        assert await tx.credentials.create(username, account.id, "hash-1")
        await tx.commit()
    return account.id


async def test_credentials(uow: UowFactory) -> None:
    alice = await api_account(uow, "alice")
    async with uow() as tx:
        assert not await tx.credentials.create("alice", alice, "other")  # name taken
        found = await tx.credentials.get("alice")
        assert found is not None and found.account_id == alice
        assert found.password_hash == "hash-1" and found.created_at.tzinfo is not None
        assert await tx.credentials.get_by_id(found.id) == found
        assert [c.username for c in await tx.credentials.for_account(alice)] == ["alice"]
        assert await tx.credentials.get("nobody") is None
        await tx.credentials.set_password("alice", "hash-2")
        await tx.commit()
    bob = await api_account(uow, "bob")
    async with uow() as tx:
        assert not await tx.credentials.rename("alice", "bob")  # taken
        assert await tx.credentials.rename("alice", "alicia")
        await tx.commit()
    async with uow() as tx:
        renamed = await tx.credentials.get("alicia")
        assert renamed is not None and renamed.password_hash == "hash-2"
        assert await tx.credentials.get("alice") is None
        owner = await tx.accounts.find_by_identity(IdentityKey("api", "", "alicia"))
        assert owner is not None and owner.id == alice  # the identity follows the rename
        assert [c.username for c in await tx.credentials.for_account(bob)] == ["bob"]


async def test_a_rolled_back_credential_is_gone(uow: UowFactory) -> None:
    async with uow() as tx:
        account = await tx.accounts.create(Role.USER)
        await tx.commit()
    async with uow() as tx:
        assert await tx.credentials.create("ghost", account.id, "h")
    async with uow() as tx:
        assert await tx.credentials.get("ghost") is None


async def test_security_versions(uow: UowFactory) -> None:
    alice = await api_account(uow, "alice")
    async with uow() as tx:
        assert await tx.security.version(alice) == 0
        assert await tx.security.bump(alice) == 1
        assert await tx.security.bump(alice) == 2
    async with uow() as tx:
        assert await tx.security.version(alice) == 0  # not committed
        await tx.security.bump(alice)
        await tx.commit()
    async with uow() as tx:
        assert await tx.security.version(alice) == 1


async def test_refresh_tokens(uow: UowFactory) -> None:
    await api_account(uow, "alice")
    async with uow() as tx:
        await tx.refresh_tokens.add("t1", "family-a", "alice", LATER)
        await tx.refresh_tokens.add("t2", "family-a", "alice", LATER)
        await tx.refresh_tokens.add("t3", "family-b", "alice", LATER)
        await tx.commit()
    async with uow() as tx:
        first = await tx.refresh_tokens.get("t1")
        assert first is not None and (first.used, first.revoked) == (False, False)
        assert first.family_id == "family-a" and first.username == "alice"
        assert abs(first.expires_at - LATER) < timedelta(seconds=1)
        assert await tx.refresh_tokens.mark_used("t1") is True
        assert await tx.refresh_tokens.mark_used("t1") is False  # only the first caller
        assert await tx.refresh_tokens.get("missing") is None
        await tx.refresh_tokens.revoke_family("family-a")
        await tx.commit()
    async with uow() as tx:
        second, third = await tx.refresh_tokens.get("t2"), await tx.refresh_tokens.get("t3")
        assert second is not None and second.revoked
        assert third is not None and not third.revoked
        assert await tx.refresh_tokens.mark_used("t2") is False  # revoked
        await tx.refresh_tokens.revoke_user("alice")
        await tx.commit()
    async with uow() as tx:
        third = await tx.refresh_tokens.get("t3")
        assert third is not None and third.revoked


async def test_api_keys(uow: UowFactory) -> None:
    await api_account(uow, "alice")
    async with uow() as tx:
        credential = await tx.credentials.get("alice")
        assert credential is not None
        first = await tx.api_keys.add(credential.id, "hash-a", "sb-aaaa", "laptop", KeyOptions())
        second = await tx.api_keys.add(credential.id, "hash-b", "sb-bbbb", None, KeyOptions())
        await tx.commit()
    async with uow() as tx:
        found = await tx.api_keys.find("hash-a")
        assert found is not None and (found.id, found.prefix, found.name) == (
            first,
            "sb-aaaa",
            "laptop",
        )
        assert {k.id for k in await tx.api_keys.list(credential.id)} == {first, second}
        assert await tx.api_keys.revoke(credential.id + 1000, first) is False  # not theirs
        assert await tx.api_keys.revoke(credential.id, first) is True
        assert await tx.api_keys.revoke(credential.id, first) is False  # already
        await tx.commit()
    async with uow() as tx:
        assert await tx.api_keys.find("hash-a") is None
        assert [k.id for k in await tx.api_keys.list(credential.id)] == [second]


async def test_idempotency_records(uow: UowFactory) -> None:
    admin, target = await api_account(uow, "root"), await api_account(uow, "carol")
    record = GrantRecord("h" * 64, target, 5_000_000, 12_000_000, "thanks", datetime.now(UTC))
    async with uow() as tx:
        assert await tx.idempotency.get(admin, "k-1") is None
        assert await tx.idempotency.put(admin, "k-1", record) is True
        await tx.commit()
    async with uow() as tx:
        assert await tx.idempotency.put(admin, "k-1", record) is False  # unique key
        found = await tx.idempotency.get(admin, "k-1")
        assert found is not None
        assert (found.request_hash, found.account_id, found.amount, found.balance) == (
            "h" * 64,
            target,
            5_000_000,
            12_000_000,
        )
        assert found.reason == "thanks"
        assert await tx.idempotency.get(target, "k-1") is None  # per actor


async def test_directory_search_and_exchange(uow: UowFactory) -> None:
    alice, bob = await api_account(uow, "alice"), await api_account(uow, "bobby")
    conversation = ConversationKey("api", "chat", alice)
    async with uow() as tx:
        await tx.accounts.add_identity(IdentityKey("telegram", "", "4242"), bob, "Bob Stone")
        await tx.conversations.append(
            conversation,
            StoredMessage("user", "what is 2+2?", "req-1"),
            StoredMessage("assistant", "4", "req-1"),
        )
        await tx.commit()
    async with uow() as tx:
        everyone, total = await tx.directory.search(None, 0, 10)
        assert total == 2 and [e.account.id for e in everyone] == [alice, bob]
        page, total = await tx.directory.search(None, 1, 1)
        assert total == 2 and [e.account.id for e in page] == [bob]
        by_name, _ = await tx.directory.search("stone", 0, 10)
        assert [e.account.id for e in by_name] == [bob]
        assert [str(i.key) for i in by_name[0].identities] == ["api:bobby", "telegram:4242"]
        by_user_id, _ = await tx.directory.search("4242", 0, 10)
        assert [e.account.id for e in by_user_id] == [bob]
        assert await tx.directory.search("nobody-like-this", 0, 10) == ([], 0)
        found = await tx.directory.exchange("req-1")
        assert found is not None and found[0] == alice
        assert (found[1].question, found[1].answer) == ("what is 2+2?", "4")
        assert await tx.directory.exchange("req-missing") is None


async def test_erase_removes_the_account_and_its_data_only(uow: UowFactory) -> None:
    alice, bob = await api_account(uow, "alice"), await api_account(uow, "bobby")
    now = datetime.now(UTC)
    async with uow() as tx:
        credential = await tx.credentials.get("alice")
        assert credential is not None
        await tx.api_keys.add(credential.id, "hash-a", "sb-aaaa", None, KeyOptions())
        await tx.refresh_tokens.add("t1", "fam", "alice", LATER)
        await tx.security.bump(alice)
        await tx.ledger.append(LedgerEntry(alice, 100, LedgerKind.GRANT, "g1", bob, "gift"))
        await tx.ledger.append(LedgerEntry(bob, 50, LedgerKind.GRANT, "g2", alice, "from alice"))
        await tx.conversations.append(
            ConversationKey("api", "c", alice), StoredMessage("user", "hello", "r1")
        )
        usage = UsageEvent("r1", alice, "api", Feature.CHAT, "m", 1, 1, 1, 1, Outcome.OK, now)
        await tx.usage.record(usage)
        await tx.commit()
    async with uow() as tx:
        await tx.directory.erase(alice)
        await tx.commit()
    async with uow() as tx:
        assert await tx.accounts.get(alice) is None
        assert await tx.accounts.find_by_identity(IdentityKey("api", "", "alice")) is None
        assert await tx.credentials.get("alice") is None
        assert await tx.api_keys.find("hash-a") is None
        assert await tx.refresh_tokens.get("t1") is None
        assert await tx.security.version(alice) == 0
        assert await tx.ledger.entries(alice, 10) == []
        assert await tx.usage.recent(alice, 10) == []
        assert await tx.directory.exchange("r1") is None
        # Bob keeps his account and his history, without a pointer to Alice.
        assert await tx.accounts.get(bob) is not None
        kept = await tx.ledger.entries(bob, 10)
        assert [e.amount for e in kept] == [50] and kept[0].actor_account_id is None
        assert await tx.credentials.get("bobby") is not None


async def test_directory_finds_user_ids_whatever_their_case(uow: UowFactory) -> None:
    """Slack user ids are upper case; the needle is case-folded like names are. (Postgres'
    LIKE is case-sensitive and SQLite's is not: the backends once disagreed here.)"""
    account_id = await api_account(uow, "carol")
    async with uow() as tx:
        await tx.accounts.add_identity(IdentityKey("slack", "T01", "U02ABC"), account_id, None)
        await tx.commit()
    async with uow() as tx:
        for query in ("U02ABC", "u02abc", "02Ab"):
            found, total = await tx.directory.search(query, 0, 10)
            assert total == 1 and [e.account.id for e in found] == [account_id], query
