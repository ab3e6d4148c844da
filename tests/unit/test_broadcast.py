"""/broadcast and admin notices on in-memory storage, with a recording messenger in place
of the platforms (the Telegram path runs end to end in tests/ops/test_broadcast_kill.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from bots.commands import CommandContext, run_command
from core.errors import NotAllowed, NotFound, PrivateBot
from core.ports import DeliveryOutcome
from core.services.requests import ChatRequest
from core.types import IdentityKey
from tests.fakes.llm_server import FakeLLM
from tests.fakes.memory import MemoryStore, memory_uow_factory
from tests.harness import caller, collect, core_on, with_config

ADMIN = caller("900", name="boss")


@dataclass
class RecordingMessenger:
    """Delivers into a list; people in ``blocked`` have blocked the bot."""

    sent: list[tuple[IdentityKey, str]] = field(default_factory=list)
    blocked: set[str] = field(default_factory=set)

    async def send_private(self, identity: IdentityKey, text: str) -> DeliveryOutcome:
        if identity.user_id in self.blocked:
            return DeliveryOutcome.BLOCKED
        self.sent.append((identity, text))
        return DeliveryOutcome.DELIVERED


def make(store, messengers, **config):
    admins = frozenset({ADMIN.identity})
    return core_on(
        memory_uow_factory(store),
        "http://127.0.0.1:9",
        config=with_config(bootstrap_admins=admins, **config),
        messengers=messengers,
    )


async def command(core, who, text: str):
    name, _, args = text.lstrip("/").partition(" ")
    return await run_command(CommandContext(core, who, "chat"), name, args)


async def drain(core, worker: str = "w1") -> None:
    while await core.announcements.deliver_some(worker):
        pass


async def test_preview_then_send_reaches_everyone_but_the_muted_once():
    store, tg = MemoryStore(), RecordingMessenger(blocked={"3"})
    async with make(store, {"telegram": tg}) as core:
        await core.accounts.resolve(ADMIN)
        for user in ("1", "2", "3", "4"):
            await core.accounts.resolve(caller(user))
        await command(core, caller("4"), "/mute announcements")
        preview = await command(core, ADMIN, "/broadcast Maintenance at 22:00")
        assert preview is not None and preview.confirm_broadcast is not None
        assert "4 people" in preview.text  # the admin, 1, 2, 3 (4 muted)
        assert tg.sent == []  # nothing before Send
        started = await command(core, ADMIN, "/broadcast confirm")
        assert started is not None and "4 people" in started.text
        with pytest.raises(NotFound):  # a second press sends nothing twice
            await core.announcements.confirm(ADMIN, preview.confirm_broadcast)
        await drain(core)
        got = [i.user_id for i, text in tg.sent if text == "Maintenance at 22:00"]
        assert sorted(got) == ["1", "2", "900"]
        report = tg.sent[-1]
        assert report[0] == ADMIN.identity
        assert "3 delivered, 0 failed, 1 blocked" in report[1]
        assert await core.announcements.report(preview.confirm_broadcast) == {
            "delivered": 3,
            "blocked": 1,
        }


async def test_audience_by_role_and_platform_uses_the_platform_used_last():
    store = MemoryStore()
    tg, dc = RecordingMessenger(), RecordingMessenger()
    async with make(store, {"telegram": tg, "discord": dc}) as core:
        await core.accounts.resolve(ADMIN)
        await core.accounts.resolve(caller("1"))
        await core.accounts.resolve(caller("2", platform="discord"))
        await core.access.set_rule(ADMIN, "#1", "allow")  # any admin action; not an audience
        draft = await core.announcements.draft(ADMIN, "discord only for Discord people")
        assert (draft.audience, draft.people) == ("discord", 1)
        await core.announcements.confirm(ADMIN, draft.id)
        await drain(core)
        assert [i.user_id for i, _ in dc.sent] == ["2"]
        admins = await core.announcements.draft(ADMIN, "admin hello admins")
        assert (admins.audience, admins.people) == ("admin", 1)


async def test_only_admins_broadcast():
    store = MemoryStore()
    async with make(store, {"telegram": RecordingMessenger()}) as core:
        with pytest.raises(NotAllowed):
            await command(core, caller("1"), "/broadcast hi")
        assert store.broadcasts == {}


async def test_a_worker_without_the_platform_leaves_it_to_one_with_it():
    store = MemoryStore()
    tg, dc = RecordingMessenger(), RecordingMessenger()
    async with (
        make(store, {"telegram": tg}) as tg_worker,
        make(store, {"discord": dc}) as dc_worker,
    ):
        await tg_worker.accounts.resolve(ADMIN)
        await tg_worker.accounts.resolve(caller("2", platform="discord"))
        draft = await tg_worker.announcements.draft(ADMIN, "hello")
        await tg_worker.announcements.confirm(ADMIN, draft.id)
        await drain(tg_worker, "tg")
        assert store.broadcasts[draft.id].state == "sending"  # discord is still pending
        await drain(dc_worker, "dc")
        assert [i.user_id for i, _ in dc.sent] == ["2"]
        assert store.broadcasts[draft.id].state == "done"


async def test_admin_notices_new_user_refusal_and_zero_balance():
    store, tg = MemoryStore(), RecordingMessenger()
    kinds = frozenset({"new_user", "closed_refusal", "zero_balance"})
    async with make(store, {"telegram": tg}, notify_admins=kinds, access_mode="closed") as core:
        await core.accounts.resolve(ADMIN)
        await core.notices.drain()
        tg.sent.clear()
        with pytest.raises(PrivateBot):
            await core.accounts.resolve(caller("66", name="stranger"))
        with pytest.raises(PrivateBot):  # told once, not at every message
            await core.accounts.resolve(caller("66", name="stranger"))
        code = await core.access.invite(ADMIN)
        await core.access.join(caller("67"), code)
        await core.notices.drain()
        texts = [text for identity, text in tg.sent if identity == ADMIN.identity]
        assert len(texts) == 2
        assert "telegram:66 (stranger)" in texts[0] and "closed mode" in texts[0]
        assert "New person: telegram:67" in texts[1]


async def test_zero_balance_notice_after_a_request_that_crossed_zero():
    store, tg = MemoryStore(), RecordingMessenger()
    config = with_config(
        bootstrap_admins=frozenset({ADMIN.identity}), notify_admins=frozenset({"zero_balance"})
    )
    async with (
        FakeLLM() as llm,
        core_on(
            memory_uow_factory(store), llm.base_url, config=config, messengers={"telegram": tg}
        ) as core,
    ):
        await core.accounts.resolve(ADMIN)
        spender = await core.accounts.resolve(caller("5"))
        await core.admin.grant(ADMIN, f"#{spender.id}", "-99.5", "half a credit left")
        llm.script(reply="a long enough answer " * 20)
        await collect(core.chat.ask(ChatRequest(caller=caller("5"), chat_id="c", text="hi")))
        await core.notices.drain()
        told = [text for identity, text in tg.sent if identity == ADMIN.identity]
        assert len(told) == 1 and f"Account #{spender.id} is at -" in told[0]
        # a request that leaves the balance positive tells nobody
        await core.admin.grant(ADMIN, f"#{spender.id}", "50", "top up")
        llm.script(reply="short")
        await collect(core.chat.ask(ChatRequest(caller=caller("5"), chat_id="c", text="hi")))
        await core.notices.drain()
        assert len([1 for identity, _ in tg.sent if identity == ADMIN.identity]) == 1
