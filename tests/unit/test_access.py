"""Access control on in-memory storage: closed mode, allow/block lists, invitations."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from bots.commands import CommandContext, run_command
from core.errors import AccessBlocked, BadArgument, InviteInvalid, NotAllowed, PrivateBot
from core.services.requests import ChatRequest, Venue
from tests.fakes.llm_server import FakeLLM
from tests.fakes.memory import MemoryStore, memory_uow_factory
from tests.harness import caller, core_on, with_config

ADMIN = caller("900", name="boss")
GROUP = Venue("-1001", private=False)
DM = Venue("5", private=True)


def in_(who, venue):
    return replace(who, venue=venue)


@pytest.fixture
def store():
    return MemoryStore()


def make(store, **config):
    admins = frozenset({ADMIN.identity})
    return core_on(
        memory_uow_factory(store),
        "http://127.0.0.1:9",
        config=with_config(bootstrap_admins=admins, **config),
    )


async def command(core, who, text: str, event: str | None = None):
    name, _, args = text.lstrip("/").partition(" ")
    return await run_command(CommandContext(core, who, "chat", event_id=event), name, args)


async def test_closed_mode_refuses_a_stranger_and_creates_no_account(store):
    async with make(store, access_mode="closed") as core:
        with pytest.raises(PrivateBot):
            await core.accounts.resolve(in_(caller("1"), DM))
        with pytest.raises(PrivateBot):
            await command(core, caller("1"), "/balance")
        assert store.accounts == {} and store.identities == {}
        # bootstrap admins always get in, and so does the operator's own console
        assert (await core.accounts.resolve(ADMIN)).role.value == "admin"
        await core.accounts.resolve(caller("me", platform="console"))
        assert len(store.accounts) == 2


async def test_closed_mode_refuses_a_paid_request_before_anything_is_charged(store):
    async with (
        FakeLLM() as llm,
        core_on(
            memory_uow_factory(store), llm.base_url, config=with_config(access_mode="closed")
        ) as core,
    ):
        with pytest.raises(PrivateBot):
            await core.chat.start(ChatRequest(caller=caller("1"), chat_id="c", text="hi"))
        assert store.accounts == {} and store.ledger == []
        assert llm.requests == []


async def test_an_allowed_group_admits_its_members_and_a_block_applies_at_once(store):
    async with make(store, access_mode="closed") as core:
        await core.accounts.resolve(ADMIN)
        reply = await command(core, in_(ADMIN, GROUP), "/allow")
        assert reply is not None and "telegram:chat:-1001" in reply.text
        member = await core.accounts.resolve(in_(caller("7"), GROUP))
        # once in, the member may also write privately
        assert (await core.accounts.resolve(in_(caller("7"), DM))).id == member.id
        await command(core, ADMIN, "/block 7")
        with pytest.raises(AccessBlocked) as in_group:
            await core.accounts.resolve(in_(caller("7"), GROUP))
        assert in_group.value.quiet
        with pytest.raises(AccessBlocked) as in_private:
            await core.accounts.resolve(in_(caller("7"), DM))
        assert not in_private.value.quiet
        await command(core, ADMIN, "/unlist 7")
        assert (await core.accounts.resolve(in_(caller("7"), DM))).id == member.id


async def test_block_in_open_mode_and_by_account_number(store):
    async with make(store) as core:
        someone = await core.accounts.resolve(caller("3"))
        await core.accounts.resolve(ADMIN)
        await command(core, ADMIN, f"/block #{someone.id}")
        with pytest.raises(AccessBlocked):
            await core.accounts.resolve(caller("3"))
        # the same person from a linked identity is the same account: refused too
        assert (await command(core, ADMIN, "/access")).text.count(f"#{someone.id}") == 1


async def test_settings_lists_servers_and_roles(store):
    allow = frozenset({"discord:server:42", "discord:role:77", "slack:workspace:T1"})
    async with make(store, access_mode="closed", access_allow=allow) as core:
        server = Venue("c1", private=False, server="42")
        await core.accounts.resolve(in_(caller("1", platform="discord"), server))
        role = Venue("c2", private=False, server="43", roles=("77",))
        await core.accounts.resolve(in_(caller("2", platform="discord"), role))
        # a Slack workspace admits its people even in a DM (the team is on the identity)
        await core.accounts.resolve(caller("U1", platform="slack", workspace="T1"))
        with pytest.raises(PrivateBot):
            other = Venue("c3", private=False, server="44", roles=("78",))
            await core.accounts.resolve(in_(caller("3", platform="discord"), other))
        assert len(store.accounts) == 3


async def test_only_admins_run_access_commands(store):
    async with make(store) as core:
        for text in ("/allow 5", "/block 5", "/invite", "/access closed"):
            with pytest.raises(NotAllowed):
                await command(core, caller("1"), text)
        assert store.access_rules == {} and store.invites == {}


async def test_access_command_closes_the_bot_for_every_worker(store):
    async with make(store) as core, make(store) as other_worker:
        await command(core, ADMIN, "/access closed", "e1")
        with pytest.raises(PrivateBot):
            await other_worker.accounts.resolve(caller("1"))
        with pytest.raises(BadArgument):
            await command(core, ADMIN, "/access ajar")


async def test_invitation_with_n_uses_admits_exactly_n_under_concurrency(store):
    async with make(store, access_mode="closed") as core:
        code = await core.access.invite(ADMIN, "3")
        results = await asyncio.gather(
            *(core.access.join(caller(str(i)), code) for i in range(10)), return_exceptions=True
        )
        joined = [r for r in results if not isinstance(r, BaseException)]
        refused = [r for r in results if isinstance(r, InviteInvalid)]
        assert len(joined) == 3 and len(refused) == 7
        assert len(store.accounts) == 1 + 3  # the admin and three newcomers


async def test_join_and_start_with_a_code(store):
    async with make(store, access_mode="closed") as core:
        code = await core.access.invite(ADMIN, "")
        reply = await command(core, caller("8"), f"/start {code.lower()}")
        assert reply is not None and "Welcome" in reply.text
        again = await command(core, caller("8"), f"/join {code}")
        assert again is not None and "already" in again.text
        with pytest.raises(InviteInvalid):
            await command(core, caller("9"), f"/join {code}")
        with pytest.raises(InviteInvalid):
            await command(core, caller("9"), "/join NOPE")
        assert len(store.accounts) == 2


async def test_mute_announcements(store):
    async with make(store) as core:
        account = await core.accounts.resolve(caller("1"))
        reply = await command(core, caller("1"), "/mute announcements")
        assert reply is not None and account.id in store.muted
        await command(core, caller("1"), "/unmute announcements")
        assert store.muted == set()
        what = await command(core, caller("1"), "/mute everything")
        assert what is not None and "announcements" in what.text
