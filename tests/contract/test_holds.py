"""``HoldRepository`` on memory, SQLite and Postgres alike: the rows an opened and a closed
hold leave (balance, ledger, key use, owner row, usage event) are those of the reference
``StepwiseHolds``, whichever implementation the backend has (Postgres: one function call
each). A key refused by its budget leaves nothing once the unit of work ends without a
commit, inside a transaction or, on Postgres, outside one (``atomic=False``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from core.ports import KeyOptions, UnitOfWorkFactory
from core.ports.holds import HoldClosing, HoldOpening, HoldOwner, OpenedHold
from core.types import Feature, LedgerEntry, LedgerKind, Outcome, UsageEvent
from tests.contract.test_auth_repositories import api_account

USED_AT = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
OWNER = HoldOwner("worker-1", "telegram", "chat-9", "what is the capital?")


@dataclass(frozen=True)
class Party:
    account_id: int
    credential_id: int
    key_id: int | None


@dataclass(frozen=True)
class KeyUse:
    spent: int
    requests: int
    last_used_at: datetime | None


@dataclass(frozen=True)
class Rows:
    """Everything a hold may write, as read back after the unit of work ended."""

    balance: int
    ledger_sum: int
    ledger: list[tuple[LedgerKind, int, str | None, int | None]]  # hold and settle rows
    key: KeyUse | None
    usage: list[UsageEvent]
    owners: list[tuple[str, str, str, bool]]  # request id, platform, chat id, retryable


async def _party(
    uow: UnitOfWorkFactory, name: str, balance: int, key: KeyOptions | None = None
) -> Party:
    account_id = await api_account(uow, name)
    async with uow() as tx:
        credential = await tx.credentials.get(name)
        assert credential is not None
        if balance:
            await tx.accounts.add_to_balance(account_id, balance)
            await tx.ledger.append(LedgerEntry(account_id, balance, LedgerKind.GRANT))
        key_id = None
        if key is not None:
            key_id = await tx.api_keys.add(credential.id, f"hash-{name}", "sb-x", None, key)
        await tx.commit()
    return Party(account_id, credential.id, key_id)


async def _rows(uow: UnitOfWorkFactory, party: Party) -> Rows:
    async with uow() as tx:
        # The owner rows show through the sweep's query once the worker's lease is over.
        await tx.leases.renew(OWNER.worker_id, datetime.now(UTC) - timedelta(minutes=1))
        await tx.commit()
    async with uow() as tx:
        account = await tx.accounts.get(party.account_id)
        assert account is not None
        entries = await tx.ledger.entries(party.account_id, 100)
        ledger_sum = await tx.ledger.sum_for(party.account_id)
        keys = await tx.api_keys.list(party.credential_id)
        usage = await tx.usage.recent(party.account_id, 100)
        orphans = await tx.leases.orphaned_holds(datetime.now(UTC))
    key = None  # no key, or a revoked one (not listed)
    for record in keys:
        if record.id == party.key_id:
            key = KeyUse(record.spent, record.requests, record.last_used_at)
    return Rows(
        account.balance,
        ledger_sum,
        sorted(
            (
                (e.kind, e.amount, e.request_id, e.api_key_id)
                for e in entries
                if e.kind in (LedgerKind.HOLD, LedgerKind.SETTLE)
            ),
            key=lambda row: row[0] != LedgerKind.HOLD,
        ),
        key,
        usage,
        [
            (o.entry.request_id or "", o.platform, o.chat_id, o.retryable)
            for o in orphans
            if o.entry.account_id == party.account_id
        ],
    )


def _opening(party: Party, cost: int, **kw: object) -> HoldOpening:
    return HoldOpening(party.account_id, "r-1", cost, **kw)  # type: ignore[arg-type]


async def _open(uow: UnitOfWorkFactory, opening: HoldOpening) -> OpenedHold:
    async with uow() as tx:
        opened = await tx.holds.open(opening)
        await tx.commit()
    return opened


@pytest.mark.parametrize("with_key", [False, True], ids=["no-key", "key"])
@pytest.mark.parametrize("with_owner", [False, True], ids=["no-owner", "owner"])
async def test_open_reserves_and_writes_the_hold_rows(
    uow: UnitOfWorkFactory, with_key: bool, with_owner: bool
) -> None:
    party = await _party(uow, "alice", 1_000, KeyOptions(budget=500) if with_key else None)
    owner = OWNER if with_owner else None
    opened = await _open(
        uow, _opening(party, 300, api_key_id=party.key_id, owner=owner, upfront=100, least=200)
    )
    assert opened == OpenedHold(300)
    rows = await _rows(uow, party)
    assert rows.balance == rows.ledger_sum == 700
    assert rows.ledger == [(LedgerKind.HOLD, -300, "r-1", party.key_id)]
    assert rows.key == (KeyUse(300, 0, None) if with_key else None)  # held, not yet used
    assert rows.usage == []
    expected = [("r-1", "telegram", "chat-9", True)] if with_owner else []
    assert rows.owners == expected


async def test_open_refused_for_a_balance_not_above_zero(uow: UnitOfWorkFactory) -> None:
    party = await _party(uow, "bob", 0, KeyOptions(budget=500))
    # Even a large overdraft does not open a hold on an empty balance.
    opened = await _open(uow, _opening(party, 300, overdraft=10_000, api_key_id=party.key_id))
    assert opened == OpenedHold(0)
    rows = await _rows(uow, party)
    assert (rows.balance, rows.ledger, rows.key, rows.usage) == (0, [], KeyUse(0, 0, None), [])


@pytest.mark.parametrize(
    ("balance", "overdraft", "upfront", "least", "reserved"),
    [
        (100, 0, 101, 0, 0),  # the balance alone does not pay the upfront part
        (100, 0, 100, 0, 100),  # exactly: held, bounded by the balance
        (100, 50, 0, 151, 0),  # balance + overdraft below least
        (100, 50, 0, 150, 150),  # exactly: min(cost, balance + overdraft)
    ],
)
async def test_open_refused_by_upfront_or_least(
    uow: UnitOfWorkFactory, balance: int, overdraft: int, upfront: int, least: int, reserved: int
) -> None:
    party = await _party(uow, "carol", balance)
    opened = await _open(
        uow, _opening(party, 400, overdraft=overdraft, upfront=upfront, least=least, owner=OWNER)
    )
    assert opened == OpenedHold(reserved)
    rows = await _rows(uow, party)
    assert rows.balance == rows.ledger_sum == balance - reserved
    if reserved:
        assert rows.ledger == [(LedgerKind.HOLD, -reserved, "r-1", None)]
        assert rows.owners == [("r-1", "telegram", "chat-9", True)]
    else:
        assert (rows.ledger, rows.owners) == ([], [])


async def test_open_refused_on_a_banned_account(uow: UnitOfWorkFactory) -> None:
    party = await _party(uow, "dave", 1_000, KeyOptions())
    async with uow() as tx:
        await tx.accounts.set_banned(party.account_id, True)
        await tx.commit()
    assert await _open(uow, _opening(party, 300, api_key_id=party.key_id, owner=OWNER)) == (
        OpenedHold(0)
    )
    rows = await _rows(uow, party)
    assert (rows.balance, rows.ledger, rows.key, rows.owners) == (
        1_000,
        [],
        KeyUse(0, 0, None),
        [],
    )


async def test_a_short_balance_is_covered_by_the_overdraft(uow: UnitOfWorkFactory) -> None:
    party = await _party(uow, "erin", 100, KeyOptions(budget=400))
    opened = await _open(uow, _opening(party, 400, overdraft=150, api_key_id=party.key_id))
    assert opened == OpenedHold(250)  # min(400, 100 + 150)
    rows = await _rows(uow, party)
    assert rows.balance == rows.ledger_sum == -150
    assert rows.ledger == [(LedgerKind.HOLD, -250, "r-1", party.key_id)]
    assert rows.key == KeyUse(400, 0, None)  # the key holds the whole cost


def _is_postgres(database_url: str | None) -> bool:
    return bool(database_url and database_url.startswith("postgresql"))


@pytest.mark.parametrize("atomic", [True, False], ids=["atomic", "not-atomic"])
@pytest.mark.parametrize("revoked", [False, True], ids=["over-budget", "revoked"])
async def test_a_refused_key_leaves_nothing(
    uow: UnitOfWorkFactory, database_url: str | None, atomic: bool, revoked: bool
) -> None:
    """Not atomic on Postgres: no transaction, nothing rolled back; the function undoes
    its own account update. Elsewhere ``atomic=False`` is still a transaction."""
    party = await _party(uow, "frank", 1_000, KeyOptions(budget=1_000 if revoked else 299))
    assert party.key_id is not None
    if revoked:
        async with uow() as tx:
            assert await tx.api_keys.revoke(party.credential_id, party.key_id)
            await tx.commit()
    async with uow(atomic=atomic) as tx:
        opened = await tx.holds.open(_opening(party, 300, api_key_id=party.key_id, owner=OWNER))
        assert opened == OpenedHold(0, key_refused=True)  # the same on every backend
        if _is_postgres(database_url) and not atomic:
            # Outside a transaction each statement is committed: whole already.
            account = await tx.accounts.get(party.account_id)
            assert account is not None and account.balance == 1_000
        # No commit: the caller raises KeyBudgetExhausted.
    rows = await _rows(uow, party)
    assert rows.balance == rows.ledger_sum == 1_000
    key = None if revoked else KeyUse(0, 0, None)
    assert (rows.ledger, rows.key, rows.usage, rows.owners) == ([], key, [], [])


def _closing(party: Party, refund: int, key_refund: int, charged: int) -> HoldClosing:
    event = UsageEvent(
        "r-1",
        party.account_id,
        "api",
        Feature.CHAT,
        "chat-a",
        12,
        34,
        charged,
        56,
        Outcome.OK,
        USED_AT,
    )
    return HoldClosing(party.account_id, "r-1", refund, event, USED_AT, party.key_id, key_refund)


@pytest.mark.parametrize("charged", [200, 300, 350], ids=["refund", "exact", "beyond"])
@pytest.mark.parametrize("atomic", [True, False], ids=["atomic", "not-atomic"])
async def test_close_settles_the_balance_the_key_and_the_usage(
    uow: UnitOfWorkFactory, charged: int, atomic: bool
) -> None:
    party = await _party(uow, "grace", 1_000, KeyOptions(budget=1_000))
    assert await _open(uow, _opening(party, 300, api_key_id=party.key_id)) == OpenedHold(300)
    closing = _closing(party, 300 - charged, 300 - charged, charged)
    async with uow(atomic=atomic) as tx:
        assert await tx.holds.close(closing)
        await tx.commit()
    rows = await _rows(uow, party)
    assert rows.balance == rows.ledger_sum == 1_000 - charged
    assert rows.ledger == [
        (LedgerKind.HOLD, -300, "r-1", party.key_id),
        (LedgerKind.SETTLE, 300 - charged, "r-1", None),
    ]
    assert rows.key == KeyUse(charged, 1, USED_AT)
    assert rows.usage == [closing.event]

    # A second settlement of the request: False, and nothing more is written.
    async with uow(atomic=atomic) as tx:
        assert not await tx.holds.close(_closing(party, 300, 300, 0))
        await tx.commit()
    assert await _rows(uow, party) == rows


async def test_close_without_a_key(uow: UnitOfWorkFactory) -> None:
    party = await _party(uow, "heidi", 1_000)
    assert await _open(uow, _opening(party, 300, owner=OWNER)) == OpenedHold(300)
    closing = _closing(party, 100, 0, 200)
    async with uow() as tx:
        assert await tx.holds.close(closing)
        await tx.commit()
    rows = await _rows(uow, party)
    assert rows.balance == rows.ledger_sum == 800
    assert rows.ledger == [
        (LedgerKind.HOLD, -300, "r-1", None),
        (LedgerKind.SETTLE, 100, "r-1", None),
    ]
    assert rows.usage == [closing.event]
    assert rows.owners == []  # settled: the sweep has nothing left of it


async def test_not_atomic_needs_no_commit_on_postgres_only(
    uow: UnitOfWorkFactory, database_url: str | None
) -> None:
    """On Postgres a unit of work that is not atomic sends no BEGIN: the hold and its
    settlement stay although the block never commits (each call is whole). Elsewhere it
    is still a transaction: without a commit nothing stays."""
    autocommits = _is_postgres(database_url)
    party = await _party(uow, "ivan", 1_000, KeyOptions())
    async with uow(atomic=False) as tx:
        assert await tx.holds.open(_opening(party, 300, api_key_id=party.key_id)) == (
            OpenedHold(300)
        )
    assert (await _rows(uow, party)).balance == (700 if autocommits else 1_000)
    if not autocommits:
        return
    closing = _closing(party, 100, 100, 200)
    async with uow(atomic=False) as tx:
        assert await tx.holds.close(closing)
    rows = await _rows(uow, party)
    assert rows.balance == rows.ledger_sum == 800
    assert rows.key == KeyUse(200, 1, USED_AT)
    assert rows.usage == [closing.event]


async def test_a_free_request_opens_a_zero_hold(uow: UnitOfWorkFactory) -> None:
    """Cost 0 (Postgres: the steps, as there is no account update to hang them on): the
    hold row, the key and the owner are written, the balance untouched."""
    party = await _party(uow, "judy", 1_000, KeyOptions(budget=10))
    opened = await _open(uow, _opening(party, 0, api_key_id=party.key_id, owner=OWNER))
    assert opened == OpenedHold(0) and not opened.key_refused
    rows = await _rows(uow, party)
    assert rows.balance == rows.ledger_sum == 1_000
    assert rows.ledger == [(LedgerKind.HOLD, 0, "r-1", party.key_id)]
    assert rows.key == KeyUse(0, 0, None)
    assert rows.owners == [("r-1", "telegram", "chat-9", True)]
