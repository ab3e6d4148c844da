"""``ChatService.start``: every refusal is raised by the awaited call, before any event, and
the returned reply settles when it is closed, whether its events were read or not."""

from __future__ import annotations

import asyncio

import pytest

from core.errors import DuplicateEvent, EmptyInput, InsufficientCredits, TooManyInFlight
from core.money import MICRO
from core.services.config import RoleLimits
from core.services.requests import ChatRequest
from core.types import LedgerKind, Outcome, Role, TextDelta, TextDone
from tests.fakes.llm_server import FakeLLM
from tests.fakes.memory import MemoryStore, memory_uow_factory
from tests.harness import caller, core_on, with_config


@pytest.fixture
async def llm():
    async with FakeLLM() as server:
        yield server


def ask(text: str, **kw) -> ChatRequest:
    return ChatRequest(caller=caller("1"), chat_id="chat1", text=text, **kw)


def ledger_of(store: MemoryStore, kind: LedgerKind) -> list:
    return [e for _, e in store.ledger if e.kind is kind]


async def balance(core, store: MemoryStore) -> tuple[int, int]:
    account = await core.accounts.resolve(caller("1"))
    async with memory_uow_factory(store)() as uow:
        return account.balance, await uow.ledger.sum_for(account.id)


async def test_refusals_are_raised_by_start_before_any_event(llm):
    store = MemoryStore()
    async with core_on(
        memory_uow_factory(store), llm.base_url, config=with_config(welcome_credits=0)
    ) as core:
        with pytest.raises(EmptyInput):
            await core.chat.start(ask("   "))
        with pytest.raises(InsufficientCredits):
            await core.chat.start(ask("hi"))
    assert llm.requests == [] and ledger_of(store, LedgerKind.HOLD) == []


async def test_a_redelivered_event_is_refused_by_start(llm):
    store = MemoryStore()
    async with core_on(memory_uow_factory(store), llm.base_url) as core:
        async with await core.chat.start(ask("hi", event_id="u-1")) as reply:
            events = [event async for event in reply.events]
        with pytest.raises(DuplicateEvent):
            await core.chat.start(ask("hi", event_id="u-1"))
    assert isinstance(events[-1], TextDone) and events[-1].outcome is Outcome.OK
    assert len(llm.requests) == 1 and len(ledger_of(store, LedgerKind.HOLD)) == 1


async def test_a_reply_closed_unread_asks_nobody_and_refunds_in_full(llm):
    store = MemoryStore()
    async with core_on(memory_uow_factory(store), llm.base_url) as core:
        reply = await core.chat.start(ask("hi"))
        assert len(ledger_of(store, LedgerKind.HOLD)) == 1  # reserved by start itself
        await reply.aclose()
        await reply.aclose()  # idempotent
        balance_now, ledger_sum = await balance(core, store)
    assert llm.requests == []
    assert len(ledger_of(store, LedgerKind.SETTLE)) == 1
    assert balance_now == ledger_sum == 100 * MICRO


async def test_closing_frees_the_in_flight_slot(llm):
    one = {role: RoleLimits(per_minute=100, concurrent=1) for role in Role}
    llm.script(reply="a b c d e f", delay=0.05)
    async with core_on(
        memory_uow_factory(MemoryStore()), llm.base_url, config=with_config(role_limits=one)
    ) as core:
        reply = await core.chat.start(ask("first"))
        with pytest.raises(TooManyInFlight):
            await core.chat.start(ask("second"))
        async with reply:
            first = await anext(reply.events)
        assert isinstance(first, TextDelta)
        async with await core.chat.start(ask("third")) as again:
            done = [event async for event in again.events][-1]
    assert isinstance(done, TextDone) and done.outcome is Outcome.OK


async def test_a_reply_closed_mid_stream_by_a_cancelled_task_still_settles(llm):
    store = MemoryStore()
    llm.script(reply=" ".join(f"w{i}" for i in range(40)), delay=0.02)
    async with core_on(memory_uow_factory(store), llm.base_url) as core:

        async def consume() -> None:
            async with await core.chat.start(ask("hi")) as reply:
                async for _ in reply.events:
                    pass

        task = asyncio.create_task(consume())
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        balance_now, ledger_sum = await balance(core, store)
    assert await llm.wait_for_disconnects(1)
    assert len(ledger_of(store, LedgerKind.SETTLE)) == 1
    assert balance_now == ledger_sum and 0 < 100 * MICRO - balance_now
    assert [e.outcome for _, e in store.usage] == [Outcome.STOPPED]
