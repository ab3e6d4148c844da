"""The same contract on memory, SQLite and Postgres: the reservation's overdraft
conditions, the allowance claim (once per period), and the override round trip."""

from __future__ import annotations

import pytest

from core.types import Role
from tests.contract.conftest import UowFactory


async def account_with(uow: UowFactory, balance: int) -> int:
    async with uow() as tx:
        account = await tx.accounts.create(Role.USER)
        await tx.accounts.add_to_balance(account.id, balance)
        await tx.commit()
        return account.id


@pytest.mark.parametrize(
    ("balance", "kw", "taken"),
    [
        (10, {"overdraft": 5}, 15),
        (100, {"overdraft": 5}, 40),
        (10, {"overdraft": 5, "upfront": 11}, 0),
        (10, {"overdraft": 5, "least": 16}, 0),
        (10, {"overdraft": 5, "upfront": 10, "least": 15}, 15),
        (0, {"overdraft": 5}, 0),
    ],
)
async def test_reserve_with_an_overdraft(uow: UowFactory, balance, kw, taken) -> None:
    account_id = await account_with(uow, balance)
    async with uow() as tx:
        assert await tx.accounts.reserve(account_id, 40, **kw) == taken
        await tx.commit()
    async with uow() as tx:
        account = await tx.accounts.get(account_id)
    assert account is not None and account.balance == balance - taken


async def test_an_allowance_period_is_claimed_once(uow: UowFactory) -> None:
    account_id = await account_with(uow, 7)
    async with uow() as tx:
        assert await tx.accounts.claim_allowance(account_id, "daily:2026-12-04") == 7
        assert await tx.accounts.claim_allowance(account_id, "daily:2026-12-04") is None
        await tx.commit()
    async with uow() as tx:  # a rolled back claim leaves the period unclaimed
        assert await tx.accounts.claim_allowance(account_id, "daily:2026-12-05") == 7
    async with uow() as tx:
        assert await tx.accounts.claim_allowance(account_id, "daily:2026-12-05") == 7
        await tx.accounts.set_allowance_override(account_id, "weekly:30")
        await tx.commit()
    async with uow() as tx:
        account = await tx.accounts.get(account_id)
    assert account is not None
    assert (account.allowance_period, account.allowance_override) == (
        "daily:2026-12-05",
        "weekly:30",
    )
