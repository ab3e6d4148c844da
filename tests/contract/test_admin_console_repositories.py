"""What the admin console reads from storage, on memory, SQLite and Postgres alike: usage
per day and model, each account's last activity, and the period's questions."""

from __future__ import annotations

from datetime import timedelta

from core.types import ConversationKey, StatsDimension, StatsRow, StoredMessage
from tests.contract.conftest import UowFactory
from tests.contract.test_repositories import STATS_EVENTS, T0, new_account, usage_event


async def test_usage_stats_per_day_and_model(uow: UowFactory) -> None:
    account_id = await new_account(uow)
    async with uow() as tx:
        for days, model, platform, feature, outcome, credits in STATS_EVENTS:
            event = usage_event(
                account_id,
                T0 + timedelta(days=days),
                model=model,
                platform=platform,
                feature=feature,
                outcome=outcome,
                credits=credits,
            )
            await tx.usage.record(event)
        await tx.usage.record(usage_event(account_id, T0 - timedelta(seconds=1)))  # before
        await tx.commit()
    async with uow() as tx:
        rows = await tx.usage.stats(T0, StatsDimension.DAY_MODEL)
    assert rows == [
        StatsRow("2025-03-01 gpt-a", 1, 10, 20, 0, 1),
        StatsRow("2025-03-01 gpt-b", 1, 10, 20, 100, 0),
        StatsRow("2025-03-02 gpt-a", 1, 10, 20, 40, 0),
        StatsRow("2025-03-03 whisper", 1, 10, 20, 7, 1),
    ]


async def test_last_activity_is_each_accounts_latest_request(uow: UowFactory) -> None:
    busy, quiet, idle = await new_account(uow), await new_account(uow), await new_account(uow)
    async with uow() as tx:
        for minutes in (5, 50, 20):
            at = T0 + timedelta(minutes=minutes)
            await tx.usage.record(usage_event(busy, at, request_id=f"b{minutes}"))
        await tx.usage.record(usage_event(quiet, T0, request_id="q"))
        await tx.commit()
    async with uow() as tx:
        seen = await tx.usage.last_activity([busy, quiet, idle])
        assert await tx.usage.last_activity([]) == {}
        assert await tx.usage.last_activity([quiet]) == {quiet: T0}
    assert seen == {busy: T0 + timedelta(minutes=50), quiet: T0}


async def test_questions_since_are_the_newest_user_messages(uow: UowFactory) -> None:
    alice, bob = await new_account(uow), await new_account(uow)
    async with uow() as tx:
        for n, (account, at) in enumerate(
            [(alice, T0 - timedelta(days=1)), (alice, T0), (bob, T0 + timedelta(hours=1))]
        ):
            key = ConversationKey("telegram", f"c{account}", account)
            await tx.conversations.append(
                key,
                StoredMessage("user", f"question {n}", f"r{n}", at),
                StoredMessage("assistant", f"answer {n}", f"r{n}", at),
            )
        await tx.commit()
    async with uow() as tx:
        assert await tx.conversations.questions_since(T0, 10) == ["question 2", "question 1"]
        assert await tx.conversations.questions_since(T0, 1) == ["question 2"]
        assert await tx.conversations.questions_since(T0, 0) == []
