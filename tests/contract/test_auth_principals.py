"""What one API key or one session token signs in as, read in one joined statement
(``api_keys.find_principal``, ``credentials.find_principal``), on memory, SQLite and
Postgres alike: the same answers the several lookups it replaces gave."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.ports import KeyOptions, UnitOfWorkFactory
from core.types import IdentityKey, Role
from tests.contract.test_auth_repositories import api_account

LATER = datetime.now(UTC) + timedelta(days=1)


async def add_key(
    uow: UnitOfWorkFactory, username: str, key_hash: str, options: KeyOptions | None = None
) -> int:
    async with uow() as tx:
        credential = await tx.credentials.get(username)
        assert credential is not None
        key_id = await tx.api_keys.add(
            credential.id, key_hash, "sb-xxxx", "laptop", options or KeyOptions()
        )
        await tx.commit()
    return key_id


async def test_a_key_finds_its_record_credential_and_account(uow: UnitOfWorkFactory) -> None:
    alice = await api_account(uow, "alice")
    limits = KeyOptions(budget=500, expires_at=LATER, per_minute=7)
    key_id = await add_key(uow, "alice", "hash-a", limits)
    async with uow() as tx:
        expected_key = await tx.api_keys.find("hash-a")
        expected_credential = await tx.credentials.get("alice")
        expected_account = await tx.accounts.find_by_identity(IdentityKey("api", "", "alice"))
    async with uow(atomic=False) as tx:
        found = await tx.api_keys.find_principal("hash-a")
    assert found is not None
    assert found.key == expected_key and found.key.id == key_id
    assert (found.key.budget, found.key.per_minute) == (500, 7)
    assert found.credential == expected_credential
    assert found.account == expected_account and found.account.id == alice


async def test_revoked_and_unknown_keys_find_nothing(uow: UnitOfWorkFactory) -> None:
    await api_account(uow, "alice")
    key_id = await add_key(uow, "alice", "hash-a")
    async with uow() as tx:
        credential = await tx.credentials.get("alice")
        assert credential is not None
        assert await tx.api_keys.revoke(credential.id, key_id)
        await tx.commit()
    async with uow(atomic=False) as tx:
        assert await tx.api_keys.find_principal("hash-a") is None
    async with uow(atomic=False) as tx:
        assert await tx.api_keys.find_principal("hash-unknown") is None


async def test_a_key_whose_owner_has_no_account_finds_nothing(uow: UnitOfWorkFactory) -> None:
    # A credential without its ``api`` identity: no account to sign in as.
    async with uow() as tx:
        account = await tx.accounts.create(Role.USER)
        assert await tx.credentials.create("orphan", account.id, "hash-1")
        await tx.commit()
    await add_key(uow, "orphan", "hash-o")
    async with uow(atomic=False) as tx:
        assert await tx.api_keys.find_principal("hash-o") is None
    async with uow(atomic=False) as tx:
        assert await tx.credentials.find_principal("orphan") is None


async def test_a_banned_account_is_still_found(uow: UnitOfWorkFactory) -> None:
    """Refusing it is the gate's job, with its own error; the lookup only reports."""
    alice = await api_account(uow, "alice")
    await add_key(uow, "alice", "hash-a")
    async with uow() as tx:
        await tx.accounts.set_banned(alice, True)
        await tx.commit()
    async with uow(atomic=False) as tx:
        by_key = await tx.api_keys.find_principal("hash-a")
    async with uow(atomic=False) as tx:
        by_name = await tx.credentials.find_principal("alice")
    assert by_key is not None and by_key.account.banned
    assert by_name is not None and by_name.account.banned


async def test_the_account_follows_a_link(uow: UnitOfWorkFactory) -> None:
    alice = await api_account(uow, "alice")
    await add_key(uow, "alice", "hash-a")
    async with uow() as tx:
        other = await tx.accounts.create(Role.USER)
        await tx.accounts.move_identities(alice, other.id)
        await tx.commit()
    async with uow(atomic=False) as tx:
        by_key = await tx.api_keys.find_principal("hash-a")
    async with uow(atomic=False) as tx:
        by_name = await tx.credentials.find_principal("alice")
    assert by_key is not None and by_key.account.id == other.id
    assert by_key.credential.account_id == alice  # the account at registration, kept
    assert by_name is not None and by_name.account.id == other.id


async def test_a_username_finds_its_credential_account_and_version(
    uow: UnitOfWorkFactory,
) -> None:
    alice = await api_account(uow, "alice")
    async with uow() as tx:
        expected_credential = await tx.credentials.get("alice")
        expected_account = await tx.accounts.find_by_identity(IdentityKey("api", "", "alice"))
    async with uow(atomic=False) as tx:
        found = await tx.credentials.find_principal("alice")
    assert found is not None
    assert found.credential == expected_credential
    assert found.account == expected_account and found.account.id == alice
    assert found.security_version == 0  # never bumped: no row, as security.version says
    async with uow() as tx:
        await tx.security.bump(alice)
        await tx.security.bump(alice)
        await tx.commit()
    async with uow(atomic=False) as tx:
        bumped = await tx.credentials.find_principal("alice")
    assert bumped is not None and bumped.security_version == 2
    async with uow(atomic=False) as tx:
        assert await tx.credentials.find_principal("nobody") is None
