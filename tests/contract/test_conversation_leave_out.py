"""``ConversationRepository.leave_out`` on memory, SQLite and Postgres: a regenerated
answer (/retry) takes one exchange out of the window, only in that conversation, undone
without a commit; /history still has it."""

from __future__ import annotations

from core.types import ConversationKey
from tests.contract.conftest import UowFactory
from tests.contract.test_repositories import msg, new_account


async def test_leave_out_takes_one_exchange_out_of_the_window(uow: UowFactory) -> None:
    account_id = await new_account(uow)
    here = ConversationKey("telegram", "-100", account_id)
    there = ConversationKey("telegram", "-200", account_id)
    async with uow() as tx:
        for n, where, rid in ((1, here, "r1"), (2, here, "r2"), (2, there, "r3")):
            await tx.conversations.append(
                where, msg("user", f"q{n}", rid, n), msg("assistant", f"a{n}", rid, n)
            )
        await tx.commit()
    async with uow() as tx:  # no commit: undone
        await tx.conversations.leave_out(here, "r2")
    async with uow() as tx:
        assert [m.content for m in await tx.conversations.window(here, 10)] == [
            "q1", "a1", "q2", "a2"
        ]  # fmt: skip
        await tx.conversations.leave_out(here, "r2")
        await tx.conversations.leave_out(here, "r3")  # another conversation's: untouched
        await tx.commit()
    async with uow() as tx:
        assert [m.content for m in await tx.conversations.window(here, 10)] == ["q1", "a1"]
        assert [m.content for m in await tx.conversations.window(there, 10)] == ["q2", "a2"]
        history = await tx.conversations.history(account_id, 10)
        assert sorted(h.request_id for h in history) == ["r1", "r2", "r3"]
