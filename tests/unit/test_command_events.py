"""Free commands carry the platform event id: a redelivery changes nothing twice and raises
``DuplicateEvent`` (answered with silence), recorded in the same transaction as the change."""

from __future__ import annotations

import pytest

from bots.commands import CommandContext, run_command
from core.errors import DuplicateEvent, LinkCodeInvalid, NotAllowed
from core.money import MICRO
from core.types import LedgerKind, Role
from tests.fakes.llm_server import FakeLLM
from tests.fakes.memory import MemoryStore, memory_uow_factory
from tests.harness import caller, core_on, with_config

ADMIN = caller("900", name="boss")
USER = caller("1", name="alice")


@pytest.fixture
async def store_and_core():
    store = MemoryStore()
    async with (
        FakeLLM() as llm,
        core_on(
            memory_uow_factory(store),
            llm.base_url,
            config=with_config(bootstrap_admins=frozenset({ADMIN.identity})),
        ) as core,
    ):
        yield store, core


def grants(store: MemoryStore, account_id: int) -> list:
    return [e for _, e in store.ledger if e.kind is LedgerKind.GRANT and e.account_id == account_id]


async def test_a_redelivered_grant_adds_the_credits_once(store_and_core):
    store, core = store_and_core
    target = await core.accounts.resolve(USER)
    await core.admin.grant(ADMIN, "1", "5", "thanks", event_id="tg:10")
    with pytest.raises(DuplicateEvent):
        await core.admin.grant(ADMIN, "1", "5", "thanks", event_id="tg:10")
    again = await core.admin.grant(ADMIN, "1", "5", "another", event_id="tg:11")
    assert again.balance == target.balance + 10 * MICRO
    assert len(grants(store, target.id)) == 2
    async with memory_uow_factory(store)() as uow:
        assert await uow.ledger.sum_for(target.id) == again.balance


async def test_the_same_event_id_on_another_platform_is_another_event(store_and_core):
    _, core = store_and_core
    await core.accounts.resolve(USER)
    await core.admin.grant(ADMIN, "1", "1", "", event_id="42")
    slack_admin = caller("900", platform="slack")
    # A different platform's event 42 is not a redelivery: it is judged (and refused).
    with pytest.raises(NotAllowed):
        await core.admin.grant(slack_admin, "1", "1", "", event_id="42")


async def test_role_ban_reset_language_model_redeliveries(store_and_core):
    store, core = store_and_core
    await core.accounts.resolve(USER)
    await core.admin.set_role(ADMIN, "1", "admin", event_id="e1")
    with pytest.raises(DuplicateEvent):
        await core.admin.set_role(ADMIN, "1", "guest", event_id="e1")
    assert (await core.accounts.resolve(USER)).role is Role.ADMIN  # not changed twice
    await core.admin.set_role(ADMIN, "1", "user", event_id="e1b")
    await core.admin.set_banned(ADMIN, "1", True, event_id="e2")
    with pytest.raises(DuplicateEvent):
        await core.admin.set_banned(ADMIN, "1", False, event_id="e2")
    assert (await core.accounts.resolve(USER)).banned
    await core.admin.set_banned(ADMIN, "1", False, event_id="e3")
    await core.conversations.reset(USER, "chat", event_id="e4")
    with pytest.raises(DuplicateEvent):
        await core.conversations.reset(USER, "chat", event_id="e4")
    await core.accounts.set_language(USER, "ru", event_id="e5")
    with pytest.raises(DuplicateEvent):
        await core.accounts.set_language(USER, "en", event_id="e5")
    assert (await core.accounts.resolve(USER)).language == "ru"
    name = core.accounts.chat_models(await core.accounts.resolve(USER))[0].name
    await core.accounts.choose_chat_model(USER, name, event_id="e6")
    with pytest.raises(DuplicateEvent):
        await core.accounts.choose_chat_model(USER, name, event_id="e6")
    assert len(store.events) == 7


async def test_a_refused_change_records_no_event(store_and_core):
    store, core = store_and_core
    await core.accounts.resolve(USER)
    with pytest.raises(LinkCodeInvalid):
        await core.accounts.link(USER, "NOPE1234", event_id="l1")
    assert ("telegram", "l1") not in store.events  # rolled back with the refusal
    code = await core.accounts.create_link_code(ADMIN, event_id="l2")
    merged = await core.accounts.link(USER, code, event_id="l1")  # same id: now it counts
    with pytest.raises(DuplicateEvent):  # the redelivery is silent, not "invalid code"
        await core.accounts.link(USER, code, event_id="l1")
    with pytest.raises(DuplicateEvent):
        await core.accounts.create_link_code(ADMIN, event_id="l2")
    assert merged.id == (await core.accounts.resolve(ADMIN)).id


@pytest.mark.parametrize(
    ("name", "args"),
    [("balance", ""), ("help", ""), ("start", ""), ("history", ""), ("model", ""), ("lang", "")],
)
async def test_commands_that_change_nothing_are_not_answered_twice(store_and_core, name, args):
    _, core = store_and_core
    ctx = CommandContext(core, USER, "chat", event_id=f"tg:{name}")
    assert await run_command(ctx, name, args) is not None
    with pytest.raises(DuplicateEvent):
        await run_command(ctx, name, args)
    without = CommandContext(core, USER, "chat")  # no platform id: never a duplicate
    assert await run_command(without, name, args) is not None
    assert await run_command(without, name, args) is not None


async def test_grant_through_run_command_once(store_and_core):
    store, core = store_and_core
    target = await core.accounts.resolve(USER)
    ctx = CommandContext(core, ADMIN, "chat", event_id="tg:99")
    assert await run_command(ctx, "grant", "1 7 bonus") is not None
    with pytest.raises(DuplicateEvent):
        await run_command(ctx, "grant", "1 7 bonus")
    assert [e.amount for e in grants(store, target.id)] == [7 * MICRO]
