"""Chat settings on every backend: defaults when nothing is stored, an upsert that keeps
chats apart, rollback without commit, and linking and erasure moving or removing rows."""

from __future__ import annotations

from core.ports import ChatSettings, VoiceMode
from core.types import Account, ConversationKey, Role, StoredMessage
from tests.contract.conftest import UowFactory


async def _account(uow: UowFactory) -> Account:
    async with uow() as tx:
        account = await tx.accounts.create(Role.USER)
        await tx.commit()
    return account


async def _get(uow: UowFactory, key: ConversationKey) -> ChatSettings:
    async with uow() as tx:
        return await tx.chat_settings.get(key)


async def _put(uow: UowFactory, key: ConversationKey, settings: ChatSettings) -> None:
    async with uow() as tx:
        await tx.chat_settings.put(key, settings)
        await tx.commit()


async def test_defaults_upsert_and_chats_kept_apart(uow: UowFactory) -> None:
    account = await _account(uow)
    dm, group = (
        ConversationKey("telegram", "7", account.id),
        ConversationKey("telegram", "-9", account.id),
    )
    assert await _get(uow, dm) == ChatSettings()
    first = ChatSettings(persona="coder", instructions="Be brief.\nÜber ✓")
    await _put(uow, dm, first)
    assert await _get(uow, dm) == first
    assert await _get(uow, group) == ChatSettings()
    second = ChatSettings(persona=None, instructions=None, voice=VoiceMode.AUTO, show_cost=True)
    await _put(uow, dm, second)
    assert await _get(uow, dm) == second
    async with uow() as tx:
        both = await tx.chat_settings.get_many([group, dm, group])
    assert both == [ChatSettings(), second, ChatSettings()]


async def test_not_committed_is_rolled_back(uow: UowFactory) -> None:
    account = await _account(uow)
    key = ConversationKey("slack", "T1:C1", account.id)
    async with uow() as tx:
        await tx.chat_settings.put(key, ChatSettings(persona="tutor"))
    assert await _get(uow, key) == ChatSettings()


async def test_link_moves_rows_and_keeps_the_target_on_a_clash(uow: UowFactory) -> None:
    source, target = await _account(uow), await _account(uow)
    shared, only_source = "discord:1", "discord:2"
    await _put(uow, ConversationKey("discord", shared, source.id), ChatSettings(persona="a"))
    await _put(uow, ConversationKey("discord", shared, target.id), ChatSettings(persona="b"))
    await _put(uow, ConversationKey("discord", only_source, source.id), ChatSettings(persona="c"))
    async with uow() as tx:
        await tx.chat_settings.move_account(source.id, target.id)
        await tx.commit()
    assert (await _get(uow, ConversationKey("discord", shared, target.id))).persona == "b"
    assert (await _get(uow, ConversationKey("discord", only_source, target.id))).persona == "c"
    assert await _get(uow, ConversationKey("discord", only_source, source.id)) == ChatSettings()


async def test_erase_removes_only_that_account(uow: UowFactory) -> None:
    gone, kept = await _account(uow), await _account(uow)
    await _put(uow, ConversationKey("console", "console", gone.id), ChatSettings(show_cost=True))
    await _put(uow, ConversationKey("console", "console", kept.id), ChatSettings(show_cost=True))
    async with uow() as tx:
        await tx.chat_settings.erase(gone.id)
        await tx.commit()
    assert await _get(uow, ConversationKey("console", "console", gone.id)) == ChatSettings()
    assert (await _get(uow, ConversationKey("console", "console", kept.id))).show_cost


async def test_transcript_has_the_chat_and_its_threads_in_order(uow: UowFactory) -> None:
    account, other = await _account(uow), await _account(uow)
    chat = ConversationKey("slack", "T1:C1", account.id)
    thread = ConversationKey("slack", "T1:C1:1700.1", account.id)
    async with uow() as tx:
        await tx.conversations.append(chat, StoredMessage("user", "one", "r1"))
        await tx.conversations.append(thread, StoredMessage("user", "two", "r2"))
        await tx.conversations.reset(thread)
        await tx.conversations.append(thread, StoredMessage("assistant", "three", "r2"))
        # Not this chat: a look-alike prefix, another channel, another person.
        await tx.conversations.append(
            ConversationKey("slack", "T1:C10", account.id), StoredMessage("user", "x", "r3")
        )
        await tx.conversations.append(
            ConversationKey("slack", "T1:C1", other.id), StoredMessage("user", "y", "r4")
        )
        await tx.conversations.append(
            ConversationKey("slack", "T1:C%", account.id), StoredMessage("user", "z", "r5")
        )
        await tx.commit()
    async with uow() as tx:
        everything = await tx.conversations.transcript(chat, 10)
        last_two = await tx.conversations.transcript(chat, 2)
        wildcard = await tx.conversations.transcript(
            ConversationKey("slack", "T1:C%", account.id), 10
        )
    assert [m.content for m in everything] == ["one", "two", "three"]
    assert [m.content for m in last_two] == ["two", "three"]
    assert [m.content for m in wildcard] == ["z"]
