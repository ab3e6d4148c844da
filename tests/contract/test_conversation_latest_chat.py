"""``ConversationRepository.latest_chat`` on memory, SQLite and Postgres: the chat (a
channel or one of its threads) of the account's newest message still in a window, which
Slack's /retry regenerates."""

from __future__ import annotations

from core.types import ConversationKey
from tests.contract.conftest import UowFactory
from tests.contract.test_repositories import msg, new_account


async def test_latest_chat_is_the_newest_exchange_under_a_channel(uow: UowFactory) -> None:
    account_id = await new_account(uow)
    other_id = await new_account(uow)
    channel = ConversationKey("slack", "T1:C1", account_id)
    assert await _latest(uow, channel) is None

    def key(chat_id: str, account: int = account_id, platform: str = "slack") -> ConversationKey:
        return ConversationKey(platform, chat_id, account)

    async with uow() as tx:
        for n, where in enumerate(
            (
                key("T1:C1:1.1"),
                key("T1:C1:2.2"),  # the account's newest under the channel
                key("T1:C10:3.3"),  # another channel whose id starts alike
                key("T1:C1:4.4", other_id),  # someone else
                key("T1:C1:5.5", platform="discord"),
            ),
            start=1,
        ):
            rid = f"r{n}"
            await tx.conversations.append(
                where, msg("user", f"q{n}", rid, n), msg("assistant", f"a{n}", rid, n)
            )
        await tx.commit()
    assert await _latest(uow, channel) == "T1:C1:2.2"
    assert await _latest(uow, key("T1:C1:1.1")) == "T1:C1:1.1"  # a thread: itself
    async with uow() as tx:  # out of the window (reset, or replaced): no longer offered
        await tx.conversations.reset(key("T1:C1:2.2"))
        await tx.commit()
    assert await _latest(uow, channel) == "T1:C1:1.1"
    async with uow() as tx:
        await tx.conversations.leave_out(key("T1:C1:1.1"), "r1")
        await tx.commit()
    assert await _latest(uow, channel) is None


async def _latest(uow: UowFactory, under: ConversationKey) -> str | None:
    async with uow() as tx:
        return await tx.conversations.latest_chat(under)
