"""Allowances that refill (core.services.allowances) on the in-memory store, with a clock
the test moves: once per period, topup vs add, a new account at once, missed periods once,
an admin's override, and /usage's numbers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bots.commands import CommandContext, run_command
from bots.settings import SettingsError, load_settings
from core.errors import BadArgument, NotAllowed
from core.money import MICRO
from core.services.allowances import (
    Allowance,
    AllowanceMode,
    AllowancePolicy,
    Period,
    next_start,
    parse_allowances,
    period_start,
)
from core.services.requests import ChatRequest
from core.types import LedgerKind, Role
from tests.fakes.llm_server import FakeLLM
from tests.fakes.memory import MemoryStore, memory_uow_factory
from tests.harness import caller, collect, core_on, with_config


class Clock:
    def __init__(self, iso: str) -> None:
        self.now = datetime.fromisoformat(iso)

    def __call__(self) -> datetime:
        return self.now

    def set(self, iso: str) -> None:
        self.now = datetime.fromisoformat(iso)


def policy(raw: str, mode: AllowanceMode = AllowanceMode.TOPUP, tz: str = "UTC") -> AllowancePolicy:
    return AllowancePolicy(parse_allowances(raw), mode, tz)


def allowance_rows(store: MemoryStore, account_id: int) -> list[tuple[str | None, int]]:
    return [
        (e.request_id, e.amount)
        for _, e in store.ledger
        if e.account_id == account_id and e.kind is LedgerKind.ALLOWANCE
    ]


async def ledger_sum(store: MemoryStore, account_id: int) -> int:
    async with memory_uow_factory(store)() as uow:
        return await uow.ledger.sum_for(account_id)


def test_parse_allowances_and_refuse_nonsense():
    parsed = parse_allowances("guest:daily:2, user:weekly:20.5,admin:monthly:0")
    assert parsed == {
        Role.GUEST: Allowance(Period.DAILY, 2 * MICRO),
        Role.USER: Allowance(Period.WEEKLY, 20 * MICRO + MICRO // 2),
        Role.ADMIN: Allowance(Period.MONTHLY, 0),
    }
    assert parse_allowances("") == {}
    for bad in ("user:hourly:2", "user:daily", "boss:daily:1", "user:daily:-1", "user:daily:x"):
        with pytest.raises(ValueError):
            parse_allowances(bad)


def test_periods_start_on_midnight_monday_and_the_first():
    day = datetime(2026, 12, 31).date()  # a Thursday
    assert period_start(Period.WEEKLY, day).isoformat() == "2026-12-28"
    assert next_start(Period.WEEKLY, day).isoformat() == "2027-01-04"
    assert period_start(Period.MONTHLY, day).isoformat() == "2026-12-01"
    assert next_start(Period.MONTHLY, day).isoformat() == "2027-01-01"
    assert next_start(Period.DAILY, day).isoformat() == "2027-01-01"


async def test_topup_once_per_period_a_new_account_at_once_and_missed_days_once():
    store, clock = MemoryStore(), Clock("2026-12-04T10:00:00+00:00")
    config = with_config(welcome_credits=5 * MICRO, allowances=policy("user:daily:20"))
    async with core_on(
        memory_uow_factory(store), "http://127.0.0.1:9", config=config, clock=clock
    ) as core:
        account = await core.accounts.resolve(caller("1"))
        assert account.balance == 20 * MICRO  # topped up from the welcome 5 at once
        for _ in range(3):
            account = await core.accounts.resolve(caller("1"))
        assert allowance_rows(store, account.id) == [
            (f"allowance:{account.id}:daily:2026-12-04", 15 * MICRO)
        ]
        async with memory_uow_factory(store)() as uow:  # spend 12 of it
            await uow.accounts.add_to_balance(account.id, -12 * MICRO)
            await uow.commit()
        clock.set("2026-12-07T09:00:00+00:00")  # three days later: applied once
        account = await core.accounts.resolve(caller("1"))
        account = await core.accounts.resolve(caller("1"))
        assert account.balance == 20 * MICRO
        assert allowance_rows(store, account.id)[1:] == [
            (f"allowance:{account.id}:daily:2026-12-07", 12 * MICRO)
        ]
    # The ledger still sums to the balance (the test's own -12 is not a ledger row).
    assert await ledger_sum(store, account.id) == 20 * MICRO + 12 * MICRO


async def test_topup_never_lowers_and_add_adds():
    store, clock = MemoryStore(), Clock("2026-12-04T10:00:00+00:00")
    config = with_config(welcome_credits=50 * MICRO, allowances=policy("user:daily:20"))
    async with core_on(
        memory_uow_factory(store), "http://127.0.0.1:9", config=config, clock=clock
    ) as core:
        account = await core.accounts.resolve(caller("1"))
        assert account.balance == 50 * MICRO
        assert allowance_rows(store, account.id)[0][1] == 0
    config = replace(config, allowances=policy("user:daily:20", AllowanceMode.ADD))
    async with core_on(
        memory_uow_factory(store), "http://127.0.0.1:9", config=config, clock=clock
    ) as core:
        clock.set("2026-12-05T00:00:00+00:00")
        account = await core.accounts.resolve(caller("1"))
        assert account.balance == 70 * MICRO
        next_ = core.accounts.allowances.next_for(account)
        assert next_ is not None and next_.at.isoformat() == "2026-12-06T00:00:00+00:00"


async def test_the_time_zone_decides_when_a_day_starts():
    store, clock = MemoryStore(), Clock("2026-12-04T22:30:00+00:00")  # 01:30 on the 5th in Moscow
    config = with_config(welcome_credits=0, allowances=policy("user:daily:3", tz="Europe/Moscow"))
    async with core_on(
        memory_uow_factory(store), "http://127.0.0.1:9", config=config, clock=clock
    ) as core:
        account = await core.accounts.resolve(caller("1"))
    assert allowance_rows(store, account.id) == [
        (f"allowance:{account.id}:daily:2026-12-05", 3 * MICRO)
    ]


async def test_an_override_replaces_the_roles_allowance():
    store, clock = MemoryStore(), Clock("2026-12-04T10:00:00+00:00")
    config = with_config(welcome_credits=0, allowances=policy("user:daily:2"))
    async with core_on(
        memory_uow_factory(store), "http://127.0.0.1:9", config=config, clock=clock
    ) as core:
        account = await core.accounts.resolve(caller("1"))
        async with memory_uow_factory(store)() as uow:
            await uow.accounts.set_allowance_override(account.id, "weekly:30")
            await uow.commit()
        clock.set("2026-12-08T10:00:00+00:00")
        account = await core.accounts.resolve(caller("1"))
        assert account.balance == 30 * MICRO
        assert (
            allowance_rows(store, account.id)[-1][0] == f"allowance:{account.id}:weekly:2026-12-07"
        )
        async with memory_uow_factory(store)() as uow:
            await uow.accounts.set_allowance_override(account.id, "none")
            await uow.commit()
        clock.set("2026-12-15T10:00:00+00:00")
        account = await core.accounts.resolve(caller("1"))
        assert len(allowance_rows(store, account.id)) == 2
        assert core.accounts.allowances.next_for(account) is None


async def test_usage_adds_up_by_window_feature_and_model():
    store, clock = MemoryStore(), Clock("2026-12-02T10:00:00+00:00")  # a Wednesday
    config = with_config(welcome_credits=100 * MICRO, allowances=policy("user:monthly:100"))
    async with (
        FakeLLM() as llm,
        core_on(memory_uow_factory(store), llm.base_url, config=config, clock=clock) as core,
    ):
        spent: dict[str, int] = {}
        for when, model in (
            ("2026-11-30T10:00:00+00:00", "chat-a"),  # Monday: this week, last month
            ("2026-12-01T10:00:00+00:00", "chat-b"),  # this week and month
            ("2026-12-02T09:00:00+00:00", "chat-a"),  # today
            ("2026-12-02T09:30:00+00:00", "chat-a"),  # today
        ):
            clock.set(when)
            request = ChatRequest(caller=caller("1"), chat_id="c", text="hi", model=model)
            done = (await collect(core.chat.ask(request)))[-1]
            spent[when] = done.credits
        clock.set("2026-12-02T10:00:00+00:00")
        usage = await core.usage.own(caller("1"))
    windows = {w.name: w for w in usage.windows}
    today = spent["2026-12-02T09:00:00+00:00"] + spent["2026-12-02T09:30:00+00:00"]
    assert windows["today"].credits == today and windows["today"].requests == 2
    assert [(x.feature, x.model, x.requests) for x in windows["today"].lines] == [
        ("chat", "chat-a", 2)
    ]
    assert windows["week"].credits == sum(spent.values()) and windows["week"].requests == 4
    assert windows["month"].credits == sum(spent.values()) - spent["2026-11-30T10:00:00+00:00"]
    by_model = {x.model: x.credits for x in windows["month"].lines}
    assert by_model == {"chat-a": today, "chat-b": spent["2026-12-01T10:00:00+00:00"]}
    assert usage.next_allowance is not None
    assert usage.next_allowance.at == datetime(2027, 1, 1, tzinfo=UTC)
    assert sum(d.credits for d in usage.days) == sum(spent.values())


async def test_allowance_and_usage_commands_through_the_shared_command_table():
    admin, user = caller("900", name="boss"), caller("1", name="alice")
    store, clock = MemoryStore(), Clock("2026-12-04T10:00:00+00:00")
    config = with_config(
        welcome_credits=0,
        allowances=policy("user:daily:2"),
        bootstrap_admins=frozenset({admin.identity}),
    )
    async with core_on(
        memory_uow_factory(store), "http://127.0.0.1:9", config=config, clock=clock
    ) as core:
        account = await core.accounts.resolve(user)
        with pytest.raises(NotAllowed):
            await run_command(CommandContext(core, user, "c"), "allowance", "1 daily:50")
        for bad in ("1 hourly:5", "1 daily:-3", "1"):
            with pytest.raises(BadArgument):
                await run_command(CommandContext(core, admin, "c"), "allowance", bad)
        reply = await run_command(CommandContext(core, admin, "c"), "allowance", "1 Daily:50")
        assert reply is not None and reply.text == f"Account #{account.id}: allowance daily:50."
        clock.set("2026-12-05T10:00:00+00:00")
        reply = await run_command(CommandContext(core, user, "c"), "usage", "chart")
        assert reply is not None and reply.private
        assert reply.text.splitlines()[0] == "Your spending (balance 50.00 credits):"
        assert "Next allowance: topped up to 50.00 credits (daily) at 2026-12-06 00:00 UTC." in (
            reply.text
        )
        assert reply.image is not None and reply.image.startswith(b"\x89PNG")
        reply = await run_command(CommandContext(core, admin, "c"), "allowance", "#1 default")
        assert reply is not None and "the role's (default)" in reply.text


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("allowances", "user:hourly:2"),
        ("allowance_timezone", "Mars/Olympus"),
        ("allowance_mode", "double"),
        ("max_overdraft", "-1"),
    ],
)
def test_a_bad_setting_stops_start_up_naming_it(setting: str, value: str) -> None:
    with pytest.raises(SettingsError, match=f"bad setting {setting.upper()}"):
        load_settings(_env_file=None, **{setting: value})


def test_settings_build_the_policy_and_the_overdraft() -> None:
    settings = load_settings(
        _env_file=None,
        allowances="guest:daily:2,user:monthly:20",
        allowance_mode="add",
        allowance_timezone="Europe/Moscow",
        max_overdraft="0.5",
    )
    assert settings.allowance_policy == AllowancePolicy(
        {
            Role.GUEST: Allowance(Period.DAILY, 2 * MICRO),
            Role.USER: Allowance(Period.MONTHLY, 20 * MICRO),
        },
        AllowanceMode.ADD,
        "Europe/Moscow",
    )
    assert settings.overdraft_micro == MICRO // 2
