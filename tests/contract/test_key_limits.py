"""API keys as virtual keys, on memory, SQLite and Postgres alike: the limits round trip,
the guarded budget reservation, the use recorded at settlement, and concurrent holds on
one key that can never take more than its budget."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from core.errors import InsufficientCredits, KeyBudgetExhausted
from core.ports import ApiKeyRecord, KeyOptions
from core.services.auth import api_caller
from core.services.billing import Billing, Hold, Settlement
from core.services.requests import PaidRequest
from core.types import Feature, LedgerEntry, LedgerKind, Outcome
from tests.contract.conftest import UowFactory
from tests.contract.test_auth_repositories import api_account

EXPIRY = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)


async def _key(uow: UowFactory, username: str, options: KeyOptions) -> ApiKeyRecord:
    await api_account(uow, username)
    async with uow() as tx:
        credential = await tx.credentials.get(username)
        assert credential is not None
        key_id = await tx.api_keys.add(credential.id, f"hash-{username}", "sb-x", None, options)
        await tx.commit()
        record = await tx.api_keys.get(credential.id, key_id)
    assert record is not None
    return record


async def _get(uow: UowFactory, record: ApiKeyRecord) -> ApiKeyRecord:
    async with uow() as tx:
        found = await tx.api_keys.get(record.credential_id, record.id)
    assert found is not None
    return found


async def test_limits_round_trip_and_change_only_what_is_given(uow: UowFactory) -> None:
    options = KeyOptions(
        budget=5_000, expires_at=EXPIRY, models=frozenset({"a", "b"}), per_minute=7
    )
    record = await _key(uow, "alice", options)
    assert (record.budget, record.expires_at, record.models, record.per_minute) == (
        5_000,
        EXPIRY,
        frozenset({"a", "b"}),
        7,
    )
    assert (record.spent, record.requests, record.last_used_at) == (0, 0, None)
    async with uow() as tx:
        assert await tx.api_keys.get(record.credential_id + 1000, record.id) is None
        change = KeyOptions(budget=None, per_minute=60, given=frozenset({"budget", "per_minute"}))
        assert await tx.api_keys.update(record.credential_id, record.id, change)
        assert not await tx.api_keys.update(record.credential_id + 1000, record.id, change)
        await tx.commit()
    changed = await _get(uow, record)
    assert (changed.budget, changed.per_minute) == (None, 60)  # removed, changed
    assert (changed.expires_at, changed.models) == (EXPIRY, frozenset({"a", "b"}))  # kept
    async with uow() as tx:
        assert await tx.api_keys.revoke(record.credential_id, record.id)
        await tx.commit()
    async with uow() as tx:
        assert await tx.api_keys.get(record.credential_id, record.id) is None
        assert not await tx.api_keys.update(record.credential_id, record.id, change)


async def test_reserve_is_guarded_by_the_budget_and_settle_records_use(uow: UowFactory) -> None:
    record = await _key(uow, "bob", KeyOptions(budget=100))
    async with uow() as tx:
        assert await tx.api_keys.reserve(record.id, 60)
        assert not await tx.api_keys.reserve(record.id, 41)  # 101 > 100
        assert await tx.api_keys.reserve(record.id, 40)  # exactly the budget
        assert not await tx.api_keys.reserve(record.id, 1)
        await tx.commit()
    used_at = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    async with uow() as tx:
        await tx.api_keys.settle(record.id, 25, used_at)  # held 60, charged 35
        await tx.commit()
    after = await _get(uow, record)
    assert (after.spent, after.requests, after.last_used_at) == (75, 1, used_at)
    async with uow() as tx:
        with pytest.raises(ValueError):
            await tx.api_keys.reserve(record.id, -1)
        assert await tx.api_keys.revoke(record.credential_id, record.id)
        assert not await tx.api_keys.reserve(record.id, 0)  # a revoked key holds nothing
        await tx.commit()
    free = await _key(uow, "carol", KeyOptions())
    async with uow() as tx:
        assert await tx.api_keys.reserve(free.id, 10**12)  # no budget: always
        await tx.commit()
    assert (await _get(uow, free)).spent == 10**12


async def test_ledger_hold_names_its_key(uow: UowFactory) -> None:
    account_id = await api_account(uow, "dave")
    async with uow() as tx:
        await tx.ledger.append(LedgerEntry(account_id, -5, LedgerKind.HOLD, "r-1", api_key_id=9))
        await tx.commit()
    async with uow() as tx:
        [entry] = await tx.ledger.entries(account_id, 10)
        [still_open] = await tx.ledger.open_holds(datetime.now(UTC) + timedelta(minutes=1))
    assert entry.api_key_id == 9 and still_open.api_key_id == 9


async def _grant(uow: UowFactory, account_id: int, amount: int) -> None:
    async with uow() as tx:
        await tx.accounts.add_to_balance(account_id, amount)
        await tx.ledger.append(LedgerEntry(account_id, amount, LedgerKind.GRANT))
        await tx.commit()


async def test_concurrent_holds_never_take_more_than_the_key_budget(uow: UowFactory) -> None:
    """The budget covers one request and a half: however the holds interleave, exactly one
    is admitted, and the account is charged for exactly one."""
    cost, attempts = 1_000, 8
    record = await _key(uow, "erin", KeyOptions(budget=cost * 3 // 2))
    account_id = await _account_of(uow, "erin")
    await _grant(uow, account_id, 100 * cost)
    billing = Billing(uow)
    caller = api_caller("erin", record.limits)
    async with uow() as tx:
        account = await tx.accounts.get(account_id)
    assert account is not None

    async def hold() -> Hold:
        request = PaidRequest(caller, "v1", model="m")
        return await billing.hold(account, request, cost, Feature.CHAT, "m")

    results = await asyncio.gather(*(hold() for _ in range(attempts)), return_exceptions=True)
    held = [r for r in results if isinstance(r, Hold)]
    refused = [r for r in results if isinstance(r, KeyBudgetExhausted)]
    assert (len(held), len(refused)) == (1, attempts - 1), results
    assert (held[0].api_key_id, held[0].key_reserved) == (record.id, cost)
    async with uow() as tx:
        fresh = await tx.accounts.get(account_id)
        holds = [e for e in await tx.ledger.entries(account_id, 100) if e.kind is LedgerKind.HOLD]
    assert fresh is not None and fresh.balance == 99 * cost  # refused holds rolled back
    assert [h.api_key_id for h in holds] == [record.id]
    assert (await _get(uow, record)).spent == cost

    # Settling charges the key what the request cost; the rest of its budget is free again.
    assert await billing.settle(held[0], Settlement(400, Outcome.OK))
    after = await _get(uow, record)
    assert (after.spent, after.requests) == (400, 1) and after.last_used_at is not None
    assert not await billing.settle(held[0], Settlement(400, Outcome.OK))  # idempotent
    assert (await _get(uow, record)).requests == 1


async def test_a_refusal_for_credits_leaves_the_key_untouched(uow: UowFactory) -> None:
    record = await _key(uow, "frank", KeyOptions(budget=10_000))
    account_id = await _account_of(uow, "frank")  # balance 0
    async with uow() as tx:
        account = await tx.accounts.get(account_id)
    assert account is not None
    request = PaidRequest(api_caller("frank", record.limits), "v1")
    with pytest.raises(InsufficientCredits):
        await Billing(uow).hold(account, request, 500, Feature.CHAT, "m")
    assert (await _get(uow, record)).spent == 0


async def _account_of(uow: UowFactory, username: str) -> int:
    async with uow() as tx:
        account = await tx.accounts.find_by_identity(api_caller(username).identity)
    assert account is not None
    return account.id
