"""Accounts, linking, preferences and the admin use cases, on in-memory storage."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest

from core.errors import (
    AlreadyLinked,
    BadArgument,
    IdempotencyConflict,
    LinkCodeInvalid,
    NotAllowed,
    UnknownModel,
    UnknownUser,
)
from core.money import MICRO
from core.services.grants import Idempotency
from core.services.requests import ChatRequest
from core.types import LedgerKind, Role, StatsDimension
from tests.fakes.llm_server import FakeLLM
from tests.fakes.memory import MemoryStore, memory_uow_factory
from tests.harness import caller, collect, core_on, with_config

ADMIN = caller("900", name="boss")


@pytest.fixture
async def core():
    store = MemoryStore()
    async with (
        FakeLLM() as llm,
        core_on(
            memory_uow_factory(store),
            llm.base_url,
            config=with_config(bootstrap_admins=frozenset({ADMIN.identity})),
        ) as built,
    ):
        STORES[id(built)] = store
        yield built
        del STORES[id(built)]


STORES: dict[int, MemoryStore] = {}


async def ledger_sum(core, account_id: int) -> int:
    async with memory_uow_factory(STORES[id(core)])() as uow:
        return await uow.ledger.sum_for(account_id)


async def test_first_contact_creates_an_account_with_welcome_credits(core):
    account = await core.accounts.resolve(caller("1"))
    again = await core.accounts.resolve(caller("1"))
    assert account.id == again.id and account.role is Role.USER
    assert account.balance == 100 * MICRO == await ledger_sum(core, account.id)
    assert (await core.accounts.resolve(caller("1", platform="discord"))).id != account.id


async def test_bootstrap_admins_are_admins(core):
    assert (await core.accounts.resolve(ADMIN)).role is Role.ADMIN


async def test_linking_merges_identities_balances_and_history(core):
    tg, dc = caller("1"), caller("555", platform="discord")
    await collect(core.chat.ask(ChatRequest(caller=dc, chat_id="d1", text="from discord")))
    before_tg = await core.accounts.resolve(tg)
    before_dc = await core.accounts.resolve(dc)
    code = await core.accounts.create_link_code(tg)
    merged = await core.accounts.link(dc, code.lower())
    assert merged.id == before_tg.id
    assert (
        merged.balance == before_tg.balance + before_dc.balance == await ledger_sum(core, merged.id)
    )
    assert (await core.accounts.resolve(dc)).id == merged.id
    history = await core.conversations.history(tg)
    assert [h.question for h in history] == ["from discord"]
    with pytest.raises(LinkCodeInvalid):
        await core.accounts.link(dc, code)  # a code works once
    with pytest.raises(AlreadyLinked):
        await core.accounts.link(dc, await core.accounts.create_link_code(tg))
    with pytest.raises(LinkCodeInvalid):
        await core.accounts.link(caller("7"), "NOPE1234")


async def test_language_and_model_choice(core):
    account = await core.accounts.set_language(caller("1"), "ru-RU")
    assert account.language == "ru"
    with pytest.raises(BadArgument):
        await core.accounts.set_language(caller("1"), "xx")
    assert (await core.accounts.set_language(caller("1"), "auto")).language is None
    assert (await core.accounts.choose_chat_model(caller("1"), "chat-b")).name == "chat-b"
    assert (
        core.accounts.current_chat_model(await core.accounts.resolve(caller("1"))).name == "chat-b"
    )
    with pytest.raises(UnknownModel):
        await core.accounts.choose_chat_model(caller("1"), "chat-pro")  # admins only
    names = [m.name for m in core.accounts.chat_models(await core.accounts.resolve(ADMIN))]
    assert names == ["chat-a", "chat-b", "chat-pro"]


async def test_admin_grant_records_actor_and_reason(core):
    target = await core.accounts.resolve(caller("1"))
    after = await core.admin.grant(ADMIN, "1", "12.5", "prize")
    assert after.balance == target.balance + 12_500_000 == await ledger_sum(core, target.id)
    grants = [e for _, e in STORES[id(core)].ledger if e.kind is LedgerKind.GRANT]
    actor = await core.accounts.resolve(ADMIN)
    assert grants[0].actor_account_id == actor.id and grants[0].reason == "prize"
    deducted = await core.admin.grant(ADMIN, f"#{target.id}", "-200", "")
    assert deducted.balance < 0
    with pytest.raises(BadArgument):
        await core.admin.grant(ADMIN, "1", "lots", "")
    with pytest.raises(BadArgument):
        await core.admin.grant(ADMIN, "1", "0", "")
    with pytest.raises(UnknownUser):
        await core.admin.grant(ADMIN, "424242", "1", "")


async def test_admin_role_ban_view_and_name_lookup(core):
    await core.accounts.resolve(caller("1", name="alice"))
    assert (await core.admin.set_role(ADMIN, "@alice", "guest")).role is Role.GUEST
    with pytest.raises(BadArgument):
        await core.admin.set_role(ADMIN, "@alice", "emperor")
    assert (await core.admin.set_banned(ADMIN, "1", True)).banned
    view = await core.admin.view(ADMIN, "1")
    assert view.account.banned and [str(i.key) for i in view.identities] == ["telegram:1"]
    with pytest.raises(BadArgument):
        await core.admin.set_banned(ADMIN, "900", True)  # not yourself


async def test_non_admins_are_refused_and_logged(core, caplog):
    await core.accounts.resolve(caller("2"))
    caplog.set_level(logging.WARNING)
    for action in (
        core.admin.grant(caller("1"), "2", "5", ""),
        core.admin.set_role(caller("1"), "1", "admin"),
        core.admin.set_banned(caller("1"), "2", True),
        core.admin.view(caller("1"), "2"),
        core.admin.stats(caller("1")),
    ):
        with pytest.raises(NotAllowed):
            await action
    assert sum("refused admin action" in r.getMessage() for r in caplog.records) == 5
    assert (await core.accounts.resolve(caller("1"))).role is Role.USER


async def test_stats_by_dimension(core):
    await collect(core.chat.ask(ChatRequest(caller=caller("1"), chat_id="c", text="hello")))
    await collect(
        core.chat.ask(
            ChatRequest(
                caller=caller("2", platform="slack", workspace="T1"),
                chat_id="c",
                text="hi",
                model="chat-b",
            )
        )
    )
    report = await core.admin.stats(ADMIN)
    by_model = {r.key: r.requests for r in report.month[StatsDimension.MODEL]}
    assert by_model == {"chat-a": 1, "chat-b": 1}
    assert {r.key for r in report.today[StatsDimension.PLATFORM]} == {"telegram", "slack"}
    assert sum(r.credits for r in report.month[StatsDimension.FEATURE]) > 0
    mine = await core.admin.stats(ADMIN, "1")
    assert [r.requests for r in mine.month[StatsDimension.MODEL]] == [1]


async def security_version(core, account_id: int) -> int:
    async with memory_uow_factory(STORES[id(core)])() as uow:
        return await uow.security.version(account_id)


async def test_role_changes_and_bans_revoke_tokens_in_the_use_cases(core):
    target = await core.accounts.resolve(caller("1"))
    await core.admin.set_role(ADMIN, "1", "guest")
    await core.admin.set_banned(ADMIN, "1", True)
    await core.admin.set_banned(ADMIN, "1", False)
    assert await security_version(core, target.id) == 3
    # The repository alone changes the role and nothing else: the use case decides.
    async with memory_uow_factory(STORES[id(core)])() as uow:
        await uow.accounts.set_role(target.id, Role.ADMIN)
        await uow.commit()
    assert await security_version(core, target.id) == 3


async def test_linking_into_a_weaker_account_revokes_its_tokens(core):
    admin_side = await core.accounts.resolve(ADMIN)
    plain = await core.accounts.resolve(caller("1", platform="discord"))
    code = await core.accounts.create_link_code(caller("1", platform="discord"))
    await core.accounts.link(ADMIN, code)  # the admin's role moves onto the target
    assert (await core.admin.view(ADMIN, f"#{plain.id}")).account.role is Role.ADMIN
    assert await security_version(core, plain.id) == 1
    assert await security_version(core, admin_side.id) == 0


async def test_one_grant_path_with_an_idempotency_key(core):
    target = await core.accounts.resolve(caller("1"))
    root = await core.auth.register("root", "long enough password")  # an API user…
    await core.admin.set_role(ADMIN, f"#{root.account.id}", "admin")  # …made admin in chat
    root = replace(root, account=await core.accounts.resolve(root.caller))
    key = Idempotency("k-1", "hash-1")
    first = await core.admin.grant_to_account(root, target.id, "3", "api", key)
    again = await core.admin.grant_to_account(root, target.id, "3", "api", key)
    assert not first.replayed and again.replayed and again.record == first.record
    with pytest.raises(IdempotencyConflict):
        await core.admin.grant_to_account(root, target.id, "4", "api", Idempotency("k-1", "x"))
    chat = await core.admin.grant(ADMIN, f"#{target.id}", "2", "chat")
    assert chat.balance == target.balance + 5 * MICRO == await ledger_sum(core, target.id)
    grants = [e for _, e in STORES[id(core)].ledger if e.kind is LedgerKind.GRANT]
    assert [(e.amount, e.reason) for e in grants] == [(3 * MICRO, "api"), (2 * MICRO, "chat")]
    with pytest.raises(BadArgument):
        await core.admin.grant(ADMIN, f"#{target.id}", "2000000000", "")  # over 1e9 credits
