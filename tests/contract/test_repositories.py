"""The storage ports' contract, checked on memory, SQLite and Postgres alike."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest

from core.types import (
    ConversationKey,
    Feature,
    IdentityKey,
    LedgerEntry,
    LedgerKind,
    Outcome,
    Role,
    StatsDimension,
    StatsRow,
    StoredMessage,
    UsageEvent,
)
from tests.contract.conftest import UowFactory

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
ALICE = IdentityKey("telegram", "", "100")
BOB = IdentityKey("slack", "T01", "U02")


async def new_account(uow: UowFactory, balance: int = 0, role: Role = Role.USER) -> int:
    async with uow() as tx:
        account = await tx.accounts.create(role)
        if balance:
            await tx.accounts.add_to_balance(account.id, balance)
            await tx.ledger.append(LedgerEntry(account.id, balance, LedgerKind.GRANT))
        await tx.commit()
    return account.id


async def balance_of(uow: UowFactory, account_id: int) -> int:
    async with uow() as tx:
        account = await tx.accounts.get(account_id)
    assert account is not None
    return account.balance


# ---- accounts and identities ------------------------------------------------------------


async def test_create_and_get(uow: UowFactory) -> None:
    async with uow() as tx:
        created = await tx.accounts.create(Role.GUEST)
        other = await tx.accounts.create(Role.ADMIN)
        await tx.commit()
    assert (created.role, created.banned, created.balance) == (Role.GUEST, False, 0)
    assert (created.language, created.chat_model) == (None, None)
    assert created.created_at.tzinfo is not None
    assert abs(created.created_at - datetime.now(UTC)) < timedelta(minutes=1)
    assert other.id != created.id
    async with uow() as tx:
        assert await tx.accounts.get(created.id) == created
        assert await tx.accounts.get(other.id) == other
        assert await tx.accounts.get(created.id + other.id + 1000) is None


async def test_identities(uow: UowFactory) -> None:
    first, second = await new_account(uow), await new_account(uow)
    async with uow() as tx:
        assert await tx.accounts.add_identity(BOB, first, "Bob")
        assert await tx.accounts.add_identity(ALICE, first, "Ärger")
        assert not await tx.accounts.add_identity(ALICE, second, "Someone else")
        await tx.commit()
    async with uow() as tx:
        found = await tx.accounts.find_by_identity(ALICE)
        assert found is not None and found.id == first
        assert await tx.accounts.find_by_identity(IdentityKey("telegram", "", "999")) is None
        listed = await tx.accounts.identities(first)
        assert [i.key for i in listed] == [BOB, ALICE]  # slack < telegram
        assert [i.display_name for i in listed] == ["Bob", "Ärger"]
        assert await tx.accounts.identities(second) == []
        by_name = await tx.accounts.find_identity_by_name("telegram", "äRGER")
        assert by_name is not None and (by_name.key, by_name.account_id) == (ALICE, first)
        assert await tx.accounts.find_identity_by_name("discord", "Ärger") is None
        await tx.accounts.update_display_name(ALICE, "Alice")
        await tx.commit()
    async with uow() as tx:
        assert await tx.accounts.find_identity_by_name("telegram", "Ärger") is None
        renamed = await tx.accounts.find_identity_by_name("telegram", "alice")
        assert renamed is not None and renamed.display_name == "Alice"


async def test_same_name_finds_the_newest_identity(uow: UowFactory) -> None:
    first, second = await new_account(uow), await new_account(uow)
    async with uow() as tx:
        await tx.accounts.add_identity(IdentityKey("discord", "g1", "1"), first, "sam")
        await tx.accounts.add_identity(IdentityKey("discord", "g2", "2"), second, "Sam")
        await tx.commit()
    async with uow() as tx:
        found = await tx.accounts.find_identity_by_name("discord", "SAM")
    assert found is not None and found.account_id == second


async def test_move_identities(uow: UowFactory) -> None:
    source, target = await new_account(uow), await new_account(uow)
    async with uow() as tx:
        await tx.accounts.add_identity(ALICE, source, None)
        await tx.accounts.add_identity(BOB, target, None)
        await tx.commit()
    async with uow() as tx:
        await tx.accounts.move_identities(source, target)
        await tx.commit()
    async with uow() as tx:
        assert await tx.accounts.identities(source) == []
        assert [i.key for i in await tx.accounts.identities(target)] == [BOB, ALICE]
        moved = await tx.accounts.find_by_identity(ALICE)
        assert moved is not None and moved.id == target


async def test_setters(uow: UowFactory) -> None:
    account_id = await new_account(uow, role=Role.GUEST)
    async with uow() as tx:
        await tx.accounts.set_role(account_id, Role.ADMIN)
        await tx.accounts.set_banned(account_id, True)
        await tx.accounts.set_language(account_id, "ru")
        await tx.accounts.set_chat_model(account_id, "gpt-mini")
        await tx.commit()
    async with uow() as tx:
        account = await tx.accounts.get(account_id)
        assert account is not None
        assert (account.role, account.banned, account.language, account.chat_model) == (
            Role.ADMIN,
            True,
            "ru",
            "gpt-mini",
        )
        await tx.accounts.set_banned(account_id, False)
        await tx.accounts.set_language(account_id, None)
        await tx.accounts.set_chat_model(account_id, None)
        await tx.commit()
    async with uow() as tx:
        account = await tx.accounts.get(account_id)
    assert account is not None
    assert (account.banned, account.language, account.chat_model) == (False, None, None)


# ---- balances ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("balance", "cost", "taken", "left"),
    [
        (100, 30, 30, 70),  # enough
        (30, 30, 30, 0),  # exactly enough
        (20, 30, 20, 0),  # less than the cost: take what is there
        (0, 30, 0, 0),  # nothing
        (-5, 30, 0, -5),  # overdrawn by an earlier settle
        (50, 0, 0, 50),  # a free call takes nothing
    ],
)
async def test_reserve(uow: UowFactory, balance: int, cost: int, taken: int, left: int) -> None:
    account_id = await new_account(uow, balance)
    async with uow() as tx:
        assert await tx.accounts.reserve(account_id, cost) == taken
        await tx.commit()
    assert await balance_of(uow, account_id) == left


async def test_reserve_refuses_banned_missing_and_negative(uow: UowFactory) -> None:
    account_id = await new_account(uow, 100)
    async with uow() as tx:
        await tx.accounts.set_banned(account_id, True)
        assert await tx.accounts.reserve(account_id, 10) == 0
        assert await tx.accounts.reserve(account_id + 1000, 10) == 0
        with pytest.raises(ValueError):
            await tx.accounts.reserve(account_id, -10)
        await tx.commit()
    assert await balance_of(uow, account_id) == 100


async def test_repeated_reserves_drain_exactly(uow: UowFactory) -> None:
    account_id = await new_account(uow, 25)
    async with uow() as tx:
        taken = [await tx.accounts.reserve(account_id, 10) for _ in range(4)]
        await tx.commit()
    assert taken == [10, 10, 5, 0]
    assert await balance_of(uow, account_id) == 0


async def test_add_to_balance(uow: UowFactory) -> None:
    account_id = await new_account(uow, 10)
    async with uow() as tx:
        assert await tx.accounts.add_to_balance(account_id, 5) == 15
        assert await tx.accounts.add_to_balance(account_id, -40) == -25
        with pytest.raises(LookupError):
            await tx.accounts.add_to_balance(account_id + 1000, 5)
        await tx.commit()
    assert await balance_of(uow, account_id) == -25


# ---- transactions ------------------------------------------------------------------------


async def test_no_commit_no_change(uow: UowFactory) -> None:
    account_id = await new_account(uow, 100)
    conversation = ConversationKey("telegram", "chat", account_id)
    async with uow() as tx:
        created = await tx.accounts.create(Role.USER)
        assert await tx.accounts.add_identity(ALICE, account_id, "alice")
        assert await tx.accounts.reserve(account_id, 30) == 30
        await tx.accounts.set_role(account_id, Role.ADMIN)
        await tx.ledger.append(LedgerEntry(account_id, -30, LedgerKind.HOLD, "r1"))
        await tx.conversations.append(conversation, StoredMessage("user", "hi", "r1"))
        await tx.usage.record(usage_event(account_id))
        assert await tx.events.record("telegram", "e1")
        assert await tx.accounts.get(created.id) is not None  # visible inside
    async with uow() as tx:
        assert await tx.accounts.get(created.id) is None
        account = await tx.accounts.get(account_id)
        assert account is not None and (account.balance, account.role) == (100, Role.USER)
        assert await tx.accounts.find_by_identity(ALICE) is None
        assert await tx.ledger.sum_for(account_id) == 100
        assert await tx.conversations.window(conversation, 10) == []
        assert await tx.usage.recent(account_id, 10) == []
        assert await tx.events.record("telegram", "e1")  # never recorded: records now


async def test_no_commit_undoes_moves_renames_and_resets(uow: UowFactory) -> None:
    source, target = await new_account(uow), await new_account(uow)
    chat = ConversationKey("discord", "g/c", source)
    async with uow() as tx:
        await tx.accounts.add_identity(ALICE, source, "alice")
        await tx.conversations.append(chat, msg("user", "q", "r1"))
        await tx.conversations.append(chat, msg("assistant", "a", "r1"))
        await tx.usage.record(usage_event(source))
        await tx.commit()
    async with uow() as tx:
        await tx.accounts.update_display_name(ALICE, "renamed")
        await tx.accounts.move_identities(source, target)
        await tx.conversations.reset(chat)
        await tx.conversations.move_account(source, target)
        await tx.usage.move_account(source, target)
        await tx.accounts.set_language(source, "ru")
    async with uow() as tx:
        assert [(i.key, i.display_name) for i in await tx.accounts.identities(source)] == [
            (ALICE, "alice")
        ]
        assert [m.content for m in await tx.conversations.window(chat, 5)] == ["q", "a"]
        assert await tx.conversations.history(target, 5) == []
        assert len(await tx.usage.recent(source, 5)) == 1
        account = await tx.accounts.get(source)
        assert account is not None and account.language is None


async def test_exception_rolls_back_and_propagates(uow: UowFactory) -> None:
    account_id = await new_account(uow, 100)
    with pytest.raises(RuntimeError, match="boom"):
        async with uow() as tx:
            await tx.accounts.reserve(account_id, 60)
            raise RuntimeError("boom")
    assert await balance_of(uow, account_id) == 100


async def test_work_after_commit_needs_its_own_commit(uow: UowFactory) -> None:
    account_id = await new_account(uow, 100)
    async with uow() as tx:
        await tx.accounts.reserve(account_id, 10)
        await tx.commit()
        await tx.accounts.reserve(account_id, 20)
    assert await balance_of(uow, account_id) == 90
    async with uow() as tx:
        await tx.accounts.reserve(account_id, 10)
        await tx.commit()
        await tx.accounts.reserve(account_id, 20)
        await tx.commit()
    assert await balance_of(uow, account_id) == 60


# ---- ledger ------------------------------------------------------------------------------


async def test_ledger_append_is_idempotent_per_request_and_kind(uow: UowFactory) -> None:
    account_id = await new_account(uow)
    async with uow() as tx:
        assert await tx.ledger.append(LedgerEntry(account_id, -50, LedgerKind.HOLD, "r1"))
        assert not await tx.ledger.append(LedgerEntry(account_id, -50, LedgerKind.HOLD, "r1"))
        assert await tx.ledger.append(LedgerEntry(account_id, 20, LedgerKind.SETTLE, "r1"))
        assert not await tx.ledger.append(LedgerEntry(account_id, 999, LedgerKind.SETTLE, "r1"))
        assert await tx.ledger.append(LedgerEntry(account_id, 7, LedgerKind.GRANT))
        assert await tx.ledger.append(LedgerEntry(account_id, 7, LedgerKind.GRANT))
        await tx.commit()
    async with uow() as tx:
        assert await tx.ledger.sum_for(account_id) == -50 + 20 + 7 + 7
        assert await tx.ledger.sum_for(account_id + 1000) == 0


async def test_ledger_entries_newest_first(uow: UowFactory) -> None:
    account_id, actor = await new_account(uow), await new_account(uow)
    at = T0 - timedelta(days=1)
    async with uow() as tx:
        await tx.ledger.append(LedgerEntry(account_id, 100, LedgerKind.WELCOME, created_at=at))
        grant = LedgerEntry(account_id, 5, LedgerKind.GRANT, None, actor, "thanks", at)
        await tx.ledger.append(grant)
        await tx.ledger.append(LedgerEntry(account_id, -3, LedgerKind.HOLD, "r9", created_at=at))
        await tx.ledger.append(LedgerEntry(actor, 1, LedgerKind.GRANT))
        await tx.commit()
    async with uow() as tx:
        entries = await tx.ledger.entries(account_id, 2)
        assert await tx.ledger.entries(account_id, 0) == []
        assert len(await tx.ledger.entries(account_id, 10)) == 3
    assert [e.kind for e in entries] == [LedgerKind.HOLD, LedgerKind.GRANT]
    assert entries[1] == grant
    assert entries[0].request_id == "r9" and entries[0].created_at == at


async def test_open_holds(uow: UowFactory) -> None:
    account_id = await new_account(uow)
    old, new = T0 - timedelta(hours=2), T0
    async with uow() as tx:
        for request_id, at in [("open", old), ("settled", old), ("fresh", new)]:
            entry = LedgerEntry(account_id, -10, LedgerKind.HOLD, request_id, created_at=at)
            await tx.ledger.append(entry)
        await tx.ledger.append(LedgerEntry(account_id, 4, LedgerKind.SETTLE, "settled"))
        await tx.ledger.append(LedgerEntry(account_id, 4, LedgerKind.GRANT, "open"))
        await tx.commit()
    async with uow() as tx:
        holds = await tx.ledger.open_holds(T0 - timedelta(hours=1))
        later = await tx.ledger.open_holds(T0 + timedelta(hours=1))
    assert [(h.request_id, h.amount, h.created_at) for h in holds] == [("open", -10, old)]
    assert [h.request_id for h in later] == ["open", "fresh"]
    async with uow() as tx:
        assert await tx.ledger.count_open_holds() == 2  # of any age: "open" and "fresh"


# ---- conversations -----------------------------------------------------------------------


def msg(role: str, content: str, request_id: str, minute: int = 0) -> StoredMessage:
    return StoredMessage(role, content, request_id, T0 + timedelta(minutes=minute))


async def test_window_and_reset(uow: UowFactory) -> None:
    account_id, other = await new_account(uow), await new_account(uow)
    here = ConversationKey("telegram", "-100", account_id)
    async with uow() as tx:
        for n in range(5):
            await tx.conversations.append(here, msg("user", f"m{n}", f"r{n}", n))
        await tx.conversations.append(
            ConversationKey("telegram", "-100", other), msg("user", "x", "o")
        )
        await tx.conversations.append(
            ConversationKey("telegram", "-200", account_id), msg("user", "y", "p")
        )
        await tx.conversations.append(
            ConversationKey("discord", "-100", account_id), msg("user", "z", "q")
        )
        await tx.commit()
    async with uow() as tx:
        window = await tx.conversations.window(here, 3)
        assert [m.content for m in window] == ["m2", "m3", "m4"]
        assert window[0] == msg("user", "m2", "r2", 2)
        assert await tx.conversations.window(here, 0) == []
        assert len(await tx.conversations.window(here, 50)) == 5
        await tx.conversations.reset(here)
        await tx.commit()
    async with uow() as tx:
        assert await tx.conversations.window(here, 3) == []
        other_chat = ConversationKey("telegram", "-200", account_id)
        assert [m.content for m in await tx.conversations.window(other_chat, 3)] == ["y"]
        await tx.conversations.append(here, msg("user", "after", "r9", 9))
        await tx.commit()
    async with uow() as tx:
        assert [m.content for m in await tx.conversations.window(here, 3)] == ["after"]


async def test_history_pairs_questions_with_answers(uow: UowFactory) -> None:
    account_id, other = await new_account(uow), await new_account(uow)
    chat = ConversationKey("slack", "C1", account_id)
    async with uow() as tx:
        await tx.conversations.append(chat, msg("user", "q1", "r1", 1))
        await tx.conversations.append(chat, msg("assistant", "a1", "r1", 2))
        await tx.conversations.append(chat, msg("user", "unanswered", "r2", 3))
        await tx.conversations.append(chat, msg("user", "q3", "r3", 4))
        await tx.conversations.append(chat, msg("assistant", "a3", "r3", 5))
        elsewhere = ConversationKey("telegram", "9", account_id)
        await tx.conversations.append(elsewhere, msg("user", "q4", "r4", 6))
        await tx.conversations.append(elsewhere, msg("assistant", "a4", "r4", 7))
        theirs = ConversationKey("slack", "C1", other)
        await tx.conversations.append(theirs, msg("user", "not mine", "r5", 8))
        await tx.conversations.append(theirs, msg("assistant", "no", "r5", 9))
        await tx.conversations.reset(chat)  # history keeps what the window forgot
        await tx.commit()
    async with uow() as tx:
        history = await tx.conversations.history(account_id, 10)
        latest = await tx.conversations.history(account_id, 2)
        assert await tx.conversations.history(account_id, 0) == []
    assert [(e.request_id, e.question, e.answer) for e in history] == [
        ("r4", "q4", "a4"),
        ("r3", "q3", "a3"),
        ("r1", "q1", "a1"),
    ]
    assert history[0].created_at == T0 + timedelta(minutes=6)
    assert [e.request_id for e in latest] == ["r4", "r3"]


async def test_conversation_move_account(uow: UowFactory) -> None:
    source, target = await new_account(uow), await new_account(uow)
    async with uow() as tx:
        await tx.conversations.append(
            ConversationKey("telegram", "1", source), msg("user", "q", "r1")
        )
        await tx.conversations.append(
            ConversationKey("telegram", "1", source), msg("assistant", "a", "r1")
        )
        await tx.conversations.move_account(source, target)
        await tx.commit()
    async with uow() as tx:
        assert await tx.conversations.history(source, 5) == []
        assert [e.answer for e in await tx.conversations.history(target, 5)] == ["a"]
        moved = ConversationKey("telegram", "1", target)
        assert [m.content for m in await tx.conversations.window(moved, 5)] == ["q", "a"]


# ---- usage -------------------------------------------------------------------------------


def usage_event(
    account_id: int,
    at: datetime = T0,
    *,
    model: str = "gpt-a",
    platform: str = "telegram",
    feature: Feature = Feature.CHAT,
    outcome: Outcome = Outcome.OK,
    tokens: tuple[int, int] = (10, 20),
    credits: int = 100,
    request_id: str = "r",
) -> UsageEvent:
    prompt, completion = tokens
    return UsageEvent(
        request_id,
        account_id,
        platform,
        feature,
        model,
        prompt,
        completion,
        credits,
        321,
        outcome,
        at,
    )


async def test_usage_recent(uow: UowFactory) -> None:
    account_id, other = await new_account(uow), await new_account(uow)
    events = [
        usage_event(account_id, T0 + timedelta(minutes=n), request_id=f"r{n}") for n in range(4)
    ]
    async with uow() as tx:
        for event in [events[2], events[0], events[3], events[1]]:
            await tx.usage.record(event)
        await tx.usage.record(usage_event(other, T0 + timedelta(hours=1)))
        await tx.commit()
    async with uow() as tx:
        assert await tx.usage.recent(account_id, 3) == [events[3], events[2], events[1]]
        assert await tx.usage.recent(account_id, 0) == []


STATS_EVENTS = [
    # (days after T0, model, platform, feature, outcome, credits)
    (0, "gpt-b", "telegram", Feature.CHAT, Outcome.OK, 100),
    (0, "gpt-a", "slack", Feature.IMAGE, Outcome.FAILED, 0),
    (1, "gpt-a", "telegram", Feature.CHAT, Outcome.STOPPED, 40),
    (2, "whisper", "discord", Feature.STT, Outcome.FAILED, 7),
]


@pytest.mark.parametrize(
    ("dimension", "expected"),
    [
        (
            StatsDimension.DAY,
            [("2025-03-01", 2, 100, 1), ("2025-03-02", 1, 40, 0), ("2025-03-03", 1, 7, 1)],
        ),
        (StatsDimension.MODEL, [("gpt-a", 2, 40, 1), ("gpt-b", 1, 100, 0), ("whisper", 1, 7, 1)]),
        (
            StatsDimension.PLATFORM,
            [("discord", 1, 7, 1), ("slack", 1, 0, 1), ("telegram", 2, 140, 0)],
        ),
        (StatsDimension.FEATURE, [("chat", 2, 140, 0), ("image", 1, 0, 1), ("stt", 1, 7, 1)]),
        (
            StatsDimension.DAY_PLATFORM,
            [
                ("2025-03-01 slack", 1, 0, 1),
                ("2025-03-01 telegram", 1, 100, 0),
                ("2025-03-02 telegram", 1, 40, 0),
                ("2025-03-03 discord", 1, 7, 1),
            ],
        ),
    ],
)
async def test_usage_stats(
    uow: UowFactory, dimension: StatsDimension, expected: list[tuple[str, int, int, int]]
) -> None:
    account_id, other = await new_account(uow), await new_account(uow)
    async with uow() as tx:
        for days, model, platform, feature, outcome, credits in STATS_EVENTS:
            at = T0 + timedelta(days=days)
            event = usage_event(
                account_id,
                at,
                model=model,
                platform=platform,
                feature=feature,
                outcome=outcome,
                credits=credits,
            )
            await tx.usage.record(event)
        await tx.usage.record(usage_event(account_id, T0 - timedelta(seconds=1)))  # before since
        await tx.usage.record(usage_event(other, T0, model="other", credits=1))
        await tx.commit()
    async with uow() as tx:
        rows = await tx.usage.stats(T0, dimension, account_id)
        everyone = await tx.usage.stats(T0, dimension)
    assert rows == [
        StatsRow(key, n, 10 * n, 20 * n, credits, errors) for key, n, credits, errors in expected
    ]
    assert sum(r.requests for r in everyone) == len(STATS_EVENTS) + 1
    assert sum(r.credits for r in everyone) == 147 + 1


async def test_usage_stats_days_are_utc(uow: UowFactory) -> None:
    account_id = await new_account(uow)
    plus_two = timezone(timedelta(hours=2))
    async with uow() as tx:
        # 01:30 at UTC+2 is still the previous day in UTC
        await tx.usage.record(usage_event(account_id, datetime(2025, 3, 2, 1, 30, tzinfo=plus_two)))
        await tx.usage.record(usage_event(account_id, datetime(2025, 3, 2, 2, 30, tzinfo=plus_two)))
        await tx.commit()
    async with uow() as tx:
        rows = await tx.usage.stats(T0 - timedelta(days=1), StatsDimension.DAY)
        recent = await tx.usage.recent(account_id, 1)
    assert [(r.key, r.requests) for r in rows] == [("2025-03-01", 1), ("2025-03-02", 1)]
    assert recent[0].created_at == datetime(2025, 3, 2, 0, 30, tzinfo=UTC)


async def test_usage_move_account(uow: UowFactory) -> None:
    source, target = await new_account(uow), await new_account(uow)
    async with uow() as tx:
        await tx.usage.record(usage_event(source, request_id="moved"))
        await tx.usage.move_account(source, target)
        await tx.commit()
    async with uow() as tx:
        assert await tx.usage.recent(source, 5) == []
        assert [e.request_id for e in await tx.usage.recent(target, 5)] == ["moved"]
        assert (await tx.usage.recent(target, 5))[0].account_id == target


# ---- processed events --------------------------------------------------------------------


async def test_event_dedupe(uow: UowFactory) -> None:
    async with uow() as tx:
        assert await tx.events.record("slack", "Ev1")
        assert not await tx.events.record("slack", "Ev1")
        assert await tx.events.record("discord", "Ev1")
        await tx.commit()
    async with uow() as tx:
        assert not await tx.events.record("slack", "Ev1")
        assert await tx.events.record("slack", "ev1")  # ids are case-sensitive


async def test_concurrent_reserves_take_the_balance_exactly_once(uow: UowFactory) -> None:
    account_id = await new_account(uow, 2_500)

    async def reserve(n: int) -> int:
        async with uow() as tx:
            taken = await tx.accounts.reserve(account_id, 1_000)
            if taken:
                await tx.ledger.append(LedgerEntry(account_id, -taken, LedgerKind.HOLD, f"c{n}"))
            await asyncio.sleep(0)  # let the others interleave inside a transaction
            await tx.commit()
        return taken

    taken = await asyncio.gather(*(reserve(n) for n in range(12)))
    assert sorted(taken, reverse=True)[:4] == [1_000, 1_000, 500, 0]
    assert sum(taken) == 2_500
    async with uow() as tx:
        assert await tx.ledger.sum_for(account_id) == 0
    assert await balance_of(uow, account_id) == 0


async def test_reads_inside_a_transaction_see_its_own_writes(uow: UowFactory) -> None:
    account_id = await new_account(uow, 100)
    async with uow() as tx:
        before = await tx.accounts.get(account_id)
        await tx.accounts.add_identity(ALICE, account_id, "alice")
        assert await tx.accounts.reserve(account_id, 30) == 30
        await tx.accounts.set_role(account_id, Role.ADMIN)
        after = await tx.accounts.get(account_id)
        via_identity = await tx.accounts.find_by_identity(ALICE)
        await tx.accounts.add_to_balance(account_id, 5)
        await tx.accounts.update_display_name(ALICE, "Alicia")
        renamed = await tx.accounts.identities(account_id)
        again = await tx.accounts.get(account_id)
    assert before is not None and (before.balance, before.role) == (100, Role.USER)
    assert after is not None and (after.balance, after.role) == (70, Role.ADMIN)
    assert via_identity == after
    assert again is not None and again.balance == 75
    assert [i.display_name for i in renamed] == ["Alicia"]


# ---- processed events: retention ---------------------------------------------------------


async def test_processed_events_are_pruned_after_retention(uow: UowFactory) -> None:
    from core.services.sweep import prune_processed_events

    async with uow() as tx:
        assert await tx.events.record("telegram", "old1")
        assert await tx.events.record("slack", "old2")
        await tx.commit()
    # Nothing is younger than a week yet: a week's retention keeps everything.
    assert await prune_processed_events(uow, timedelta(days=7)) == 0
    async with uow() as tx:
        assert not await tx.events.record("telegram", "old1")
    # Eight days later both are past the retention period and forgotten; a rollback keeps them.
    later = datetime.now(UTC) + timedelta(days=8)
    async with uow() as tx:
        assert await tx.events.prune(later - timedelta(days=7)) == 2
    async with uow() as tx:
        assert not await tx.events.record("slack", "old2")  # the pruning was rolled back
    assert await prune_processed_events(uow, timedelta(days=7), clock=lambda: later) == 2
    async with uow() as tx:
        assert await tx.events.record("telegram", "old1")  # recorded afresh
        assert await tx.events.record("slack", "old2")


async def test_the_background_pruner_runs_right_away(uow: UowFactory) -> None:
    from core.services.sweep import run_event_pruner

    async with uow() as tx:
        assert await tx.events.record("discord", "gone-soon")
        await tx.commit()
    job = asyncio.create_task(run_event_pruner(uow, timedelta(0), interval_s=3600))
    try:
        for _ in range(200):
            async with uow() as tx:
                if await tx.events.record("discord", "gone-soon"):
                    break  # the old record was pruned: the id records afresh
            await asyncio.sleep(0.02)
        else:
            pytest.fail("the pruner never ran")
    finally:
        job.cancel()
        with pytest.raises(asyncio.CancelledError):
            await job
