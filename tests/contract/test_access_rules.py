"""Access rules, invitations and announcement opt-outs on memory, SQLite and Postgres
alike; and on the real databases, an invitation for N people taken by many newcomers at
once admits exactly N of them (the guarded UPDATE, not care)."""

from __future__ import annotations

import asyncio

import pytest

from core.errors import InviteInvalid, PrivateBot
from core.models_config import ModelCatalog
from core.ports import AccessRule, Invite
from core.services.accounts import AccountService
from core.types import Role
from storage.kv.memory import MemoryLinkCodes
from tests.contract.conftest import UowFactory
from tests.harness import caller, with_config


async def test_rules_round_trip_and_replace(uow: UowFactory):
    async with uow() as tx:
        await tx.access.set_rule("telegram:chat:-1", "allow", None)
        await tx.access.set_rule("#7", "block", 1)
        await tx.commit()
    async with uow() as tx:
        await tx.access.set_rule("#7", "allow", 1)  # replaced, not duplicated
        await tx.commit()
        assert await tx.access.verdicts(["#7", "telegram:chat:-1", "nobody"]) == {
            "#7": "allow",
            "telegram:chat:-1": "allow",
        }
        assert await tx.access.rules() == [
            AccessRule("#7", "allow"),
            AccessRule("telegram:chat:-1", "allow"),
        ]
    async with uow() as tx:
        assert await tx.access.remove_rule("#7")
        assert not await tx.access.remove_rule("#7")
        # not committed: rolled back
    async with uow() as tx:
        assert await tx.access.verdicts(["#7"]) == {"#7": "allow"}


async def test_invite_uses_run_out(uow: UowFactory):
    async with uow() as tx:
        await tx.access.add_invite("ABC", 2, 1)
        await tx.commit()
    async with uow() as tx:
        assert await tx.access.use_invite("ABC")
        assert await tx.access.use_invite("ABC")
        assert not await tx.access.use_invite("ABC")
        assert not await tx.access.use_invite("OTHER")
        await tx.access.add_invite("XYZ", 4, 1)
        # Used-up codes stay listed with nothing left, for the admin console.
        listed = sorted(await tx.access.invites(10), key=lambda i: i.code)
        assert listed == [Invite("ABC", 0), Invite("XYZ", 4)]
        assert len(await tx.access.invites(1)) == 1


async def test_mutes(uow: UowFactory):
    async with uow() as tx:
        account = await tx.accounts.create(Role.USER)
        await tx.access.set_muted(account.id, True)
        await tx.access.set_muted(account.id, True)
        await tx.commit()
        assert await tx.access.muted([account.id, account.id + 1]) == {account.id}
        await tx.access.set_muted(account.id, False)
        await tx.commit()
        assert await tx.access.muted([account.id]) == set()


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
async def test_n_use_invitation_under_concurrency(uow: UowFactory):
    config = with_config(access_mode="closed")
    accounts = AccountService(uow, config, MemoryLinkCodes(), ModelCatalog({}, {}, {}))
    async with uow() as tx:
        await tx.access.add_invite("TEAM", 5, 1)
        await tx.commit()

    async def newcomer(i: int) -> object:
        try:
            return await accounts.resolve(caller(str(1000 + i)), invite="team")
        except InviteInvalid as refused:
            return refused

    results = await asyncio.gather(*(newcomer(i) for i in range(30)))
    admitted = [r for r in results if not isinstance(r, InviteInvalid)]
    assert len(admitted) == 5
    assert len({a.id for a in admitted}) == 5  # type: ignore[attr-defined]
    with pytest.raises(PrivateBot):
        await accounts.resolve(caller("5000"))
    async with uow() as tx:
        found = [
            await tx.accounts.find_by_identity(caller(str(1000 + i)).identity) for i in range(30)
        ]
    # the refused 25 left no account behind
    assert sorted(a.id for a in found if a is not None) == sorted(a.id for a in admitted)  # type: ignore[attr-defined]
